// Ring buffer delivery: exact counts through the event loop, and counted drops.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ObjectSpec, type RecordBatch, offsetOf } from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';
import { waitFor } from '../helpers/process.js';

function emitter(ringBytes?: number) {
  const spec = ObjectSpec.open(bpfObjectPath('testdata/ringbuf_emit')).selectPrograms(['emit_test_run']);
  if (ringBytes) spec.map('events').maxEntries = ringBytes;
  return spec;
}

describe('ring buffer', () => {
  test('delivers exactly N records, in order, through the event loop', async () => {
    const spec = emitter();
    const btf = spec.btf!;
    const seqAt = offsetOf(btf, 'small_record', 'seq');
    const sizeAt = offsetOf(btf, 'small_record', 'size');
    const coll = spec.load();
    try {
      const n = 40_000;
      const seqs: number[] = [];
      let batches = 0;
      const reader = coll.ringBuffer('events', (batch: RecordBatch) => {
        batches++;
        batch.forEach((buf, off, len) => {
          assert.equal(len, buf.readUInt32LE(off + sizeAt));
          seqs.push(buf.readUInt32LE(off + seqAt));
        });
      });
      coll.setVariable('records_per_trigger', n);
      coll.program('emit_test_run').testRun();
      // No consume() call: the binding's libuv poll on the ring's epoll fd delivers them.
      await waitFor(() => seqs.length >= n, 5000);
      assert.equal(seqs.length, n);
      assert.deepEqual(seqs.slice(0, 3), [0, 1, 2]);
      assert.ok(seqs.every((s, i) => s === i), 'records arrive in commit order');
      assert.ok(batches >= 1 && batches < n / 100, `records arrive in batches (${batches})`);
      const stats = reader.stats();
      assert.equal(stats.records, n);
      assert.equal(stats.kernelDrops, 0);
    } finally {
      coll.close();
    }
  });

  test('reports kernel drops when the buffer is too small, and loses nothing silently', () => {
    const coll = emitter(4096).load();
    try {
      let received = 0;
      const reader = coll.ringBuffer('events', (batch) => {
        received += batch.count;
      });
      const sent = 1000;
      coll.setVariable('records_per_trigger', sent);
      coll.program('emit_test_run').testRun();
      reader.consume();
      const { kernelDrops } = reader.stats();
      assert.ok(kernelDrops > 0, 'a 4 KiB ring cannot hold 1000 records of 72 bytes');
      assert.ok(received > 0);
      assert.equal(received + kernelDrops, sent, 'every record is either delivered or counted as dropped');
    } finally {
      coll.close();
    }
  });

  test('large records and a consumer that throws', async () => {
    const coll = emitter().load();
    try {
      let seen = 0;
      const errors: unknown[] = [];
      const reader = coll.ringBuffer(
        'events',
        (batch) => {
          for (const rec of batch) {
            assert.equal(rec.length, 1024);
            seen++;
          }
          throw new Error('consumer bug');
        },
        { onError: (e) => errors.push(e) },
      );
      coll.setVariable('use_large', 1);
      coll.setVariable('records_per_trigger', 3000);
      coll.program('emit_test_run').testRun();
      await waitFor(() => seen >= 3000, 5000);
      assert.equal(seen, 3000);
      assert.ok(errors.length >= 1, 'the error reached onError');
      assert.equal(reader.stats().callbackErrors, errors.length);
      assert.ok(reader.stats().batches >= 3, 'a 3 MB burst is split across several batches (soft cap 1 MiB)');
    } finally {
      coll.close();
    }
  });
});
