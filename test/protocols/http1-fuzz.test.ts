// waggle-test: no-kernel
// Total parsers: no input makes them throw. Random bytes, random mutations of
// valid messages and every truncation of valid messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequest, parseResponse, parseTarget, splitMessages } from '../../src/protocols/http1/index.js';

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  'GET /users/42?x=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: t\r\nAuthorization: Bearer x\r\n\r\n',
  'POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=b\r\n\r\nok',
];

function exercise(buf: Buffer): void {
  const req = parseRequest(buf, { keepHeaders: buf.length % 2 === 0 });
  const res = parseResponse(buf, { keepHeaders: buf.length % 2 === 1 });
  for (const r of [req, res]) {
    if (r.ok) JSON.stringify(r.value);
    else assert.equal(typeof r.reason, 'string');
  }
  if (req.ok) parseTarget(req.value.target);
  splitMessages(buf, 'request');
  splitMessages(buf, 'response', { requestMethods: ['HEAD'] });
}

describe('http1 parsers are total', () => {
  it('10,000 random buffers never throw', () => {
    const rand = rng(1);
    for (let i = 0; i < 10_000; i++) {
      const n = Math.floor(rand() * 300);
      const buf = Buffer.alloc(n);
      // Mix pure noise with HTTP-ish alphabets so deeper branches are reached.
      const alphabet = i % 3 === 0 ? null : i % 3 === 1 ? 'GET /HTP1.0 \r\n:0123456789abcdef;' : 'HTTP/1. 2004\r\n:Content-Length: chunked0\r\n';
      for (let k = 0; k < n; k++) buf[k] = alphabet === null ? Math.floor(rand() * 256) : alphabet.charCodeAt(Math.floor(rand() * alphabet.length));
      if (i % 5 === 0) buf.write(i % 2 ? 'GET / HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n', 0, 'latin1');
      exercise(buf);
    }
  });

  it('10,000 mutations of valid messages never throw', () => {
    const rand = rng(2);
    for (let i = 0; i < 10_000; i++) {
      const buf = Buffer.from(VALID[i % VALID.length]!, 'latin1');
      const flips = 1 + Math.floor(rand() * 4);
      for (let k = 0; k < flips; k++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      exercise(buf);
    }
  });

  it('every truncation of valid messages parses or gives a reason', () => {
    for (const msg of VALID) {
      const full = Buffer.from(msg, 'latin1');
      for (let n = 0; n <= full.length; n++) exercise(full.subarray(0, n));
    }
  });
});
