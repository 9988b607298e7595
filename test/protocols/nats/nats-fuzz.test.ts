// waggle-test: no-kernel
// NATS parser fuzz: a synthetic conversation covering every verb (verbose
// acks, headers, request/reply, big payloads, errors) under random re-splits,
// holes, flips, garbage and lost chunks, from both sides.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nats } from '../../../src/protocols/nats/index.js';
import { fuzz, type Write } from './fuzz-harness.js';

const c = (s: string): Write => ({ from: 'client', data: Buffer.from(s, 'latin1') });
const s = (t: string): Write => ({ from: 'server', data: Buffer.from(t, 'latin1') });

function conversation(verbose: boolean): Write[] {
  const w: Write[] = [s('INFO {"server_id":"x","max_payload":1048576}\r\n'), c(`CONNECT {"verbose":${verbose},"user":"u","pass":"p"}\r\nPING\r\n`), s(verbose ? '+OK\r\nPONG\r\n' : 'PONG\r\n')];
  w.push(c('SUB orders.* 1\r\n'));
  if (verbose) w.push(s('+OK\r\n'));
  for (let i = 0; i < 30; i++) {
    const body = 'x'.repeat(i * 37);
    w.push(c(`PUB orders.${i % 3} ${body.length}\r\n${body}\r\n`));
    if (verbose) w.push(s(i % 7 === 6 ? "-ERR 'Permissions Violation for Publish to \"orders.0\"'\r\n" : '+OK\r\n'));
    w.push(s(`MSG orders.${i % 3} 1 ${body.length}\r\n${body}\r\n`));
  }
  const hdr = 'NATS/1.0\r\nA: b\r\n\r\n';
  w.push(c(`HPUB h.x _INBOX.1 ${hdr.length} ${hdr.length + 5}\r\n${hdr}hello\r\nPUB big 9000\r\n${'B'.repeat(9000)}\r\n`));
  if (verbose) w.push(s('+OK\r\n+OK\r\n'));
  w.push(s(`HMSG _INBOX.1 2 ${hdr.length} ${hdr.length + 2}\r\n${hdr}ok\r\nPING\r\n`), c('PONG\r\nUNSUB 1\r\n'));
  if (verbose) w.push(s('+OK\r\n'));
  w.push(s("-ERR 'Slow Consumer'\r\n"));
  return w;
}

describe('nats fuzz', () => {
  for (const verbose of [false, true]) {
    it(`${verbose ? 'verbose' : 'normal'} mode: total, bounded, sane`, () => {
      const counts = fuzz({ make: (role) => nats.createParser(role), conversation: conversation(verbose) });
      // 32 PUB/HPUB + 31 MSG/HMSG + the Slow Consumer ERR (normal mode: the permission errors are verbose acks only).
      assert.deepEqual(counts, { client: 64, server: verbose ? 5 : 1 });
    });
  }
});
