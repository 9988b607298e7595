// waggle-test: no-kernel
// HPACK: the RFC 7541 Appendix C examples (Huffman-coded requests; responses
// with evictions in a 256-byte table), midway decoding, and bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HpackDecoder } from '../../../src/protocols/http2/hpack.js';

function decode(d: HpackDecoder, hex: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  assert.equal(d.decode(Buffer.from(hex, 'hex'), (n, v) => out.push([n, v])), 'ok');
  return out;
}

describe('HPACK', () => {
  it('C.4: requests with Huffman coding share the dynamic table', () => {
    const d = new HpackDecoder(true);
    assert.deepEqual(decode(d, '828684418cf1e3c2e5f23a6ba0ab90f4ff'), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
    assert.equal(d.tableSize, 57);
    assert.deepEqual(decode(d, '828684be5886a8eb10649cbf'), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
    assert.equal(d.tableSize, 110);
    assert.deepEqual(decode(d, '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'), [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
    assert.equal(d.tableSize, 164);
  });

  it('C.6: responses in a 256-byte table (set by a size update) evict the oldest entries', () => {
    const d = new HpackDecoder(true);
    const date = 'Mon, 21 Oct 2013 20:13:21 GMT';
    // 0x3fe101: dynamic table size update to 256.
    assert.deepEqual(decode(d, '3fe101488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3'), [[':status', '302'], ['cache-control', 'private'], ['date', date], ['location', 'https://www.example.com']]);
    assert.equal(d.tableSize, 222);
    assert.deepEqual(decode(d, '4883640effc1c0bf'), [[':status', '307'], ['cache-control', 'private'], ['date', date], ['location', 'https://www.example.com']]);
    assert.equal(d.tableSize, 222);
    const third = decode(d, '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007');
    assert.deepEqual(third.map(([n]) => n), [':status', 'cache-control', 'date', 'location', 'content-encoding', 'set-cookie']);
    assert.equal(third[2]![1], 'Mon, 21 Oct 2013 20:13:22 GMT');
    assert.equal(d.tableSize, 215);
  });

  it('joined midway: static and literal fields decode, unknown dynamic references are marked and counted, entries it inserted resolve', () => {
    const d = new HpackDecoder(false);
    // C.4.2 without C.4.1 before it: 0xbe refers to :authority inserted by the block never seen.
    assert.deepEqual(decode(d, '828684be5886a8eb10649cbf'), [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], ['', undefined], ['cache-control', 'no-cache']]);
    assert.equal(d.unknownReferences, 1);
    // 0xbe now is cache-control: no-cache, which this decoder inserted itself.
    assert.deepEqual(decode(d, 'be'), [['cache-control', 'no-cache']]);
    assert.deepEqual(decode(d, 'bf'), [['', undefined]]);
    assert.equal(d.unknownReferences, 2);
  });

  it('malformed blocks are errors, never throws; a size update beyond the bound desyncs instead of growing', () => {
    const d = new HpackDecoder(true);
    assert.equal(d.decode(Buffer.from('ff', 'hex'), () => undefined), 'error');
    assert.equal(d.synced, false);
    const e = new HpackDecoder(true);
    assert.equal(e.decode(Buffer.from('c0', 'hex'), () => undefined), 'error', 'index 64 with an empty table');
    const f = new HpackDecoder(true);
    // Size update to 2^20.
    assert.equal(f.decode(Buffer.from('3fe1ff3f', 'hex'), () => undefined), 'ok');
    assert.equal(f.synced, false);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, (_, j) => (i * 31 + j * 17) & 0xff));
      new HpackDecoder(i % 2 === 0).decode(bytes, () => undefined);
    }
  });
});
