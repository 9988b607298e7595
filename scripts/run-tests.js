#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js) with node:test, one file at a
// time and each in its own node process (spec reporter): tests load real programs
// into the real kernel and some measure exact counts, so files must not compete
// for the same hooks.
//
// Two tiers. Files whose leading comment carries `// waggle-test: no-kernel` run
// first, as an unprivileged user (uid/gid 65534 through setpriv, when we are
// root): they must not need the kernel or root, and running them so proves it.
// Everything else runs afterwards as root.
//
// A file never hangs the run: each gets WAGGLE_TEST_FILE_TIMEOUT_S seconds
// (default 300) in its own process group; past that the whole group is killed and
// the file counts as failed, naming the test that was running. Processes a file
// leaves behind in its group are killed too and count as a failure.
//
// Arguments filter files by substring, e.g. `node scripts/run-tests.js ebpf/`;
// `--tier=no-kernel` or `--tier=kernel` selects one tier. The last line is
// `N passed, N failed, N skipped`; the exit status is non-zero on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
// WAGGLE_TEST_ROOT: another tree of compiled tests (the runner's own test uses it).
const testRoot = process.env.WAGGLE_TEST_ROOT ?? join(root, 'dist', 'test');
const reporter = pathToFileURL(join(root, 'scripts', 'test-events.mjs')).href;
const NOBODY = 65534;
const MARKER = 'waggle-test: no-kernel';
/** After a file exits, how long what it started may take to go away by itself. */
const LEFTOVER_GRACE_MS = 3000;

const timeoutS = Number(process.env.WAGGLE_TEST_FILE_TIMEOUT_S ?? 300);
if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
  console.error(`WAGGLE_TEST_FILE_TIMEOUT_S must be a positive number of seconds, not ${JSON.stringify(process.env.WAGGLE_TEST_FILE_TIMEOUT_S)}`);
  process.exit(2);
}

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'helpers' ? [] : find(p);
    return name.endsWith('.test.js') ? [p] : [];
  });
}

/** The source name people know: test/agent/http.test.ts. */
const display = (file) => join('test', relative(testRoot, file)).replace(/\.js$/, '.ts');

/** no-kernel when the marker is in the file's leading comment block (tsc keeps comments). */
function tierOf(file) {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(4096);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  for (const line of buf.subarray(0, n).toString('utf8').split('\n')) {
    if (!line.startsWith('//')) break;
    if (line.slice(2).trim() === MARKER) return 'no-kernel';
  }
  return 'kernel';
}

const args = process.argv.slice(2);
const tierArg = args.find((a) => a.startsWith('--tier='))?.slice('--tier='.length);
if (tierArg !== undefined && tierArg !== 'no-kernel' && tierArg !== 'kernel') {
  console.error(`--tier must be no-kernel or kernel, not ${tierArg}`);
  process.exit(2);
}
const filters = args.filter((a) => !a.startsWith('--'));
const files = find(testRoot)
  .filter((f) => filters.length === 0 || filters.some((x) => relative(testRoot, f).includes(x)))
  .sort()
  .map((file) => ({ file, tier: tierOf(file) }))
  .filter((f) => tierArg === undefined || f.tier === tierArg);
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const isRoot = process.getuid?.() === 0;
if (!isRoot && files.some((f) => f.tier === 'kernel')) {
  console.error('waggle tests load BPF programs into the kernel and must run as root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN); `--tier=no-kernel` runs the rest.');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'waggle-tests-'));
