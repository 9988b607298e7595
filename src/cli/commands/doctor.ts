// `waggle doctor`: what this host can do, found by loading and firing tiny
// programs, and which waggle features run, found by starting each of them from
// the agent's own objects (and closing it again).
import type { Command } from 'commander';
import { FEATURE_NAMES, type FeatureName, type FeatureResult, probeAllFeatures } from '../../ebpf/features.js';
import { type HostFacts, readHostFacts } from '../../ebpf/host.js';
import { debugfsPath } from '../../ebpf/mounts.js';
import type { FeatureStatus } from '../features/index.js';
import { probeAgentFeatures } from '../features/probe.js';

export interface DoctorReport {
  host: HostFacts & { debugfs: string | undefined };
  /** Program types, each loaded, attached and made to fire. */
  features: Record<FeatureName, FeatureResult>;
  /** The agent's features, each started from its real objects and closed. */
  waggle: Record<string, FeatureResult & Omit<FeatureStatus, 'name'>>;
}

export async function runDoctor(): Promise<DoctorReport> {
  const host = { ...readHostFacts(), debugfs: debugfsPath() };
  const features = await probeAllFeatures();
  const waggle: DoctorReport['waggle'] = {};
  for (const { name, ...f } of await probeAgentFeatures()) waggle[name] = { ok: f.state === 'up', ...f };
  return { host, features, waggle };
}

const WANTED_CAPS = ['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_DAC_READ_SEARCH', 'CAP_SYS_RESOURCE'];

function mark(ok: boolean, color: boolean): string {
  if (!color) return ok ? 'ok ' : 'NO ';
  return ok ? '\x1b[32m✔\x1b[0m' : '\x1b[31m✘\x1b[0m';
}

export function formatDoctor(r: DoctorReport, color: boolean): string {
  const h = r.host;
  const lines: string[] = [];
  const held = new Set(h.capabilities);
  lines.push('waggle doctor: what this host can do');
  lines.push('');
  lines.push(`kernel        ${h.kernelRelease}   BTF ${h.btf ? 'yes' : 'NO (CO-RE needs /sys/kernel/btf/vmlinux)'}   lockdown ${h.lockdown ?? 'unknown'}`);
  lines.push(`LSMs          ${h.lsm.join(',') || 'unknown'}`);
  lines.push(`capabilities  ${WANTED_CAPS.map((c) => `${c}${held.has(c) ? '' : ' (missing)'}`).join('  ')}`);
  lines.push(`mounts        tracefs ${h.tracefs ?? 'MISSING'}   bpffs ${h.bpffs ?? 'MISSING'}   cgroup2 ${h.cgroup2 ?? 'MISSING'}   debugfs ${h.debugfs ?? 'not mounted (not needed here)'}`);
  lines.push(`runtime       libbpf ${h.libbpf}   ${h.possibleCpus} CPUs   JIT ${h.jitEnabled === undefined ? 'unknown' : h.jitEnabled ? 'on' : 'off'}   perf_event_paranoid ${h.perfEventParanoid ?? '?'}`);
  lines.push('');
  lines.push('BPF features (each loaded, attached and made to fire):');
  const width = Math.max(...FEATURE_NAMES.map((n) => n.length));
  for (const n of FEATURE_NAMES) {
    const f = r.features[n];
    lines.push(`  ${mark(f.ok, color)} ${n.padEnd(width)}${f.ok ? '' : `  ${f.reason ?? ''}`}`);
  }
  lines.push('');
  lines.push("waggle features (each started from the agent's own objects, then closed):");
  const nameWidth = Math.max(...Object.keys(r.waggle).map((n) => n.length));
  for (const [name, w] of Object.entries(r.waggle)) {
    const why = w.ok ? w.note : w.reason;
    lines.push(`  ${mark(w.ok, color)} ${name.padEnd(nameWidth)}  ${w.title}${why ? `\n      ${w.ok ? 'note' : w.state}: ${why}` : ''}`);
  }
  lines.push('  not built yet: TLS plaintext (uprobe), CPU profiling (perf_event), denying operations (lsm); see BPF features above');
  return lines.join('\n');
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('probe what this kernel and these privileges allow, by loading tiny BPF programs')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const report = await runDoctor();
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatDoctor(report, process.stdout.isTTY === true)}\n`);
    });
}
