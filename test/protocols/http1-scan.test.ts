// waggle-test: no-kernel
// The offset scans behind the agent's per-request path agree with the decoded
// parsers and with the string-based rules they replace (Transfer-Encoding's
// last coding, splitHostPort's port), on fixed and random inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_HOST, RequestScan, ResponseScan, authorityPort, parseRequest, parseResponse, scanRequest, scanResponse, splitHostPort } from '../../src/protocols/http1/index.js';

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

describe('RequestScan / ResponseScan', () => {
  it('a reused scan reads each message afresh, and agrees with parseRequest', () => {
    const scan = new RequestScan();
    const inputs = [
      'POST /a?b=1 HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\ntraceparent: tp\r\nContent-Length: 3\r\n\r\nabc',
      'GET / HTTP/1.0\r\n\r\n',
      'PROPFIND /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET /cut HTTP/1.1\r\nHost: a',
    ];
    for (const s of inputs) {
      const b = Buffer.from(s, 'latin1');
      assert.equal(scanRequest(b, scan), undefined);
      const head = parseRequest(b);
      assert.ok(head.ok);
      assert.equal(scan.method(), head.value.method);
      assert.equal(scan.target(), head.value.target);
      assert.equal(scan.version, head.value.version);
      assert.equal(scan.host(), head.value.host);
      assert.equal(scan.userAgent(), head.value.userAgent);
      assert.equal(scan.traceparent(), head.value.traceparent);
      assert.equal(scan.contentLength < 0 ? undefined : scan.contentLength, head.value.contentLength);
      assert.equal(scan.chunked, head.value.chunked);
      assert.equal(scan.headLength, head.value.headLength);
      assert.equal(scan.headersComplete, head.value.headersComplete);
    }
  });

  it('responses: interim responses skipped, the final one read into the scan', () => {
    const scan = new ResponseScan();
    const b = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', 'latin1');
    assert.equal(scanResponse(b, scan), undefined);
    assert.equal(scan.statusCode, 201);
    assert.equal(scan.interimResponses, 1);
    assert.equal(scan.contentLength, 2);
    const head = parseResponse(b);
    assert.ok(head.ok);
    assert.equal(scan.headLength, head.value.headLength);
    assert.equal(scan.offset, head.value.offset);
  });

  it('Transfer-Encoding: chunked is what /(?:^|,)\\s*chunked\\s*$/ says of the joined codings', () => {
    const rand = rng(3);
    const pieces = ['chunked', 'CHUNKED', 'gzip', ',', ' ', '\t', '\x0b', '\xa0', 'chunk', 'ed', 'x'];
    for (let i = 0; i < 5000; i++) {
      const fields = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Array.from({ length: Math.floor(rand() * 5) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''));
      const msg = `POST / HTTP/1.1\r\n${fields.map((f) => `Transfer-Encoding: ${f}\r\n`).join('')}\r\n`;
      const r = parseRequest(Buffer.from(msg, 'latin1'));
      assert.ok(r.ok);
      assert.equal(r.value.chunked, /(?:^|,)\s*chunked\s*$/.test(r.value.transferEncoding ?? ''), JSON.stringify(fields));
    }
  });

  it('authorityPort agrees with splitHostPort', () => {
    const rand = rng(4);
    const alphabet = 'ab1:[]@9.0';
    const fixed = ['', 'h', 'h:80', 'h:0', '[::1]:8080', '[::1]', '::1', 'u:p@h:1', 'h:99999', 'h:abc', 'h:', '@', 'a@', '[::1', 'h:123456'];
    const random = Array.from({ length: 20000 }, () => Array.from({ length: Math.floor(rand() * 10) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
    for (const a of [...fixed, ...random]) {
      const p = authorityPort(Buffer.from(a, 'latin1'), 0, a.length);
      const expected = splitHostPort(a);
      assert.equal(p === NO_HOST, expected.host === undefined, a);
      assert.equal(p >= 0 ? p : undefined, expected.port, a);
    }
  });
});
