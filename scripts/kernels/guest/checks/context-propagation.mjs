// Traceparent injection (sockops + sk_msg) in every guest: the compiled
// test/capture/traceparent-inject.test.js (a watched Python client: exactly one
// traceparent per request, the ids its exchange carries, an existing header
// kept alone, bodies intact) and test/agent/traceparent-hosts.test.js (two
// network namespaces, two agents, 120 requests → 120 whole traces), the same
// files npm test runs on the host.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { doctorSaysOff, fail, kernelLacks, off, ok, run, tail } from '../lib.mjs';

const FEATURE = 'context-propagation:traceparent-exact';
const FILES = ['dist/test/capture/traceparent-inject.test.js', 'dist/test/agent/traceparent-hosts.test.js'];

export default {
  name: 'context-propagation',
  timeoutMs: 420_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'ringbuf', 'sockops']);
    if (why) return { [FEATURE]: off(why) };
    const paths = FILES.map((f) => join(ctx.repo, f));
    const missing = FILES.find((f, i) => !existsSync(paths[i]));
    if (missing) return { [FEATURE]: fail(`${missing} is missing: run npm run build`) };
    const t = await run(process.execPath, ['--test', '--test-force-exit', '--test-reporter=tap', ...paths], 400_000);
    const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(t.out)?.[1] ?? -1);
    const skips = [...t.out.matchAll(/# SKIP (.*)$/gm)].map((m) => m[1]);
    if (t.code === 0 && count('pass') > 0 && count('fail') === 0) {
      return { [FEATURE]: { ...ok(), detail: `${count('pass')} passed, ${Math.max(0, count('skip'))} skipped${skips.length ? `: ${[...new Set(skips)].join('; ')}` : ''}` } };
    }
    // Every test skipped, saying why (the kernel refused the programs).
    if (t.code === 0 && count('fail') === 0 && count('pass') === 0 && skips.length) return { [FEATURE]: off(skips[0]) };
    const reason = `exit ${t.signal ?? t.code}, pass ${count('pass')}, fail ${count('fail')}: ${tail(t.out, 12)}`;
    const lacks = kernelLacks(reason);
    return { [FEATURE]: lacks ? off(lacks) : fail(reason) };
  },
};
