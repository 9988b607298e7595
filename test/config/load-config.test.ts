// waggle-test: no-kernel
// Agent configuration: defaults, every source (file, environment, flags) and
// their precedence, the standard OTEL_* variables, and bad input giving an
// error that names the source, the key and the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Command } from 'commander';
import { ConfigError, addRunOptions, discoveryOptions, loadConfig } from '../../src/cli/config/index.js';
import { PROTOCOL_MODULES } from '../../src/protocols/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'waggle-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a YAML file and returns its path relative to the cwd-independent temp dir. */
function file(text: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function flagsOf(argv: string[]): Record<string, unknown> {
  const c = addRunOptions(new Command('run').exitOverride());
  c.parse(argv, { from: 'user' });
  return c.opts();
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.code, 'WAGGLE_ERR_CONFIG');
    assert.equal(e.exitCode, 2);
    return e.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('defaults', () => {
  test('an empty configuration', () => {
    const c = loadConfig({ env: {} });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9400 });
    assert.equal(c.print_traces, false);
    assert.equal(c.log_level, 'info');
    assert.equal(c.discovery.open_ports, undefined);
    assert.deepEqual(c.discovery.exe_path, []);
    assert.deepEqual(c.discovery.pid, []);
    assert.equal(c.discovery.exclude_agent_children, true);
    assert.equal(c.discovery.follow_children, true);
    assert.equal(c.discovery.kernel_events, 'auto');
    assert.equal(c.discovery.max_processes, 8192);
    assert.deepEqual(c.capture, {
      request_bytes: 512,
      response_bytes: 256,
      ring_buffer_bytes: 2 << 20,
      max_connections: 4096,
      protocols: PROTOCOL_MODULES.map((m) => m.name),
      stream_head_bytes: 2048,
      stream_tail_bytes: 256,
      tls: true,
      stream_segments: 4,
      hooks: 'auto',
    });
    assert.deepEqual(c.routes, { patterns: [], unmatched: 'low-cardinality', max_per_service: 100 });
    assert.deepEqual(c.otlp, {}, 'no endpoint, no export');
    assert.deepEqual(c.traces, { sampler: 'parentbased_always_on', link: true, link_hold_ms: 2000, link_max_spans: 20_000, link_connections: true, inject_traceparent: false });
    assert.deepEqual(c.ui, { enabled: true });
    assert.deepEqual(c.security, { policies: [], dry_run: false, print_events: false });
    assert.equal(c.configFile, undefined);
  });

  test('the result is deeply frozen', () => {
    const c = loadConfig({ env: {}, flags: { exe: ['*/node'] } });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.discovery));
    assert.ok(Object.isFrozen(c.discovery.exe_path));
    assert.throws(() => {
      (c.discovery.exe_path as string[]).push('x');
    }, TypeError);
  });
});

