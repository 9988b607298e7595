// Which configuration keys are also settable by environment variable and by a
// flag of `waggle run`, and under which names. Structured keys (instrument and
// exclude lists, resource attributes as a mapping) are file-only.
//
// A setting targets either a key of the config file (`path`) or one of the
// standard OpenTelemetry variables (`otel`), which the OTLP section mirrors.

export interface Setting {
  /** Key in the config file, e.g. ['discovery', 'open_ports']. */
  path?: readonly string[];
  /** For OTLP settings: the standard variable it stands for. */
  otel?: string;
  /** Environment variable (for `otel` settings, the variable itself). */
  env?: string;
  /** Commander flag, e.g. '--open-port <list>'. */
  flag?: string;
  /** The flag may be given several times; values accumulate. */
  repeatable?: boolean;
  description: string;
}

export const SETTINGS: readonly Setting[] = [
  // discovery
  { path: ['discovery', 'open_ports'], env: 'WAGGLE_OPEN_PORT', flag: '--open-port <list>', repeatable: true, description: 'select processes listening on these TCP ports, e.g. 80,443,8000-8999' },
  { path: ['discovery', 'exe_path'], env: 'WAGGLE_EXE', flag: '--exe <glob>', repeatable: true, description: 'select processes whose executable path matches this glob, e.g. "*/python3*"' },
  { path: ['discovery', 'pid'], env: 'WAGGLE_PID', flag: '--pid <pid>', repeatable: true, description: 'select these process ids (comma-separated or repeated)' },
  { path: ['discovery', 'exclude_agent_children'], env: 'WAGGLE_DISCOVERY_EXCLUDE_AGENT_CHILDREN', description: 'never watch processes the agent spawns' },
  { path: ['discovery', 'follow_children'], env: 'WAGGLE_DISCOVERY_FOLLOW_CHILDREN', description: 'watch the children of watched processes' },
  { path: ['discovery', 'kernel_events'], env: 'WAGGLE_DISCOVERY_KERNEL_EVENTS', flag: '--discovery-kernel-events <mode>', description: 'see new processes through BPF: auto, on or off' },
  { path: ['discovery', 'rescan_interval_ms'], env: 'WAGGLE_DISCOVERY_RESCAN_INTERVAL_MS', description: '/proc rescan period in milliseconds' },
  { path: ['discovery', 'max_processes'], env: 'WAGGLE_DISCOVERY_MAX_PROCESSES', description: 'cap on watched processes' },
  // service identity defaults
  { path: ['service', 'name'], env: 'OTEL_SERVICE_NAME', flag: '--service-name <name>', description: 'service.name for selected processes that do not name themselves' },
  { path: ['resource_attributes'], env: 'OTEL_RESOURCE_ATTRIBUTES', description: 'extra resource attributes, key=value,…' },
  // listener and output
  { path: ['listen'], env: 'WAGGLE_LISTEN', flag: '--listen <host:port>', description: 'address of /metrics, /readyz and the UI' },
  { path: ['profiling', 'enabled'], env: 'WAGGLE_PROFILING', flag: '--profile', description: 'sample CPU stacks of every process (flame graphs in the UI, /debug/pprof/profile)' },
  { path: ['profiling', 'frequency'], env: 'WAGGLE_PROFILING_FREQUENCY', flag: '--profile-frequency <hz>', description: 'CPU samples per second per CPU (1–999)' },
  { path: ['profiling', 'pyroscope', 'url'], env: 'WAGGLE_PYROSCOPE_URL', flag: '--pyroscope-url <url>', description: 'push the CPU profiles to this Pyroscope server (POST /ingest, pprof)' },
  { path: ['profiling', 'pyroscope', 'push_interval_ms'], env: 'WAGGLE_PYROSCOPE_PUSH_INTERVAL_MS', description: 'period of the pushes to Pyroscope (ms)' },
  { path: ['profiling', 'pyroscope', 'timeout_ms'], env: 'WAGGLE_PYROSCOPE_TIMEOUT_MS', description: 'deadline of one push (ms)' },
  { path: ['profiling', 'pyroscope', 'queue_size'], env: 'WAGGLE_PYROSCOPE_QUEUE_SIZE', description: 'profiles waiting to be pushed before the oldest is dropped' },
  { path: ['profiling', 'pyroscope', 'max_retries'], env: 'WAGGLE_PYROSCOPE_MAX_RETRIES', description: 'further attempts after a failed push' },
  { path: ['profiling', 'pyroscope', 'basic_auth_username'], env: 'WAGGLE_PYROSCOPE_BASIC_AUTH_USERNAME', description: 'HTTP basic auth user for Pyroscope' },
  { path: ['profiling', 'pyroscope', 'basic_auth_password'], env: 'WAGGLE_PYROSCOPE_BASIC_AUTH_PASSWORD', description: 'HTTP basic auth password for Pyroscope' },
  { path: ['profiling', 'pyroscope', 'tenant_id'], env: 'WAGGLE_PYROSCOPE_TENANT_ID', description: 'X-Scope-OrgID of a multi-tenant Pyroscope' },
  { path: ['profiling', 'pyroscope', 'labels'], env: 'WAGGLE_PYROSCOPE_LABELS', description: 'labels added to every pushed profile, key=value,…' },
  { path: ['print_traces'], env: 'WAGGLE_PRINT_TRACES', flag: '--print-traces', description: 'print one line per span' },
  { path: ['spans_file'], env: 'WAGGLE_SPANS_FILE', flag: '--spans-file <path>', description: 'append every span to this file as one JSON line' },
  { path: ['log_level'], env: 'WAGGLE_LOG_LEVEL', flag: '--log-level <level>', description: 'fatal, error, warn, info, debug, trace or silent' },
  // capture
  { path: ['capture', 'request_bytes'], env: 'WAGGLE_CAPTURE_REQUEST_BYTES', flag: '--capture-request-bytes <n>', description: 'first bytes of each request captured' },
  { path: ['capture', 'response_bytes'], env: 'WAGGLE_CAPTURE_RESPONSE_BYTES', flag: '--capture-response-bytes <n>', description: 'first bytes of each response captured' },
  { path: ['capture', 'ring_buffer_bytes'], env: 'WAGGLE_CAPTURE_RING_BUFFER_BYTES', description: 'kernel → agent ring buffer size' },
  { path: ['capture', 'max_connections'], env: 'WAGGLE_CAPTURE_MAX_CONNECTIONS', description: 'connections tracked at once in the kernel' },
  { path: ['capture', 'protocols'], env: 'WAGGLE_PROTOCOLS', flag: '--protocols <list>', description: 'protocol modules for non-HTTP connections (comma-separated; "" for none)' },
  { path: ['capture', 'stream_head_bytes'], env: 'WAGGLE_CAPTURE_STREAM_HEAD_BYTES', description: 'first bytes of each streamed read/write captured' },
  { path: ['capture', 'stream_segments'], env: 'WAGGLE_CAPTURE_STREAM_SEGMENTS', description: 'records one streamed read/write may be sent as (each stream_head_bytes long)' },
  { path: ['capture', 'stream_tail_bytes'], env: 'WAGGLE_CAPTURE_STREAM_TAIL_BYTES', description: 'last bytes of a streamed read/write longer than its head' },
  { path: ['capture', 'hooks'], env: 'WAGGLE_CAPTURE_HOOKS', flag: '--capture-hooks <mode>', description: 'where the bytes are seen: socket (the socket tracepoints, 6.5+), fexit (the inet layer, before 6.5 with BPF trampolines), syscalls (syscall exits, every kernel), auto (the first this kernel has)' },
  { path: ['capture', 'tls'], env: 'WAGGLE_CAPTURE_TLS', description: 'TLS plaintext through uprobes on OpenSSL (SSL_read/SSL_write in libssl and in executables such as node)' },
  // routes
  { path: ['routes', 'patterns'], env: 'WAGGLE_ROUTES', flag: '--route <pattern>', repeatable: true, description: 'route pattern such as /users/{id} (repeatable)' },
  { path: ['routes', 'unmatched'], env: 'WAGGLE_ROUTES_UNMATCHED', flag: '--routes-unmatched <mode>', description: 'routes for paths no pattern matches' },
  { path: ['routes', 'max_per_service'], env: 'WAGGLE_ROUTES_MAX_PER_SERVICE', flag: '--max-routes <n>', description: 'distinct routes per service before they collapse to /**' },
  // traces
  { otel: 'OTEL_TRACES_SAMPLER', path: ['traces', 'sampler'], env: 'OTEL_TRACES_SAMPLER', flag: '--traces-sampler <sampler>', description: 'span sampler' },
  { otel: 'OTEL_TRACES_SAMPLER_ARG', path: ['traces', 'sampler_arg'], env: 'OTEL_TRACES_SAMPLER_ARG', flag: '--traces-sampler-arg <ratio>', description: 'sampling ratio for *traceidratio samplers' },
  { path: ['traces', 'link'], env: 'WAGGLE_TRACES_LINK', flag: '--no-trace-link', description: 'do not join local spans into traces (parent by thread and by local connection)' },
  { path: ['traces', 'link_hold_ms'], env: 'WAGGLE_TRACES_LINK_HOLD_MS', description: 'how long a span waits for its parent before it is exported (ms)' },
  { path: ['traces', 'link_connections'], env: 'WAGGLE_TRACES_LINK_CONNECTIONS', flag: '--no-trace-link-connections', description: 'do not join a server span to the local client span at the other end of its connection (links inside a process and headers only)' },
  { path: ['traces', 'inject_traceparent'], env: 'WAGGLE_TRACES_INJECT_TRACEPARENT', flag: '--inject-traceparent', description: 'write a W3C traceparent into the outgoing plaintext HTTP/1 requests of watched processes (never duplicated), so their traces continue on other hosts; needs CAP_NET_ADMIN' },
  { path: ['traces', 'link_max_spans'], env: 'WAGGLE_TRACES_LINK_MAX_SPANS', description: 'spans held for linking at once; the oldest leave early past it (counted)' },
  // UI
  { path: ['ui', 'enabled'], env: 'WAGGLE_UI', flag: '--no-ui', description: 'do not serve the web UI' },
  { path: ['ui', 'token'], env: 'WAGGLE_UI_TOKEN', flag: '--ui-token <token>', description: 'token required by the listener (generated when binding beyond loopback)' },
  // security
  { path: ['security', 'policies'], env: 'WAGGLE_POLICY', flag: '--policy <path>', repeatable: true, description: 'security policy file or directory, or "default" for the bundled pack (repeatable)' },
  { path: ['security', 'dry_run'], env: 'WAGGLE_POLICY_DRY_RUN', flag: '--policy-dry-run', description: 'report policy actions without enforcing them' },
  { path: ['security', 'events_file'], env: 'WAGGLE_EVENTS_FILE', flag: '--events-file <path>', description: 'write security events as JSON lines' },
  { path: ['security', 'print_events'], env: 'WAGGLE_PRINT_EVENTS', flag: '--print-events', description: 'print security events' },
  // features
  { path: ['require'], env: 'WAGGLE_REQUIRE', flag: '--require <feature>', repeatable: true, description: 'exit with status 3 unless these features run: http, discovery, process-events, policies (comma-separated or repeated)' },
  // OTLP (standard variables)
  { otel: 'OTEL_EXPORTER_OTLP_ENDPOINT', path: ['otlp', 'endpoint'], env: 'OTEL_EXPORTER_OTLP_ENDPOINT', flag: '--otlp-endpoint <url>', description: 'OTLP/HTTP base URL, e.g. http://localhost:4318' },
  { otel: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', path: ['otlp', 'traces_endpoint'], env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', description: 'full URL for traces' },
  { otel: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', path: ['otlp', 'metrics_endpoint'], env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', description: 'full URL for metrics' },
  { otel: 'OTEL_EXPORTER_OTLP_PROTOCOL', path: ['otlp', 'protocol'], env: 'OTEL_EXPORTER_OTLP_PROTOCOL', flag: '--otlp-protocol <protocol>', description: 'http/protobuf or http/json' },
  { otel: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', path: ['otlp', 'traces_protocol'], env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', description: 'protocol for traces' },
  { otel: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', path: ['otlp', 'metrics_protocol'], env: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', description: 'protocol for metrics' },
  { otel: 'OTEL_EXPORTER_OTLP_HEADERS', path: ['otlp', 'headers'], env: 'OTEL_EXPORTER_OTLP_HEADERS', flag: '--otlp-header <key=value>', repeatable: true, description: 'header sent with every export (repeatable)' },
  { otel: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', path: ['otlp', 'traces_headers'], env: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', description: 'headers for traces' },
  { otel: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', path: ['otlp', 'metrics_headers'], env: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', description: 'headers for metrics' },
  { otel: 'OTEL_EXPORTER_OTLP_TIMEOUT', path: ['otlp', 'timeout_ms'], env: 'OTEL_EXPORTER_OTLP_TIMEOUT', description: 'deadline of one export request (ms)' },
  { otel: 'OTEL_EXPORTER_OTLP_COMPRESSION', path: ['otlp', 'compression'], env: 'OTEL_EXPORTER_OTLP_COMPRESSION', description: 'gzip or none' },
  { otel: 'OTEL_TRACES_EXPORTER', path: ['otlp', 'export_traces'], env: 'OTEL_TRACES_EXPORTER', description: 'otlp or none' },
  { otel: 'OTEL_METRICS_EXPORTER', path: ['otlp', 'export_metrics'], env: 'OTEL_METRICS_EXPORTER', description: 'otlp or none' },
  { otel: 'OTEL_METRIC_EXPORT_INTERVAL', path: ['otlp', 'metric_export_interval_ms'], env: 'OTEL_METRIC_EXPORT_INTERVAL', flag: '--metric-export-interval <ms>', description: 'OTLP metrics export period (ms)' },
  { otel: 'OTEL_METRIC_EXPORT_TIMEOUT', path: ['otlp', 'metric_export_timeout_ms'], env: 'OTEL_METRIC_EXPORT_TIMEOUT', description: 'deadline of one metrics export (ms)' },
  { otel: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', path: ['otlp', 'metrics_temporality'], env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', description: 'cumulative, delta or lowmemory' },
  { otel: 'OTEL_BSP_MAX_QUEUE_SIZE', path: ['otlp', 'traces_max_queue_size'], env: 'OTEL_BSP_MAX_QUEUE_SIZE', description: 'spans queued for export' },
  { otel: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', path: ['otlp', 'traces_max_export_batch_size'], env: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', description: 'spans per export request' },
  { otel: 'OTEL_BSP_SCHEDULE_DELAY', path: ['otlp', 'traces_schedule_delay_ms'], env: 'OTEL_BSP_SCHEDULE_DELAY', description: 'delay between span exports (ms)' },
];

/** The variable naming the config file. */
export const CONFIG_ENV = 'WAGGLE_CONFIG';

/**
 * WAGGLE_* variables that are not configuration keys: WAGGLE_EXTRA_PACKAGES
 * belongs to scripts/setup.sh; WAGGLE_BPF_DIR says where the compiled BPF
 * objects are (src/paths.ts).
 */
export const FOREIGN_WAGGLE_ENV: ReadonlySet<string> = new Set([
  'WAGGLE_EXTRA_PACKAGES',
  'WAGGLE_BPF_DIR',
  // the test runner's (scripts/run-tests.js): agents started by tests inherit them
  'WAGGLE_TEST_FILE_TIMEOUT_S',
  'WAGGLE_TEST_ROOT',
]);
