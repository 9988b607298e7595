// The agent's features: what a person can expect from `waggle run`, each backed
// by BPF objects that may or may not load on a given kernel. Defined once here;
// the agent, `--require`, /readyz, /metrics, the UI and `waggle doctor` all use
// these names.

export const FEATURE_NAMES = ['http', 'tls', 'context-propagation', 'discovery', 'process-events', 'policies', 'profiling'] as const;
export type AgentFeatureName = (typeof FEATURE_NAMES)[number];

export const FEATURE_TITLES: Record<AgentFeatureName, string> = {
  http: 'RED metrics and traces from HTTP traffic (socket capture)',
  tls: 'HTTPS plaintext through uprobes on OpenSSL (SSL_read/SSL_write in libssl and node)',
  'context-propagation': 'traceparent written into outgoing plaintext HTTP/1 requests, so traces continue on other hosts (sockops + sk_msg; needs CAP_NET_ADMIN)',
  discovery: 'new processes and listening sockets seen at once (kernel events; else /proc rescans)',
  'process-events': 'exec/exit events with ancestry (kernel process table)',
  policies: 'file/exec/connect policies filtered in the kernel',
  profiling: 'CPU profiles of every process (perf-event sampling, stacks walked in the kernel)',
};

export function isFeatureName(name: string): name is AgentFeatureName {
  return (FEATURE_NAMES as readonly string[]).includes(name);
}
