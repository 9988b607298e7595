// `npm run test:kernels [-- --kernels 6.1,5.10] [-- --json]`: boots Debian's
// kernels in qemu, one after another, runs guest/run-checks.mjs inside each,
// and prints the matrix (a table, or {kernels: [...]} with --json). Exits 1 if
// any kernel has a failing check; a capability a kernel lacks is "off" with
// its reason, not a failure. Run as root after `npm run build`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectKernels } from './catalog.mjs';
import { CACHE_DIR, fetchKernel } from './fetch.mjs';
import { bootParams } from './boot-params.mjs';
import { buildInitramfs } from './initramfs.mjs';
import { formatTable } from './report.mjs';
import { kernelResult } from './results.mjs';
import { runVm } from './vm.mjs';
import { CHECKS } from './guest/checks/index.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const { values } = parseArgs({
  options: {
    kernels: { type: 'string' },
    checks: { type: 'string' },
    json: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
    append: { type: 'string', default: '' },
    memory: { type: 'string', default: '2048' },
    cpus: { type: 'string', default: '2' },
    console: { type: 'boolean', default: false },
  },
});
const list = (s) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
const log = (m) => process.stderr.write(`test:kernels: ${m}\n`);

if (process.getuid?.() !== 0) {
  log('must run as root (virtiofsd shares the host root; the guest loads BPF programs)');
  process.exit(2);
}
for (const f of ['dist/bpf/discovery.bpf.o', 'build/Release/waggle_bpf.node', 'dist/src/cli/main.js']) {
  if (!existsSync(join(REPO, f))) {
    log(`${f} is missing: run npm run build first`);
    process.exit(2);
  }
}

const kernels = selectKernels(list(values.kernels));
const checks = list(values.checks);
// `--checks none`: boot and power off only (the guest runs no check).
const unknownChecks = checks.filter((c) => c !== 'none' && !CHECKS.some((k) => k.name === c));
if (unknownChecks.length) {
  log(`unknown check ${unknownChecks.join(', ')} (known: ${CHECKS.map((c) => c.name).join(', ')})`);
  process.exit(2);
}
const expected = checks.length ? checks.filter((c) => c !== 'none') : CHECKS.filter((c) => !c.optIn).map((c) => c.name);

const results = [];
for (const spec of kernels) {
  const t0 = Date.now();
  const entry = { name: spec.name, suite: spec.suite };
  let kernel;
  try {
    log(`${spec.name}: fetching from ${spec.suite}`);
    kernel = fetchKernel(spec);
    Object.assign(entry, { version: kernel.version, release: kernel.release, package: `${kernel.package}=${kernel.debianVersion}` });
  } catch (e) {
    results.push({ ...entry, passed: false, features: { fetch: { ok: false, status: 'fail', reason: String(e.message ?? e) } }, timings: { totalMs: Date.now() - t0 } });
    continue;
  }
  const fetchMs = Date.now() - t0;
  log(`${spec.name}: booting ${kernel.release} under TCG (timeout ${values.timeout} s)`);
  const vm = await runVm({
    vmlinuz: kernel.vmlinuz,
    initrd: buildInitramfs(kernel),
    timeoutMs: Number(values.timeout) * 1000,
    memoryMb: Number(values.memory),
    cpus: Number(values.cpus),
    onResult(line) {
      try {
        const m = JSON.parse(line);
        if (m.type === 'start') log(`${spec.name}: guest ${m.kernel} is up, running checks`);
        if (m.type !== 'check') return;
        const counts = {};
        for (const f of Object.values(m.features)) counts[f.status] = (counts[f.status] ?? 0) + 1;
        log(`${spec.name}: ${m.check} in ${Math.round(m.ms / 1000)} s: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}`);
      } catch {}
    },
    append: [
      'console=ttyS0', 'loglevel=4', 'panic=-1', 'random.trust_cpu=on', ...bootParams(kernel),
      `waggle.init=${join(REPO, 'scripts/kernels/guest/init.sh')}`, `waggle.repo=${REPO}`, `waggle.kdir=${kernel.root}`,
      ...(checks.length ? [`waggle.checks=${checks.join(',')}`] : []),
      ...list(values.append.replace(/ /g, ',')),
    ],
  });
  if (values.console) process.stderr.write(vm.console);
  // The console (kernel messages, guest init, the checks' stderr) is the first thing to read when a check fails.
  const consoleLog = join(CACHE_DIR, 'logs', `${spec.name}.console.log`);
  mkdirSync(dirname(consoleLog), { recursive: true });
  writeFileSync(consoleLog, vm.console);
  const r = kernelResult(vm, expected);
  const entryResult = { ...entry, passed: r.passed, features: r.features, timings: { ...r.timings, fetchMs, totalMs: Date.now() - t0 } };
  results.push(entryResult);
  log(`${spec.name}: ${r.passed ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - t0) / 1000)} s (console: ${consoleLog})`);
}

if (values.json) process.stdout.write(`${JSON.stringify({ kernels: results }, null, 2)}\n`);
else process.stdout.write(`${formatTable(results)}\n`);
process.exitCode = results.every((k) => k.passed) ? 0 : 1;
