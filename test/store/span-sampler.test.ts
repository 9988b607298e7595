// waggle-test: no-kernel
// Which spans the store keeps: about N per second per service, whole traces
// across services, bursts bounded from the first second, errors rate-limited.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter, TraceSampler, traceHash } from '../../src/store/span-sampler.js';

const traceId = (i: number) => i.toString(16).padStart(32, '0');

describe('span sampler', () => {
  test('the trace hash is uniform even for sequential ids', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(traceHash(traceId(i)) * 10)]!++;
    for (const b of buckets) assert.ok(b > 9_500 && b < 10_500, `bucket ${b}`);
  });

  test('keeps about perSecond spans per second at 20,000/s, out-of-order end times included', () => {
    const s = new TraceSampler(50);
    let kept = 0;
    for (let i = 0; i < 200_000; i++) {
      // 10 s at 20,000/s; end times jitter by up to 150 ms, as slow and fast requests interleave.
      const ms = 1_000_000 + i / 20 - (i % 7) * 20;
      if (s.admit(traceId(i), ms)) kept++;
    }
    assert.ok(kept >= 400 && kept <= 800, `kept ${kept} in 10 s`);
  });

  test('a trace kept by a busy service is kept by quieter ones', () => {
    const busy = new TraceSampler(50);
    const quiet = new TraceSampler(50);
    let keptBoth = 0;
    let keptBusy = 0;
    for (let i = 0; i < 100_000; i++) {
      const ms = 1_000_000 + i / 10; // 10,000/s
      const id = traceId(i * 7919);
      const b = busy.admit(id, ms);
      const q = i % 4 === 0 ? quiet.admit(id, ms) : false; // the quiet one sees a quarter of the traces
      if (b && i % 4 === 0 && i > 20_000) {
        keptBusy++;
        if (q) keptBoth++;
      }
    }
    assert.ok(keptBusy > 0);
    assert.equal(keptBoth, keptBusy, 'every trace the busy service kept, the quiet one kept too');
  });

  test('rate limiter: bursts up to the bucket, then perSecond on average', () => {
    const r = new RateLimiter(10, 20);
    let taken = 0;
    for (let i = 0; i < 1000; i++) if (r.take(1000)) taken++;
    assert.equal(taken, 20);
    for (let ms = 1001; ms <= 11_000; ms++) if (r.take(ms)) taken++;
    assert.ok(taken >= 118 && taken <= 121, `${taken}`);
  });
});
