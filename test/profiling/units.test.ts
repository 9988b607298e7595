// waggle-test: no-kernel
// The profiler's pure parts on exact inputs: /proc/PID/maps lines (deleted
// files, memfds), perf map files, LPM blocks of an address range, folded
// output, .eh_frame rows of a real library, and pprof's wire format.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { ElfFile } from '../../src/profiling/elf/elf-file.js';
import { PerfMap } from '../../src/profiling/perf-map.js';
import { Profile, toFolded, toPprofGzip } from '../../src/profiling/index.js';
import { mappingName, parseMaps } from '../../src/process/proc-maps.js';
import { CFA_END, CFA_GAP, CFA_RSP, parseEhFrame } from '../../src/profiling/unwind/eh-frame.js';
import { rangeToBlocks } from '../../src/profiling/unwind/lpm-ranges.js';

test('maps lines: paths, deleted files and memfds', () => {
  const maps = parseMaps(
    [
      '55d0c0a00000-55d0c0a01000 r-xp 00001000 08:01 1234   /usr/bin/x',
      '7f0000000000-7f0000001000 r-xp 00000000 00:01 99     /memfd:jit (deleted)',
      '7f0000002000-7f0000003000 r-xp 00002000 08:01 77     /tmp/gone.so (deleted)',
      '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0      [stack]',
    ].join('\n'),
  );
  assert.deepEqual(maps.map((m) => [m.start.toString(16), m.offset, m.inode, m.deleted, mappingName(m)]), [
    ['55d0c0a00000', 0x1000, 1234, false, 'x'],
    ['7f0000000000', 0, 99, true, 'memfd:jit (deleted)'],
    ['7f0000002000', 0x2000, 77, true, 'gone.so (deleted)'],
    ['7ffc00000000', 0, 0, false, '[stack]'],
  ]);
});

test('perf map: the newest entry containing an address wins; outside any, nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-perfmap-'));
  try {
    const path = join(dir, 'perf-1.map');
    writeFileSync(path, '1000 100 JS:*old file.js:1:1\n2000 10 LazyCompile:~b x.js:2:2\n1000 80 JS:*new file.js:1:1\n');
    const m = new PerfMap(path);
    assert.equal(m.refresh(), true);
    assert.equal(m.lookup(0x1010), 'JS:*new file.js:1:1');
    assert.equal(m.lookup(0x1090), 'JS:*old file.js:1:1');
    assert.equal(m.lookup(0x200f), 'LazyCompile:~b x.js:2:2'); // sizes are hex too: 0x10
    assert.equal(m.lookup(0x2010), undefined);
    assert.equal(m.lookup(0x10), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('perf map: appended lines are read incrementally (a half-written line waits), later lines win, a replaced file is read again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-perfmap-'));
  try {
    const path = join(dir, 'perf-2.map');
    writeFileSync(path, '1000 100 JS:*a a.js:1:1\n3000 10 JS:*c c.js:3:3\n2000 1');
    const m = new PerfMap(path);
    assert.equal(m.refresh(), true);
    assert.equal(m.length, 2);
    assert.equal(m.lookup(0x2005), undefined, 'the half-written line is not read yet');
    appendFileSync(path, '0 JS:*b b.js:2:2\n1000 100 JS:*a2 a.js:1:1\n');
    m.refresh();
    assert.equal(m.length, 4);
    assert.equal(m.lookup(0x2005), 'JS:*b b.js:2:2');
    assert.equal(m.lookup(0x1005), 'JS:*a2 a.js:1:1', 'the later line for the same address wins');
    assert.equal(m.lookup(0x3005), 'JS:*c c.js:3:3');
    // A new process with the same pid writes a new, shorter file.
    writeFileSync(path, '5000 10 JS:*z z.js:9:9\n');
    m.refresh();
    assert.equal(m.length, 1);
    assert.equal(m.lookup(0x5001), 'JS:*z z.js:9:9');
    assert.equal(m.lookup(0x1005), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an address range becomes aligned power-of-two blocks that cover it exactly', () => {
  const start = 0x7f1234561000;
  const end = 0x7f1234789000;
  const blocks = rangeToBlocks(start, end);
  let at = start;
  for (const b of blocks) {
    assert.equal(b.start, at);
    assert.equal(b.start % 2 ** b.bits, 0);
    at += 2 ** b.bits;
  }
  assert.equal(at, end);
  assert.ok(blocks.length <= 2 * 48);
});

test('folded: root first, most samples first, semicolons in names escaped', () => {
  const p = new Profile(0, 1000, 99);
  const f = (name: string) => ({ name, module: 'x', kind: 'native' as const });
  p.add({ pid: 1, frames: [f('main'), f('work'), f('hot')], count: 7 });
  p.add({ pid: 1, frames: [f('main'), f('work'), f('cold')], count: 3 });
  p.add({ pid: 2, frames: [f('main'), f('a;b')], count: 1 });
  p.add({ pid: 1, frames: [f('main'), f('work'), f('hot')], count: 2 });
  assert.equal(toFolded(p), 'main;work;hot 9\nmain;work;cold 3\nmain;a:b 1\n');
  assert.equal(p.share('hot'), 9 / 13);
});

test('pprof: gzip of profile.proto with the sample types, strings and one sample per stack', () => {
  const p = new Profile(1_000, 2_000, 100);
  const f = (name: string) => ({ name, module: 'prog', kind: 'native' as const });
  p.add({ pid: 1, frames: [f('main'), f('hot_seventy')], count: 5 });
  const raw = gunzipSync(toPprofGzip(p));
  // Field 1 (sample_type) first: tag 0x0a; the strings are all present.
  assert.equal(raw[0], 0x0a);
  for (const s of ['samples', 'count', 'cpu', 'nanoseconds', 'main', 'hot_seventy', 'prog']) assert.ok(raw.includes(Buffer.from(s)), s);
  // The sample: packed location ids, leaf first (1 = hot_seventy, 2 = main), then values [5, 5 × 10 ms].
  const ns = [0x80, 0xe1, 0xeb, 0x17]; // varint(50,000,000)
  assert.ok(raw.includes(Buffer.from([0x0a, 0x02, 0x01, 0x02, 0x12, 0x05, 0x05, ...ns])), raw.toString('hex'));
});

test('.eh_frame of libc: sorted rows, x86-64 entry rule (CFA = rsp + 8) at function starts, an outermost frame', { skip: process.arch !== 'x64' ? 'x86-64 only' : false }, () => {
  const elf = ElfFile.open('/usr/lib/x86_64-linux-gnu/libc.so.6');
  try {
    const s = elf.section('.eh_frame')!;
    const r = parseEhFrame(elf.sectionData(s), s.addr);
    assert.ok(r.fdes > 1000, `${r.fdes} FDEs`);
    assert.ok(r.errors <= 5, `${r.errors} entries not parsed`);
    for (let i = 1; i < r.rows.length; i++) assert.ok(r.rows[i]!.pc > r.rows[i - 1]!.pc);
    const entryRules = r.rows.filter((x) => x.cfaReg === CFA_RSP && x.cfaOffset === 8).length;
    assert.ok(entryRules > r.fdes / 2, `${entryRules} rsp+8 rows`);
    assert.ok(r.rows.some((x) => x.cfaReg === CFA_END), 'no row marks an outermost frame (_start, clone)');
    assert.ok(r.rows.some((x) => x.cfaReg === CFA_GAP));
  } finally {
    elf.close();
  }
});
