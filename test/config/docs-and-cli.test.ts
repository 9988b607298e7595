// docs/configuration.md documents every key, variable and flag the code knows;
// `waggle config` (a real process) prints the effective settings or exits 2 with
// every problem; and a configuration drives a real Discovery.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command } from 'commander';
import YAML from 'yaml';
import { SETTINGS, addRunOptions, configSchema, discoveryOptions, loadConfig } from '../../src/cli/config/index.js';
import { Discovery } from '../../src/discovery/index.js';
import { packageRoot } from '../../src/paths.js';
import { APP_PY, Children, freePort } from '../discovery/fixtures.js';

const docs = readFileSync(join(packageRoot, 'docs', 'configuration.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'waggle-config-cli-'));
const children = new Children();
after(async () => {
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

function schemaKeys(schema: unknown, prefix = ''): string[] {
  let s = schema as { _zod: { def: { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown } } };
  for (let i = 0; i < 8; i++) {
    const d = s._zod.def;
    if (d.innerType) s = d.innerType as typeof s;
    else if (d.type === 'pipe' && d.in) s = d.in as typeof s;
    else break;
  }
  const shape = s._zod.def.shape;
  if (!shape) return [prefix];
  return Object.entries(shape).flatMap(([k, v]) => schemaKeys(v, prefix ? `${prefix}.${k}` : k));
}

test('docs/configuration.md names every key, environment variable and flag', () => {
  const keys = schemaKeys(configSchema);
  assert.ok(keys.length > 40, `${keys.length} keys`);
  for (const key of keys) assert.ok(docs.includes(`\`${key}\``), `key ${key} is documented`);
  for (const s of SETTINGS) {
    if (s.env) assert.ok(docs.includes(`\`${s.env}\``), `variable ${s.env} is documented`);
    if (s.flag) assert.ok(docs.includes(`\`${s.flag}`), `flag ${s.flag} is documented`);
  }
  const help = addRunOptions(new Command('run')).helpInformation();
  for (const s of SETTINGS) if (s.flag) assert.ok(help.includes(s.flag.split(' ')[0]!), `${s.flag} in --help`);
});

test('the complete example file in the docs is valid', () => {
  const example = /## A complete file\n\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(example);
  const path = join(dir, 'example.yaml');
  writeFileSync(path, example);
  const c = loadConfig({ env: {}, configPath: path });
  assert.equal(c.discovery.instrument[0]?.name, 'payments');
  assert.equal(c.otlp.traces?.url, 'http://localhost:4318/v1/traces');
});

const CLI = `
import { Command } from 'commander';
import { registerConfig } from '${join(packageRoot, 'dist', 'src', 'cli', 'commands', 'config.js')}';
const program = new Command('waggle');
registerConfig(program);
await program.parseAsync(process.argv.slice(1), { from: 'user' });
`;

function waggleConfig(args: string[], env: Record<string, string> = {}) {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WAGGLE_') && !k.startsWith('OTEL_')));
  return spawnSync(process.execPath, ['--input-type=module', '-e', CLI, '--', 'config', ...args], {
    timeout: 60_000,
    cwd: packageRoot,
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
  });
}

test('waggle config prints the effective settings', () => {
  const r = waggleConfig(['--open-port', '8000-8999', '--print-traces'], { WAGGLE_LISTEN: ':9500', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
  assert.equal(r.status, 0, r.stderr);
  const out = YAML.parse(r.stdout);
  assert.equal(out.discovery.open_ports, '8000-8999');
  assert.equal(out.print_traces, true);
  assert.deepEqual(out.listen, { host: '127.0.0.1', port: 9500 });
  assert.equal(out.otlp.metrics.url, 'http://c:4318/v1/metrics');
});

test('invalid configuration: exit status 2 and every problem on stderr', () => {
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'discovery:\n  open_ports: [80, "80x"]\n');
  const r = waggleConfig(['--config', path, '--pid', 'abc']);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `waggle: invalid configuration\n${path}: discovery.open_ports[1]: "80x" is not a port or a range\nflag --pid: discovery.pid[0]: "abc" is not a process id\n`,
  );
});

test('a configuration drives discovery: WAGGLE_OPEN_PORT selects a real server, named by its OTEL_SERVICE_NAME', async () => {
  const port = await freePort();
  const script = join(dir, 'app.py');
  writeFileSync(script, APP_PY);
  const server = children.python(script, [String(port)], { OTEL_SERVICE_NAME: 'inventory' });
  await server.waitForOutput('listening');
  const config = loadConfig({ env: { WAGGLE_OPEN_PORT: String(port), WAGGLE_DISCOVERY_EXCLUDE_AGENT_CHILDREN: 'false' } });
  const d = new Discovery(discoveryOptions(config));
  const added: [number, string][] = [];
  d.on('added', (p, id) => added.push([p.pid, id.name]));
  try {
    await d.start();
    assert.deepEqual(added, [[server.pid, 'inventory']]);
  } finally {
    d.close();
  }
});
