// Runs in the guest (cwd: the repository): every check in checks/index.mjs but
// the opt-in ones (benches), or those named as arguments, one after another,
// each under its own timeout.
// Writes JSON lines on stdout, which guest/init.sh sends to ttyS1 for the host:
//   {"type":"check","check":"doctor","ms":..,"features":{"bpf:kprobe":{"ok":true,"status":"ok"},..}}
//   {"type":"done","ms":..}
import { CHECKS } from './checks/index.mjs';
import { fail } from './lib.mjs';

const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const wanted = process.argv.slice(2);
// ctx.results: every feature reported so far, so a later check can defer to an earlier one's verdict.
const ctx = { repo: process.cwd(), doctor: undefined, results: {} };
const started = Date.now();
emit({ type: 'start', kernel: (await import('node:os')).release(), node: process.version });
for (const check of CHECKS) {
  if (wanted.length > 0 ? !wanted.includes(check.name) : check.optIn) continue;
  const t0 = Date.now();
  let timer;
  let features;
  try {
    const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${check.timeoutMs / 1000} s`)), check.timeoutMs)));
    features = await Promise.race([check.run(ctx), timeout]);
  } catch (e) {
    features = { [`check:${check.name}`]: fail(String(e?.stack ?? e).split('\n').slice(0, 3).join(' | ')) };
  } finally {
    clearTimeout(timer);
  }
  Object.assign(ctx.results, features);
  emit({ type: 'check', check: check.name, ms: Date.now() - t0, features });
}
emit({ type: 'done', ms: Date.now() - started });
process.exit(0);
