// Kernel command line parameters a kernel needs for waggle, read from its own
// config (/boot/config-RELEASE in the package): BPF LSM is built into Debian's
// kernels but not active by default before 6.1 (bullseye's CONFIG_LSM has no
// "bpf"), so it is appended to that kernel's default list, as a host would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function config(kernel) {
  const text = readFileSync(join(kernel.root, 'boot', `config-${kernel.release}`), 'utf8');
  return new Map([...text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')]));
}

/** e.g. ['lsm=lockdown,yama,…,tomoyo,bpf'] for 5.10; [] where the default already has what waggle uses. */
export function bootParams(kernel) {
  const c = config(kernel);
  const lsm = (c.get('CONFIG_LSM') ?? '').split(',').filter(Boolean);
  if (c.get('CONFIG_BPF_LSM') === 'y' && !lsm.includes('bpf')) return [`lsm=${[...lsm, 'bpf'].join(',')}`];
  return [];
}