chmodSync(work, 0o711); // the unprivileged tier opens its event file in here
/** The process group of the file running now, killed if we are interrupted. */
let running;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (running) killGroup(running, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Live processes (not zombies) in process group or session `id`, as "pid comm". */
function groupMembers(id) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const [state, , pgrp, session] = stat.slice(close + 2).split(' ');
    if (state !== 'Z' && (Number(pgrp) === id || Number(session) === id)) out.push(`${name} ${stat.slice(stat.indexOf('(') + 1, close)}`);
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Counts from the reporter's events; `inFlight` is what had started and not ended. */
function readEvents(path) {
  const r = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0, failures: [], inFlight: [] };
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return r;
  }
  const stack = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      continue; // a line cut short by a kill
    }
    if (ev.type === 'test:dequeue') stack[ev.nesting] = ev.name;
    else if (ev.type === 'test:complete') stack.length = Math.min(stack.length, ev.nesting);
    else if (ev.type === 'test:pass' && !ev.suite) {
      if (ev.todo) r.todo++;
      else if (ev.skip) r.skipped++;
      else r.pass++;
    } else if (ev.type === 'test:fail') {
      if (ev.suite) {
        if (ev.failureType !== 'hookFailed') continue; // it failed because tests in it did: counted there
        // node:test does not count a suite's failing after-hook (its tests passed): we do. A
        // failing before-hook cancels the suite's tests, which count; the suite is only named.
        if (!/after/.test(ev.message ?? '')) {
          r.failures.push(`"${ev.name}" (${ev.message})`);
          continue;
        }
      }
      if (ev.failureType === 'cancelledByParent') r.cancelled++;
      else {
        r.fail++;
        // The file-level entry is named by the file's path: a top-level hook or the module itself failed.
        r.failures.push(ev.nesting === 0 && ev.name.startsWith('/') ? 'a top-level hook or the file itself' : `"${ev.name}"`);
      }
    }
  }
  // The file-level entry (nesting 0, the file's path) says nothing a person needs.
  r.inFlight = stack.filter((n, i) => n !== undefined && !(i === 0 && n.startsWith('/')));
  return r;
}

