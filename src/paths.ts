// Where the package's built artefacts live, independent of the working directory.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file is compiled to dist/src/paths.js. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of a compiled BPF object, e.g. bpfObjectPath('testdata/maps') → dist/bpf/testdata/maps.bpf.o. */
export function bpfObjectPath(name: string): string {
  return join(packageRoot, 'dist', 'bpf', `${name}.bpf.o`);
}

export const nativeAddonPath = join(packageRoot, 'build', 'Release', 'waggle_bpf.node');
