// waggle-test: no-kernel
// The latency sketch: bounded relative error, exact counts, merge = union.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUCKET_COUNT, LogHistogram, bucketOf } from '../../src/store/log-histogram.js';

/** Exact nearest-rank quantile of sorted values. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('log histogram', () => {
  test('quantiles are within 4.4 % of the exact nearest-rank values', () => {
    // A skewed distribution: log-normal-ish from 50 µs to seconds, deterministic.
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const values: number[] = [];
    const h = new LogHistogram();
    for (let i = 0; i < 100_000; i++) {
      const ns = Math.round(50_000 * Math.exp(rand() * 9));
      values.push(ns);
      h.record(ns);
    }
    values.sort((a, b) => a - b);
    assert.equal(h.count, 100_000);
    for (const q of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      const want = exact(values, q);
      const got = h.quantileNs(q);
      assert.ok(Math.abs(got - want) / want <= 0.044, `q=${q}: got ${got}, exact ${want}`);
    }
    assert.equal(h.quantileNs(0), values[0]);
    assert.equal(h.quantileNs(1), values.at(-1));
    assert.equal(h.sumNs, values.reduce((a, b) => a + b, 0));
  });

  test('merging two sketches equals sketching the union', () => {
    const a = new LogHistogram();
    const b = new LogHistogram();
    const u = new LogHistogram();
    for (let i = 1; i <= 5000; i++) {
      const x = i * 1_000;
      const y = 3e9 / i;
      a.record(x);
      b.record(y);
      u.record(x);
      u.record(y);
    }
    a.merge(b);
    assert.equal(a.count, u.count);
    assert.deepEqual(a.buckets(), u.buckets());
    for (const q of [0.5, 0.9, 0.99]) assert.equal(a.quantileNs(q), u.quantileNs(q));
  });

  test('extremes and garbage go to the edge buckets and never throw', () => {
    const h = new LogHistogram();
    for (const v of [0, -5, NaN, Infinity, 1, 1e15]) h.record(v);
    assert.equal(h.count, 6);
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(1e15), BUCKET_COUNT - 1);
    assert.ok(Number.isFinite(h.quantileNs(0.5)));
    h.trim();
    assert.equal(h.count, 6);
    assert.ok(new LogHistogram().quantileNs(0.5) !== new LogHistogram().quantileNs(0.5), 'empty sketch gives NaN');
  });

  test('re-binning onto display buckets keeps every count', () => {
    const h = new LogHistogram();
    for (let i = 0; i < 1000; i++) h.record((i + 1) * 1e6); // 1 ms .. 1 s
    const bins = h.rebin([1e6, 10e6, 100e6, 1e9, Infinity]);
    assert.equal(bins.reduce((a, b) => a + b, 0), 1000);
    assert.ok(Math.abs(bins[0]! - 1) <= 1 && Math.abs(bins[1]! - 9) <= 1 && Math.abs(bins[2]! - 90) <= 2);
  });
});