describe('sources and precedence: flags > environment > file > defaults', () => {
  const yaml = file(`
discovery:
  open_ports: "80,443"
  exe_path: ["*/python3*", "*/node"]
listen: 127.0.0.1:9500
print_traces: false
log_level: warn
routes:
  patterns: ["/users/{id}"]
  max_per_service: 50
`);

  test('file only', () => {
    const c = loadConfig({ env: {}, configPath: yaml });
    assert.equal(c.configFile, yaml);
    assert.equal(c.discovery.open_ports?.toString(), '80,443');
    assert.deepEqual(c.discovery.exe_path, ['*/python3*', '*/node']);
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9500 });
    assert.equal(c.log_level, 'warn');
    assert.deepEqual(c.routes.patterns, ['/users/{id}']);
    assert.equal(c.routes.max_per_service, 50);
    assert.equal(c.routes.unmatched, 'low-cardinality', 'defaults fill what the file leaves out');
  });

  test('environment over file, key by key', () => {
    const c = loadConfig({ env: { WAGGLE_CONFIG: yaml, WAGGLE_OPEN_PORT: '8000-8999', WAGGLE_LISTEN: '[::1]:9600', WAGGLE_PRINT_TRACES: 'true' }, configPath: undefined });
    assert.equal(c.configFile, yaml, 'WAGGLE_CONFIG names the file');
    assert.equal(c.discovery.open_ports?.toString(), '8000-8999', 'a list is replaced, not appended');
    assert.deepEqual(c.discovery.exe_path, ['*/python3*', '*/node'], 'untouched keys keep the file value');
    assert.deepEqual(c.listen, { host: '::1', port: 9600 });
    assert.equal(c.print_traces, true);
    assert.equal(c.log_level, 'warn');
  });

  test('flags over environment over file', () => {
    const flags = flagsOf(['--config', yaml, '--open-port', '9000', '--open-port', '9100-9200', '--listen', '0.0.0.0:9700', '--log-level', 'debug', '--route', '/a/{x}', '--route', '/b/{y}']);
    const c = loadConfig({ flags, env: { WAGGLE_OPEN_PORT: '8000-8999', WAGGLE_LISTEN: '[::1]:9600', WAGGLE_LOG_LEVEL: 'error', WAGGLE_PRINT_TRACES: 'yes' } });
    assert.equal(c.discovery.open_ports?.toString(), '9000,9100-9200');
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9700 });
    assert.equal(c.log_level, 'debug');
    assert.equal(c.print_traces, true, 'environment still applies where no flag was given');
    assert.deepEqual(c.routes.patterns, ['/a/{x}', '/b/{y}']);
    assert.equal(c.routes.max_per_service, 50, 'and the file where neither was');
  });

  test('--config beats configPath beats WAGGLE_CONFIG', () => {
    const a = file('log_level: error\n');
    const b = file('log_level: trace\n');
    const c = file('log_level: fatal\n');
    assert.equal(loadConfig({ flags: { config: a }, configPath: b, env: { WAGGLE_CONFIG: c } }).log_level, 'error');
    assert.equal(loadConfig({ configPath: b, env: { WAGGLE_CONFIG: c } }).log_level, 'trace');
    assert.equal(loadConfig({ env: { WAGGLE_CONFIG: c } }).log_level, 'fatal');
  });

  test('booleans: --no-ui, WAGGLE_UI=false, ui.enabled in the file; absent flags do not override', () => {
    const off = file('ui:\n  enabled: false\n');
    assert.equal(loadConfig({ env: {}, flags: flagsOf([]), configPath: off }).ui.enabled, false, 'no flag given: the file decides');
    assert.equal(loadConfig({ env: {}, flags: flagsOf(['--no-ui']) }).ui.enabled, false);
    assert.equal(loadConfig({ env: { WAGGLE_UI: 'false' } }).ui.enabled, false);
    assert.equal(loadConfig({ env: { WAGGLE_UI: 'on' }, configPath: off }).ui.enabled, true);
  });

  test('every run flag reaches its key', () => {
    const flags = flagsOf([
      '--exe', '*/nginx', '--exe', '/usr/bin/{node,python3.11}', '--pid', '11,12', '--pid', '13', '--print-traces', '--service-name', 'shop',
      '--capture-request-bytes', '1024', '--capture-response-bytes', '128', '--routes-unmatched', 'heuristic', '--max-routes', '7',
      '--traces-sampler', 'traceidratio', '--traces-sampler-arg', '0.25', '--no-trace-link', '--no-trace-link-connections', '--inject-traceparent', '--ui-token', 's3cret', '--policy', '/etc/waggle/policies',
      '--policy', 'extra.yaml', '--policy-dry-run', '--events-file', '/var/log/waggle.jsonl', '--print-events', '--discovery-kernel-events', 'off',
      '--capture-hooks', 'syscalls',
    ]);
    const c = loadConfig({ flags, env: {} });
    assert.deepEqual(c.discovery.exe_path, ['*/nginx', '/usr/bin/{node,python3.11}']);
    assert.deepEqual(c.discovery.pid, [11, 12, 13]);
    assert.equal(c.discovery.kernel_events, 'off');
    assert.equal(c.print_traces, true);
    assert.equal(c.service.name, 'shop');
    assert.equal(c.capture.request_bytes, 1024);
    assert.equal(c.capture.response_bytes, 128);
    assert.equal(c.capture.hooks, 'syscalls');
    assert.equal(c.routes.unmatched, 'heuristic');
    assert.equal(c.routes.max_per_service, 7);
    assert.deepEqual(c.traces, { sampler: 'traceidratio', sampler_arg: 0.25, link: false, link_hold_ms: 2000, link_max_spans: 20_000, link_connections: false, inject_traceparent: true });
    assert.equal(c.ui.token, 's3cret');
    assert.deepEqual(c.security, { policies: ['/etc/waggle/policies', 'extra.yaml'], dry_run: true, events_file: '/var/log/waggle.jsonl', print_events: true });
  });

  test('environment variables reach their keys', () => {
    const c = loadConfig({
      env: {
        WAGGLE_EXE: '*/python3*',
        WAGGLE_PID: '5, 6',
        WAGGLE_DISCOVERY_EXCLUDE_AGENT_CHILDREN: 'false',
        WAGGLE_DISCOVERY_FOLLOW_CHILDREN: '0',
        WAGGLE_DISCOVERY_RESCAN_INTERVAL_MS: '300',
        WAGGLE_DISCOVERY_MAX_PROCESSES: '99',
        WAGGLE_CAPTURE_RING_BUFFER_BYTES: '1048576',
        WAGGLE_CAPTURE_MAX_CONNECTIONS: '4096',
        WAGGLE_ROUTES: '/users/{id},/orders/{id}',
        WAGGLE_POLICY: 'a.yaml,b.yaml',
        WAGGLE_POLICY_DRY_RUN: 'true',
        WAGGLE_EVENTS_FILE: 'events.jsonl',
        WAGGLE_PRINT_EVENTS: '1',
        WAGGLE_UI_TOKEN: 'tok',
        OTEL_TRACES_SAMPLER: 'always_off',
        PATH: '/usr/bin',
      },
    });
    assert.deepEqual(c.discovery.exe_path, ['*/python3*']);
    assert.deepEqual(c.discovery.pid, [5, 6]);
    assert.equal(c.discovery.exclude_agent_children, false);
    assert.equal(c.discovery.follow_children, false);
    assert.equal(c.discovery.rescan_interval_ms, 300);
    assert.equal(c.discovery.max_processes, 99);
    assert.equal(c.capture.ring_buffer_bytes, 1 << 20);
    assert.equal(c.capture.max_connections, 4096);
    assert.deepEqual(c.routes.patterns, ['/users/{id}', '/orders/{id}']);
    assert.deepEqual(c.security, { policies: ['a.yaml', 'b.yaml'], dry_run: true, events_file: 'events.jsonl', print_events: true });
    assert.equal(c.ui.token, 'tok');
    assert.equal(c.traces.sampler, 'always_off');
  });

  test('an empty environment variable counts as unset (as OpenTelemetry specifies)', () => {
    const c = loadConfig({ env: { WAGGLE_LISTEN: '', OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, configPath: yaml });
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9500 });
    assert.deepEqual(c.otlp, {});
  });
});

