// The call graph of a BPF program, from its instructions, and its deepest stack
// chain by the verifier's rule (kernel/bpf/verifier.c, check_max_stack_depth):
// along every chain of bpf-to-bpf calls from the entry, the subprograms' stack
// depths, each rounded up, must add up to at most 512 bytes (MAX_BPF_STACK).
// Callbacks (bpf_loop, bpf_for_each_map_elem, … referenced by an ld_imm64 of a
// function) count as calls, as the kernel counts them; global functions too.
// Async callbacks (bpf_timer, bpf_wq) run on a stack of their own, which the
// kernel does not add to their caller's; counted here too, they can only over-count.
import { WaggleError } from './errors.js';

const INSN_BYTES = 8;
const BPF_JMP_CALL = 0x85; // BPF_JMP | BPF_CALL
const BPF_LD_IMM64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
const BPF_PSEUDO_CALL = 1;
const BPF_PSEUDO_FUNC = 4;

/** The kernel's limit on a program's combined stack (MAX_BPF_STACK). */
export const MAX_BPF_STACK = 512;

/**
 * Where the instructions come from, which decides where a call keeps its target:
 * `elf` — as given to the kernel (libbpf's relocated program): imm is the offset;
 * `xlated` — as the kernel reports a loaded program: after JIT the kernel moves
 * the offset to `off` and puts the callee's subprogram index in imm.
 */
export type InstructionSource = 'elf' | 'xlated';

export interface Subprogram {
  index: number;
  /** First instruction (index into the program's instructions). */
  start: number;
  /** One past the last instruction. */
  end: number;
  /** Subprograms called directly (bpf-to-bpf calls), ascending, no repeats. */
  calls: number[];
  /** Subprograms passed as callbacks (ld_imm64 of a function), ascending, no repeats. */
  callbacks: number[];
  /** Calls and callbacks together, in instruction order (the order the kernel walks them), no repeats. */
  callees: number[];
}

interface Reference {
  at: number;
  target: number;
  kind: 'call' | 'callback';
}

function references(insns: Uint8Array, source: InstructionSource): Reference[] {
  if (insns.length % INSN_BYTES !== 0) {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `BPF instructions must be a multiple of ${INSN_BYTES} bytes, got ${insns.length}`);
  }
  const view = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const count = insns.length / INSN_BYTES;
  const refs: Reference[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * INSN_BYTES;
    const code = view.getUint8(at);
    const src = view.getUint8(at + 1) >> 4;
    const off = view.getInt16(at + 2, true);
    const imm = view.getInt32(at + 4, true);
    if (code === BPF_JMP_CALL && src === BPF_PSEUDO_CALL) {
      refs.push({ at: i, target: i + 1 + (source === 'xlated' ? off : imm), kind: 'call' });
    } else if (code === BPF_LD_IMM64 && src === BPF_PSEUDO_FUNC) {
      refs.push({ at: i, target: i + 1 + imm, kind: 'callback' });
    }
    if (code === BPF_LD_IMM64) i++; // the second half of a 16-byte instruction
  }
  return refs;
}

/**
 * Subprogram starts as the kernel finds them (add_subprog): the entry, then every
 * target of a call or callback reference. For `elf` instructions, which carry no
 * func_info; a loaded program's func_info gives the same starts.
 */
export function subprogramStarts(insns: Uint8Array): number[] {
  const starts = new Set([0, ...references(insns, 'elf').map((r) => r.target)]);
  return [...starts].sort((a, b) => a - b);
}

/** Splits the program at `starts` and records who calls whom. */
export function callGraph(insns: Uint8Array, starts: readonly number[], source: InstructionSource): Subprogram[] {
  const count = insns.length / INSN_BYTES;
  if (starts[0] !== 0 || starts.some((s, i) => i > 0 && s <= starts[i - 1]!) || starts.some((s) => s >= count)) {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `subprogram starts must ascend from 0 within ${count} instructions, got ${starts.join(', ')}`);
  }
  const subprogs: Subprogram[] = starts.map((start, index) => ({
    index,
    start,
    end: starts[index + 1] ?? count,
    calls: [],
    callbacks: [],
    callees: [],
  }));
  const indexOf = new Map(starts.map((s, i) => [s, i]));
  const owner = (insn: number): Subprogram => {
    let lo = 0;
    let hi = subprogs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (subprogs[mid]!.start <= insn) lo = mid;
      else hi = mid - 1;
    }
    return subprogs[lo]!;
  };
  for (const r of references(insns, source)) {
    const callee = indexOf.get(r.target);
    if (callee === undefined) {
      throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `${r.kind} at instruction ${r.at} targets instruction ${r.target}, which starts no subprogram`);
    }
    const caller = owner(r.at);
    const list = r.kind === 'call' ? caller.calls : caller.callbacks;
    if (!list.includes(callee)) list.push(callee);
    if (!caller.callees.includes(callee)) caller.callees.push(callee);
  }
  for (const s of subprogs) {
    s.calls.sort((a, b) => a - b);
    s.callbacks.sort((a, b) => a - b);
  }
  return subprogs;
}

