// The agent's configuration: one schema for the YAML file, the environment and
// the flags of `waggle run` (they are merged first, then validated here, so a
// value is checked the same way wherever it came from). Unknown keys are errors.
// Every key, its environment variable, flag and default: docs/configuration.md.
import { z } from 'zod';
import { CAPTURE_DEFAULTS, REQUEST_CAPTURE_MAX, RESPONSE_CAPTURE_MAX, STREAM_HEAD_MAX, STREAM_SEGMENTS_MAX, STREAM_TAIL_MAX } from '../../capture/options.js';
import { PROTOCOL_MODULES } from '../../protocols/registry.js';
import { UNMATCHED_ROUTE_MODES } from '../../telemetry/index.js';
import { pyroscopeLabelProblem } from '../../profiling/pyroscope-name.js';
import { FEATURE_NAMES } from '../features/names.js';
import { bool, glob, globList, httpUrl, int, keyValues, listenAddress, oneOf, oneOfList, pidList, portList, powerOfTwo, ratio, stringList, text } from './values.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const KERNEL_EVENTS_MODES = ['auto', 'on', 'off'] as const;
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

const instrumentEntry = z
  .strictObject({
    open_ports: portList(),
    exe_path: glob(),
    pid: pidList(),
    name: text('a service name'),
    namespace: text('a service namespace'),
  })
  .refine((e) => e.open_ports !== undefined || e.exe_path !== undefined || e.pid !== undefined, {
    message: 'needs at least one of open_ports, exe_path, pid',
  });

const excludeEntry = z
  .strictObject({ open_ports: portList(), exe_path: glob(), pid: pidList() })
  .refine((e) => e.open_ports !== undefined || e.exe_path !== undefined || e.pid !== undefined, {
    message: 'needs at least one of open_ports, exe_path, pid',
  });

const discovery = z
  .strictObject({
    open_ports: portList(),
    exe_path: globList().default([]),
    pid: pidList().default([]),
    instrument: z.array(instrumentEntry).default([]),
    exclude: z.array(excludeEntry).default([]),
    exclude_agent_children: bool().default(true),
    follow_children: bool().default(true),
    kernel_events: oneOf(KERNEL_EVENTS_MODES).default('auto'),
    rescan_interval_ms: int(50, 60_000, ' (milliseconds)'),
    max_processes: int(1, 16_384).default(8192),
  })
  .prefault({});

const service = z.strictObject({ name: text('a service name'), namespace: text('a service namespace') }).prefault({});

const PROTOCOL_NAMES = PROTOCOL_MODULES.map((m) => m.name);

const CAPTURE_HOOKS = ['auto', 'socket', 'fexit', 'syscalls'] as const;

const capture = z
  .strictObject({
    // Ceilings are compile-time capacities of bpf/capture/types.h.
    request_bytes: int(16, REQUEST_CAPTURE_MAX, ' (bytes)').default(CAPTURE_DEFAULTS.requestCaptureBytes),
    response_bytes: int(16, RESPONSE_CAPTURE_MAX, ' (bytes)').default(CAPTURE_DEFAULTS.responseCaptureBytes),
    ring_buffer_bytes: powerOfTwo(1 << 16, 1 << 30, ' (bytes)').default(CAPTURE_DEFAULTS.ringBufferBytes),
    max_connections: int(64, 1 << 20).default(CAPTURE_DEFAULTS.maxConnections),
    // The stream platform (src/protocols): which protocol modules look at
    // connections HTTP/1's fast path does not take; none turns streaming off.
    protocols: oneOfList(PROTOCOL_NAMES).default([...PROTOCOL_NAMES]),
    stream_head_bytes: int(16, STREAM_HEAD_MAX, ' (bytes)').default(CAPTURE_DEFAULTS.streamHeadBytes),
    stream_tail_bytes: int(0, STREAM_TAIL_MAX, ' (bytes)').default(CAPTURE_DEFAULTS.streamTailBytes),
    stream_segments: int(1, STREAM_SEGMENTS_MAX).default(CAPTURE_DEFAULTS.streamSegments),
    // TLS plaintext through uprobes on OpenSSL's SSL_read/SSL_write (the `tls` feature).
    tls: bool().default(true),
    // Where the bytes are seen: the socket layer's tracepoints (6.5+), fexit on
    // the inet layer (before 6.5, with BPF trampolines), the syscall exits
    // (every kernel, every syscall on the slow path), or the first the kernel has.
    hooks: oneOf(CAPTURE_HOOKS).default('auto'),
  })
  .prefault({});

const routes = z
  .strictObject({
    patterns: stringList('a route pattern').default([]),
    unmatched: oneOf(UNMATCHED_ROUTE_MODES).default('low-cardinality'),
    max_per_service: int(1, 100_000).default(100),
  })
  .prefault({});

