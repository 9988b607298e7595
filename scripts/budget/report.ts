// The budget's verdicts and the human-readable table.
import type { Measurement } from './measure.js';

/** 75 % of the kernel's 512-byte stack (MAX_BPF_STACK). */
export const STACK_BUDGET = 384;
/** A quarter of the verifier's 1,000,000-instruction complexity limit. */
export const INSN_BUDGET = 250_000;

export interface Row extends Measurement {
  object: string;
  program: string;
  /** Load profiles measured (see profiles.ts); figures are the worst of them. */
  profiles: string[];
}

/** Why this row breaks the budget, or undefined when it keeps it (or cannot load here). */
export function offence(r: Row): string | undefined {
  if (r.status === 'failed') return `fails to load: ${r.reason ?? 'unknown reason'}`;
  const over: string[] = [];
  if (r.stackBytes !== null && r.stackBytes > STACK_BUDGET) over.push(`combined stack ${r.stackBytes} B > ${STACK_BUDGET} B (${(r.chain ?? []).join(' → ')})`);
  if (r.processedInsns !== null && r.processedInsns > INSN_BUDGET) over.push(`${r.processedInsns} processed insns > ${INSN_BUDGET}`);
  return over.length ? over.join('; ') : undefined;
}

const cell = (v: number | null): string => (v === null ? '-' : String(v));

export function table(rows: readonly Row[]): string {
  const head = ['object', 'program', 'stack B', 'jit16 B', 'frames', 'insns', 'status'];
  const body = rows.map((r) => [
    r.object,
    r.program,
    cell(r.stackBytes),
    cell(r.stackBytesJit),
    r.chain ? String(r.chain.length) : '-',
    cell(r.processedInsns),
    r.status === 'not-loadable'
      ? `not loadable here (${r.reason ?? 'unknown'})`
      : r.status === 'failed' || offence(r)
        ? `OVER BUDGET: ${offence(r)}`
        : 'ok',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (i < 6 ? b[i]!.length : 0))));
  const line = (cols: string[]): string =>
    cols.map((c, i) => (i === cols.length - 1 ? c : i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}
