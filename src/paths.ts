// Where the package's built artefacts live, independent of the working directory.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file is compiled to dist/src/paths.js. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Directory of the compiled BPF objects: $WAGGLE_BPF_DIR, else dist/bpf. The
 * variable is for packagers who install objects elsewhere and for tests that
 * substitute one object (docs/configuration.md).
 */
export function bpfDir(): string {
  return process.env.WAGGLE_BPF_DIR?.trim() || join(packageRoot, 'dist', 'bpf');
}

/** Path of a compiled BPF object, e.g. bpfObjectPath('testdata/maps') → dist/bpf/testdata/maps.bpf.o. */
export function bpfObjectPath(name: string): string {
  return join(bpfDir(), `${name}.bpf.o`);
}

export const nativeAddonPath = join(packageRoot, 'build', 'Release', 'waggle_bpf.node');
