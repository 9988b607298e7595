// A fresh machine has neither tracefs nor bpffs mounted. The agent runs here in
// a private mount namespace (unshare -m) where they are unmounted, so the host's
// mounts and other agents are untouched: it mounts tracefs itself, uses the
// tracefs inside a mounted debugfs when that is what there is, and without the
// right to mount names what is missing while the features that need no tracefs run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { fexitHooksMissing, socketHooksMissing } from '../../src/capture/index.js';
import { probeFeature } from '../../src/ebpf/features.js';

const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';

/** Runs the agent in a new mount namespace after `setup` (shell commands). */
function inNamespace(setup: string, then: string[] = []): string[] {
  return [UNSHARE, '--mount', '--propagation', 'private', 'sh', '-c', `${setup}; exec "$0" "$@"`, ...then];
}

const UNMOUNT = 'umount /sys/kernel/tracing 2>/dev/null; umount /sys/fs/bpf 2>/dev/null';

/** /readyz's feature lines and the agent's tracefs/debugfs mounts, read before it is stopped. */
async function run(prefix: string[]): Promise<{ features: Map<string, string>; mounts: string[]; exit: Awaited<ReturnType<AgentProcess['stop']>> }> {
  const agent = await startAgentProcess(['--pid', String(process.pid), '--policy', 'default', '--policy-dry-run', '--log-level', 'error'], {}, { prefix });
  let body = '';
  let mounts: string[] = [];
  let exit: Awaited<ReturnType<AgentProcess['stop']>>;
  try {
    body = await (await fetch(`${agent.url}/readyz`, { signal: AbortSignal.timeout(10_000) })).text();
    mounts = readFileSync(`/proc/${agent.child.pid}/mounts`, 'utf8')
      .split('\n')
      .filter((l) => /^\S+ \S+ (tracefs|debugfs|bpf) /.test(l))
      .map((l) => l.split(' ').slice(1, 3).join(' '));
  } finally {
    exit = await agent.stop();
  }
  const features = new Map(body.trimEnd().split('\n').slice(1).map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)] as const));
  return { features, mounts, exit };
}

describe('kernel filesystems the agent needs', () => {
  test('neither tracefs nor bpffs mounted: the agent mounts tracefs and every tracepoint feature runs', async () => {
    const r = await run(inNamespace(UNMOUNT));
    assert.deepEqual(r.exit, { code: 0, signal: null });
    assert.deepEqual(r.mounts, ['/sys/kernel/tracing tracefs'], 'tracefs mounted by the agent; bpffs not needed');
    assert.equal(r.features.get('discovery'), 'up');
    assert.equal(r.features.get('process-events'), 'up');
    assert.match(r.features.get('policies') ?? '', /^up(: \d+ of \d+ policies inactive: .*)?$/);
  });

  test('only debugfs mounted: the tracefs inside it is used, nothing else is mounted', async () => {
    const r = await run(inNamespace(`${UNMOUNT}; mount -t debugfs debugfs /sys/kernel/debug`));
    assert.deepEqual(r.exit, { code: 0, signal: null });
    assert.deepEqual(r.mounts, ['/sys/kernel/debug debugfs', '/sys/kernel/debug/tracing tracefs']);
    assert.equal(r.features.get('process-events'), 'up');
    assert.match(r.features.get('policies') ?? '', /^up/);
  });

  test('no tracefs and no CAP_SYS_ADMIN: policies off naming the mount and the capability; the rest runs (the capture too, on the socket tracepoints)', async () => {
    const r = await run(inNamespace(UNMOUNT, [SETPRIV, '--inh-caps=-sys_admin', '--bounding-set=-sys_admin']));
    assert.deepEqual(r.exit, { code: 0, signal: null });
    assert.deepEqual(r.mounts, []);
    assert.equal(
      r.features.get('policies'),
      'off: tracefs is not mounted and mounting it at /sys/kernel/tracing was refused (libbpf needs it to attach tracepoints). This needs CAP_SYS_ADMIN; missing: CAP_SYS_ADMIN (run as root or grant them, e.g. setcap or --cap-add).',
    );
    assert.equal(r.features.get('process-events'), 'up: without policies', 'the process table needs no tracefs (raw tracepoints)');
    assert.equal(r.features.get('discovery'), 'up', 'tp_btf programs need no tracefs');
    // On the socket tracepoints (tp_btf) and fexit the capture needs no tracefs; on the syscall exits it does.
    if (!socketHooksMissing()) assert.equal(r.features.get('http'), 'up: bytes seen on the socket tracepoints (sock_recv_length, sock_send_length)');
    else if (!fexitHooksMissing() && (await probeFeature('fentry')).ok) assert.match(r.features.get('http') ?? '', /^up: bytes seen at fexit/);
    else assert.match(r.features.get('http') ?? '', /^off: /, 'the capture hooks syscall tracepoints');
  });
});
