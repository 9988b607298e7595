// The agent's features: names, start code shared by `waggle run` and `waggle doctor`,
// the board of what runs, and how it is reported.
export { FEATURE_NAMES, FEATURE_TITLES, type AgentFeatureName, isFeatureName } from './names.js';
export { FeatureBoard, type FeatureState, type FeatureStatus, featureFailureReason } from './status.js';
export { FeatureError, checkFeatures, EXIT_REQUIRED_FEATURE_OFF, EXIT_NOTHING_RUNS } from './check.js';
export { featureLine, readinessText, registerFeatureMetrics } from './report.js';
export { INJECT_NOT_WANTED, httpHooksNote, recordInjectFeature, recordTlsFeature, startHttpFeature } from './start-http.js';
export { createDiscovery, startDiscoveryFeature } from './start-discovery.js';
export { NOT_WANTED, type SecurityPart, startSecurity, startSecurityFeatures, wantsSecurity } from './start-security.js';
