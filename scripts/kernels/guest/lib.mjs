// What the guest checks share: feature results, child processes that are
// always killed, waiting for output, and a tiny HTTP GET.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { release } from 'node:os';

/** @typedef {{ ok: boolean, status: 'ok' | 'off' | 'fail', reason?: string }} Feature */

export const ok = () => ({ ok: true, status: 'ok' });
/** The kernel lacks what the feature needs: reported, not a failure. */
export const off = (reason) => ({ ok: false, status: 'off', reason });
/** waggle should have worked here and did not. */
export const fail = (reason) => ({ ok: false, status: 'fail', reason });

/** Debian's python3 (the PATH one may be a pyenv build without Debian's modules). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const WAGGLE = ['bin/waggle.js'];

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A child with its stdout/stderr kept (tail-capped), killed at the latest when the runner exits. */
export function start(cmd, args, opts = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(proc);
  const c = { proc, pid: proc.pid, out: '', err: '' };
  const cap = (s) => (s.length > 200_000 ? s.slice(-100_000) : s);
  proc.stdout.on('data', (d) => (c.out = cap(c.out + d)));
  // Also to our stderr: in the guest that is the console, kept by the host as the run's log.
  proc.stderr.on('data', (d) => {
    c.err = cap(c.err + d);
    process.stderr.write(d);
  });
  c.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  c.exited.then(() => children.delete(proc));
  /** Stops it politely (SIGTERM: the agent detaches its programs), then for sure. */
  c.stop = async (graceMs = 15_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return c.exited;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    const r = await c.exited;
    clearTimeout(t);
    return r;
  };
  return c;
}

/** Runs to completion; resolves with code, signal and output (killed after timeoutMs). */
export async function run(cmd, args, timeoutMs = 60_000, opts = {}) {
  const c = start(cmd, args, opts);
  const t = setTimeout(() => c.proc.kill('SIGKILL'), timeoutMs);
  const r = await c.exited;
  clearTimeout(t);
  return { ...r, out: c.out, err: c.err };
}

/** Polls `probe` until it returns a truthy value; throws `what` with the last error after timeoutMs. */
export async function until(what, probe, timeoutMs, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what} (waited ${Math.round(timeoutMs / 1000)} s${last ? `; last error: ${last.message ?? last}` : ''})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET a URL on loopback: { status, body }. */
export function get(url, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The last lines of a process's stderr, for a reason. */
export const tail = (s, n = 6) => s.trim().split('\n').slice(-n).join(' | ');

const [major = 0, minor = 0] = release().split('.').map(Number);
const before = (a, b) => major < a || (major === a && minor < b);

/**
 * When a load failure is the kernel lacking something waggle needs, the reason to report it
 * "off" with (else undefined: a failure). The library names helpers newer than the kernel
 * ("bpf_loop (Linux 5.17+)") and libbpf missing kfuncs; kernels before 5.13 know no BPF
 * callback functions, so an object with bpf_loop callbacks fails there with a func_info count.
 */
export function kernelLacks(reason) {
  if (/\(Linux \d+\.\d+\+\)|not found in kernel or module BTFs|invalid func unknown#/.test(reason)) return reason;
  // A tp_btf program on a tracepoint this kernel has not (the capture's socket hooks before 6.3): the agent loads the other set.
  if (/failed to find kernel BTF type ID of '\w+'/.test(reason)) return `this kernel lacks the program's attach point: ${reason}`;
  if (before(5, 13) && reason.includes("number of funcs in func_info doesn't match number of subprogs")) {
    return `this kernel predates BPF callback functions (Linux 5.13; bpf_loop needs 5.17): ${reason}`;
  }
  return undefined;
}

/**
 * Whether doctor (when it ran) found one of these BPF features missing: then a smoke test
 * that needs it is off with doctor's reason. Only kernel capabilities gate a test, not
 * doctor's waggle-level lines: those come from loading the real objects, and a refusal
 * there must stay visible as the smoke test's failure (or off, when kernelLacks says so).
 */
export function doctorSaysOff(ctx, bpfFeatures) {
  for (const name of bpfFeatures) {
    const f = ctx.doctor?.features?.[name];
    if (f && !f.ok) return `doctor: ${name} unavailable: ${f.reason ?? 'no reason given'}`;
  }
  return undefined;
}
