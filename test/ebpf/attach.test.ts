// Attaching real programs to real hooks and counting exactly what a child does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { ObjectSpec, WaggleError } from '../../src/ebpf/index.js';
import { bpfObjectPath } from '../../src/paths.js';
import { loadedProgramIds } from '../helpers/bpftool.js';
import { python3, sleep, startChild, waitFor } from '../helpers/process.js';
import { createSocket } from 'node:dgram';

/** The libc a process maps (uprobes attach to the file, so any path to it works). */
function libcOf(pid: number): string {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  const m = /\s(\/\S*\/libc\.so\.6)$/m.exec(maps);
  assert.ok(m, `pid ${pid} maps no libc.so.6`);
  return m[1]!;
}

function sendUdp(): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.send(Buffer.from('x'), 9, '127.0.0.1', () => {
      s.close();
      resolve();
    });
  });
}

describe('tracepoint', () => {
  test('counts exactly the getppid() calls of one child process', async () => {
    const calls = 2500;
    const child = startChild(python3, [
      '-c',
      `import os, sys\nsys.stdin.readline()\nfor _ in range(${calls}): os.getppid()\nprint("done", flush=True)\nsys.stdin.readline()`,
    ]);
    // The child goes even if loading fails below; the collection once it exists.
    after(() => child.kill());
    const spec = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    spec.setVariable('target_tgid', child.pid);
    const coll = spec.load();
    after(() => coll.close());
    const link = coll.program('count_getppid').attach();
    assert.match(link.description, /tracepoint syscalls\/sys_enter_getppid/);
    assert.equal(coll.map<number, number>('calls').lookup(0), 0);
    child.write('go\n');
    await child.waitForOutput('done');
    assert.equal(coll.map<number, number>('calls').lookup(0), calls);
    // Our own getppid() calls are not counted: the filter is on the child's tgid.
    void process.ppid;
    assert.equal(coll.map<number, number>('calls').lookup(0), calls);
  });

  test('two objects share one map (MapSpec.reuse): both programs count into it, it outlives the first', async () => {
    const calls = 1500;
    const child = startChild(python3, [
      '-c',
      `import os, sys\nsys.stdin.readline()\nfor _ in range(${calls}): os.getppid()\nprint("done", flush=True)\nsys.stdin.readline()`,
    ]);
    after(() => child.kill());
    const first = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    first.setVariable('target_tgid', child.pid);
    const a = first.load();
    after(() => a.close());
    const second = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    second.setVariable('target_tgid', child.pid);
    // A map of another shape is refused before the kernel is asked, naming the difference.
    const other = ObjectSpec.open(bpfObjectPath('testdata/maps')).load();
    try {
      assert.throws(
        () => second.map('calls').reuse(other.map('slots')),
        (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_INVALID_ARGUMENT' && /map 'slots' cannot stand for map 'calls'.*maxEntries 16 ≠ 1/.test(e.message),
      );
    } finally {
      other.close();
    }
    second.map('calls').reuse(a.map('calls'));
    assert.equal(second.map('calls').reusedMapId, a.map('calls').id);
    const b = second.load();
    after(() => b.close());
    assert.equal(b.map('calls').id, a.map('calls').id, 'one kernel map, not two');
    a.program('count_getppid').attach();
    b.program('count_getppid').attach();
    child.write('go\n');
    await child.waitForOutput('done');
    assert.equal(a.map<number, number>('calls').lookup(0), 2 * calls, 'each call counted once by each program, in the one map');
    a.close();
    assert.equal(b.map<number, number>('calls').lookup(0), 2 * calls, 'the shared map lives on with the second object');
  });

  test('a missing tracepoint is named in the error', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    const coll = spec.load();
    try {
      assert.throws(
        () => coll.program('count_getppid').attachTracepoint('syscalls', 'sys_enter_no_such_call'),
        (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND' && /syscalls\/sys_enter_no_such_call/.test(e.message),
      );
    } finally {
      coll.close();
    }
  });
});

describe('uprobe', () => {
  test('counts entries and returns of a libc function called a known number of times', async () => {
    const calls = 777;
    const child = startChild(python3, [
      '-c',
      [
        'import ctypes, sys',
        'libc = ctypes.CDLL("libc.so.6")',
        'print("ready", flush=True)',
        'sys.stdin.readline()',
        `for _ in range(${calls}): libc.labs(-7)`,
        'print("done", flush=True)',
        'sys.stdin.readline()',
      ].join('\n'),
    ]);
    after(() => child.kill());
    await child.waitForOutput('ready');
    const coll = ObjectSpec.open(bpfObjectPath('testdata/uprobe_count')).load();
    after(() => coll.close());
    const libc = libcOf(child.pid);
    coll.program('on_entry').attachUprobe({ binary: libc, symbol: 'labs', pid: child.pid });
    coll.program('on_return').attachUprobe({ binary: libc, symbol: 'labs', pid: child.pid, retprobe: true });
    child.write('go\n');
    await child.waitForOutput('done');
    assert.equal(coll.variable<number>('entries'), calls);
    assert.equal(coll.variable<number>('returns'), calls);
    assert.equal(coll.variable<number>('last_return'), 7);
  });

  test('a missing symbol and a missing binary are named', () => {
    const coll = ObjectSpec.open(bpfObjectPath('testdata/uprobe_count')).load();
    try {
      const libc = libcOf(process.pid);
      assert.throws(
        () => coll.program('on_entry').attachUprobe({ binary: libc, symbol: 'no_such_function_xyz' }),
        (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND' && e.message.includes("'no_such_function_xyz'") && e.message.includes(libc),
      );
      assert.throws(
        () => coll.program('on_entry').attachUprobe({ binary: '/no/such/binary', symbol: 'main' }),
        (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND' && e.message.includes('/no/such/binary'),
      );
    } finally {
      coll.close();
    }
  });
});

describe('networking attachments', () => {
  test('tc on lo fires while attached, is a kernel link, and is gone after close', async () => {
    const coll = ObjectSpec.open(bpfObjectPath('probes/features')).selectPrograms(['probe_tc']).load();
    try {
      const prog = coll.program('probe_tc');
      const link = prog.attachTc('lo', 'ingress');
      const id = prog.info().id;
      const hits = () => coll.variable<number[]>('hits')[8]!; // SLOT_TC
      await sendUdp();
      await waitFor(() => hits() > 0, 2000);
      if (link.description.includes('tcx')) {
        const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { timeout: 60_000, encoding: 'utf8' })) as { prog_id: number }[];
        assert.ok(links.some((l) => l.prog_id === id), 'bpftool link show lists the tcx link');
      }
      link.close();
      const before = hits();
      await sendUdp();
      await sleep(50);
      assert.equal(hits(), before, 'no packet is seen after close');
    } finally {
      coll.close();
    }
  });
});

describe('lifecycle', () => {
  test('after close() the kernel no longer lists the programs', async () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
    spec.setVariable('target_tgid', process.pid);
    const coll = spec.load();
    coll.program('count_getppid').attach();
    const id = coll.program('count_getppid').info().id;
    assert.ok(loadedProgramIds().has(id), 'listed while loaded');
    coll.close();
    // Program teardown is asynchronous in the kernel (RCU); it is gone within moments.
    await waitFor(() => !loadedProgramIds().has(id), 3000);
    assert.throws(() => coll.program('count_getppid'), (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_CLOSED');
  });

  test('programs left out by selectPrograms() are not loaded', () => {
    const spec = ObjectSpec.open(bpfObjectPath('testdata/ringbuf_emit')).selectPrograms(['emit_test_run']);
    const coll = spec.load();
    try {
      assert.throws(() => coll.program('emit_on_getppid'), (e: unknown) => e instanceof WaggleError && e.code === 'WAGGLE_ERR_NOT_FOUND');
      assert.equal(coll.program('emit_test_run').type, 'raw_tracepoint');
    } finally {
      coll.close();
    }
  });
});
