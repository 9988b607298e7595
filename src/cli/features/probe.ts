// `waggle doctor`'s feature check: every feature started with the agent's own
// start code and objects (capture, discovery's kernel events, the security
// object with the bundled policy pack in dry run), then closed. What it says is
// what `waggle run` would get, with the kernel's reason when a feature is off.
import { Registry } from 'prom-client';
import { ProcessTable } from '../../process/index.js';
import { ConfigError, type AgentConfig, loadConfig } from '../config/index.js';
import { createLogger } from '../logger.js';
import { FeatureBoard, type FeatureStatus, featureFailureReason } from './status.js';
import { createDiscovery, startDiscoveryFeature } from './start-discovery.js';
import { INJECT_NOT_WANTED, httpHooksNote, recordInjectFeature, recordTlsFeature, startHttpFeature } from './start-http.js';
import { NOT_WANTED, startSecurityFeatures } from './start-security.js';
import { probeProfilingFeature } from './start-profiling.js';

/** The agent's configuration from the environment (as `waggle run` would read it), plus every feature asked for. */
function doctorConfig(): AgentConfig {
  // Dry run: the bundled pack has sigkill actions, and doctor must never kill anything.
  // Injection is tried too: doctor watches no process, so nothing is written.
  const flags = { policy: ['default'], policyDryRun: true, logLevel: 'silent', injectTraceparent: true };
  try {
    return loadConfig({ flags });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return loadConfig({ flags, env: {} }); // a bad environment is `waggle run`'s to report
  }
}

/** Starts and closes each feature in turn; statuses in FEATURE_NAMES order. */
export async function probeAgentFeatures(): Promise<FeatureStatus[]> {
  const config = doctorConfig();
  const board = new FeatureBoard({ ...NOT_WANTED, 'context-propagation': INJECT_NOT_WANTED });
  try {
    const capture = await startHttpFeature(config, { onExchange: () => {}, onError: () => {} });
    recordTlsFeature(board, capture);
    recordInjectFeature(board, capture);
    capture.close();
    board.up('http', httpHooksNote(capture));
  } catch (e) {
    board.off('http', featureFailureReason(e));
    if (config.capture.tls) board.disabled('tls', 'needs the http feature (the capture object), which is off');
    board.disabled('context-propagation', 'needs the http feature (the capture object), which is off');
  }
  const processes = new ProcessTable(); // shared, as the agent shares it
  const discovery = createDiscovery(config, processes);
  try {
    await startDiscoveryFeature(discovery, config, board);
  } catch (e) {
    board.off('discovery', featureFailureReason(e));
  } finally {
    discovery.close();
  }
  const security = await startSecurityFeatures(config, board, { registry: new Registry(), store: undefined, log: createLogger('silent'), processes });
  await security?.close();
  probeProfilingFeature(board);
  return board.list();
}
