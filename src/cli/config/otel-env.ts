// The OTLP section of the configuration as the standard OTEL_* variables: the
// file's `otlp:` keys, then the process environment, then flags, are folded
// into one variable set which the exporter's own resolver (src/export/otlp-config.ts)
// turns into endpoints, protocols and headers — so the file and the variables
// cannot disagree about what a value means.
import { type OtlpConfig, OtlpConfigError, otlpConfigFromEnv } from '../../export/otlp-config.js';
import { type ConfigProblem } from './errors.js';
import type { ParsedConfig } from './schema.js';
export type { OtlpSection };
import { SETTINGS } from './settings.js';

type OtlpSection = ParsedConfig['otlp'];
/** The sections whose keys are OTEL_* variables: otlp, and traces (the sampler). */
type OtelSections = Pick<ParsedConfig, 'otlp' | 'traces'>;

function asVariable(key: string, value: unknown): string {
  if (key === 'export_traces' || key === 'export_metrics') return value ? 'otlp' : 'none';
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, string>)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join(',');
  }
  return String(value);
}

export interface OtelInputs {
  /** Values the config file gave, by section (absent sections: nothing from the file). */
  file: Partial<{ [S in keyof OtelSections]: Partial<OtelSections[S]> }>;
  fileLabel?: string;
  env: Record<string, string | undefined>;
  flags: Record<string, unknown>;
  flagName: (flag: string) => string;
}

export function resolveOtlp(inputs: OtelInputs): { otlp: OtlpConfig } | { problems: ConfigProblem[] } {
  // Every OTEL_* variable of the environment reaches the resolver, including the
  // per-signal ones the settings table does not list (…_TRACES_TIMEOUT, …).
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs.env)) if (k.startsWith('OTEL_') && v?.trim()) vars[k] = v.trim();
  const from = new Map<string, { source: string; path: string }>();
  for (const s of SETTINGS) {
    if (!s.otel || !s.path) continue;
    const [section, key] = s.path as [keyof OtelSections, string];
    const fileValue = (inputs.file[section] as Record<string, unknown> | undefined)?.[key];
    if (fileValue !== undefined && inputs.fileLabel) {
      vars[s.otel] = asVariable(key, fileValue);
      from.set(s.otel, { source: inputs.fileLabel, path: s.path.join('.') });
    }
    const envValue = inputs.env[s.otel]?.trim();
    if (envValue) {
      vars[s.otel] = envValue;
      from.set(s.otel, { source: `environment ${s.otel}`, path: '' });
    }
    if (s.flag) {
      const flagValue = inputs.flags[inputs.flagName(s.flag)];
      if (flagValue !== undefined) {
        vars[s.otel] = Array.isArray(flagValue) ? flagValue.join(',') : String(flagValue);
        from.set(s.otel, { source: `flag ${s.flag.split(' ')[0]}`, path: '' });
      }
    }
  }
  try {
    return { otlp: otlpConfigFromEnv(vars) };
  } catch (e) {
    if (!(e instanceof OtlpConfigError)) throw e;
    const origin = from.get(e.field) ?? { source: `environment ${e.field}`, path: '' };
    const message = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
    return { problems: [{ source: origin.source, path: origin.path, message }] };
  }
}