describe('standard OTEL_* variables', () => {
  test('endpoint, protocol, headers, interval, exporters', () => {
    const c = loadConfig({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20def,x-tenant=7',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/custom/path',
      },
    });
    assert.equal(c.otlp.traces?.url, 'https://traces.example.com/custom/path', 'a signal endpoint is used as is');
    assert.equal(c.otlp.metrics?.url, 'http://collector:4318/v1/metrics', 'the base endpoint gets /v1/<signal>');
    assert.equal(c.otlp.metrics?.protocol, 'http/json');
    assert.deepEqual(c.otlp.metrics?.headers, { 'api-key': 'abc def', 'x-tenant': '7' });
    assert.equal(c.otlp.metrics?.exportIntervalMs, 5000);
    const none = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' } });
    assert.equal(none.otlp.traces, undefined);
    assert.ok(none.otlp.metrics);
  });

  test('the file\'s otlp section means the same as the variables, and they override it', () => {
    const yaml = file(`
otlp:
  endpoint: http://file:4318
  protocol: http/json
  headers: { authorization: "Bearer x y" }
  metric_export_interval_ms: 2000
  export_traces: false
`);
    const fromFile = loadConfig({ env: {}, configPath: yaml });
    assert.equal(fromFile.otlp.metrics?.url, 'http://file:4318/v1/metrics');
    assert.equal(fromFile.otlp.metrics?.protocol, 'http/json');
    assert.deepEqual(fromFile.otlp.metrics?.headers, { authorization: 'Bearer x y' });
    assert.equal(fromFile.otlp.metrics?.exportIntervalMs, 2000);
    assert.equal(fromFile.otlp.traces, undefined);
    const envWins = loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_TRACES_EXPORTER: 'otlp' }, configPath: yaml });
    assert.equal(envWins.otlp.metrics?.url, 'http://env:4318/v1/metrics');
    assert.equal(envWins.otlp.traces?.url, 'http://env:4318/v1/traces');
    const flagWins = loadConfig({
      flags: flagsOf(['--otlp-endpoint', 'http://flag:4318', '--otlp-header', 'a=1', '--otlp-header', 'b=2', '--metric-export-interval', '700']),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' },
      configPath: yaml,
    });
    assert.equal(flagWins.otlp.metrics?.url, 'http://flag:4318/v1/metrics');
    assert.deepEqual(flagWins.otlp.metrics?.headers, { a: '1', b: '2' });
    assert.equal(flagWins.otlp.metrics?.exportIntervalMs, 700);
  });

  test('OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES on the agent', () => {
    const c = loadConfig({ env: { OTEL_SERVICE_NAME: 'checkout', OTEL_RESOURCE_ATTRIBUTES: 'service.name=ignored,service.namespace=shop,deployment.environment=prod' } });
    assert.deepEqual(c.service, { name: 'checkout', namespace: 'shop' });
    assert.deepEqual(c.resource_attributes, { 'deployment.environment': 'prod' }, 'per-process keys are not global attributes');
    const attrsOnly = loadConfig({ env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' } });
    assert.equal(attrsOnly.service.name, 'from-attrs');
  });

  test('the agent-wide service name applies to selected processes only, never in watch-everything mode', () => {
    const selected = discoveryOptions(loadConfig({ env: { OTEL_SERVICE_NAME: 'checkout', WAGGLE_OPEN_PORT: '8080' } }));
    assert.deepEqual(selected.defaultService, { name: 'checkout' });
    assert.equal(selected.selectors?.length, 1);
    const all = discoveryOptions(loadConfig({ env: { OTEL_SERVICE_NAME: 'checkout' } }));
    assert.equal(all.selectors?.length, 0);
    // Discovery itself drops defaultService when there is no selector (tested in test/discovery).
  });
});

