// The feature board as the outside sees it: /readyz's body and the
// waggle_feature_up gauge.
import type { SelfMetrics } from '../../export/index.js';
import type { FeatureBoard, FeatureStatus } from './status.js';

/** One line per feature: "http off: <reason>", "discovery up", "policies disabled: <reason>". */
export function featureLine(f: FeatureStatus): string {
  const why = f.state === 'up' ? f.note : f.reason;
  return `${f.name} ${f.state}${why ? `: ${why}` : ''}`;
}

/** /readyz: "ready" or "starting", then every feature on its own line. */
export function readinessText(ready: boolean, board: FeatureBoard): string {
  return `${ready ? 'ready' : 'starting'}\n${board.list().map(featureLine).join('\n')}\n`;
}

/** waggle_feature_up{feature, reason}: 1 up, 0 off; features the configuration did not ask for are left out. */
export function registerFeatureMetrics(self: SelfMetrics, board: FeatureBoard): void {
  self.gauge(
    'feature_up',
    'Whether each feature the configuration asks for runs (1) or could not start (0, reason in the label).',
    () => board.wanted().map((f) => [{ feature: f.name, reason: f.state === 'up' ? '' : (f.reason ?? '') }, f.state === 'up' ? 1 : 0] as const),
    ['feature', 'reason'],
  );
}
