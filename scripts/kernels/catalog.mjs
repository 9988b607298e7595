// Which Debian kernels the matrix boots, and how each resolves to one .deb.
// A kernel is named by what a person types after --kernels; the package is
// Debian's cloud flavour (smallest image, boots under qemu with virtio only).

/** @typedef {{ name: string, suite: string, meta: string, note: string }} KernelSpec */

/** @type {KernelSpec[]} */
export const KERNELS = [
  { name: '6.1', suite: 'bookworm', meta: 'linux-image-cloud-amd64', note: 'Debian 12' },
  { name: '6.12', suite: 'bookworm-backports', meta: 'linux-image-cloud-amd64', note: 'Debian 12 backports' },
  { name: '5.10', suite: 'bullseye', meta: 'linux-image-cloud-amd64', note: 'Debian 11' },
  { name: '6.12-trixie', suite: 'trixie', meta: 'linux-image-cloud-amd64', note: 'Debian 13' },
];

/** Kernels picked by `--kernels a,b` (all when empty); unknown names are an error naming the known ones. */
export function selectKernels(names) {
  if (!names || names.length === 0) return KERNELS;
  return names.map((n) => {
    const k = KERNELS.find((s) => s.name === n);
    if (!k) throw new Error(`unknown kernel ${JSON.stringify(n)} (known: ${KERNELS.map((s) => s.name).join(', ')})`);
    return k;
  });
}
