// Deriving service.name from how a process was started, when neither the
// operator nor the process said it. Pure: no file system access.
//
// Rules, in order:
// - an interpreter running a script is named after the script:
//   `python3 app.py` → app, `node server.js` → server, `ruby bin/worker.rb` → worker,
//   `python3 /usr/local/bin/gunicorn app:app` → gunicorn;
// - a script whose name only says "entry point" (index, main, __main__, __init__)
//   is named after its directory, skipping build/source directories (src, dist,
//   build, lib, out, bin): `node /srv/api/index.js` → api,
//   `node /srv/shop/dist/main.js` → shop; relative paths resolve against the
//   process's cwd; `node .` → the cwd's name;
// - `python3 -m pkg.mod` → pkg.mod;
// - `java -jar /opt/foo-1.2.3.jar` → foo (version suffix dropped);
//   `java -cp … com.example.OrderService` → OrderService;
// - `-c`/`-e` one-liners and REPLs have no script: the executable's name;
// - everything else is named after its executable: /usr/sbin/nginx → nginx; a
//   multi-call binary after the name it was started as, when argv[0] is a plain
//   name (Debian's redis-server is a symlink to redis-check-rdb; busybox `ls`).
//   Rewritten titles ("nginx: worker process", "postgres: checkpointer") are not.
import { posix } from 'node:path';

type Interpreter = 'python' | 'node' | 'java' | 'ruby' | 'perl' | 'php' | 'shell' | 'bun' | 'deno';

const INTERPRETERS: [RegExp, Interpreter][] = [
  [/^python[\d.]*$/, 'python'],
  [/^(node|nodejs)$/, 'node'],
  [/^java$/, 'java'],
  [/^ruby[\d.]*$/, 'ruby'],
  [/^perl[\d.]*$/, 'perl'],
  [/^php[\d.]*$/, 'php'],
  [/^(ba|da|z|k|)sh$/, 'shell'],
  [/^bun$/, 'bun'],
  [/^deno$/, 'deno'],
];

/** Short options taking a value, per interpreter. The value is either attached (`-mfoo`) or the next argument. */
const SHORT_WITH_VALUE: Record<Interpreter, string> = {
  python: 'cmWXQ',
  node: 'repC',
  java: '',
  ruby: 'eIrCEFx',
  perl: 'eEIMmx',
  php: 'fcrdSt',
  shell: 'coO',
  bun: 'r',
  deno: '',
};

/** Long options that take the next argument as their value (unless written --opt=value). */
const LONG_WITH_VALUE: Record<Interpreter, string[]> = {
  python: ['--check-hash-based-pycs'],
  node: ['--require', '--import', '--loader', '--experimental-loader', '--eval', '--print', '--input-type', '--conditions', '--title', '--env-file', '--test-reporter', '--test-reporter-destination', '--watch-path'],
  java: ['-cp', '-classpath', '--class-path', '-p', '--module-path', '--upgrade-module-path', '--add-modules', '--limit-modules', '--add-opens', '--add-exports', '--add-reads', '--patch-module', '--enable-native-access', '-jar', '-m', '--module'],
  ruby: [],
  perl: [],
  php: [],
  shell: [],
  bun: ['--preload', '--config', '--cwd', '--env-file'],
  deno: ['--config', '--import-map', '--location', '--cert', '--env-file', '--inspect'],
};

/** Options after which there is no script (code given inline). */
const INLINE_CODE: Record<Interpreter, string[]> = {
  python: ['-c'],
  node: ['-e', '--eval', '-p', '--print'],
  java: [],
  ruby: ['-e'],
  perl: ['-e', '-E'],
  php: ['-r'],
  shell: ['-c'],
  bun: ['-e', '--eval', '-p', '--print'],
  deno: [],
};

const SCRIPT_EXTENSIONS = /\.(py|pyc|pyz|pyw|js|mjs|cjs|ts|mts|cts|jsx|tsx|rb|pl|pm|php|sh|bash|jar|war)$/i;
const ENTRY_NAMES = new Set(['index', 'main', '__main__', '__init__']);
const BUILD_DIRS = new Set(['src', 'dist', 'build', 'lib', 'out', 'bin']);
const MAX_NAME = 128;

function interpreterOf(exePath: string, argv0: string | undefined): Interpreter | undefined {
  for (const base of [posix.basename(exePath), argv0 ? posix.basename(argv0) : '']) {
    for (const [re, kind] of INTERPRETERS) if (re.test(base)) return kind;
  }
  return undefined;
}

type Target = { script: string } | { module: string } | { jar: string } | { mainClass: string } | undefined;

