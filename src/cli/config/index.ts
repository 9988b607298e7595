// The agent's configuration: schema, loading (file < env < flags), the flags
// of `waggle run`, and the bridge to Discovery. See docs/configuration.md.
export { loadConfig, flagAttribute } from './load-config.js';
export type { AgentConfig, LoadConfigOptions } from './load-config.js';
export { addRunOptions } from './run-options.js';
export { discoveryOptions } from './discovery-options.js';
export { ConfigError, formatProblem } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { SETTINGS, CONFIG_ENV } from './settings.js';
export type { Setting } from './settings.js';
export { configSchema, LOG_LEVELS, SAMPLERS } from './schema.js';
