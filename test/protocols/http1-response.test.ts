// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseResponse } from '../../src/protocols/http1/index.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function mustParse(s: string) {
  const r = parseResponse(b(s), { keepHeaders: true });
  assert.ok(r.ok, `expected a response, got ${JSON.stringify(r)}`);
  return r.value;
}

describe('parseResponse', () => {
  it('takes a complete response apart', () => {
    const r = mustParse('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\nSet-Cookie: id=SECRET\r\n\r\nnot found');
    assert.equal(r.version, '1.1');
    assert.equal(r.statusCode, 404);
    assert.equal(r.contentLength, 9);
    assert.equal(r.contentType, 'text/plain');
    assert.equal(r.headersComplete, true);
    assert.equal(r.headLength, 94);
    assert.ok(!JSON.stringify(r).includes('SECRET'));
  });

  it('accepts a status line without reason phrase, HTTP/1.0 and bare LF', () => {
    assert.equal(mustParse('HTTP/1.1 200\r\n\r\n').statusCode, 200);
    assert.equal(mustParse('HTTP/1.0 204\n\n').version, '1.0');
    assert.equal(mustParse('HTTP/1.1 200 ').statusCode, 200);
  });

  it('trusts a status line once the code is complete, even if nothing follows', () => {
    const r = mustParse('HTTP/1.1 503');
    assert.equal(r.statusCode, 503);
    assert.equal(r.headersComplete, false);
    assert.equal(mustParse('HTTP/1.1 200 OK\r\nContent-Len').headersComplete, false);
  });

  it('skips interim 1xx responses when the final one follows', () => {
    const r = mustParse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
    assert.equal(r.statusCode, 201);
    assert.equal(r.interimResponses, 2);
    assert.equal(r.offset, 69);
    assert.equal(r.contentLength, 0);
    assert.equal(mustParse('HTTP/1.1 100 Continue\r\n\r\n').statusCode, 100);
    assert.equal(mustParse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello').statusCode, 101);
  });

  const failures: Array<[string, string]> = [
    ['', 'empty'],
    ['HTT', 'truncated-start-line'],
    ['HTTP/1.1', 'truncated-start-line'],
    ['HTTP/1.1 2', 'truncated-start-line'],
    ['HTTP/1.1 20', 'truncated-start-line'],
    ['HTTP/1.1 2x0 OK\r\n', 'invalid-status-code'],
    ['HTTP/1.1 2000 OK\r\n', 'invalid-status-code'],
    ['HTTP/1.1 099 OK\r\n', 'invalid-status-code'],
    ['HTTP/1.1\t200 OK\r\n', 'invalid-version'],
    ['HTTP/11 200 OK\r\n', 'not-http'],
    ['GET / HTTP/1.1\r\n', 'not-http'],
    ['\x00\x00\x00\x00', 'not-http'],
    ['SSH-2.0-OpenSSH_9.2', 'not-http'],
  ];
  for (const [input, reason] of failures) {
    it(`${JSON.stringify(input)} → ${reason}`, () => {
      assert.deepEqual(parseResponse(b(input)), { ok: false, reason });
    });
  }
});
