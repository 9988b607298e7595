// ExchangeDecoder on records laid out with the capture object's BTF offsets (no
// kernel needed): decode() and decodeInto() agree, field by field, and the
// reused object carries nothing over from the previous record.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTURE_OBJECT, ExchangeDecoder } from '../../src/capture/index.js';
import { reusableExchange } from '../../src/capture/exchange-record.js';
import type { Exchange } from '../../src/capture/exchange.js';
import { ObjectSpec, offsetOf } from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';

const spec = ObjectSpec.open(bpfObjectPath(CAPTURE_OBJECT));
const btf = spec.btf!;
const at = (f: string) => offsetOf(btf, 'exchange_event', f);

function record(o: { request: string; response: string; incomplete?: number; status?: number; flags?: number; v6?: boolean; ino?: number }): Buffer {
  const req = Buffer.from(o.request, 'latin1');
  const res = Buffer.from(o.response, 'latin1');
  const b = Buffer.alloc(at('data') + req.length + res.length);
  b.writeBigUInt64LE(1_000_000_000n, at('req_start_ns'));
  b.writeBigUInt64LE(1_000_010_000n, at('req_end_ns'));
  b.writeBigUInt64LE(1_000_050_000n, at('resp_start_ns'));
  b.writeBigUInt64LE(1_000_060_000n, at('resp_end_ns'));
  b.writeBigUInt64LE(BigInt(req.length), at('req_bytes'));
  b.writeBigUInt64LE(2n ** 40n + 7n, at('resp_bytes'));
  b.writeUInt32LE(4242, at('pid'));
  b.writeUInt32LE(4243, at('tid'));
  b.writeUInt32LE(o.ino ?? 99, at('ino'));
  b.writeUInt16LE(o.v6 ? 10 : 2, at('family'));
  b.writeUInt16LE(8080, at('lport'));
  b.writeUInt16LE(50000, at('rport'));
  b.writeUInt16LE(o.status ?? 0, at('status'));
  b.writeUInt16LE(req.length, at('req_len'));
  b.writeUInt16LE(res.length, at('resp_len'));
  b[at('role')] = 1;
  b[at('protocol')] = 1;
  b[at('incomplete')] = o.incomplete ?? 0;
  b[at('flags')] = o.flags ?? 0;
  if (o.v6) b[at('laddr') + 15] = 1;
  else Buffer.from([127, 0, 0, 1]).copy(b, at('laddr'));
  Buffer.from([10, 0, 0, 9]).copy(b, at('raddr') + (o.v6 ? 12 : 0));
  if (o.v6) b.writeUInt16BE(0xffff, at('raddr') + 10);
  req.copy(b, at('data'));
  res.copy(b, at('data') + req.length);
  return b;
}

/** The fields of an Exchange with absent optional ones as undefined, and bytes as text. */
function plain(ex: Exchange): Record<string, unknown> {
  return { ...ex, local: { ...ex.local }, remote: { ...ex.remote }, request: ex.request.toString('latin1'), response: ex.response.toString('latin1'), incomplete: ex.incomplete, statusHint: ex.statusHint, framingLost: ex.framingLost };
}

describe('ExchangeDecoder', () => {
  it('decodeInto() overwrites a reused Exchange with what decode() returns', () => {
    const decoder = new ExchangeDecoder(btf);
    const reused = reusableExchange();
    const records = [
      record({ request: 'GET / HTTP/1.1\r\n\r\n', response: 'HTTP/1.1 200 OK\r\n\r\n', status: 200, flags: 1, incomplete: 2, ino: 5 }),
      record({ request: 'POST /x HTTP/1.1\r\n\r\n', response: '', v6: true }),
      record({ request: 'GET /y HTTP/1.1\r\n\r\n', response: 'HTTP/1.1 404 Not Found\r\n\r\n', status: 404 }),
    ];
    for (const r of records) {
      const fresh = decoder.decode(r, 0, r.length);
      assert.notEqual(typeof fresh, 'string');
      assert.equal(decoder.decodeInto(r, 0, r.length, reused), undefined);
      assert.deepEqual(plain(reused), plain(fresh as Exchange));
    }
    assert.equal(reused.remote.address, '10.0.0.9', 'IPv4-mapped shown as IPv4');
    assert.equal(reused.local.address, '127.0.0.1');
    assert.equal(reused.responseBytes, 2 ** 40 + 7);
    assert.equal(reused.incomplete, undefined, 'nothing carried over from the first record');
  });

  it('a malformed record gives a reason and leaves the reused Exchange as it was', () => {
    const decoder = new ExchangeDecoder(btf);
    const reused = reusableExchange();
    const r = record({ request: 'GET / HTTP/1.1\r\n\r\n', response: '' });
    assert.match(decoder.decodeInto(r, 0, 10, reused)!, /shorter than/);
    assert.equal(reused.pid, 0);
  });
});
