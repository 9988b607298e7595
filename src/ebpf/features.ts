// Kernel feature probes: each loads a tiny program, attaches it, makes its hook
// fire and checks that it did. Nothing is inferred from version numbers.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { type Socket, createConnection, createServer } from 'node:net';
import { bpfObjectPath } from '../paths.js';
import type { Collection } from './collection.js';
import { WaggleError } from './errors.js';
import { ObjectSpec } from './object-spec.js';

export const FEATURE_NAMES = [
  'tracepoint',
  'raw_tracepoint',
  'tp_btf',
  'kprobe',
  'fentry',
  'lsm',
  'uprobe',
  'perf_event',
  'tc',
  'sockops',
  'socket_filter',
  'ringbuf',
  'send_signal',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export interface FeatureResult {
  ok: boolean;
  /** Why not, in the kernel's words where it gave any. */
  reason?: string;
}

const SLOT: Record<Exclude<FeatureName, 'ringbuf'>, number> = {
  tracepoint: 0,
  raw_tracepoint: 1,
  tp_btf: 2,
  kprobe: 3,
  fentry: 4,
  lsm: 5,
  uprobe: 6,
  perf_event: 7,
  tc: 8,
  sockops: 9,
  socket_filter: 10,
  send_signal: 11,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long one probe may take before it counts as not ok (the slowest, send_signal, waits 3 s). */
const PROBE_TIMEOUT_MS = 10_000;

/** `promise`, or `onTimeout` after `ms`; the timer never keeps the process alive. */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Closes what a probe opened; a failing close must not replace the probe's answer. */
function release(coll: Collection | undefined, spec: ObjectSpec | undefined): void {
  try {
    if (coll) coll.close();
    else spec?.close();
  } catch {
    // the probe's result stands; the kernel frees the rest when the fds close
  }
}

function reasonOf(e: unknown): string {
  if (e instanceof WaggleError) {
    // The probe's own object path adds nothing for a person reading the reason.
    const first = (e.message.split('\n')[0] ?? e.message).replace(/^loading \S+\.bpf\.o: /, 'load: ');
    return e.errno ? `${first} [errno ${e.errno}]` : first;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The libc this process maps, for the uprobe probe. */
function libcPath(): string | undefined {
  const maps = readFileSync('/proc/self/maps', 'utf8');
  return /\s(\/\S*libc\.so\.6)$/m.exec(maps)?.[1] ?? /\s(\/\S*libc[-.][^\s/]*\.so[^\s/]*)$/m.exec(maps)?.[1];
}

/** One datagram to the loopback discard port; never rejects (the probe then reports that its hook never fired). */
function sendUdp(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = () => {
      try {
        s.close();
      } catch {
        // already closed
      }
      resolve();
    };
    s.on('error', done);
    s.send(Buffer.from('waggle-probe'), port, '127.0.0.1', done);
  });
}

/** One loopback TCP connection, opened and closed; never rejects, bounded to 2 s. */
async function tcpRoundTrip(): Promise<void> {
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    c.end();
  });
  server.on('error', () => undefined);
  const roundTrip = async () => {
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(0, '127.0.0.1', () => resolve(true));
    });
    if (!listening) return;
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => {
      const c = createConnection(port, '127.0.0.1');
      sockets.add(c);
      c.on('close', () => resolve());
      c.on('error', () => resolve());
      c.resume();
    });
  };
  await withTimeout(roundTrip(), 2000, undefined);
  for (const c of sockets) c.destroy();
  await new Promise<void>((r) => (server.listening ? server.close(() => r()) : r()));
}

/** Makes the hook of `feature` fire for this process (or the probe child). */
async function trigger(feature: FeatureName): Promise<void> {
  switch (feature) {
    case 'tracepoint':
    case 'raw_tracepoint':
    case 'tp_btf':
    case 'uprobe':
    case 'ringbuf':
      for (let i = 0; i < 4; i++) void process.ppid; // getppid() through libuv → libc
      return;
    case 'kprobe':
    case 'fentry':
    case 'lsm':
      readFileSync('/proc/self/stat');
      return;
    case 'perf_event': {
      const until = Date.now() + 60;
      while (Date.now() < until) {
        // burn CPU so that the sampling clock fires for this process
      }
      return;
    }
    case 'tc':
    case 'socket_filter':
      await sendUdp(9);
      await sleep(20);
      return;
    case 'sockops':
      await tcpRoundTrip();
      return;
    case 'send_signal':
      return;
  }
}

function attach(feature: FeatureName, coll: Collection, program: string): void {
  const p = coll.program(program);
  switch (feature) {
    case 'kprobe':
      p.attachKprobe('vfs_read');
      return;
    case 'uprobe': {
      const libc = libcPath();
      if (!libc) throw new WaggleError('WAGGLE_ERR_NOT_FOUND', 'libc is not mapped by this process');
      p.attachUprobe({ binary: libc, symbol: 'getppid', pid: process.pid });
      return;
    }
    case 'perf_event':
      p.attachPerfEvent({ cpu: -1, pid: process.pid, frequency: 1000 });
      return;
    case 'tc':
      p.attachTc('lo', 'ingress');
      return;
    case 'sockops':
      p.attachCgroup();
      return;
    case 'socket_filter':
      p.attachSocketFilter('lo');
      return;
    default:
      p.attach();
  }
}

