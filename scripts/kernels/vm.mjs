// One qemu VM, from start to a guaranteed end: virtiofsd shares the host's
// root (the guest mounts it read-only under a tmpfs overlay), qemu boots the
// kernel under TCG (this host's /dev/kvm is paravirtual and cannot run
// guests), ttyS0 is the console log and ttyS1 the results channel (JSON lines
// the guest writes). A hard timeout kills qemu and virtiofsd; so does the
// host process exiting, so no run leaves a VM behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const QEMU = 'qemu-system-x86_64';
export const VIRTIOFSD = '/usr/lib/qemu/virtiofsd';

/**
 * @typedef {{ vmlinuz: string, initrd: string, append: string[], timeoutMs: number,
 *   memoryMb?: number, cpus?: number, onResult?: (line: string) => void }} VmOptions
 * @typedef {{ exit: 'poweroff' | 'timeout' | 'error', console: string, results: string[], ms: number, error?: string }} VmRun
 */

const live = new Set();
const dirs = new Set();
const killAll = () => {
  for (const p of live) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

function track(child) {
  live.add(child);
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  done.then(() => live.delete(child));
  return done;
}

/** Boots, waits for the guest to power off or for the timeout, and returns what it said. */
export async function runVm(opts) {
  const dir = mkdtempSync(join(tmpdir(), 'waggle-vm-'));
  dirs.add(dir);
  const socket = join(dir, 'fs.sock');
  const consoleLog = join(dir, 'console.log');
  const resultsLog = join(dir, 'results.log');
  const memoryMb = opts.memoryMb ?? 2048;
  const started = Date.now();
  const procs = [];
  let timer;
  let poller;
  try {
    // Debian 12's C virtiofsd: sandbox=chroot because namespaces are not available in every container.
    const fsd = spawn(VIRTIOFSD, [`--socket-path=${socket}`, '-o', 'source=/', '-o', 'sandbox=chroot', '-o', 'cache=auto'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let fsdErr = '';
    fsd.stderr.on('data', (d) => (fsdErr = (fsdErr + d).slice(-4000)));
    procs.push(fsd);
    const fsdExit = track(fsd);
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    if (!existsSync(socket)) return { exit: 'error', console: '', results: [], ms: Date.now() - started, error: `virtiofsd made no socket: ${fsdErr.trim()}` };

    // cx16=off: with CMPXCHG16B, Debian's 6.12 died in SLUB's freelist cmpxchg within 4 s of boot in 6 of 6
    // boots under this qemu's (7.2) TCG (list corruption, NULL derefs, a hang); without it, 6 of 6 booted.
    // The kernel falls back to its locked path; nothing waggle does needs the instruction.
    const args = [
      '-accel', 'tcg,thread=multi', '-cpu', 'max,cx16=off', '-smp', String(opts.cpus ?? 2), '-m', `${memoryMb}M`,
      // vhost-user-fs needs guest memory shareable with virtiofsd.
      '-object', `memory-backend-memfd,id=mem,size=${memoryMb}M,share=on`, '-numa', 'node,memdev=mem',
      '-chardev', `socket,id=fs0,path=${socket}`, '-device', 'vhost-user-fs-pci,queue-size=1024,chardev=fs0,tag=hostroot',
      '-device', 'virtio-rng-pci',
      '-kernel', opts.vmlinuz, '-initrd', opts.initrd, '-append', opts.append.join(' '),
      '-nodefaults', '-display', 'none', '-no-reboot',
      '-serial', `file:${consoleLog}`, '-serial', `file:${resultsLog}`,
    ];
    const qemu = spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuErr = '';
    qemu.stderr.on('data', (d) => (qemuErr = (qemuErr + d).slice(-4000)));
    procs.push(qemu);
    const qemuExit = track(qemu);
    const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.timeoutMs)));
    // Result lines as they come, for progress: a run lasts minutes.
    let seen = 0;
    const drain = (all) => {
      if (!opts.onResult || !existsSync(resultsLog)) return;
      const lines = readFileSync(resultsLog, 'utf8').replace(/\r/g, '').split('\n');
      for (; seen < lines.length - (all ? 0 : 1); seen++) if (lines[seen].startsWith('{')) opts.onResult(lines[seen]);
    };
    poller = setInterval(() => drain(false), 1000);
    // virtiofsd also exits when qemu disconnects at power-off: only its dying first is an error.
    const fsdFirst = fsdExit.then(() => Promise.race([qemuExit.then(() => 'exited'), sleep(3000).then(() => 'virtiofsd-exited')]));
    const outcome = await Promise.race([qemuExit.then(() => 'exited'), timedOut, fsdFirst]);
    clearInterval(poller);
    drain(true);
    const read = (p) => (existsSync(p) ? readFileSync(p, 'utf8').replace(/\r/g, '') : '');
    const results = read(resultsLog).split('\n').filter((l) => l.startsWith('{'));
    const run = { console: read(consoleLog), results, ms: Date.now() - started };
    if (outcome === 'timeout') return { ...run, exit: 'timeout', error: `no power-off within ${Math.round(opts.timeoutMs / 1000)} s` };
    if (outcome === 'virtiofsd-exited') return { ...run, exit: 'error', error: `virtiofsd exited: ${fsdErr.trim()}` };
    const { code, signal } = await qemuExit;
    if (code !== 0) return { ...run, exit: 'error', error: `qemu exited with ${signal ?? code}: ${qemuErr.trim()}` };
    return { ...run, exit: 'poweroff' };
  } finally {
    clearTimeout(timer);
    clearInterval(poller);
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  }
}