async function runFile({ file, tier }, index) {
  const asNobody = tier === 'no-kernel' && isRoot;
  const events = join(work, `${index}.jsonl`);
  writeFileSync(events, '');
  if (asNobody) chownSync(events, NOBODY, NOBODY);
  // The file runs directly (not under `node --test`): node 20's --test parent
  // re-parses each child's serialized report, and a failure carrying a large
  // error (a verifier log of a few MB) kept that parent busy for minutes.
  const nodeArgs = [
    // Once its tests are done the file exits even with a handle left open; what it
    // left running in its process group is reported below.
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${reporter}`,
    '--test-reporter-destination=stderr', // it writes nothing there: see test-events.mjs
    file,
  ];
  const [cmd, argv] = asNobody
    ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const env = { ...process.env, TEST_EVENTS_FILE: events, ...(asNobody ? { HOME: work, USER: 'nobody', LOGNAME: 'nobody' } : {}) };
  console.log(`\n── ${display(file)} (${tier}, as ${asNobody ? 'nobody' : isRoot ? 'root' : 'this user'})`);
  const started = Date.now();
  // detached: a new session and process group (pgid = pid), killable as a whole.
  const child = spawn(cmd, argv, { cwd: root, env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  running = child.pid;
  let timedOut = false;
  const exit = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, error: e });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  const r = readEvents(events);
  const problems = [];
  if (timedOut) {
    const where = r.inFlight.length > 0 ? `while running "${r.inFlight.join(' > ')}"` : 'after its tests (a hook, or nothing left to run but the file did not end)';
    problems.push(`timed out after ${timeoutS} s ${where}; killed its process group`);
  } else if (exit.error) {
    problems.push(`could not start ${cmd}: ${exit.error.message}`);
  } else if (exit.code !== 0 && r.fail + r.cancelled === 0) {
    problems.push(`exited with ${exit.code ?? exit.signal} without a failing test (a hook, or the file itself)`);
  }
  if (child.pid !== undefined) {
    let left = groupMembers(child.pid);
    for (const until = Date.now() + LEFTOVER_GRACE_MS; left.length > 0 && !timedOut && Date.now() < until; left = groupMembers(child.pid)) await sleep(100);
    if (left.length > 0) {
      killGroup(child.pid, 'SIGKILL');
      if (!timedOut) problems.push(`left ${left.length} process(es) running, now killed: ${left.join(', ')}`);
    }
  }
  running = undefined;
  r.fail += problems.length;
  for (const p of problems) console.log(`✖ ${display(file)}: ${p}`);
  return { file, tier, asNobody, ms: Date.now() - started, ...r, problems };
}

/** Before the unprivileged tier: can uid 65534 read the compiled tests and their modules at all? */
function nobodyCanRead() {
  const probe = `const fs=require('fs');for(const p of process.argv.slice(1))fs.accessSync(p,fs.constants.R_OK|fs.constants.X_OK)`;
  const paths = [testRoot, join(root, 'node_modules', '.'), join(root, 'scripts')];
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, '-e', probe, ...paths], { encoding: 'utf8' });
  if (r.status === 0) return true;
  console.error(`✖ uid ${NOBODY} cannot read the tests (${(r.error?.message ?? r.stderr).trim().split('\n').find((l) => /Error|EACCES|ENOENT/.test(l)) ?? 'setpriv failed'}): every directory above ${root} needs o+rx`);
  return false;
}

const results = [];
const started = Date.now();
const tiers = ['no-kernel', 'kernel'];
for (const tier of tiers) {
  const inTier = files.filter((f) => f.tier === tier);
  if (inTier.length === 0) continue;
  if (tier === 'no-kernel' && isRoot && !nobodyCanRead()) {
    for (const f of inTier) results.push({ ...f, asNobody: true, ms: 0, pass: 0, fail: 1, cancelled: 0, skipped: 0, todo: 0, failures: [], problems: ['not readable by nobody'] });
    continue;
  }
  for (const f of inTier) results.push(await runFile(f, results.length));
}
rmSync(work, { recursive: true, force: true });

const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
console.log('\n── waggle tests');
for (const tier of tiers) {
  const rs = results.filter((r) => r.tier === tier);
  if (rs.length === 0) continue;
  const who = rs[0].asNobody ? 'nobody' : isRoot ? 'root' : 'this user';
  console.log(
    `  ${tier.padEnd(9)} as ${who.padEnd(9)} ${String(rs.length).padStart(3)} files  ${sum(rs, 'pass')} passed, ${sum(rs, 'fail') + sum(rs, 'cancelled')} failed, ${sum(rs, 'skipped') + sum(rs, 'todo')} skipped  ${(sum(rs, 'ms') / 1000).toFixed(1)} s`,
  );
}
const failed = results.filter((r) => r.fail + r.cancelled > 0);
if (failed.length > 0) {
  console.log('  failed files:');
  for (const r of failed) {
    const what = [...r.failures, ...(r.cancelled ? [`${r.cancelled} cancelled`] : []), ...r.problems];
    console.log(`  ✖ ${display(r.file)}: ${what.join('; ')}`);
  }
}
const total = { pass: sum(results, 'pass'), fail: sum(results, 'fail'), cancelled: sum(results, 'cancelled'), skipped: sum(results, 'skipped'), todo: sum(results, 'todo') };
// The closing lines, in node:test's own form, summed over every file.
console.log(`ℹ files ${results.length}`);
console.log(`ℹ tests ${total.pass + total.fail + total.cancelled + total.skipped + total.todo}`);
console.log(`ℹ pass ${total.pass}`);
console.log(`ℹ fail ${total.fail}`);
console.log(`ℹ cancelled ${total.cancelled}`);
console.log(`ℹ skipped ${total.skipped}`);
console.log(`ℹ todo ${total.todo}`);
console.log(`ℹ duration_ms ${Date.now() - started}`);
console.log(`${total.pass} passed, ${total.fail + total.cancelled} failed, ${total.skipped + total.todo} skipped`);
process.exit(total.fail + total.cancelled > 0 ? 1 : 0);
