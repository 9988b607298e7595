// waggle-test: no-kernel
// MQTT parser fuzz: synthetic 3.1.1 and 5 conversations (QoS 0/1/2, topic
// aliases, properties, refusals, deliveries, 5 KB payloads) under random
// re-splits, holes, flips, garbage and lost chunks, from both sides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mqtt } from '../../../src/protocols/mqtt/index.js';
import { fuzz, type Write } from '../nats/fuzz-harness.js';

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const u16 = (n: number) => [n >> 8, n & 0xff];
const str = (s: string) => [...u16(Buffer.byteLength(s)), ...Buffer.from(s)];
const packet = (first: number, body: number[]) => Uint8Array.from([first, ...varint(body.length), ...body]);

function conversation(v: 4 | 5): Write[] {
  const props = (p: number[]) => (v === 5 ? [...varint(p.length), ...p] : []);
  const c = (first: number, body: number[]): Write => ({ from: 'client', data: packet(first, body) });
  const s = (first: number, body: number[]): Write => ({ from: 'server', data: packet(first, body) });
  const w: Write[] = [
    c(0x10, [...str('MQTT'), v, 0xc2, ...u16(60), ...props([]), ...str('client-1'), ...str('user'), ...str('secret')]),
    s(0x20, [0, 0, ...props([])]),
    c(0x82, [...u16(1), ...props([]), ...str('a/#'), 1]),
    s(0x90, [...u16(1), ...props([]), 1]),
    c(0x82, [...u16(2), ...props([]), ...str('denied/#'), 1]),
    s(0x90, [...u16(2), ...props([]), 0x80]),
  ];
  let id = 10;
  for (let i = 0; i < 24; i++) {
    const qos = i % 3;
    const payload = [...Buffer.from('p'.repeat(i * 50))];
    // MQTT 5: every fourth publish uses topic alias 7 (set by the first).
    const alias = v === 5 && i % 4 === 0;
    const topic = alias && i > 0 ? '' : `a/${i % 2}`;
    const pid = qos > 0 ? u16(++id) : [];
    w.push(c(0x30 | (qos << 1), [...str(topic), ...pid, ...props(alias ? [0x23, 0, 7, 0x01, 1] : [0x01, 1]), ...payload]));
    if (qos === 1) w.push(s(0x40, v === 5 && i % 5 === 4 ? [...u16(id), 0x87, 0] : u16(id)));
    if (qos === 2) w.push(s(0x50, u16(id)), c(0x62, u16(id)), s(0x70, u16(id)));
    w.push(s(0x30 | 2, [...str(`a/${i % 2}`), ...u16(100 + i), ...props([]), ...payload]), c(0x40, u16(100 + i)));
  }
  w.push(c(0x30, [...str('big'), ...props([]), ...new Array(5000).fill(0x42)]), c(0xc0, []), s(0xd0, []));
  w.push(c(0xa2, [...u16(50), ...props([]), ...str('a/#')]), s(0xb0, v === 5 ? [...u16(50), 0, 0] : u16(50)), c(0xe0, v === 5 ? [0, 0] : []));
  return w;
}

describe('mqtt fuzz', () => {
  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 4 ? '3.1.1' : '5'}: total, bounded, sane`, () => {
      const counts = fuzz({ make: (role) => mqtt.createParser(role), conversation: conversation(v) });
      // connect + 2 subscribe + 24 publish + 24 deliveries + big publish + unsubscribe.
      // The broker's side: the refused subscription, and in 5 the PUBACKs with 0x87 (i = 4, 19).
      assert.deepEqual(counts, { client: 53, server: v === 5 ? 3 : 1 });
    });
  }
});

describe('mqtt 5 topic aliases', () => {
  it('an aliased PUBLISH (empty topic, Topic Alias property) is named by the topic the alias was set with', () => {
    const parser = mqtt.createParser('client');
    const ops: string[] = [];
    let t = 0;
    for (const w of conversation(5)) {
      const data = w.data;
      parser.feed({ direction: w.from === 'client' ? 'out' : 'in', timeNs: ++t, bytes: data.length, head: data, tail: new Uint8Array(0), lost: 0, tid: 1 }, (op) => ops.push(op.name));
    }
    const sends = ops.filter((n) => n.startsWith('publish'));
    assert.equal(sends.length, 49);
    assert.ok(sends.every((n) => n === 'publish a/0' || n === 'publish a/1' || n === 'publish big'), sends.join());
  });
});
