// npm run bpf:budget [-- --json]: loads every BPF program of the project with
// BPF_LOG_STATS and checks its verifier budget: combined stack (deepest call
// chain, 32-byte rounding) ≤ 384 B and processed instructions ≤ 250,000. Exits
// 1 naming each offender; a program of the agent that fails to load offends too.
// --json prints only a JSON array of rows on stdout. Other arguments keep only
// the objects whose path under dist/bpf contains one of them (e.g. "security/").
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { ObjectSpec, VerifierError, WaggleError, missingKernelBtfNames } from '../src/ebpf/index.js';
import { measureProgram, worst } from './budget/measure.js';
import { profilesFor } from './budget/profiles.js';
import { INSN_BUDGET, INSN_BUDGET_LEGACY, STACK_BUDGET, type Row, offence, table } from './budget/report.js';

const BPF_DIR = join(packageRoot, 'dist', 'bpf');
// Test objects the verifier is meant to refuse.
const MEANT_TO_FAIL = /^testdata\/verifier_reject/;
// Feature probes find out what this kernel supports: refusals are findings.
const PROBES = /^probes\//;

/**
 * Why this kernel refuses every program of a trampoline type (no BPF
 * trampolines, no BPF LSM, lockdown…), from doctor's own probe of it
 * (`probe_fentry`, `probe_lsm`), or undefined when that loads. The agent loads
 * such programs only where they load (the capture's fexit hooks fall back to
 * the syscall exits, LSM enforcement is off), so there they are not loadable,
 * not offenders; a verifier refusal of one still fails.
 */
function probeRefusal(probe: string): string | undefined {
  const spec = ObjectSpec.open(join(BPF_DIR, 'probes', 'features.bpf.o'));
  try {
    spec.selectPrograms([probe]);
    spec.load().close();
    return undefined;
  } catch (e) {
    if (e instanceof WaggleError && !(e instanceof VerifierError)) return e.message.split('\n')[0];
    return undefined;
  } finally {
    spec.close();
  }
}

/** The kernel function an fexit/fentry program attaches to, from its section ("fexit/inet_recvmsg"). */
function fexitTarget(section: string | undefined): string | undefined {
  const m = /^(?:fentry|fexit)\/(.+)$/.exec(section ?? '');
  return m?.[1];
}

/** The tracepoint a tp_btf program attaches to, from its section ("tp_btf/sock_recv_length"). */
function tpBtfTarget(section: string | undefined): string | undefined {
  return section?.startsWith('tp_btf/') ? section.slice('tp_btf/'.length) : undefined;
}


function objects(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? objects(p) : name.endsWith('.bpf.o') ? [p] : [];
    })
    .sort();
}

function measureAll(filters: readonly string[]): Row[] {
  const rows: Row[] = [];
  const refusals = new Map<string, string | undefined>();
  const refusal = (probe: string) => {
    if (!refusals.has(probe)) refusals.set(probe, probeRefusal(probe));
    return refusals.get(probe);
  };
  for (const path of objects(BPF_DIR)) {
    const object = relative(BPF_DIR, path);
    const id = object.replace(/\.bpf\.o$/, '');
    if (MEANT_TO_FAIL.test(id) || (filters.length > 0 && !filters.some((f) => object.includes(f)))) continue;
    const spec = ObjectSpec.open(path);
    const programs = [...spec.programs.keys()];
    const types = new Map([...spec.programs.values()].map((p) => [p.name, p.type]));
    const sections = new Map([...spec.programs.values()].map((p) => [p.name, p.section]));
    spec.close();
    const profiles = profilesFor(id);
    for (const program of programs) {
      const notLoadable = (reason: string) => rows.push({ object, program, profiles: profiles.map((p) => p.name), status: 'not-loadable', stackBytes: null, stackBytesJit: null, chain: null, processedInsns: null, reason });
      if (types.get(program) === 'lsm' && !PROBES.test(id) && refusal('probe_lsm')) {
        notLoadable(`this kernel loads no BPF LSM program, and the agent loads it only where one does: ${refusal('probe_lsm')}`);
        continue;
      }
      const fn = PROBES.test(id) ? undefined : fexitTarget(sections.get(program));
      if (fn && refusal('probe_fentry')) {
        notLoadable(`this kernel loads no fentry/fexit program, and the agent loads it only where one does: ${refusal('probe_fentry')}`);
        continue;
      }
      if (fn && missingKernelBtfNames([fn]).length) {
        // The capture's fexit hooks: inet_sendpage is gone from 6.5, where the agent does not load its program.
        notLoadable(`this kernel has no function ${fn} (not in its BTF), and the agent loads the program only where it has`);
        continue;
      }
      const tracepoint = tpBtfTarget(sections.get(program));
      if (tracepoint && missingKernelBtfNames([`btf_trace_${tracepoint}`]).length) {
        // The capture's socket hooks (6.3+): where the kernel lacks them the agent loads the syscall exits instead.
        notLoadable(`this kernel has no tracepoint ${tracepoint} (btf_trace_${tracepoint} is not in its BTF; Linux 6.3+), and the agent loads the program only where it has`);
        continue;
      }
      const m = worst(profiles.map((p) => measureProgram(path, program, p, PROBES.test(id))));
      rows.push({ object, program, profiles: profiles.map((p) => p.name), ...m });
    }
  }
  return rows;
}

function main(): number {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const rows = measureAll(args.filter((a) => !a.startsWith('--')));
  if (rows.length === 0) {
    process.stderr.write(`bpf:budget: no BPF objects under ${BPF_DIR} match (was "npm run build" run?)\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    process.stdout.write(`${table(rows)}\n\nbudget: combined stack ≤ ${STACK_BUDGET} B (32-byte rounding), processed insns ≤ ${INSN_BUDGET} (legacy builds ≤ ${INSN_BUDGET_LEGACY})\n`);
  }
  const offenders = rows.flatMap((r) => {
    const why = offence(r);
    return why ? [`${r.object} ${r.program}: ${why}`] : [];
  });
  for (const o of offenders) process.stderr.write(`bpf:budget: ${o}\n`);
  return offenders.length ? 1 : 0;
}

process.exitCode = main();
