// Debian kernel packages → an extracted tree in the cache: apt resolves the
// cloud meta-package of a suite to its versioned image, `apt-get download`
// fetches the .deb (nothing is installed, /boot is untouched), `dpkg-deb -x`
// unpacks it and `depmod -b` writes the modules.dep that Debian's postinst
// would have made, so the guest's modprobe (and our initramfs) can resolve
// dependencies.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CACHE_DIR = process.env.WAGGLE_KERNEL_CACHE ?? '/var/cache/waggle/kernels';

/** @typedef {{ spec: import('./catalog.mjs').KernelSpec, package: string, debianVersion: string, version: string, release: string, root: string, vmlinuz: string }} FetchedKernel */

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** The versioned image package a suite's meta-package depends on, from apt's local lists. */
export function resolvePackage(spec) {
  let show;
  try {
    show = run('apt-cache', ['show', `${spec.meta}/${spec.suite}`]);
  } catch (e) {
    throw new Error(`apt knows no ${spec.meta} in ${spec.suite} (is scripts/kernels/setup-kernels.sh run?): ${String(e.stderr ?? e).trim()}`);
  }
  const depends = /^Depends: (linux-image-\S+)/m.exec(show);
  if (!depends) throw new Error(`${spec.meta}/${spec.suite} depends on no linux-image-*`);
  return depends[1];
}

/** Downloads and unpacks one kernel; a tree already unpacked is reused. */
export function fetchKernel(spec) {
  const pkg = resolvePackage(spec);
  const release = pkg.replace(/^linux-image-/, '');
  const root = join(CACHE_DIR, release);
  const done = join(root, '.complete');
  if (!existsSync(done)) {
    const debs = join(CACHE_DIR, 'debs');
    mkdirSync(debs, { recursive: true });
    rmSync(root, { recursive: true, force: true });
    // Sandbox user root: the cache is root's, and _apt could not write there.
    run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${pkg}/${spec.suite}`], { cwd: debs });
    const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${debs}`);
    mkdirSync(root, { recursive: true });
    run('dpkg-deb', ['-x', join(debs, deb), root]);
    // trixie's packages are merged-/usr (usr/lib/modules): give the tree the /lib a merged root has.
    if (!existsSync(join(root, 'lib')) && existsSync(join(root, 'usr', 'lib', 'modules'))) symlinkSync('usr/lib', join(root, 'lib'));
    run('depmod', ['-b', root, release]);
    rmSync(join(debs, deb));
    writeFileSync(done, `${deb}\n`);
  }
  const vmlinuz = join(root, 'boot', `vmlinuz-${release}`);
  if (!existsSync(vmlinuz)) throw new Error(`${pkg} has no ${vmlinuz}`);
  // The .deb's name carries Debian's version (6.1.176-1): the upstream part is what a person compares.
  const deb = readFileSync(done, 'utf8').trim();
  const debianVersion = deb.split('_')[1] ?? 'unknown';
  return { spec, package: pkg, release, root, vmlinuz, debianVersion, version: debianVersion.replace(/-.*$/, '') };
}