function findTarget(kind: Interpreter, args: readonly string[]): Target {
  const shortValue = SHORT_WITH_VALUE[kind];
  const longValue = LONG_WITH_VALUE[kind];
  const inline = INLINE_CODE[kind];
  let i = 1;
  // bun run x / deno run x
  if ((kind === 'bun' || kind === 'deno') && args[1] === 'run') i = 2;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      const next = args[i + 1];
      return next === undefined ? undefined : kind === 'java' ? { mainClass: next } : { script: next };
    }
    if (!a.startsWith('-') || a === '-') {
      if (a === '-') return undefined; // script on stdin
      return kind === 'java' ? { mainClass: a } : { script: a };
    }
    if (inline.includes(a)) return undefined;
    if (kind === 'java') {
      if (a === '-jar') return args[i + 1] === undefined ? undefined : { jar: args[i + 1]! };
      if (a === '-m' || a === '--module') {
        const m = args[i + 1];
        return m === undefined ? undefined : { mainClass: m.includes('/') ? m.slice(m.indexOf('/') + 1) : m };
      }
      if (longValue.includes(a)) i++;
      continue;
    }
    if (a.startsWith('--')) {
      if (!a.includes('=') && longValue.includes(a)) i++;
      continue;
    }
    // A group of short flags, e.g. -u, -uB, -mhttp.server, -m http.server.
    for (let j = 1; j < a.length; j++) {
      const letter = a[j]!;
      if (!shortValue.includes(letter)) continue;
      const attached = a.slice(j + 1);
      const value = attached || args[i + 1];
      if (!attached) i++;
      if (inline.includes(`-${letter}`)) return undefined;
      if (kind === 'python' && letter === 'm') return value === undefined ? undefined : { module: value };
      if (kind === 'php' && letter === 'f') return value === undefined ? undefined : { script: value };
      break;
    }
  }
  return undefined;
}

function stripJarVersion(base: string): string {
  const stripped = base.replace(/-\d+(\.\d+)*([-.][A-Za-z0-9.-]*)?$/, '');
  return stripped || base;
}

/** Scripts fed through a file descriptor (`bash /dev/fd/3`) say nothing about the service. */
const FD_SCRIPT = /^\/(dev|proc\/self)\/fd\//;

function nameFromScript(script: string, cwd: string | undefined): string {
  if (script === '.' || script === './' || script.endsWith('/')) {
    const dir = posix.resolve(cwd ?? '/', script);
    return posix.basename(dir) || script;
  }
  const base = posix.basename(script).replace(SCRIPT_EXTENSIONS, '');
  if (!ENTRY_NAMES.has(base)) return base || script;
  // An entry-point file: name it after the directory that says what it is.
  let dir = posix.isAbsolute(script) ? posix.dirname(script) : cwd ? posix.resolve(cwd, posix.dirname(script)) : posix.dirname(script);
  for (let depth = 0; depth < 3; depth++) {
    const name = posix.basename(dir);
    if (!name || name === '.' || name === '..') break;
    if (!BUILD_DIRS.has(name)) return name;
    dir = posix.dirname(dir);
  }
  return base;
}

function clean(name: string, fallback: string): string {
  const trimmed = name.trim().slice(0, MAX_NAME);
  return trimmed || fallback;
}

/**
 * argv[0]'s base name when it is a plain program name: its first word, so that
 * "redis-server 127.0.0.1:6379" (a title redis writes) is redis-server, while
 * titles such as "nginx: worker process" are not taken.
 */
function invokedAs(argv0: string | undefined): string | undefined {
  if (!argv0) return undefined;
  const plain = (n: string) => /^[A-Za-z0-9_][\w.+-]*$/.test(n);
  const space = argv0.indexOf(' ');
  if (space < 0) {
    const name = posix.basename(argv0);
    return plain(name) ? name : undefined;
  }
  // A title: only its first word, a program name or path ("redis-server
  // 127.0.0.1:6379", "/usr/bin/redis-server *:6379"); "nginx: master process
  // /usr/sbin/nginx -p /srv/x/" is not one (and must not become "x").
  const first = posix.basename(argv0.slice(0, space));
  return plain(first) ? first : undefined;
}

/** service.name for a process that did not name itself. */
export function deriveServiceName(exePath: string, cmdline: readonly string[], cwd?: string): string {
  const exeName = posix.basename(exePath) || exePath;
  const kind = interpreterOf(exePath, cmdline[0]);
  if (!kind) return clean(invokedAs(cmdline[0]) ?? exeName, 'unknown');
  const target = findTarget(kind, cmdline);
  if (!target || ('script' in target && FD_SCRIPT.test(target.script))) return clean(exeName, 'unknown');
  if ('module' in target) return clean(target.module, exeName);
  if ('jar' in target) return clean(stripJarVersion(posix.basename(target.jar).replace(/\.(jar|war)$/i, '')), exeName);
  if ('mainClass' in target) return clean(target.mainClass.slice(target.mainClass.lastIndexOf('.') + 1), exeName);
  return clean(nameFromScript(target.script, cwd), exeName);
}
