// The `discovery` feature: Discovery with its kernel events. Discovery itself
// always runs (it falls back to /proc rescans); the feature is whether the
// kernel events loaded, so an off status carries their failure and the fallback.
import { Discovery } from '../../discovery/index.js';
import type { ProcessTable } from '../../process/index.js';
import { type AgentConfig, discoveryOptions } from '../config/index.js';
import { type FeatureBoard, featureFailureReason } from './status.js';

/**
 * Discovery as configured, not started (listeners go on before the first scan).
 * `kernel_events: on` becomes a requirement the agent checks (exit 3), so a
 * refusal never throws here.
 */
export function createDiscovery(config: AgentConfig, processes?: ProcessTable): Discovery {
  return new Discovery({ ...discoveryOptions(config), kernelEvents: config.discovery.kernel_events === 'off' ? 'off' : 'auto', ...(processes ? { processes } : {}) });
}

/** Starts discovery (kernel events, then the first /proc scan) and records the feature's state. */
export async function startDiscoveryFeature(discovery: Discovery, config: AgentConfig, board: FeatureBoard): Promise<void> {
  await discovery.start();
  const stats = discovery.stats();
  if (config.discovery.kernel_events === 'off') board.disabled('discovery', 'discovery.kernel_events is off: /proc rescans only');
  else if (stats.kernelEvents) board.up('discovery');
  else board.off('discovery', `${featureFailureReason(stats.kernelEventsReason ?? 'kernel events did not start')} (falling back to /proc rescans)`);
}
