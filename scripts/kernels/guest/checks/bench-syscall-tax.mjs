// Opt-in (`--checks bench-syscall-tax`): bench:syscall-tax in the guest, its
// figures on the console (stderr). Under TCG the absolute ns mean little; the
// modes are interleaved in one run, so their ratios to `off` still compare the
// hooks on this kernel (fexit against the syscall exits before 6.5).
import { join } from 'node:path';
import { fail, ok, run } from '../lib.mjs';

export default {
  name: 'bench-syscall-tax',
  optIn: true,
  timeoutMs: 1_500_000,
  async run(ctx) {
    const env = { BENCH_ROUNDS: process.env.BENCH_ROUNDS ?? '3', BENCH_SYSCALLS: process.env.BENCH_SYSCALLS ?? '400000' };
    const r = await run(process.execPath, [join(ctx.repo, 'dist/bench/syscall-tax.js')], 1_400_000, { env: { ...process.env, ...env } });
    process.stderr.write(`bench:syscall-tax (${env.BENCH_ROUNDS} rounds, ${env.BENCH_SYSCALLS} syscalls per run)\n${r.out}\n`);
    return { 'bench:syscall-tax': r.code === 0 ? { ...ok(), detail: r.out.trim().split('\n').filter((l) => / ns\/syscall/.test(l)).join(' | ') } : fail(`exit ${r.signal ?? r.code}: ${r.err.slice(-400)}`) };
  },
};
