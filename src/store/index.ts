// The embedded live store: spans, RED aggregates, service map, security events
// and agent health, bounded, for the UI.
export { LiveStore, OTHER_OPERATIONS, opKey } from './live-store.js';
export type { LiveStoreOptions, SpanQuery } from './live-store.js';
export { registerStoreMetrics } from './metrics.js';
export { startHealthSampler } from './health-sampler.js';
export type { HealthSampler, HealthSources } from './health-sampler.js';
export type { FeatureHealth, HealthSnapshot, HealthView, WatchedProcess } from './health.js';
export type { SecurityEventRecord, SecurityEventView } from './security-events.js';
export { LOCAL_CALLERS_LABEL } from './service-map.js';
export { TraceStore, type TraceStoreOptions, type TraceQuery, type TraceListItem, type TraceSpanView, type TraceView } from './trace-store.js';
export { LogHistogram } from './log-histogram.js';
export * from './views.js';
