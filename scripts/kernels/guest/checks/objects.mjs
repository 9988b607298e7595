// Every BPF object the agent ships loads into this kernel, whole: each of its
// programs through the verifier, each map created. Probes (bpf/probes) are
// left to doctor, which loads them one program at a time; test fixtures
// (bpf/testdata) are not shipped.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fail, ok } from '../lib.mjs';

const SKIP = ['probes/', 'testdata/'];

function objects(dir, root = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return objects(p, root);
    return e.name.endsWith('.bpf.o') ? [relative(root, p)] : [];
  });
}

export default {
  name: 'objects',
  timeoutMs: 300_000,
  async run(ctx) {
    const { ObjectSpec } = await import(pathToFileURL(join(ctx.repo, 'dist/src/ebpf/index.js')).href);
    const dir = join(ctx.repo, 'dist/bpf');
    const features = {};
    for (const rel of objects(dir).sort()) {
      if (SKIP.some((s) => rel.startsWith(s))) continue;
      const name = `load:${rel.replace(/\.bpf\.o$/, '')}`;
      const t0 = Date.now();
      let spec;
      try {
        spec = ObjectSpec.open(join(dir, rel));
        spec.load().close();
        features[name] = { ...ok(), ms: Date.now() - t0 };
      } catch (e) {
        // The message ends with the verifier log's last lines: enough to see why.
        features[name] = { ...fail(String(e.message ?? e).split('\n').slice(-4).join(' | ')), ms: Date.now() - t0 };
      } finally {
        try {
          spec?.close();
        } catch {}
      }
    }
    return features;
  },
};
