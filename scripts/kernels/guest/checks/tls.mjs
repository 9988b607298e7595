// TLS plaintext through OpenSSL uprobes in every guest: the compiled
// test/capture/tls.test.js (Python https + 40 curl -k, 20 Node fetches, a Node
// https server, nginx over TLS with 2 workers; exact exchange counts, no
// ciphertext streamed), the same file npm test runs on the host.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { doctorSaysOff, fail, kernelLacks, off, ok, run, tail } from '../lib.mjs';

const FEATURE = 'tls:openssl-uprobes-exact';
const FILE = 'dist/test/capture/tls.test.js';

export default {
  name: 'tls',
  timeoutMs: 420_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'tp_btf', 'ringbuf', 'uprobe']);
    if (why) return { [FEATURE]: off(why) };
    const path = join(ctx.repo, FILE);
    if (!existsSync(path)) return { [FEATURE]: fail(`${FILE} is missing: run npm run build`) };
    const t = await run(process.execPath, ['--test', '--test-force-exit', '--test-reporter=tap', path], 400_000);
    const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(t.out)?.[1] ?? -1);
    if (t.code === 0 && count('pass') > 0 && count('fail') === 0) return { [FEATURE]: { ...ok(), detail: `${count('pass')} passed, ${count('skip')} skipped` } };
    // Every test skipped, saying why: the capture this kernel loads has no TLS programs (the legacy build).
    const skipped = /# SKIP (.*)$/m.exec(t.out)?.[1];
    if (t.code === 0 && count('fail') === 0 && count('pass') === 0 && skipped) return { [FEATURE]: off(skipped) };
    const reason = `${FILE}: exit ${t.signal ?? t.code}, pass ${count('pass')}, fail ${count('fail')}: ${tail(t.out, 12)}`;
    const lacks = kernelLacks(reason);
    return { [FEATURE]: lacks ? off(lacks) : fail(reason) };
  },
};
