// When the agent refuses to run: a feature named by --require is not up
// (exit 3), or nothing at all could start (exit 1).
import type { AgentFeatureName } from './names.js';
import type { FeatureBoard, FeatureStatus } from './status.js';

export const EXIT_REQUIRED_FEATURE_OFF = 3;
export const EXIT_NOTHING_RUNS = 1;

export class FeatureError extends Error {
  constructor(
    readonly code: 'WAGGLE_ERR_FEATURE_REQUIRED' | 'WAGGLE_ERR_NO_FEATURE',
    message: string,
    readonly exitCode: number,
    /** The features that made the agent refuse, with their reasons. */
    readonly features: readonly FeatureStatus[],
  ) {
    super(message);
    this.name = 'FeatureError';
  }
}

const describe = (f: FeatureStatus): string => `${f.name} is ${f.state}: ${f.reason ?? 'no reason given'}`;

/** The reason the agent must not run with these features, if any. */
export function checkFeatures(board: FeatureBoard, required: readonly AgentFeatureName[]): FeatureError | undefined {
  const missing = [...new Set(required)].map((n) => board.get(n)).filter((f) => f.state !== 'up');
  if (missing.length > 0) {
    return new FeatureError(
      'WAGGLE_ERR_FEATURE_REQUIRED',
      `required feature${missing.length > 1 ? 's' : ''} not running:\n${missing.map((f) => `  ${describe(f)}`).join('\n')}`,
      EXIT_REQUIRED_FEATURE_OFF,
      missing,
    );
  }
  if (!board.anyUp()) {
    const wanted = board.wanted();
    return new FeatureError('WAGGLE_ERR_NO_FEATURE', `no feature could start:\n${wanted.map((f) => `  ${describe(f)}`).join('\n')}`, EXIT_NOTHING_RUNS, wanted);
  }
  return undefined;
}