async function probeWithFeaturesObject(feature: Exclude<FeatureName, 'ringbuf' | 'send_signal'>): Promise<FeatureResult> {
  const program = `probe_${feature}`;
  let spec: ObjectSpec | undefined;
  let coll: Collection | undefined;
  try {
    spec = ObjectSpec.open(bpfObjectPath('probes/features'));
    spec.selectPrograms([program]).setVariable('target_tgid', process.pid);
    coll = spec.load();
    attach(feature, coll, program);
    let hits = 0;
    for (let attempt = 0; attempt < 5 && hits === 0; attempt++) {
      await trigger(feature);
      hits = coll.variable<number[]>('hits')[SLOT[feature]] ?? 0;
    }
    return hits > 0 ? { ok: true } : { ok: false, reason: 'attached, but the hook never fired' };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    release(coll, spec);
  }
}

async function probeRingbuf(): Promise<FeatureResult> {
  let spec: ObjectSpec | undefined;
  let coll: Collection | undefined;
  try {
    spec = ObjectSpec.open(bpfObjectPath('probes/ringbuf'));
    spec.setVariable('target_tgid', process.pid);
    coll = spec.load();
    let seen = 0;
    const reader = coll.ringBuffer('records', (batch) => {
      batch.forEach((buf, off) => {
        if (buf.readUInt32LE(off + 4) === 0x77616767) seen++;
      });
    });
    coll.program('probe_ringbuf').attach();
    await trigger('ringbuf');
    for (let i = 0; i < 20 && seen === 0; i++) await sleep(10); // delivered through the event loop
    if (seen === 0) reader.consume();
    return seen > 0 ? { ok: true } : { ok: false, reason: 'records were written but none arrived' };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    release(coll, spec);
  }
}

/** The send_signal probe's target: a shell that waits for a line on stdin, then sleeps. */
const SIGNAL_TARGET: readonly string[] = ['/bin/sh', '-c', 'read line; exec sleep 5'];

/** Starts the probe's target. Never throws. */
function startTarget(command: readonly string[]): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | 'exit'> } | { error: string }> {
  let child: ChildProcess;
  try {
    child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (e) {
    return Promise.resolve({ error: `could not start the probe's target process: ${reasonOf(e)}` });
  }
  // The program may kill the target before it reads its line (it fires at the
  // target's next system call): writing to its stdin then fails with EPIPE,
  // which is the expected outcome, not an error.
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<NodeJS.Signals | 'exit'>((resolve) => child.once('exit', (_code, signal) => resolve(signal ?? 'exit')));
  return new Promise((resolve) => {
    child.once('spawn', () => resolve({ child, exited }));
    child.once('error', (e) => resolve({ error: `could not start the probe's target process: ${e.message}` }));
  });
}

/**
 * Spawns a child that the program must kill with SIGKILL at its next system call.
 * `command` replaces the target only in tests (one that cannot start, exits early
 * or closes its stdin).
 */
export async function probeSendSignal(command: readonly string[] = SIGNAL_TARGET): Promise<FeatureResult> {
  const target = await startTarget(command);
  if ('error' in target) return { ok: false, reason: target.error };
  const { child, exited } = target;
  let spec: ObjectSpec | undefined;
  let coll: Collection | undefined;
  try {
    spec = ObjectSpec.open(bpfObjectPath('probes/features'));
    spec.selectPrograms(['probe_send_signal']).setVariable('target_tgid', child.pid!);
    coll = spec.load();
    if (child.exitCode !== null || child.signalCode !== null) return { ok: false, reason: 'the target exited before the program was attached' };
    coll.program('probe_send_signal').attach();
    // Makes the target do system calls, if the program has not killed it already.
    child.stdin?.end('go\n');
    const signal = await withTimeout(exited, 3000, 'timeout' as const);
    if (signal === 'SIGKILL') return { ok: true };
    return { ok: false, reason: signal === 'timeout' ? 'the target was not killed' : `the target ended with ${signal === 'exit' ? 'an exit code' : signal}, not SIGKILL` };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    release(coll, spec);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * Probes one feature for real. Never rejects: whatever goes wrong (a child, a
 * pipe, a socket, the object file, a probe that never finishes) is a reason.
 */
export async function probeFeature(feature: FeatureName): Promise<FeatureResult> {
  const run = feature === 'ringbuf' ? probeRingbuf : feature === 'send_signal' ? probeSendSignal : () => probeWithFeaturesObject(feature);
  try {
    return await withTimeout(run(), PROBE_TIMEOUT_MS, { ok: false, reason: `the probe did not finish within ${PROBE_TIMEOUT_MS / 1000} s` });
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  }
}

/** Probes every feature, one after the other (probes share hooks and must not overlap). */
export async function probeAllFeatures(): Promise<Record<FeatureName, FeatureResult>> {
  const out = {} as Record<FeatureName, FeatureResult>;
  for (const f of FEATURE_NAMES) out[f] = await probeFeature(f);
  return out;
}
