// Kernel feature probes: each loads a tiny program, attaches it, makes its hook
// fire and checks that it did. Nothing is inferred from version numbers.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
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

function sendUdp(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.send(Buffer.from('waggle-probe'), port, '127.0.0.1', () => {
      s.close();
      resolve();
    });
  });
}

async function tcpRoundTrip(): Promise<void> {
  const server = createServer((c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => {
    const c = createConnection(port, '127.0.0.1');
    c.on('close', () => resolve());
    c.on('error', () => resolve());
    c.resume();
  });
  await new Promise<void>((r) => server.close(() => r()));
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
  const spec = ObjectSpec.open(bpfObjectPath('probes/features'));
  const program = `probe_${feature}`;
  let coll: Collection | undefined;
  try {
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
    coll ? coll.close() : spec.close();
  }
}

async function probeRingbuf(): Promise<FeatureResult> {
  const spec = ObjectSpec.open(bpfObjectPath('probes/ringbuf'));
  let coll: Collection | undefined;
  try {
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
    coll ? coll.close() : spec.close();
  }
}

/** Spawns a child that the program must kill with SIGKILL at its next system call. */
async function probeSendSignal(): Promise<FeatureResult> {
  const child = spawn('/bin/sh', ['-c', 'read line; exec sleep 5'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // The program kills the child at its next system call, which on a slow machine (a TCG guest)
  // comes before it reads stdin: writing 'go' then fails with EPIPE, and that is success, not a crash.
  child.stdin?.on('error', () => {});
  const spec = ObjectSpec.open(bpfObjectPath('probes/features'));
  let coll: Collection | undefined;
  try {
    if (!child.pid) throw new WaggleError('WAGGLE_ERR_KERNEL', 'could not start the probe child');
    spec.selectPrograms(['probe_send_signal']).setVariable('target_tgid', child.pid);
    coll = spec.load();
    coll.program('probe_send_signal').attach();
    child.stdin?.end('go\n');
    const signal = await Promise.race([exited, sleep(3000).then(() => 'timeout' as const)]);
    if (signal === 'SIGKILL') return { ok: true };
    return { ok: false, reason: signal === 'timeout' ? 'the target was not killed' : `the target ended with ${signal ?? 'an exit code'}, not SIGKILL` };
  } catch (e) {
    return { ok: false, reason: reasonOf(e) };
  } finally {
    coll ? coll.close() : spec.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Probes one feature for real. */
export async function probeFeature(feature: FeatureName): Promise<FeatureResult> {
  if (feature === 'ringbuf') return probeRingbuf();
  if (feature === 'send_signal') return probeSendSignal();
  return probeWithFeaturesObject(feature);
}

/** Probes every feature, one after the other (probes share hooks and must not overlap). */
export async function probeAllFeatures(): Promise<Record<FeatureName, FeatureResult>> {
  const out = {} as Record<FeatureName, FeatureResult>;
  for (const f of FEATURE_NAMES) out[f] = await probeFeature(f);
  return out;
}
