// Runs last (files run in name order): every test must have closed what it
// loaded, so the kernel lists no tracing or networking programs any more.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { waitFor } from './helpers/process.js';

const OURS = /^(tracepoint|raw_tracepoint|tracing|perf_event|sched_cls|sock_ops|socket_filter|kprobe|lsm)$/;

function leftovers(): string[] {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', timeout: 60_000 })) as { id: number; type: string; name?: string }[];
  return progs.filter((p) => OURS.test(p.type)).map((p) => `${p.id} ${p.type} ${p.name ?? ''}`);
}

test('no BPF programs are left loaded after the test suite', async () => {
  // The kernel frees programs after an RCU grace period; give it a moment.
  await waitFor(() => leftovers().length === 0, 3000).catch(() => undefined);
  assert.deepEqual(leftovers(), []);
});
