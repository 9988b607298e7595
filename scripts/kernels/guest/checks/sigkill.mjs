// Enforcement: a file_open policy with action sigkill kills `cat /etc/shadow`
// (bash sees status 137), and the event says sigkill.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAGGLE, doctorSaysOff, fail, kernelLacks, ok, off, run, start, tail, until } from '../lib.mjs';

const NAME = 'smoke:sigkill-cat-etc-shadow';
const POLICY = `apiVersion: waggle.dev/v1alpha1
kind: SecurityPolicy
metadata:
  name: kernels-shadow-guard
spec:
  hook: file_open
  selectors:
    - paths: {equal: [/etc/shadow]}
      binary: {equal: [/usr/bin/cat]}
      action: sigkill
`;

export default {
  name: 'sigkill',
  timeoutMs: 180_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['tracepoint', 'raw_tracepoint', 'ringbuf', 'send_signal']);
    if (why) return { [NAME]: off(why) };
    const dir = mkdtempSync('/tmp/waggle-kernels-');
    const policy = join(dir, 'shadow.yaml');
    writeFileSync(policy, POLICY);
    const events = start(process.execPath, [...WAGGLE, 'events', '--policy', policy, '-o', 'json', '--types', 'file_open']);
    try {
      const early = await Promise.race([
        until('waggle events never said it was watching', () => events.err.includes('1 active policy'), 150_000).then(() => undefined),
        events.exited.then((r) => `waggle events exited ${r.signal ?? r.code}: ${tail(events.err)}`),
      ]);
      // The security programs refused for something this kernel lacks: off, with that reason.
      if (early) return { [NAME]: kernelLacks(early) ? off(kernelLacks(early)) : fail(early) };
      const r = await run('/usr/bin/bash', ['-c', 'cat /etc/shadow > /dev/null; echo "status=$?"'], 30_000);
      if (r.out.trim() !== 'status=137') return { [NAME]: fail(`cat /etc/shadow was not killed: ${r.out.trim() || r.err.trim()}`) };
      const killed = (line) => {
        try {
          const e = JSON.parse(line);
          return e.type === 'file_open' && e.action === 'sigkill' && e.file?.path === '/etc/shadow' && e.process?.binary === '/usr/bin/cat';
        } catch {
          return false;
        }
      };
      try {
        await until('cat was killed but no sigkill event arrived', () => events.out.split('\n').some(killed), 20_000);
      } catch (e) {
        return { [NAME]: fail(e.message) };
      }
      return { [NAME]: ok() };
    } finally {
      await events.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
