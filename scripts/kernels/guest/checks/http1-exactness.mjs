// Issue 14 in every guest: the keep-alive table through the agent's /metrics
// (curl -K, http.client, undici fetch against a chunked Node server: sent =
// counted), the Node-server conformance cells (every framing × five clients,
// both sides exact), and the hook sets agreeing. The same compiled test files
// npm test runs on the host.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { doctorSaysOff, fail, kernelLacks, off, ok, run, tail } from '../lib.mjs';

const FILES = {
  'http1:issue-14-keep-alive-table': 'dist/test/agent/keep-alive-counts.test.js',
  'http1:conformance-node-server': 'dist/test/capture/conformance/node-server.test.js',
  // The kernel's best hooks (fexit before 6.5) frame Node's and nginx's traffic exactly as the syscall exits do.
  'http1:hooks-agree': 'dist/test/capture/hooks.test.js',
};

export default {
  name: 'http1-exactness',
  timeoutMs: 600_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'tp_btf', 'ringbuf']);
    if (why) return Object.fromEntries(Object.keys(FILES).map((f) => [f, off(why)]));
    // The http check already found the capture off for something this kernel lacks
    // (bpf_loop before 5.17…): the same compiled tests would only fail on it again.
    const smoke = ctx.results['smoke:http1-server-counts'];
    if (smoke?.status === 'off') return Object.fromEntries(Object.keys(FILES).map((f) => [f, off(`the http check found the capture off: ${smoke.reason}`)]));
    const features = {};
    for (const [feature, file] of Object.entries(FILES)) {
      const path = join(ctx.repo, file);
      if (!existsSync(path)) {
        features[feature] = fail(`${file} is missing: run npm run build`);
        continue;
      }
      const t = await run(process.execPath, ['--test', '--test-force-exit', '--test-reporter=tap', path], 280_000);
      const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(t.out)?.[1] ?? -1);
      if (t.code === 0 && count('pass') > 0 && count('fail') === 0) {
        features[feature] = { ...ok(), detail: `${count('pass')} passed, ${count('skip')} skipped` };
      } else {
        const reason = `${file}: exit ${t.signal ?? t.code}, pass ${count('pass')}, fail ${count('fail')}: ${tail(t.out, 12)}`;
        const lacks = kernelLacks(reason);
        features[feature] = lacks ? off(lacks) : fail(reason);
      }
    }
    return features;
  },
};
