// The stream platform: connections → protocol modules → LocatedOperations.
export { StreamTracker, type StreamTrackerOptions, type StreamTrackerStats } from './tracker.js';
export type { ProtocolStats } from './protocol-stats.js';
