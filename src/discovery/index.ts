// Process discovery: which processes to watch, who they are (service identity),
// reading processes through the shared process table (src/process). Depends on src/process and src/ebpf.
export { Discovery } from './discovery.js';
export type { DiscoveryOptions, DiscoveryStats, DiscoveryEvents, SelectionReason, WatchedProcess } from './discovery.js';
export { Selector } from './selector.js';
export type { SelectorSpec, SelectorFacts } from './selector.js';
export { PortSet, parsePortRange, splitPortList } from './port-set.js';
export type { PortRange } from './port-set.js';
export { ExeGlob, compileExeGlob } from './exe-glob.js';
export { serviceIdentity } from './service-identity.js';
export type { IdentityHints, NameHint } from './service-identity.js';
export { deriveServiceName } from './service-name.js';
export { scrubbedCommandLine, scrubArgs } from './command-line-scrub.js';
export { parseResourceAttributes } from './resource-attributes.js';
export { serviceInstanceId } from './instance-id.js';
export { ListeningPorts } from './listening-ports.js';
export { KernelProcessEvents } from './kernel-events.js';
export type { SharedPidMaps } from './kernel-events.js';
export type { KernelEvent } from './kernel-events.js';
