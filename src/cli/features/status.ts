// Which features run, and why the others do not. The agent fills one board as it
// starts each feature; /readyz, the waggle_feature_up gauge, the UI's health page
// and `waggle doctor` read it.
import { FEATURE_NAMES, FEATURE_TITLES, type AgentFeatureName } from './names.js';

/** up: running; off: wanted but could not start; disabled: not asked for by the configuration. */
export type FeatureState = 'up' | 'off' | 'disabled';

export interface FeatureStatus {
  name: AgentFeatureName;
  title: string;
  state: FeatureState;
  /** Why off or disabled: the kernel's words where it gave any. */
  reason?: string;
  /** For a feature that is up but partly degraded (e.g. some policy hooks missing). */
  note?: string;
}

export class FeatureBoard {
  private readonly statuses = new Map<AgentFeatureName, FeatureStatus>();

  /** Every feature starts disabled with the reason it is not asked for. */
  constructor(notWanted: Partial<Record<AgentFeatureName, string>> = {}) {
    for (const name of FEATURE_NAMES) {
      this.statuses.set(name, { name, title: FEATURE_TITLES[name], state: 'disabled', reason: notWanted[name] ?? 'not started' });
    }
  }

  up(name: AgentFeatureName, note?: string): void {
    this.statuses.set(name, { name, title: FEATURE_TITLES[name], state: 'up', ...(note ? { note } : {}) });
  }

  off(name: AgentFeatureName, reason: string): void {
    this.statuses.set(name, { name, title: FEATURE_TITLES[name], state: 'off', reason });
  }

  disabled(name: AgentFeatureName, reason: string): void {
    this.statuses.set(name, { name, title: FEATURE_TITLES[name], state: 'disabled', reason });
  }

  get(name: AgentFeatureName): FeatureStatus {
    return this.statuses.get(name)!;
  }

  list(): FeatureStatus[] {
    return FEATURE_NAMES.map((n) => this.statuses.get(n)!);
  }

  /** Features the configuration asked for (up or off). */
  wanted(): FeatureStatus[] {
    return this.list().filter((f) => f.state !== 'disabled');
  }

  anyUp(): boolean {
    return this.list().some((f) => f.state === 'up');
  }
}

/** Verifier lines that say how far it got, not why it refused. */
const VERIFIER_STATS = /^(processed \d+ insns|verification time|stack depth|Func#\d+ .* is safe for any args)/;
const SAFE_FUNC = /Func#\d+ \('[^']*'\) is safe for any args that match its prototype\s*/g;

/**
 * One line saying why a feature could not start, in the kernel's words: the
 * verifier's refusal, the missing hook or capability. Object paths are cut to
 * the file name (they differ per install and say nothing to the reader).
 * Accepts an error or a message already taken from one.
 */
export function featureFailureReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const text = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !VERIFIER_STATS.test(l))
    .join(' ')
    .replace(SAFE_FUNC, '')
    .replace(/(^|[\s(])\/\S*\/([^/\s]+\.bpf\.o)/g, '$1$2');
  const flat = text.replace(/\s+/g, ' ').trim() || 'unknown error';
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
