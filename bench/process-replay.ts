// User-space cost of process events without the kernel's noise: records of a
// real exec storm (captured once from the security object's ring buffer) are
// replayed (storm under six nested shells, so exec events carry ancestors)
// through the event builder, the process cache, the JSON-lines
// serializer and the compact printer, as `waggle events --events-file` does,
// and the CPU per event is measured in this process. With --baseline DIR the
// same records go through another checkout's compiled modules, interleaved.
// Prints medians; never fails.
//
//   node dist/bench/process-replay.js [--execs 5000 --rounds 7 --baseline /path/to/checkout]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    execs: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '7' },
    baseline: { type: 'string' },
    /** Write a CPU profile of the replays (not of the capture: SIGPROF would interrupt the verifier). */
    profile: { type: 'string' },
  },
});
const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

interface Pipeline {
  name: string;
  /** Handles every record; returns the number of events and the output's size. */
  run(records: Buffer[]): { events: number; bytes: number };
}

async function pipeline(name: string, root: string): Promise<Pipeline> {
  const mod = (p: string) => import(pathToFileURL(join(root, 'dist', 'src', p)).href);
  const { ObjectSpec } = await mod('ebpf/index.js');
  const { bpfObjectPath } = await mod('paths.js');
  const sec = await mod('security/index.js');
  const { EventBuilder } = await mod('security/events/build.js');
  const { ProcessCache } = await mod('security/process/cache.js');
  const { KtimeClock } = await mod('security/process/clock.js');
  const { SecurityLayout } = await mod('security/kernel/layout.js');
  const { compilePolicies } = await mod('security/compile/compiler.js');
  const spec = ObjectSpec.open(bpfObjectPath('security/security'));
  const layout = new SecurityLayout(spec.btf);
  spec.close();
  const compiled = compilePolicies([]);
  // As the events file writes: UTF-8 bytes where the checkout has them (output/byte-lines.ts), else strings.
  const bytesMod = await mod('security/output/byte-lines.js').catch(() => undefined);
  const writeEventJson = (await mod('security/output/event-json.js').catch(() => ({}))).writeEventJson;
  const toJson: (e: unknown) => string = sec.eventJson ?? JSON.stringify;
  return {
    name,
    run(records) {
      const cache = new ProcessCache({ maxEntries: 65536, graceMs: 2000 });
      const builder = new EventBuilder(layout, cache, new KtimeClock(), compiled, 'bench');
      let n = 0;
      let bytes = 0;
      const lines = bytesMod && writeEventJson ? new bytesMod.ByteLines() : undefined;
      for (const r of records) {
        for (const e of builder.handle(r, 0, r.length) as { type: string }[]) {
          if (lines) {
            writeEventJson(e, lines);
            lines.text('\n');
            if (lines.size >= 256 << 10) bytes += lines.take()!.length;
          } else bytes += Buffer.byteLength(`${toJson(e)}\n`);
          if (e.type !== 'process_fork') bytes += sec.formatCompact(e, {}).length;
          n++;
        }
      }
      bytes += lines?.take()?.length ?? 0;
      return { events: n, bytes };
    },
  };
}

async function capture(execs: number): Promise<Buffer[]> {
  const { SecurityKernel } = await import('../src/security/kernel/loader.js');
  const { compilePolicies } = await import('../src/security/compile/compiler.js');
  const work = mkdtempSync(join(tmpdir(), 'waggle-bench-replay-'));
  const storm = join(work, 'exec-storm');
  const cc = spawnSync('gcc', ['-O2', '-o', storm, join(ROOT, 'bench', 'exec-storm.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  const bin = join(work, 'wg-replay-true');
  copyFileSync('/bin/true', bin);
  const kernel = SecurityKernel.open(compilePolicies([]), { ringBufferBytes: 1 << 28 });
  const records: Buffer[] = [];
  try {
    kernel.attachLifecycle();
    kernel.startReader((batch) => batch.forEach((buf, off, len) => records.push(Buffer.from(buf.subarray(off, off + len)))));
    // Under six nested shells (each keeps running after its child: `; :`), so that exec events carry ancestors.
    let cmd = `${storm} ${bin} ${execs} 0 8`;
    for (let i = 0; i < 6; i++) cmd = `/bin/sh -c '${cmd.replace(/'/g, `'\\''`)}; :' level${i}`;
    spawnSync('/bin/sh', ['-c', `${cmd}; :`]);
    kernel.consume();
  } finally {
    kernel.close();
    rmSync(work, { recursive: true, force: true });
  }
  return records;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const records = await capture(Number(args.execs));
const pipelines = [await pipeline('this', ROOT)];
if (args.baseline) pipelines.push(await pipeline('baseline', args.baseline));
console.log(`replay: ${records.length} records of ${args.execs} execs (no processes known beforehand), ${args.rounds} rounds, interleaved`);
const session = args.profile ? new Session() : undefined;
const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session!.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
if (session) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
}
const us = new Map<string, number[]>(pipelines.map((p) => [p.name, []]));
for (let round = 0; round < Number(args.rounds); round++) {
  for (const p of round % 2 ? [...pipelines].reverse() : pipelines) {
    const c0 = process.cpuUsage();
    const { events, bytes } = p.run(records);
    const c = process.cpuUsage(c0);
    us.get(p.name)!.push((c.user + c.system) / events);
    if (round === 0) console.log(`  ${p.name}: ${events} events, ${bytes} bytes of output (${Math.round(bytes / events)} per event; variants must agree)`);
  }
}
if (session) writeFileSync(args.profile!, JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
for (const p of pipelines) console.log(`  ${p.name.padEnd(9)} ${median(us.get(p.name)!).toFixed(2)} µs CPU/event (median; runs ${us.get(p.name)!.map((x) => x.toFixed(1)).join(' ')})`);
if (args.baseline) console.log(`  ratio this/baseline: ${(median(us.get('this')!) / median(us.get('baseline')!)).toFixed(2)}`);
