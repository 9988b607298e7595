// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonotonicClock, parseTraceparent } from '../../src/telemetry/index.js';

describe('parseTraceparent', () => {
  it('accepts a valid header', () => {
    assert.deepEqual(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      sampled: true,
    });
    assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled, false);
    assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future'), 'later versions may add fields');
  });

  const invalid = [
    undefined,
    '',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    'x'.repeat(1000),
  ];
  for (const h of invalid) it(`rejects ${JSON.stringify(h?.slice(0, 60))}`, () => assert.equal(parseTraceparent(h), undefined));
});

describe('MonotonicClock', () => {
  it('maps CLOCK_MONOTONIC to the wall clock within a few milliseconds', () => {
    const clock = new MonotonicClock();
    const epochNs = clock.toEpochNs(MonotonicClock.nowNs());
    const diffMs = Math.abs(epochNs / 1e6 - Date.now());
    assert.ok(diffMs < 5, `off by ${diffMs} ms`);
  });

  it('keeps durations exact (same offset for both ends)', () => {
    const clock = new MonotonicClock();
    const t = MonotonicClock.nowNs();
    const d = clock.toEpochNs(t + 1_234_567) - clock.toEpochNs(t);
    assert.ok(Math.abs(d - 1_234_567) <= 512, `duration ${d}: doubles near 1.7e18 hold 256 ns steps`);
  });

  it('a refresh does not move the offset without a real clock change', () => {
    const clock = new MonotonicClock(0);
    const a = clock.offsetNs;
    const b = clock.offsetNs;
    assert.equal(a, b);
  });
});
