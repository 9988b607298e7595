// Security observability: process events with ancestry, and policies compiled
// into kernel maps that post events or kill. The CLI wires these together.
export { SecurityAgent } from './agent.js';
export type { SecurityAgentOptions, SecurityStats, PolicyStats } from './agent.js';
export { loadPolicies, parsePolicies, checkPolicySet, PolicyError } from './policy/load.js';
export type { LoadedPolicy } from './policy/load.js';
export { PolicySchema, HOOKS, ACTIONS, OPEN_FLAGS, API_VERSION, KIND } from './policy/schema.js';
export type { Policy, Selector, Hook, Action, OpenFlag } from './policy/schema.js';
export * as limits from './policy/limits.js';
export { binaryAliasWarnings } from './policy/host-check.js';
export { compilePolicies } from './compile/compiler.js';
export type { CompiledPolicySet, CompiledSelector } from './compile/compiler.js';
export { RecentEvents } from './events/recent.js';
export type { EventListener } from './events/recent.js';
export type * from './events/types.js';
export { isPolicyEvent, PROCESS_EVENT_TYPES } from './events/types.js';
export { formatCompact } from './output/compact.js';
export type { CompactOptions } from './output/compact.js';
export { JsonLinesWriter } from './output/json-lines.js';
export { eventJson } from './output/event-json.js';
export { LineBatch } from './output/line-batch.js';
export { registerSecurityMetrics } from './metrics.js';
export { defaultPolicyDir } from './default-policies.js';
