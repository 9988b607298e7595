// A per-kernel initramfs: static busybox, the modules that reaching the host
// root needs (virtio PCI, virtiofs, overlay: modules on Debian's cloud
// kernels), in dependency order, and initramfs-init.sh as /init. Written as an
// uncompressed newc cpio next to the extracted kernel and reused.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUSYBOX = '/bin/busybox';
/** What the initramfs loads; everything else the guest's modprobe loads on demand. */
const ROOT_MODULES = ['virtio_pci', 'virtiofs', 'overlay'];

const modName = (path) => basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');

/** Modules (paths relative to /lib/modules/REL) in load order: dependencies first; built-ins skipped. */
export function moduleLoadOrder(modulesDir, wanted) {
  const dep = new Map();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, deps] = line.split(':');
    if (mod) dep.set(mod, (deps ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map([...dep.keys()].map((p) => [modName(p), p]));
  const builtin = new Set(readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(modName));
  const order = [];
  const visit = (path) => {
    if (order.includes(path)) return;
    for (const d of dep.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name);
    if (path) visit(path);
    else if (!builtin.has(name)) throw new Error(`module ${name} is neither in ${modulesDir}/modules.dep nor built in`);
  }
  return order;
}

/** Builds (once) and returns the initramfs for an extracted kernel. */
export function buildInitramfs(kernel) {
  const out = join(kernel.root, 'waggle-initramfs.cpio');
  const init = join(HERE, 'initramfs-init.sh');
  if (existsSync(out) && statSync(out).mtimeMs > statSync(init).mtimeMs) return out;
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (Debian package busybox-static; scripts/kernels/setup-kernels.sh installs it)`);
  const modulesDir = join(kernel.root, 'lib', 'modules', kernel.release);
  const stage = mkdtempSync(join(tmpdir(), 'waggle-initramfs-'));
  try {
    for (const d of ['bin', 'dev', 'modules', 'proc', 'sys']) mkdirSync(join(stage, d));
    copyFileSync(BUSYBOX, join(stage, 'bin', 'busybox'));
    chmodSync(join(stage, 'bin', 'busybox'), 0o755);
    copyFileSync(init, join(stage, 'init'));
    chmodSync(join(stage, 'init'), 0o755);
    // The kernel opens /dev/console before /init runs: without it, /init has no output.
    execFileSync('mknod', ['-m', '600', join(stage, 'dev', 'console'), 'c', '5', '1']);
    const names = [];
    for (const rel of moduleLoadOrder(modulesDir, ROOT_MODULES)) {
      const name = `${modName(rel)}.ko`;
      const src = join(modulesDir, rel);
      const dst = join(stage, 'modules', name);
      // busybox insmod takes plain ELF: decompress what Debian compressed.
      if (rel.endsWith('.xz')) writeFileSync(dst, execFileSync('xz', ['-dc', src], { maxBuffer: 1 << 28 }));
      else if (rel.endsWith('.zst')) writeFileSync(dst, execFileSync('zstd', ['-dc', src], { maxBuffer: 1 << 28 }));
      else if (rel.endsWith('.gz')) writeFileSync(dst, execFileSync('gzip', ['-dc', src], { maxBuffer: 1 << 28 }));
      else copyFileSync(src, dst);
      names.push(name);
    }
    writeFileSync(join(stage, 'modules', 'order'), `${names.join('\n')}\n`);
    execFileSync('sh', ['-c', `find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > ${JSON.stringify(`${out}.tmp`)}`], { cwd: stage });
    execFileSync('mv', [`${out}.tmp`, out]);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
