// The `discovery` feature: Discovery with its kernel events. Discovery itself
// always runs (it falls back to /proc rescans); the feature is whether the
// kernel events loaded, so the status carries their failure and the fallback.
import { Discovery } from '../../discovery/index.js';
import { type AgentConfig, discoveryOptions } from '../config/index.js';
import { type FeatureBoard, featureFailureReason } from './status.js';

/**
 * Creates discovery, lets the caller wire its listeners (before the first
 * scan), starts it and records the feature's state. `kernel_events: on` is
 * handled as a requirement by the caller, so a refusal here never throws.
 */
export async function startDiscoveryFeature(config: AgentConfig, board: FeatureBoard, wire: (discovery: Discovery) => void): Promise<Discovery> {
  const mode = config.discovery.kernel_events;
  const discovery = new Discovery({ ...discoveryOptions(config), kernelEvents: mode === 'off' ? 'off' : 'auto' });
  wire(discovery);
  try {
    await discovery.start();
  } catch (e) {
    discovery.close();
    throw e;
  }
  const stats = discovery.stats();
  if (mode === 'off') board.disabled('discovery', 'discovery.kernel_events is off: /proc rescans only');
  else if (stats.kernelEvents) board.up('discovery');
  else board.off('discovery', `${featureFailureReason(stats.kernelEventsReason ?? 'kernel events did not start')} (falling back to /proc rescans)`);
  return discovery;
}
