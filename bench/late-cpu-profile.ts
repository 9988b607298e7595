// Preload (`node --import dist/bench/late-cpu-profile.js …`) that CPU-profiles a
// process from BENCH_PROFILE_DELAY_MS (default 3000) after start until it exits,
// writing BENCH_PROFILE_DIR/<pid>.cpuprofile. Node's own --cpu-prof cannot be
// used on the agent: its SIGPROF ticks interrupt the verifier, and the kernel
// refuses the capture programs (EAGAIN, "processed 1 insns") at load.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR ?? '.';
const delayMs = Number(process.env.BENCH_PROFILE_DELAY_MS ?? 3000);
const session = new Session();
session.connect();
let started = false;
setTimeout(() => {
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 200) }, () =>
      session.post('Profiler.start', () => {
        started = true;
      }),
    ),
  );
}, delayMs).unref();
process.on('exit', () => {
  if (!started) return;
  // The in-process inspector answers synchronously, so this completes before exit.
  session.post('Profiler.stop', (err, res) => {
    if (err) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
