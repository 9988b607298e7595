// An explicit-bucket histogram as the metric aggregations keep it (HTTP and
// operations), read by the Prometheus and OTLP exporters.

export interface HistogramState {
  /** Boundaries shared by all series of the metric. */
  readonly boundaries: readonly number[];
  /** counts[i]: observations ≤ boundaries[i] and > boundaries[i-1]; the last is the overflow (+Inf) bucket. */
  readonly counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

export function histogram(boundaries: readonly number[]): HistogramState {
  return { boundaries, counts: new Array<number>(boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity };
}

export function observe(h: HistogramState, v: number): void {
  const b = h.boundaries;
  let i = 0;
  while (i < b.length && v > b[i]!) i++;
  h.counts[i]!++;
  h.sum += v;
  h.count++;
  if (v < h.min) h.min = v;
  if (v > h.max) h.max = v;
}
