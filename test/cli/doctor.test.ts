// `waggle doctor --json` must agree with what these tests observe themselves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FEATURE_NAMES as AGENT_FEATURE_NAMES, featureFailureReason } from '../../src/cli/features/index.js';
import { SocketCapture } from '../../src/capture/index.js';
import { FEATURE_NAMES, probeAllFeatures, probeSendSignal } from '../../src/ebpf/features.js';
import { ObjectSpec, WaggleError } from '../../src/ebpf/index.js';
import { bpfObjectPath, packageRoot } from '../../src/paths.js';

interface Report {
  host: { kernelRelease: string; btf: boolean; capabilities: string[] };
  features: Record<string, { ok: boolean; reason?: string }>;
  waggle: Record<string, { ok: boolean; state: string; title: string; reason?: string }>;
}

function doctor(): Report {
  // Bounded: a doctor that hangs fails this file instead of hanging it.
  const out = execFileSync(process.execPath, [join(packageRoot, 'bin', 'waggle.js'), 'doctor', '--json'], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out) as Report;
}

/** Independent observations, through the library directly rather than the doctor's probes. */
function observeTracepoint(): boolean {
  const spec = ObjectSpec.open(bpfObjectPath('testdata/count_syscalls'));
  spec.setVariable('target_tgid', process.pid);
  const coll = spec.load();
  try {
    coll.program('count_getppid').attach();
    for (let i = 0; i < 10; i++) void process.ppid;
    return coll.map<number, number>('calls').lookup(0) === 10;
  } finally {
    coll.close();
  }
}

function observeUprobe(): boolean {
  const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
  if (!libc) return false;
  const coll = ObjectSpec.open(bpfObjectPath('testdata/uprobe_count')).load();
  try {
    coll.program('on_entry').attachUprobe({ binary: libc, symbol: 'getppid', pid: process.pid });
    for (let i = 0; i < 5; i++) void process.ppid;
    return coll.variable<number>('entries') === 5;
  } finally {
    coll.close();
  }
}

function observeRingbuf(): boolean {
  const coll = ObjectSpec.open(bpfObjectPath('testdata/ringbuf_emit')).selectPrograms(['emit_test_run']).load();
  try {
    let n = 0;
    const reader = coll.ringBuffer('events', (b) => (n += b.count));
    coll.setVariable('records_per_trigger', 3);
    coll.program('emit_test_run').testRun();
    reader.consume();
    return n === 3;
  } finally {
    coll.close();
  }
}

function observeKprobe(): { ok: boolean; error?: WaggleError } {
  const coll = ObjectSpec.open(bpfObjectPath('probes/features')).selectPrograms(['probe_kprobe']).load();
  try {
    coll.program('probe_kprobe').attachKprobe('vfs_read');
    return { ok: true };
  } catch (e) {
    if (e instanceof WaggleError) return { ok: false, error: e };
    throw e;
  } finally {
    coll.close();
  }
}

async function observeCapture(): Promise<{ ok: boolean; error?: string }> {
  try {
    (await SocketCapture.start({ onExchange: () => {} })).close();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

describe('waggle doctor --json', () => {
  const report = doctor();

  test('reports every feature as { ok, reason? }', () => {
    assert.deepEqual(Object.keys(report.features).sort(), [...FEATURE_NAMES].sort());
    for (const [name, f] of Object.entries(report.features)) {
      assert.equal(typeof f.ok, 'boolean', name);
      if (!f.ok) assert.ok(typeof f.reason === 'string' && f.reason.length > 0, `${name} says why not`);
    }
    assert.equal(report.host.btf, true);
  });

  test('agrees with what the tests observe directly', () => {
    assert.equal(report.features.tracepoint!.ok, observeTracepoint());
    assert.equal(report.features.uprobe!.ok, observeUprobe());
    assert.equal(report.features.ringbuf!.ok, observeRingbuf());
    const kprobe = observeKprobe();
    assert.equal(report.features.kprobe!.ok, kprobe.ok, kprobe.error?.message);
  });

  test("reports every agent feature from starting it, with the kernel's reason when off", async () => {
    assert.deepEqual(Object.keys(report.waggle), [...AGENT_FEATURE_NAMES]);
    for (const [name, w] of Object.entries(report.waggle)) {
      assert.equal(w.ok, w.state === 'up', name);
      assert.ok(w.title.length > 0, name);
      if (!w.ok) assert.ok((w.reason ?? '').length > 0, `${name} says why not`);
    }
    // The capture, started here directly, agrees (whether or not it loads on this kernel).
    const capture = await observeCapture();
    assert.equal(report.waggle.http!.ok, capture.ok, capture.error);
    if (!capture.ok) assert.equal(report.waggle.http!.reason, featureFailureReason(capture.error));
  });
});

describe('doctor probes never crash and always give the same answer', () => {
  /** Errors nothing handled while the probes ran (an EPIPE on a child's stdin, a socket error…). */
  function unhandled(): { errors: unknown[]; stop(): void } {
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    return {
      errors,
      stop() {
        process.off('uncaughtException', onError);
        process.off('unhandledRejection', onError);
      },
    };
  }

  test('20 runs of every probe in this process: identical results, nothing unhandled', async () => {
    const seen = unhandled();
    try {
      const first = await probeAllFeatures();
      assert.deepEqual(Object.keys(first), [...FEATURE_NAMES]);
      for (let i = 1; i < 20; i++) assert.deepEqual(await probeAllFeatures(), first, `run ${i + 1} differs from run 1`);
      // Let anything emitted late (a child's stdin error after its exit) surface.
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      seen.stop();
    }
    assert.deepEqual(seen.errors, []);
  });

  test('send_signal: a target that cannot be started is a reason, not a crash', async () => {
    assert.deepEqual(await probeSendSignal(['/nonexistent/waggle-probe-target']), {
      ok: false,
      reason: "could not start the probe's target process: spawn /nonexistent/waggle-probe-target ENOENT",
    });
  });

  test('send_signal: a target that exits at once is a reason, not a crash (EPIPE on its stdin included)', async () => {
    const seen = unhandled();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await probeSendSignal(['/bin/true']);
        // Three outcomes, by who wins the race: the exit is seen before the
        // attach, after it, or the program kills the target first (then the
        // probe did its job). Never a throw or an unhandled error.
        if (!r.ok) assert.match(r.reason!, /^the target (exited before the program was attached|ended with an exit code, not SIGKILL)$/);
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      seen.stop();
    }
    assert.deepEqual(seen.errors, []);
  });

  test('send_signal: a target that closed its stdin (the line written to it fails with EPIPE) is still killed', async () => {
    const seen = unhandled();
    try {
      // The shell closes stdin, then makes system calls (sleep) until the program kills it.
      for (let i = 0; i < 5; i++) assert.deepEqual(await probeSendSignal(['/bin/sh', '-c', 'exec 0<&-; while :; do sleep 0.01; done']), { ok: true });
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      seen.stop();
    }
    assert.deepEqual(seen.errors, []);
  });
});
