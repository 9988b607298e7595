// Loads one program of an object with BPF_LOG_STATS and reads what the verifier
// spent on it: processed instructions, and the deepest chain of calls by stack
// (from the kernel's copy of the code when it loads; from libbpf's copy, the
// one the kernel was given, when the kernel refuses it: the check failed before
// any bpf_loop inlining, so the log's depths are the ones it summed).
import {
  BPF_LOG_STATS,
  type Btf,
  type Collection,
  ObjectSpec,
  type StackChain,
  type Subprogram,
  VerifierError,
  WaggleError,
  callGraph,
  deepestStackChain,
  parseVerifierStats,
  subprogramStarts,
} from '../../src/ebpf/index.js';
import type { Profile } from './profiles.js';

export type Status = 'ok' | 'failed' | 'not-loadable';

export interface Measurement {
  status: Status;
  /** Deepest chain, each subprogram rounded up to 32 bytes (every kernel's rule for the interpreter, and for the JIT before 6.9). */
  stackBytes: number | null;
  /** The same chain's sum rounded to 16 bytes: the JIT's rule since Linux 6.9, which this kernel applies. */
  stackBytesJit: number | null;
  /** Subprogram names along the deepest chain (by the 32-byte rule), entry first. */
  chain: string[] | null;
  processedInsns: number | null;
  /** Why the program failed or cannot load here. */
  reason?: string;
}

// BPF_LOG_STATS lines, which end every log whatever the outcome.
const STATS_LINE = /^(processed \d+ insns|verification time \d+|stack depth \d)/;

/** The verifier's last words before its statistics: the reason it refused. */
export function refusal(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !STATS_LINE.test(l));
  return lines.at(-1) ?? 'refused without a message';
}

function chains(graph: Subprogram[], depths: number[]): [StackChain, StackChain] | undefined {
  if (depths.length !== graph.length) return undefined;
  return [deepestStackChain(graph, depths, 32), deepestStackChain(graph, depths, 16)];
}

function figures(
  status: Status,
  graph: Subprogram[] | undefined,
  log: string | undefined,
  name: (index: number) => string,
  reason?: string,
  depths?: number[],
): Measurement {
  const stats = log === undefined ? undefined : parseVerifierStats(log);
  const c = graph && stats ? chains(graph, depths ?? stats.stackDepths) : undefined;
  return {
    status,
    stackBytes: c ? c[0].bytes : null,
    stackBytesJit: c ? c[1].bytes : null,
    chain: c ? c[0].chain.map(name) : null,
    processedInsns: stats?.processedInsns ?? null,
    ...(reason === undefined ? {} : { reason }),
  };
}

function funcName(btf: Btf | undefined, typeId: number | undefined): string | undefined {
  if (!btf || !typeId) return undefined;
  try {
    return btf.get(typeId).name || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads `program` alone from `path` under `profile`. `probe`: the object tests
 * what this kernel supports, so a refusal means "not loadable here", not a failure.
 */
export function measureProgram(path: string, program: string, profile: Profile, probe: boolean): Measurement {
  const spec = ObjectSpec.open(path);
  let coll: Collection | undefined;
  try {
    profile.apply(spec);
    spec.selectPrograms([program]);
    spec.program(program).logLevel = BPF_LOG_STATS;
    try {
      coll = spec.load();
    } catch (e) {
      const status: Status = probe ? 'not-loadable' : 'failed';
      if (!(e instanceof WaggleError)) throw e;
      if (!(e instanceof VerifierError)) return figures(status, undefined, undefined, String, `${e.code}: ${e.message}`);
      // The kernel kept nothing; libbpf still holds the code it passed, subprograms appended.
      const insns = spec.program(program).loadedInstructions();
      const graph = callGraph(insns, subprogramStarts(insns), 'elf');
      // Global functions are named in the log ("Func#3 ('name') is safe ..."); other subprograms by index.
      const named = new Map([...e.verifierLog.matchAll(/^Func#(\d+) \('([^']+)'\)/gm)].map((m) => [Number(m[1]), m[2]!]));
      const name = (i: number): string => (i === 0 ? program : (named.get(i) ?? `#${i}`));
      return figures(status, graph, e.verifierLog, name, refusal(e.verifierLog));
    }
    const prog = coll.program(program);
    const { code } = prog.info({ code: true });
    const btf = spec.btf;
    const name = (i: number): string => funcName(btf, code.funcInfo[i]?.typeId) ?? (i === 0 ? program : `#${i}`);
    // Depths as the stack check saw them: a refused program's log has them so; a loaded one's after bpf_loop inlining.
    return figures('ok', prog.callGraph(), prog.verifierLog, name, undefined, prog.stackDepths());
  } finally {
    if (coll) coll.close();
    else spec.close();
  }
}

/** The worst of several measurements of one program: largest figures, first failure. */
export function worst(ms: readonly Measurement[]): Measurement {
  const failed = ms.find((m) => m.status !== 'ok');
  const max = (f: (m: Measurement) => number | null): number | null =>
    ms.reduce<number | null>((acc, m) => (f(m) === null ? acc : Math.max(acc ?? 0, f(m)!)), null);
  const deepest = ms.reduce<Measurement | undefined>((a, m) => ((m.stackBytes ?? -1) > (a?.stackBytes ?? -1) ? m : a), undefined);
  return {
    status: failed?.status ?? 'ok',
    stackBytes: max((m) => m.stackBytes),
    stackBytesJit: max((m) => m.stackBytesJit),
    chain: deepest?.chain ?? null,
    processedInsns: max((m) => m.processedInsns),
    ...(failed?.reason === undefined ? {} : { reason: failed.reason }),
  };
}
