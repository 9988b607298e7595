// Checks of policies against this host that are worth a warning, not a refusal:
// a binary value that is a symlink here never matches, because processes run as
// the canonical path (/bin/sh runs as /usr/bin/dash on Debian).
import { realpathSync } from 'node:fs';
import type { LoadedPolicy } from './load.js';

function canonical(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

export function binaryAliasWarnings(policies: readonly LoadedPolicy[]): string[] {
  const out: string[] = [];
  for (const { policy, source } of policies) {
    policy.spec.selectors.forEach((sel, i) => {
      for (const field of ['binary', 'parentBinary'] as const) {
        for (const op of ['equal', 'notEqual'] as const) {
          const values = sel[field]?.[op] ?? [];
          values.forEach((value, j) => {
            const real = canonical(value);
            if (real === undefined || real === value || values.includes(real)) return;
            out.push(
              `${source}: spec.selectors[${i}].${field}.${op}[${j}]: ${value} resolves to ${real} on this host; processes run as ${real}, so this value never matches (list ${real} instead)`,
            );
          });
        }
      }
    });
  }
  return out;
}