/**
 * A subprogram's stack as the verifier counts it (round_up_stack_depth).
 * 32: the interpreter's granularity, and every program's before Linux 6.9
 * (round_up(max(depth, 1), 32)); 16: JIT-compiled programs since 6.9
 * (round_up(depth, 16)). 32 never counts less, so it is the portable figure.
 */
export function roundStackDepth(depth: number, granularity: 16 | 32 = 32): number {
  return granularity === 32 ? Math.ceil(Math.max(depth, 1) / 32) * 32 : Math.ceil(depth / 16) * 16;
}

export interface StackChain {
  /** Sum of the rounded stack depths along the chain. */
  bytes: number;
  /** Subprogram indices from the entry (0) to the deepest callee. */
  chain: number[];
}

/** The call chain from subprogram 0 whose rounded stack depths add up the most. */
export function deepestStackChain(graph: readonly Subprogram[], depths: readonly number[], granularity: 16 | 32 = 32): StackChain {
  checkDepths(graph, depths);
  const round = (d: number): number => roundStackDepth(d, granularity);
  const best = new Map<number, StackChain>();
  const onPath = new Set<number>();
  const visit = (i: number): StackChain => {
    const known = best.get(i);
    if (known) return known;
    // The verifier refuses recursion; meeting it here means the graph is wrong.
    if (onPath.has(i)) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `subprogram ${i} calls itself through ${[...onPath].join(' → ')}`);
    onPath.add(i);
    let deepest: StackChain = { bytes: 0, chain: [] };
    const s = graph[i]!;
    for (const callee of s.callees) {
      const c = visit(callee);
      if (c.bytes > deepest.bytes) deepest = c;
    }
    onPath.delete(i);
    const result = { bytes: round(depths[i]!) + deepest.bytes, chain: [i, ...deepest.chain] };
    best.set(i, result);
    return result;
  };
  return visit(0);
}

function checkDepths(graph: readonly Subprogram[], depths: readonly number[]): void {
  if (depths.length !== graph.length) {
    throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `${depths.length} stack depths for ${graph.length} subprograms`);
  }
}

/**
 * The verifier's own walk (check_max_stack_depth_subprog): depth first from the
 * entry, callees in instruction order, the first chain whose sum exceeds `limit`.
 * Its result is what the kernel reports as "combined stack size of <frames>
 * calls is <bytes>"; undefined when no chain exceeds. (A kernel that gives a
 * program's large subprograms private stacks leaves them out of the sum; this
 * walk never does, so it can only over-count.)
 */
export function firstStackOverflow(
  graph: readonly Subprogram[],
  depths: readonly number[],
  granularity: 16 | 32,
  limit = MAX_BPF_STACK,
): { frames: number; bytes: number } | undefined {
  checkDepths(graph, depths);
  const walk = (i: number, above: number, frames: number): { frames: number; bytes: number } | undefined => {
    if (frames > graph.length) throw new WaggleError('WAGGLE_ERR_INVALID_ARGUMENT', `the calls from subprogram 0 loop`);
    const bytes = above + roundStackDepth(depths[i]!, granularity);
    if (bytes > limit) return { frames, bytes };
    for (const callee of graph[i]!.callees) {
      const over = walk(callee, bytes, frames + 1);
      if (over) return over;
    }
    return undefined;
  };
  return walk(0, 0, 1);
}

/** Stack bpf_loop inlining (Linux ≥ 5.19, JIT) gives the calling subprogram: three spilled registers. */
export const BPF_LOOP_INLINE_STACK = 24;

/**
 * The depths the verifier's stack check saw, from BPF_LOG_STATS depths of a
 * loaded program. The stats are printed after the kernel inlined bpf_loop calls,
 * which added 24 bytes to each subprogram that had one inlined (optimize_bpf_loop);
 * the check (check_max_stack_depth) ran before. An inlined loop shows in the
 * kernel's code (`xlated`) as a direct call to a callback that the code given to
 * the kernel (`given`, libbpf's) only passed as an argument. The result is exact
 * to within the 8-byte alignment the kernel also adds, which any rounding to
 * 16 or 32 absorbs. When the two graphs do not match, the depths are returned as
 * they are (an over-estimate, never an under-estimate).
 */
export function depthsBeforeLoopInlining(depths: readonly number[], xlated: readonly Subprogram[], given: readonly Subprogram[]): number[] {
  if (xlated.length !== depths.length || given.length !== depths.length) return [...depths];
  return depths.map((d, i) => {
    const g = given[i]!;
    const inlined = xlated[i]!.calls.some((c) => g.callbacks.includes(c) && !g.calls.includes(c));
    return inlined ? Math.max(0, d - BPF_LOOP_INLINE_STACK) : d;
  });
}
