#!/usr/bin/env node
// Bundles the web app (src/ui/web, preact + uPlot) into dist/ui with esbuild:
// content-hashed assets under dist/ui/assets and an index.html that names them.
// No CDN: everything the page loads comes from the agent. `--watch` rebuilds on change.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const src = join(root, 'src', 'ui', 'web');
const out = join(root, 'dist', 'ui');
const watch = process.argv.includes('--watch');

function writeIndex(metafile) {
  const outputs = Object.keys(metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => /^main-.*\.js$/.test(f));
  const css = outputs.find((f) => /^main-.*\.css$/.test(f));
  if (!js || !css) throw new Error(`build-ui: expected main-*.js and main-*.css among ${outputs.join(', ')}`);
  const html = readFileSync(join(src, 'index.html'), 'utf8').replace('%CSS%', `/assets/${css}`).replace('%JS%', `/assets/${js}`);
  writeFileSync(join(out, 'index.html'), html);
}

const options = {
  entryPoints: [join(src, 'main.tsx')],
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: !watch,
  sourcemap: 'linked',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  plugins: [
    {
      name: 'index-html',
      setup(build) {
        build.onEnd((result) => {
          if (result.errors.length === 0 && result.metafile) writeIndex(result.metafile);
        });
      },
    },
  ],
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`build-ui: watching ${src}`);
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([p]) => !p.endsWith('.map'))
    .map(([p, o]) => `${basename(p)} ${(o.bytes / 1024).toFixed(0)} KiB`);
  console.log(`build-ui: dist/ui: ${sizes.join(', ')}`);
}
