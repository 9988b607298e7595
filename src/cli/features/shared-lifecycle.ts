// One set of fork/exit programs for discovery and capture. Both keep a set of
// pids that children join at fork, in the kernel (discovery's `tracked`,
// capture's `watched`: in the agent the same processes, since capture watches
// what discovery selects), and both forget pids at exit. Discovery's object
// reuses capture's maps, so its fork/exit programs keep capture's sets too and
// capture's own detach: a fork or an exit runs one program fewer, and a worker
// forked by a watched server is still watched from its first instruction.
//
// Shared only when discovery's kernel exclusion means what capture's does (the
// agent and everything it spawns); otherwise, or when discovery's object does
// not load with capture's maps, each keeps its own programs (nothing is lost).
import type { SocketCapture } from '../../capture/index.js';
import type { Discovery } from '../../discovery/index.js';
import type { AgentConfig } from '../config/index.js';
import type { Logger } from '../logger.js';

/** Before discovery starts: its object is to keep capture's pid sets. */
export function offerCaptureLifecycle(config: AgentConfig, discovery: Discovery, capture: SocketCapture): void {
  if (!config.discovery.exclude_agent_children) return;
  const maps = capture.lifecycleMaps();
  discovery.shareKernelMaps({ tracked: maps.watched, excluded: maps.excluded });
}

/** After: when discovery's programs keep the shared maps, capture's fork/exit programs detach. */
export function takeOverCaptureLifecycle(discovery: Discovery, capture: SocketCapture, log: Logger): void {
  const s = discovery.stats();
  if (s.kernelMapsShared) capture.handOverLifecycle();
  else if (s.kernelMapsReason) log.debug({ reason: s.kernelMapsReason }, 'capture keeps its own fork/exit programs: discovery could not share its pid maps');
}
