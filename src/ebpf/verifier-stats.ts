// Figures the verifier prints at the end of its log. "processed N insns" comes
// at every log level; "stack depth A+B+…" (one figure per subprogram, in
// subprogram order) only with BPF_LOG_STATS (log level 4).

export const BPF_LOG_LEVEL1 = 1;
export const BPF_LOG_LEVEL2 = 2;
export const BPF_LOG_STATS = 4;

export interface VerifierStats {
  /** Instructions the verifier walked, over every path (the complexity budget). */
  processedInsns: number;
  /** The kernel's limit on processedInsns (1,000,000 for privileged loads). */
  insnLimit: number;
  /** Stack bytes of each subprogram, subprogram 0 first; empty without BPF_LOG_STATS. */
  stackDepths: number[];
  /** Verifier states at the peak of the walk (memory it held). */
  peakStates: number;
  /** Verification time in microseconds; undefined without BPF_LOG_STATS. */
  verificationUs: number | undefined;
}

const PROCESSED = /^processed (\d+) insns \(limit (\d+)\).*?peak_states (\d+)/gm;
const STACK = /^stack depth (\d+(?:\+\d+)*)\s*$/gm;
const TIME = /^verification time (\d+) usec$/gm;

function last(re: RegExp, text: string): RegExpExecArray | undefined {
  let found: RegExpExecArray | undefined;
  for (const m of text.matchAll(re)) found = m as RegExpExecArray;
  return found;
}

/** The stats of a verifier log, or undefined when it has none (no log requested, or cut short). */
export function parseVerifierStats(log: string): VerifierStats | undefined {
  // The last of each: a log may hold more than one load attempt.
  const p = last(PROCESSED, log);
  if (!p) return undefined;
  const stack = last(STACK, log);
  const time = last(TIME, log);
  return {
    processedInsns: Number(p[1]),
    insnLimit: Number(p[2]),
    peakStates: Number(p[3]),
    stackDepths: stack ? stack[1]!.split('+').map(Number) : [],
    verificationUs: time ? Number(time[1]) : undefined,
  };
}
