// `waggle doctor --json`: every BPF feature it probes and every waggle feature
// it derives. What doctor finds missing is off (the kernel's doing), never a
// failure; doctor itself not running is one. Later checks read ctx.doctor to
// tell "off because the kernel lacks X" from a failure.
import { fail, ok, off, run, tail, WAGGLE } from '../lib.mjs';

/** Doctor's {name: {ok, reason}} maps, whatever other fields a report grows. */
function flags(map, prefix, out) {
  for (const [name, v] of Object.entries(map ?? {})) {
    if (v && typeof v === 'object' && typeof v.ok === 'boolean') out[`${prefix}${name}`] = v.ok ? ok() : off(v.reason ?? 'not available');
  }
}

export default {
  name: 'doctor',
  timeoutMs: 300_000,
  async run(ctx) {
    const r = await run(process.execPath, [...WAGGLE, 'doctor', '--json'], this.timeoutMs - 5_000);
    let report;
    try {
      report = JSON.parse(r.out);
    } catch {
      return { doctor: fail(`doctor --json exited ${r.signal ?? r.code} without JSON: ${tail(r.err)}`) };
    }
    ctx.doctor = report;
    const features = { doctor: r.code === 0 ? ok() : fail(`exited ${r.signal ?? r.code}: ${tail(r.err)}`) };
    flags(report.features, 'bpf:', features);
    flags(report.waggle, 'waggle:', features);
    return features;
  },
};