describe('discovery selectors from the configuration', () => {
  test('flat keys are one selector each, ORed with instrument entries; exclusions', () => {
    const yaml = file(`
discovery:
  open_ports: 8080
  exe_path: "*/nginx"
  pid: [42]
  instrument:
    - open_ports: 9000-9100
      exe_path: "*/python3*"
      name: payments
      namespace: shop
  exclude:
    - exe_path: "*/sshd"
`);
    const o = discoveryOptions(loadConfig({ env: {}, configPath: yaml }));
    assert.deepEqual(JSON.parse(JSON.stringify(o.selectors)), [
      { openPorts: '8080' },
      { exePath: '*/nginx' },
      { pids: [42] },
      { openPorts: '9000-9100', exePath: '*/python3*', name: 'payments', namespace: 'shop' },
    ]);
    assert.deepEqual(o.exclude, [{ exePath: '*/sshd' }]);
    assert.equal(o.excludeAgentChildren, true);
    assert.equal(o.kernelEvents, 'auto');
  });
});

describe('invalid configuration names the source, the key and the reason', () => {
  const cases: [label: string, yaml: string | undefined, env: Record<string, string>, argv: string[], expected: (f: string) => string[]][] = [
    ['a bad port in a list', 'discovery:\n  open_ports: [80, "80x"]\n', {}, [], (f) => [`${f}: discovery.open_ports[1]: "80x" is not a port or a range`]],
    ['a bad port in a comma string', 'discovery:\n  open_ports: "80,443,8000-7000"\n', {}, [], (f) => [`${f}: discovery.open_ports[2]: "8000-7000" is an empty range (8000 > 7000)`]],
    ['a port out of range', 'discovery:\n  open_ports: 70000\n', {}, [], (f) => [`${f}: discovery.open_ports[0]: "70000" is not a port or a range`]],
    ['a typo in a key', 'discovery:\n  open_port: 80\n', {}, [], (f) => [`${f}: discovery.open_port: unknown key (did you mean "open_ports"?)`]],
    ['an unknown top-level key', 'listen_address: 1.2.3.4:80\n', {}, [], (f) => [`${f}: listen_address: unknown key`]],
    ['an unknown key in a list entry', 'discovery:\n  instrument:\n    - exe_path: "*/x"\n      nmae: x\n', {}, [], (f) => [`${f}: discovery.instrument[0].nmae: unknown key (did you mean "name"?)`]],
    ['an instrument entry without criteria', 'discovery:\n  instrument:\n    - name: x\n', {}, [], (f) => [`${f}: discovery.instrument[0]: needs at least one of open_ports, exe_path, pid`]],
    ['a malformed glob', 'discovery:\n  exe_path: ["*/ok", "/usr/[bin"]\n', {}, [], (f) => [`${f}: discovery.exe_path[1]: "/usr/[bin" has an unclosed "["`]],
    ['a bad listen address', 'listen: 9400x\n', {}, [], (f) => [`${f}: listen: "9400x" is not HOST:PORT (e.g. 127.0.0.1:9400, [::1]:9400, :9400)`]],
    ['a bad enum', 'log_level: loud\n', {}, [], (f) => [`${f}: log_level: "loud" is not one of "fatal", "error", "warn", "info", "debug", "trace", "silent"`]],
    ['an unknown capture hook set', 'capture:\n  hooks: kprobes\n', {}, [], (f) => [`${f}: capture.hooks: "kprobes" is not one of "auto", "socket", "fexit", "syscalls"`]],
    ['an unknown feature to require', 'require: [http, flamegraphs]\n', {}, [], (f) => [`${f}: require[1]: "flamegraphs" is not one of "http", "tls", "context-propagation", "discovery", "process-events", "policies", "profiling"`]],
    ['a bad boolean', 'print_traces: maybe\n', {}, [], (f) => [`${f}: print_traces: "maybe" is not a boolean (true/false)`]],
    ['a bad integer', 'capture:\n  request_bytes: 8\n', {}, [], (f) => [`${f}: capture.request_bytes: 8 is not an integer between 16 and 1024 (bytes)`]],
    ['a ring buffer size that is not a power of two', 'capture:\n  ring_buffer_bytes: 3000000\n', {}, [], (f) => [`${f}: capture.ring_buffer_bytes: 3000000 is not a power of two between 65536 and 1073741824 (bytes)`]],
    ['a section that is not a mapping', 'discovery: [1, 2]\n', {}, [], (f) => [`${f}: discovery: Invalid input: expected object, received array`]],
    ['YAML syntax', 'discovery:\n  open_ports: [80\nlisten: x\n', {}, [], (f) => [`${f}: line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`]],
    ['a file that is not a mapping', '- a\n- b\n', {}, [], (f) => [`${f}: the file must be a mapping of settings (key: value)`]],
    ['gRPC OTLP from the file', 'otlp:\n  endpoint: http://c:4317\n  protocol: grpc\n', {}, [], (f) => [`${f}: otlp.protocol: grpc is not supported by waggle; use "http/protobuf" (collector port 4318) or "http/json"`]],
    ['a bad env value', undefined, { WAGGLE_PID: '12,abc' }, [], () => ['environment WAGGLE_PID: discovery.pid[1]: "abc" is not a process id']],
    ['an unknown WAGGLE_ variable', undefined, { WAGGLE_OPEN_PORTS: '80' }, [], () => ['environment WAGGLE_OPEN_PORTS: unknown variable (did you mean WAGGLE_OPEN_PORT?)']],
    ['a bad OTEL endpoint', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, [], () => ['environment OTEL_EXPORTER_OTLP_ENDPOINT: scheme must be http or https, got collector:']],
    ['gRPC from the environment', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, [], () => ['environment OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported by waggle; use "http/protobuf" (collector port 4318) or "http/json"']],
    ['a bad sampler ratio', undefined, { OTEL_TRACES_SAMPLER_ARG: '1.5' }, [], () => ['environment OTEL_TRACES_SAMPLER_ARG: traces.sampler_arg: "1.5" is not a number between 0 and 1']],
    ['a bad flag value', undefined, {}, ['--pid', '7', '--pid', 'abc'], () => ['flag --pid: discovery.pid[1]: "abc" is not a process id']],
    ['a bad flag listen', undefined, {}, ['--listen', 'localhost'], () => ['flag --listen: listen: "localhost" is not HOST:PORT (e.g. 127.0.0.1:9400, [::1]:9400, :9400)']],
    ['a bad OTLP flag', undefined, {}, ['--otlp-endpoint', 'http://c:4318', '--metric-export-interval', 'soon'], () => ['flag --metric-export-interval: must be an integer ≥ 1, got "soon"']],
    [
      'several problems at once, from several sources',
      'discovery:\n  open_ports: "80x"\nlog_level: loud\n',
      { WAGGLE_LISTEN: 'nowhere' },
      ['--max-routes', '0'],
      (f) => [
        `${f}: discovery.open_ports[0]: "80x" is not a port or a range`,
        'environment WAGGLE_LISTEN: listen: "nowhere" is not HOST:PORT (e.g. 127.0.0.1:9400, [::1]:9400, :9400)',
        `${f}: log_level: "loud" is not one of "fatal", "error", "warn", "info", "debug", "trace", "silent"`,
        'flag --max-routes: routes.max_per_service: "0" is not an integer between 1 and 100000',
      ],
    ],
  ];
  for (const [label, yaml, env, argv, expected] of cases) {
    test(label, () => {
      const f = yaml === undefined ? undefined : file(yaml);
      const got = problems(() => loadConfig({ env, flags: flagsOf(argv), ...(f ? { configPath: f } : {}) }));
      assert.deepEqual(got, expected(f ?? ''));
    });
  }

  test('a missing file', () => {
    const missing = join(dir, 'nope.yaml');
    assert.deepEqual(problems(() => loadConfig({ env: {}, configPath: missing })), [
      `${missing}: cannot read the file (ENOENT: no such file or directory, open '${missing}')`,
    ]);
  });
});

describe('require: features the agent must run', () => {
  test('a list in the file, comma-separated in the environment, repeated flags; duplicates dropped', () => {
    assert.deepEqual(loadConfig({ env: {}, configPath: file('require: [http, policies]\n') }).require, ['http', 'policies']);
    assert.deepEqual(loadConfig({ env: { WAGGLE_REQUIRE: 'process-events, HTTP,http' } }).require, ['process-events', 'http']);
    assert.deepEqual(loadConfig({ env: {}, flags: flagsOf(['--require', 'discovery', '--require', 'http,discovery']) }).require, ['discovery', 'http']);
    assert.deepEqual(loadConfig({ env: {} }).require, []);
  });
});
