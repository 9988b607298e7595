// Map operations against real kernel maps, with codecs derived from BTF.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Collection, ObjectSpec, WaggleError, codecs } from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';

interface Point {
  x: number;
  y: number;
  label: number;
}

const isCode = (code: string) => (e: unknown) => e instanceof WaggleError && e.code === code;

describe('maps', () => {
  let coll: Collection;
  before(() => {
    coll = ObjectSpec.open(bpfObjectPath('testdata/maps')).load();
  });
  after(() => coll.close());

  test('hash map CRUD with a struct value decoded from BTF', () => {
    const points = coll.map<number, Point>('points');
    assert.equal(points.keySize, 4);
    assert.equal(points.valueSize, 16);
    assert.equal(points.lookup(1), undefined);
    points.update(1, { x: 10, y: 20, label: 2 ** 40 + 3 });
    assert.deepEqual(points.lookup(1), { x: 10, y: 20, label: 2 ** 40 + 3 });
    assert.throws(() => points.update(1, { x: 0, y: 0, label: 0 }, 'noexist'), isCode('WAGGLE_ERR_BUSY'));
    assert.throws(() => points.update(2, { x: 0, y: 0, label: 0 }, 'exist'), isCode('WAGGLE_ERR_NOT_FOUND'));
    assert.deepEqual(points.lookupAndDelete(1), { x: 10, y: 20, label: 2 ** 40 + 3 });
    assert.equal(points.lookup(1), undefined);
    assert.equal(points.delete(1), false);
  });

  test('iteration and batch operations see exactly what was written', () => {
    const points = coll.map<number, Point>('points');
    const entries: [number, Point][] = Array.from({ length: 500 }, (_, i) => [i + 100, { x: i, y: i * 2, label: i * 3 }]);
    points.updateBatch(entries);
    const keys = [...points.keys()].sort((a, b) => a - b);
    assert.deepEqual(keys, entries.map(([k]) => k));
    const read = new Map(points.entries(64));
    assert.equal(read.size, 500);
    for (const [k, v] of entries) assert.deepEqual(read.get(k), v);
    assert.equal(points.deleteBatch(entries.slice(0, 250).map(([k]) => k)), 250);
    assert.equal([...points.keys()].length, 250);
    assert.equal(points.deleteBatch([...points.keys()]), 250);
    assert.equal([...points.entries()].length, 0);
  });

  test('array and per-CPU maps', () => {
    const slots = coll.map<number, number>('slots');
    assert.equal(slots.maxEntries, 16);
    slots.update(3, 42);
    assert.equal(slots.lookup(3), 42);
    assert.equal([...slots.entries()].length, 16, 'arrays always hold max_entries elements');
    const perCpu = coll.map<number, number[]>('per_cpu');
    const cpus = perCpu.possibleCpus;
    perCpu.update(1, Array.from({ length: cpus }, (_, i) => i + 1));
    assert.deepEqual(perCpu.lookup(1), Array.from({ length: cpus }, (_, i) => i + 1));
  });

  test('LRU hash evicts past max_entries instead of failing', () => {
    const lru = coll.map<number, number>('lru');
    for (let i = 0; i < 100; i++) lru.update(i, i);
    const n = [...lru.keys()].length;
    assert.ok(n > 0 && n <= 8 * 2, `LRU holds a bounded number of entries (${n})`);
    assert.equal(lru.lookup(99), 99, 'the newest entry survives');
  });

  test('wrong key or value sizes are typed errors, not crashes', () => {
    const raw = coll.map('points').raw();
    assert.throws(() => raw.lookup(Buffer.alloc(3)), isCode('WAGGLE_ERR_MAP_SIZE'));
    assert.throws(() => raw.update(Buffer.alloc(4), Buffer.alloc(15)), isCode('WAGGLE_ERR_MAP_SIZE'));
    assert.throws(() => coll.map('points', { key: codecs.u64 }), isCode('WAGGLE_ERR_MAP_SIZE'));
    assert.throws(() => coll.map('slots', { value: codecs.u32 }), (e: unknown) => isCode('WAGGLE_ERR_MAP_SIZE')(e) && /value codec .* 4 bytes .* 8/.test((e as Error).message));
  });

  test('a closed collection refuses map operations', () => {
    const c = ObjectSpec.open(bpfObjectPath('testdata/maps')).load();
    const slots = c.map<number, number>('slots');
    c.close();
    assert.throws(() => slots.lookup(0), isCode('WAGGLE_ERR_CLOSED'));
  });
});

describe('spec editing', () => {
  test('maxEntries resizes the map before load', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/maps'));
    spec.map('points').maxEntries = 4;
    const c = spec.load();
    try {
      const points = c.map<number, Point>('points');
      assert.equal(points.maxEntries, 4);
      for (let i = 0; i < 4; i++) points.update(i, { x: i, y: i, label: i });
      assert.throws(() => points.update(99, { x: 0, y: 0, label: 0 }), isCode('WAGGLE_ERR_INVALID_ARGUMENT'));
    } finally {
      c.close();
    }
  });

  test('unknown variables and maps are named', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    try {
      assert.throws(() => spec.setVariable('no_such_var', 1), (e: unknown) => isCode('WAGGLE_ERR_NOT_FOUND')(e) && /no_such_var.*target_tgid/.test((e as Error).message));
      assert.throws(() => spec.map('nope'), (e: unknown) => isCode('WAGGLE_ERR_NOT_FOUND')(e) && /calls/.test((e as Error).message));
      assert.throws(() => (spec.map('calls').maxEntries = 0), isCode('WAGGLE_ERR_INVALID_ARGUMENT'));
    } finally {
      spec.close();
    }
  });

  test('constants are frozen after load, globals stay writable', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/ringbuf_emit'));
    spec.setVariable('target_tgid', 1234);
    const c = spec.load();
    try {
      assert.equal(c.variable('target_tgid'), 1234);
      assert.throws(() => c.setVariable('target_tgid', 1), isCode('WAGGLE_ERR_INVALID_ARGUMENT'));
      c.setVariable('records_per_trigger', 77);
      assert.equal(c.variable('records_per_trigger'), 77);
    } finally {
      c.close();
    }
  });
});
