// waggle-test: no-kernel
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkedEnd, splitMessages } from '../../src/protocols/http1/index.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (pieces: Uint8Array[]) => pieces.map((p) => Buffer.from(p).toString('latin1'));

describe('splitMessages', () => {
  it('splits pipelined requests with and without bodies', () => {
    const reqs = ['GET /a HTTP/1.1\r\nHost: h\r\n\r\n', 'POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello', 'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n', 'GET /d HTTP/1.1\r\n\r\n'];
    assert.deepEqual(text(splitMessages(b(reqs.join('')), 'request')), reqs);
  });

  it('keeps a cut last message as the final piece', () => {
    const whole = 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHo';
    assert.deepEqual(text(splitMessages(b(whole), 'request')), ['GET /a HTTP/1.1\r\n\r\n', 'GET /b HTTP/1.1\r\nHo']);
    const body = 'POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort';
    assert.deepEqual(text(splitMessages(b(body), 'request')), [body]);
  });

  it('splits responses, honouring HEAD, 204, 304 and interim responses', () => {
    const res = ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    assert.deepEqual(text(splitMessages(b(res.join('')), 'response', { requestMethods: ['HEAD', 'POST', 'GET', 'GET'] })), res);
  });

  it('treats a response without framing as running to the end', () => {
    const res = 'HTTP/1.0 200 OK\r\n\r\nbody until close HTTP/1.1 200 OK\r\n\r\n';
    assert.deepEqual(text(splitMessages(b(res), 'response')), [res]);
  });

  it('bounds the number of pieces', () => {
    const pieces = splitMessages(b('GET / HTTP/1.1\r\n\r\n'.repeat(1000)), 'request');
    assert.equal(pieces.length, 64);
  });

  it('chunkedEnd finds the end of a chunked body or gives up', () => {
    const body = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT';
    assert.equal(chunkedEnd(b(body), 0), body.length - 4);
    assert.equal(chunkedEnd(b('5\r\nhel'), 0), -1);
    assert.equal(chunkedEnd(b('zz\r\n'), 0), -1);
    assert.equal(chunkedEnd(b('5\r\nhelloXX'), 0), -1);
  });
});
