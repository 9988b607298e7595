// Process events: `waggle events -o json` reports a shell's child exec with the
// shell as its parent (pid and binary), which needs the kernel process table.
import { WAGGLE, doctorSaysOff, fail, kernelLacks, ok, off, run, start, tail, until } from '../lib.mjs';

const NAME = 'smoke:exec-event-with-parent';

export default {
  name: 'exec-event',
  timeoutMs: 180_000,
  async run(ctx) {
    const why = doctorSaysOff(ctx, ['raw_tracepoint', 'ringbuf']);
    if (why) return { [NAME]: off(why) };
    const events = start(process.execPath, [...WAGGLE, 'events', '-o', 'json', '--types', 'process_exec']);
    try {
      const early = await Promise.race([
        until('waggle events never said it was watching', () => events.err.includes('watching'), 150_000).then(() => undefined),
        events.exited.then((r) => `waggle events exited ${r.signal ?? r.code}: ${tail(events.err)}`),
      ]);
      // The security programs refused for something this kernel lacks: off, with that reason.
      if (early) return { [NAME]: kernelLacks(early) ? off(kernelLacks(early)) : fail(early) };
      const shell = start('/usr/bin/bash', ['-c', '/usr/bin/sleep 0.2; echo done']);
      await shell.exited;
      const match = (line) => {
        try {
          const e = JSON.parse(line);
          return e.type === 'process_exec' && e.process?.binary === '/usr/bin/sleep' && e.process.parent?.pid === shell.pid && e.process.parent?.binary === '/usr/bin/bash';
        } catch {
          return false;
        }
      };
      try {
        await until('no exec event for sleep with bash as parent', () => events.out.split('\n').some(match), 20_000);
      } catch (e) {
        const sleeps = events.out.split('\n').filter((l) => l.includes('/usr/bin/sleep'));
        return { [NAME]: fail(`${e.message}; sleep events: ${sleeps.slice(-2).join(' ') || 'none'}`) };
      }
      return { [NAME]: ok() };
    } finally {
      await events.stop();
    }
  },
};
