// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_KEPT_HEADERS, parseRequest } from '../../src/protocols/http1/index.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function mustParse(s: string | Buffer) {
  const r = parseRequest(typeof s === 'string' ? b(s) : s, { keepHeaders: true });
  assert.ok(r.ok, `expected a request, got ${JSON.stringify(r)}`);
  return r.value;
}

describe('parseRequest: valid heads', () => {
  it('takes a complete GET apart', () => {
    const r = mustParse('GET /users/42?x=1 HTTP/1.1\r\nHost: shop.local:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
    assert.equal(r.method, 'GET');
    assert.equal(r.target, '/users/42?x=1');
    assert.equal(r.version, '1.1');
    assert.equal(r.host, 'shop.local:8080');
    assert.equal(r.userAgent, 'curl/7.88.1');
    assert.equal(r.headersComplete, true);
    assert.equal(r.startLineTruncated, false);
    assert.equal(r.headLength, 91);
    assert.deepEqual(r.headers, [
      ['host', 'shop.local:8080'],
      ['user-agent', 'curl/7.88.1'],
      ['accept', '*/*'],
    ]);
  });

  it('collects the generic header list only with keepHeaders', () => {
    const r = parseRequest(b('GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n'));
    assert.ok(r.ok);
    assert.deepEqual(r.value.headers, []);
    assert.equal(r.value.host, 'h');
    assert.equal(r.value.headersComplete, true);
  });

  it('matches well-known names case-insensitively', () => {
    const r = mustParse('GET / HTTP/1.1\r\nHOST: a\r\nCoNtEnT-LeNgTh: 3\r\nUSER-AGENT: ua\r\nHostx: no\r\n\r\n');
    assert.equal(r.host, 'a');
    assert.equal(r.contentLength, 3);
    assert.equal(r.userAgent, 'ua');
  });

  it('reads Content-Length, Transfer-Encoding, traceparent, and bare LF line ends', () => {
    const r = mustParse('POST /api HTTP/1.0\nContent-Length: 17\ncontent-type: application/json\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n\n{"a":1}');
    assert.equal(r.version, '1.0');
    assert.equal(r.contentLength, 17);
    assert.equal(r.contentType, 'application/json');
    assert.equal(r.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(r.headersComplete, true);
    const c = mustParse('POST /up HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
    assert.equal(c.chunked, true);
    assert.equal(c.transferEncoding, 'gzip, chunked');
    assert.equal(c.contentLength, undefined);
  });

  it('distrusts conflicting or mixed lengths', () => {
    assert.equal(mustParse('POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n').contentLength, undefined);
    assert.equal(mustParse('POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').contentLength, 5);
    assert.equal(mustParse('POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n').contentLength, undefined);
    assert.equal(mustParse('POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n').contentLength, undefined);
    assert.equal(mustParse('POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n').contentLength, undefined);
  });

  it('keeps the method case and odd-but-legal methods', () => {
    assert.equal(mustParse('get / HTTP/1.1\r\n\r\n').method, 'get');
    assert.equal(mustParse('PROPFIND /dav HTTP/1.1\r\n\r\n').method, 'PROPFIND');
  });

  it('accepts absolute, authority and asterisk targets', () => {
    assert.equal(mustParse('GET http://example.com/x HTTP/1.1\r\n\r\n').target, 'http://example.com/x');
    assert.equal(mustParse('CONNECT example.com:443 HTTP/1.1\r\n\r\n').target, 'example.com:443');
    assert.equal(mustParse('OPTIONS * HTTP/1.1\r\n\r\n').target, '*');
  });

  it('joins obsolete folded lines and skips malformed ones', () => {
    const r = mustParse('GET / HTTP/1.1\r\nX-Long: a\r\n  b\r\nno colon here\r\n: empty name\r\nHost: h\r\n\r\n');
    assert.deepEqual(r.headers, [
      ['x-long', 'a b'],
      ['host', 'h'],
    ]);
    assert.equal(r.malformedHeaderLines, 2);
  });
});

describe('parseRequest: captured bytes cut short', () => {
  it('returns the head with headersComplete=false when headers are cut', () => {
    const r = mustParse('GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozil');
    assert.equal(r.headersComplete, false);
    assert.equal(r.host, 'example.com');
    assert.equal(r.userAgent, undefined, 'a partial line is not trusted');
    assert.equal(r.headLength, 36);
  });

  it('returns a request whose target outgrew the capture, flagged', () => {
    const r = mustParse('GET /search?q=aaaaaaaaaaaaaaaaaaaa');
    assert.equal(r.startLineTruncated, true);
    assert.equal(r.target, '/search?q=aaaaaaaaaaaaaaaaaaaa');
    assert.equal(r.version, undefined);
    const v = mustParse('GET /x HTT');
    assert.equal(v.startLineTruncated, true);
    assert.equal(v.target, '/x');
    const w = mustParse('GET /x HTTP/1.1');
    assert.equal(w.version, '1.1');
    assert.equal(w.headersComplete, false);
  });

  it('gives a reason when the start line is too short to trust', () => {
    for (const s of ['G', 'GET', 'GET ', 'DELETE']) {
      assert.deepEqual(parseRequest(b(s)), { ok: false, reason: 'truncated-start-line' }, s);
    }
  });
});

describe('parseRequest: garbage', () => {
  const cases: Array<[string | Buffer, string]> = [
    ['', 'empty'],
    [Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), 'not-http'], // TLS ClientHello
    [Buffer.from([0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f]), 'not-http'], // PostgreSQL SSLRequest
    ['*3\r\n$3\r\nSET\r\n', 'not-http'], // Redis
    [' GET / HTTP/1.1\r\n', 'not-http'],
    ['GET\t/ HTTP/1.1\r\n', 'not-http'],
    ['GET  / HTTP/1.1\r\n', 'invalid-target'],
    ['GET /a\x00b HTTP/1.1\r\n', 'invalid-target'],
    ['GET /\r\n', 'invalid-version'],
    ['GET / HTTP/x.1\r\n', 'invalid-version'],
    ['GET / FTP/1.1\r\n', 'invalid-version'],
    ['GET / HTTP/1.1 extra\r\n', 'invalid-version'],
    ['A'.repeat(100) + ' / HTTP/1.1\r\n', 'not-http'],
  ];
  for (const [input, reason] of cases) {
    it(`${JSON.stringify(String(input).slice(0, 30))} → ${reason}`, () => {
      assert.deepEqual(parseRequest(typeof input === 'string' ? b(input) : input), { ok: false, reason });
    });
  }

  it('decodes non-UTF-8 bytes without throwing', () => {
    const r = mustParse(Buffer.concat([b('GET /caf'), Buffer.from([0xe9, 0xff]), b(' HTTP/1.1\r\nX-Bin: '), Buffer.from([0xc3, 0x28, 0x80]), b('\r\n\r\n')]));
    assert.equal(r.target, '/caf\ufffd\ufffd');
    assert.equal(r.headers[0]![1], '\u00c3(\u0080');
  });
});

describe('parseRequest: size limits', () => {
  it('parses 64 KiB of headers, keeping a bounded number', () => {
    let s = 'GET / HTTP/1.1\r\n';
    let i = 0;
    while (s.length < 64 * 1024) s += `X-Filler-${i++}: ${'v'.repeat(40)}\r\n`;
    s += 'Host: late.example\r\n\r\n';
    const r = mustParse(s);
    assert.equal(r.headersComplete, true);
    assert.equal(r.headers.length, MAX_KEPT_HEADERS);
    assert.equal(r.droppedHeaders, i + 1 - MAX_KEPT_HEADERS);
    assert.equal(r.host, 'late.example', 'well-known fields are read past the cap');
    assert.equal(r.headLength, s.length);
  });

  it('clips a single 64 KiB header value', () => {
    const r = mustParse(`GET / HTTP/1.1\r\nX-Big: ${'z'.repeat(65536)}\r\n\r\n`);
    assert.equal(r.headers[0]![1].length, 512);
  });
});

describe('parseRequest: secrets', () => {
  it('never keeps Authorization, Proxy-Authorization, Cookie or Set-Cookie', () => {
    const r = mustParse('GET / HTTP/1.1\r\nAuthorization: Bearer SECRET-A\r\nproxy-authorization: Basic SECRET-B\r\nCOOKIE: s=SECRET-C\r\nSet-Cookie: SECRET-D\r\n  folded SECRET-E\r\nHost: h\r\n\r\n');
    assert.deepEqual(r.headers, [['host', 'h']]);
    assert.ok(!JSON.stringify(r).includes('SECRET'));
  });
});
