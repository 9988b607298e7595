// `waggle doctor`: what this host can do, found by loading and firing tiny
// programs, and which waggle features that allows.
import type { Command } from 'commander';
import { FEATURE_NAMES, type FeatureName, type FeatureResult, probeAllFeatures } from '../../ebpf/features.js';
import { type HostFacts, readHostFacts } from '../../ebpf/host.js';

interface WaggleFeature {
  name: string;
  title: string;
  /** Every one of these is needed. */
  needs: FeatureName[];
}

export const WAGGLE_FEATURES: WaggleFeature[] = [
  { name: 'application-telemetry', title: 'RED metrics and traces from plaintext traffic (syscall capture)', needs: ['tracepoint', 'ringbuf'] },
  { name: 'tls-telemetry', title: 'TLS plaintext through OpenSSL uprobes', needs: ['uprobe', 'ringbuf'] },
  { name: 'process-events', title: 'exec/exit events with ancestry', needs: ['tracepoint', 'ringbuf'] },
  { name: 'security-policies', title: 'file/exec/connect policies filtered in the kernel', needs: ['tracepoint', 'ringbuf'] },
  { name: 'security-enforcement-kill', title: 'policy action sigkill (bpf_send_signal)', needs: ['tracepoint', 'send_signal'] },
  { name: 'security-enforcement-deny', title: 'denying an operation before it happens (BPF LSM)', needs: ['lsm'] },
  { name: 'cpu-profiling', title: 'CPU profiles (perf_event sampling)', needs: ['perf_event', 'ringbuf'] },
];

export interface DoctorReport {
  host: HostFacts;
  features: Record<FeatureName, FeatureResult>;
  waggle: Record<string, FeatureResult & { needs: FeatureName[] }>;
}

export async function runDoctor(): Promise<DoctorReport> {
  const host = readHostFacts();
  const features = await probeAllFeatures();
  const waggle: DoctorReport['waggle'] = {};
  for (const f of WAGGLE_FEATURES) {
    const missing = f.needs.filter((n) => !features[n].ok);
    waggle[f.name] = missing.length === 0 ? { ok: true, needs: f.needs } : { ok: false, needs: f.needs, reason: `needs ${missing.join(', ')}` };
  }
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
  lines.push(`mounts        tracefs ${h.tracefs ?? 'MISSING'}   bpffs ${h.bpffs ?? 'MISSING'}   cgroup2 ${h.cgroup2 ?? 'MISSING'}`);
  lines.push(`runtime       libbpf ${h.libbpf}   ${h.possibleCpus} CPUs   JIT ${h.jitEnabled === undefined ? 'unknown' : h.jitEnabled ? 'on' : 'off'}   perf_event_paranoid ${h.perfEventParanoid ?? '?'}`);
  lines.push('');
  lines.push('BPF features (each loaded, attached and made to fire):');
  const width = Math.max(...FEATURE_NAMES.map((n) => n.length));
  for (const n of FEATURE_NAMES) {
    const f = r.features[n];
    lines.push(`  ${mark(f.ok, color)} ${n.padEnd(width)}${f.ok ? '' : `  ${f.reason ?? ''}`}`);
  }
  lines.push('');
  lines.push('waggle features:');
  for (const f of WAGGLE_FEATURES) {
    const w = r.waggle[f.name]!;
    lines.push(`  ${mark(w.ok, color)} ${f.title}${w.ok ? '' : `  (${w.reason})`}`);
  }
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
