// Every BPF program the agent ships loads in this kernel. With `npm run
// bpf:budget` built (dist/scripts/bpf-budget.js) that is its --json run: each
// program loaded alone under the agent's load profiles, with its stack and
// instruction budget; otherwise each object is loaded whole. One feature per
// object, `load:<object>`, and with the budget `budget:<object>`. A refusal
// that names something the kernel lacks (a helper or kfunc newer than it) is
// off: the agent has a fallback or the feature is off there. Probes are
// doctor's (it reports them), test fixtures and bench programs are not shipped.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, kernelLacks, ok, off, run, tail } from '../lib.mjs';

const SKIP = /^(probes|testdata|bench)\//;
const BUDGET = 'dist/scripts/bpf-budget.js';
const name = (object) => object.replace(/\.bpf\.o$/, '');

let vmlinux;
/**
 * kfuncs the object calls (BTF FUNC with extern linkage) that this kernel's BTF does not
 * name. libbpf's error for them is a bare EINVAL, so the object is asked directly.
 */
function missingKfuncs(objectPath) {
  try {
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', objectPath], { encoding: 'utf8', maxBuffer: 1 << 26 });
    vmlinux ??= readFileSync('/sys/kernel/btf/vmlinux');
    return [...dump.matchAll(/FUNC '(\w+)' type_id=\d+ linkage=extern/g)].map((m) => m[1]).filter((n) => !vmlinux.includes(`\0${n}\0`));
  } catch {
    return [];
  }
}

/** A refusal is off when the kernel lacks what the object needs (the agent then falls back or turns the feature off). */
function refused(reason, objectPath) {
  const kfuncs = missingKfuncs(objectPath);
  if (kfuncs.length) return off(`this kernel has no kfunc ${kfuncs.join(', ')}: ${reason}`);
  const lacks = kernelLacks(reason);
  return lacks ? off(lacks) : fail(reason);
}

async function viaBudget(ctx) {
  const r = await run(process.execPath, [join(ctx.repo, BUDGET), '--json'], 280_000);
  let rows;
  try {
    rows = JSON.parse(r.out);
  } catch {
    return { 'load:bpf-budget': fail(`bpf-budget --json exited ${r.signal ?? r.code} without JSON: ${tail(r.err)}`) };
  }
  const offences = new Map(
    r.err.split('\n').flatMap((l) => {
      const m = /^bpf:budget: (\S+) (\S+): (.*)$/.exec(l);
      return m ? [[`${m[1]} ${m[2]}`, m[3]]] : [];
    }),
  );
  const features = {};
  for (const row of rows) {
    if (SKIP.test(row.object)) continue;
    const id = name(row.object);
    // A program the agent loads only where the kernel has what it attaches to
    // (the capture's socket tracepoints, BPF LSM): off with the reason; the rest of its object still counts.
    if (row.status === 'not-loadable') {
      features[`absent:${id}:${row.program}`] = off(row.reason ?? 'not loadable here');
      continue;
    }
    const prev = features[`load:${id}`];
    if (row.status === 'ok') features[`load:${id}`] ??= ok();
    else if (!prev || prev.ok) features[`load:${id}`] = refused(`${row.program}: ${row.reason ?? row.status}`, join(ctx.repo, 'dist/bpf', row.object));
    const over = row.status === 'ok' ? offences.get(`${row.object} ${row.program}`) : undefined;
    if (over) features[`budget:${id}`] = fail(`${row.program}: ${over}`);
    else if (row.status === 'ok') features[`budget:${id}`] ??= ok();
  }
  return features;
}

function objects(dir, root = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return objects(p, root);
    return e.name.endsWith('.bpf.o') ? [relative(root, p)] : [];
  });
}

/** Before bpf:budget existed: each object loaded whole, every program through the verifier. */
async function wholeObjects(ctx) {
  const { ObjectSpec } = await import(pathToFileURL(join(ctx.repo, 'dist/src/ebpf/index.js')).href);
  const dir = join(ctx.repo, 'dist/bpf');
  const features = {};
  for (const rel of objects(dir).sort()) {
    if (SKIP.test(rel)) continue;
    let spec;
    try {
      spec = ObjectSpec.open(join(dir, rel));
      spec.load().close();
      features[`load:${name(rel)}`] = ok();
    } catch (e) {
      // The message ends with the verifier log's last lines: enough to see why.
      features[`load:${name(rel)}`] = refused(String(e.message ?? e).split('\n').slice(-4).join(' | '), join(dir, rel));
    } finally {
      try {
        spec?.close();
      } catch {}
    }
  }
  return features;
}

export default {
  name: 'objects',
  timeoutMs: 300_000,
  run: (ctx) => (existsSync(join(ctx.repo, BUDGET)) ? viaBudget(ctx) : wholeObjects(ctx)),
};
