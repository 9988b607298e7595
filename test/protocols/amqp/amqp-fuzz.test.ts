// waggle-test: no-kernel
// AMQP 0-9-1 parser fuzz: a synthetic conversation (handshake, declares,
// publishes with content, a confirm channel with single and multiple acks and
// a nack, deliveries, basic.get, a 6 KB body, a refused declare, heartbeats)
// under random re-splits, holes, flips, garbage and lost chunks, both sides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { amqp } from '../../../src/protocols/amqp/index.js';
import { fuzz, type Write } from '../nats/fuzz-harness.js';

const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const u64 = (n: number) => [0, 0, 0, 0, ...u32(n)];
const short = (s: string) => [s.length, ...Buffer.from(s)];
const long = (s: string) => [...u32(s.length), ...Buffer.from(s)];
const frame = (type: number, ch: number, payload: number[]) => [type, ...u16(ch), ...u32(payload.length), ...payload, 0xce];
const method = (ch: number, cls: number, m: number, args: number[]) => frame(1, ch, [...u16(cls), ...u16(m), ...args]);
const header = (ch: number, size: number) => frame(2, ch, [...u16(60), 0, 0, ...u64(size), 0, 0]);
const body = (ch: number, n: number) => frame(3, ch, new Array(n).fill(0x61));
const c = (...frames: number[][]): Write => ({ from: 'client', data: Uint8Array.from(frames.flat()) });
const s = (...frames: number[][]): Write => ({ from: 'server', data: Uint8Array.from(frames.flat()) });

function conversation(): Write[] {
  const w: Write[] = [
    { from: 'client', data: Buffer.from('AMQP\x00\x00\x09\x01', 'latin1') },
    s(method(0, 10, 10, [0, 9, ...u32(0), ...long('PLAIN'), ...long('en_US')])),
    c(method(0, 10, 11, [...u32(0), ...short('PLAIN'), ...long('\x00guest\x00s3cret'), ...short('en_US')])),
    s(method(0, 10, 30, [...u16(2047), ...u32(131072), ...u16(60)])),
    c(method(0, 10, 31, [...u16(2047), ...u32(131072), ...u16(60)]), method(0, 10, 40, [...short('/'), 0, 0])),
    s(method(0, 10, 41, [0])),
    c(method(1, 20, 10, [0])),
    s(method(1, 20, 11, [...u32(0)])),
    c(method(1, 50, 10, [0, 0, ...short('q'), 0, ...u32(0)])),
    s(method(1, 50, 11, [...short('q'), ...u32(0), ...u32(0)])),
    c(method(1, 60, 20, [0, 0, ...short('q'), ...short(''), 0, ...u32(0)])),
    s(method(1, 60, 21, [...short('ctag')])),
  ];
  for (let i = 0; i < 20; i++) {
    const n = i * 31;
    w.push(c(method(1, 60, 40, [0, 0, ...short(i % 2 ? 'ex' : ''), ...short('q'), 0]), header(1, n), ...(n > 0 ? [body(1, n)] : [])));
    w.push(s(method(1, 60, 60, [...short('ctag'), ...u64(i + 1), 0, ...short(''), ...short('q')]), header(1, n), ...(n > 0 ? [body(1, n)] : [])), c(method(1, 60, 80, [...u64(i + 1), 0])));
  }
  // A confirm channel: 6 publishes, acks 1 and 2, multiple up to 4, a nack of 5, an ack of 6.
  w.push(c(method(2, 20, 10, [0])), s(method(2, 20, 11, [...u32(0)])), c(method(2, 85, 10, [0])), s(method(2, 85, 11, [])));
  for (let i = 0; i < 6; i++) w.push(c(method(2, 60, 40, [0, 0, ...short(''), ...short('cq'), 0]), header(2, 3), body(2, 3)));
  w.push(s(method(2, 60, 80, [...u64(1), 0]), method(2, 60, 80, [...u64(2), 0])), s(method(2, 60, 80, [...u64(4), 1])), s(method(2, 60, 120, [...u64(5), 0])), s(method(2, 60, 80, [...u64(6), 0])));
  // basic.get: one message, then empty.
  w.push(c(method(1, 60, 70, [0, 0, ...short('q'), 1])), s(method(1, 60, 71, [...u64(30), 0, ...short(''), ...short('q'), ...u32(0)]), header(1, 4), body(1, 4)));
  w.push(c(method(1, 60, 70, [0, 0, ...short('q'), 1])), s(method(1, 60, 72, [...short('')])));
  // A 6 KB body, heartbeats, a refused passive declare on channel 3.
  w.push(c(method(1, 60, 40, [0, 0, ...short('ex'), ...short('big'), 0]), header(1, 6000), body(1, 6000)), c(frame(8, 0, [])), s(frame(8, 0, [])));
  w.push(c(method(3, 20, 10, [0])), s(method(3, 20, 11, [...u32(0)])), c(method(3, 50, 10, [0, 0, ...short('missing'), 1, ...u32(0)])));
  w.push(s(method(3, 20, 40, [...u16(404), ...short("NOT_FOUND - no queue 'missing'"), ...u16(50), ...u16(10)])), c(method(3, 20, 41, [])));
  w.push(c(method(0, 10, 50, [...u16(200), ...short('bye'), 0, 0, 0, 0])), s(method(0, 10, 51, [])));
  return w;
}

describe('amqp fuzz', () => {
  it('total, bounded, sane', () => {
    const counts = fuzz({ make: (role) => amqp.createParser(role), conversation: conversation() });
    // queue.declare, basic.consume, 20 publish + 20 deliver, 6 confirmed publishes,
    // 2 basic.get, the 6 KB publish, the refused declare. The broker's side: the nack and the refusal.
    assert.deepEqual(counts, { client: 52, server: 2 });
  });
});