// Mirrors the standard OTEL_EXPORTER_OTLP_* variables (see otel-env.ts), whose
// values the exporter's own resolver then checks; here only their types.
const otlp = z
  .strictObject({
    endpoint: text('a URL'),
    traces_endpoint: text('a URL'),
    metrics_endpoint: text('a URL'),
    protocol: oneOf(OTLP_PROTOCOLS),
    traces_protocol: oneOf(OTLP_PROTOCOLS),
    metrics_protocol: oneOf(OTLP_PROTOCOLS),
    headers: keyValues(),
    traces_headers: keyValues(),
    metrics_headers: keyValues(),
    timeout_ms: int(1, 600_000, ' (milliseconds)'),
    compression: oneOf(['gzip', 'none'] as const),
    export_traces: bool(),
    export_metrics: bool(),
    metric_export_interval_ms: int(1, 86_400_000, ' (milliseconds)'),
    metric_export_timeout_ms: int(1, 86_400_000, ' (milliseconds)'),
    metrics_temporality: oneOf(['cumulative', 'delta', 'lowmemory'] as const),
    traces_max_queue_size: int(1, 1 << 20),
    traces_max_export_batch_size: int(1, 1 << 20),
    traces_schedule_delay_ms: int(1, 600_000, ' (milliseconds)'),
  })
  .prefault({});

const traces = z
  .strictObject({
    sampler: oneOf(SAMPLERS).default('parentbased_always_on'),
    sampler_arg: ratio(),
    // Local trace linking (src/telemetry/trace-linker.ts).
    link: bool().default(true),
    link_hold_ms: int(0, 60_000, ' (milliseconds)').default(2000),
    link_max_spans: int(1, 1_000_000, ' (spans)').default(20_000),
    link_connections: bool().default(true),
    // Context propagation across hosts (bpf/capture/traceparent.bpf.c): changes bytes on the wire, so off by default.
    inject_traceparent: bool().default(false),
  })
  .prefault({});

const ui = z.strictObject({ enabled: bool().default(true), token: text('a token') }).prefault({});

const security = z
  .strictObject({
    policies: stringList('a policy file or directory').default([]),
    dry_run: bool().default(false),
    events_file: text('a file path'),
    print_events: bool().default(false),
  })
  .prefault({});

// Pushing the continuous profiles to a Pyroscope server (POST /ingest, pprof).
const pyroscope = z
  .strictObject({
    url: httpUrl(),
    // At most 10 min: the profiler keeps 15 min of windows.
    push_interval_ms: int(1000, 600_000, ' (milliseconds)').default(15_000),
    timeout_ms: int(100, 600_000, ' (milliseconds)').default(10_000),
    queue_size: int(1, 10_000).default(256),
    max_retries: int(0, 10).default(2),
    basic_auth_username: text('a user name'),
    basic_auth_password: text('a password'),
    tenant_id: text('a tenant id'),
    labels: keyValues().default({}),
  })
  .superRefine((p, ctx) => {
    for (const [k, v] of Object.entries(p.labels)) {
      const problem = pyroscopeLabelProblem(k, v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['labels', k], input: v });
    }
    if ((p.basic_auth_username === undefined) !== (p.basic_auth_password === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'basic_auth_username and basic_auth_password go together', path: [p.basic_auth_username === undefined ? 'basic_auth_username' : 'basic_auth_password'], input: undefined });
    }
  })
  .prefault({});

// CPU profiling of every process (src/profiling), off unless asked for.
const profiling = z
  .strictObject({
    enabled: bool().default(false),
    frequency: int(1, 999, ' (samples per second per CPU)').default(19),
    pyroscope,
  })
  .superRefine((p, ctx) => {
    if (p.pyroscope.url !== undefined && !p.enabled) {
      ctx.addIssue({ code: 'custom', message: 'pushing to Pyroscope needs the profiler: set profiling.enabled (--profile) too', path: ['pyroscope', 'url'], input: p.pyroscope.url });
    }
  })
  .prefault({});

export const configSchema = z.strictObject({
  discovery,
  service,
  resource_attributes: keyValues().default({}),
  listen: listenAddress().default({ host: '127.0.0.1', port: 9400 }),
  print_traces: bool().default(false),
  spans_file: text('a file path'),
  log_level: oneOf(LOG_LEVELS).default('info'),
  capture,
  routes,
  otlp,
  traces,
  ui,
  security,
  profiling,
  // Features the agent must run, else it exits with status 3 (see src/cli/features).
  require: oneOfList(FEATURE_NAMES).default([]),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
