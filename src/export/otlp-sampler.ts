// Head sampling for OTLP trace export, per the standard OTEL_TRACES_SAMPLER /
// OTEL_TRACES_SAMPLER_ARG (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration).
// Exporting a span costs ~10 µs of encoding (http/protobuf) in the official
// exporter, so busy hosts want a ratio. Decisions follow the trace id, so every
// span of a trace (across hosts running compatible samplers) gets the same one;
// parent-based samplers follow the sampled flag of an incoming traceparent.
import type { Span } from '../telemetry/index.js';

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';
export const SAMPLER_NAMES: readonly SamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

export interface SamplerConfig {
  name: SamplerName;
  /** Probability in [0, 1] for the ratio samplers. */
  ratio: number;
}

export type Sampler = (span: Span) => boolean;

export function createSampler(c: SamplerConfig): Sampler {
  const root = rootSampler(c);
  if (!c.name.startsWith('parentbased_')) return root;
  return (span) => (span.parentSampled === undefined ? root(span) : span.parentSampled);
}

function rootSampler(c: SamplerConfig): Sampler {
  switch (c.name) {
    case 'always_off':
    case 'parentbased_always_off':
      return () => false;
    case 'traceidratio':
    case 'parentbased_traceidratio': {
      if (c.ratio >= 1) return () => true;
      if (c.ratio <= 0) return () => false;
      // The low 56 bits of the trace id, compared with ratio × 2^56: the
      // randomness W3C trace context level 2 promises in trace ids.
      const threshold = Math.floor(c.ratio * 2 ** 56);
      return (span) => parseInt(span.traceId.slice(18), 16) < threshold;
    }
    default:
      return () => true;
  }
}
