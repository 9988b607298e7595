// Whether the running kernel's BTF names something (a tracepoint's btf_trace_
// typedef, a kfunc): a byte search of its string section, without parsing the
// 5 MB of types. Names are matched whole (NUL on both sides).
import { readFileSync } from 'node:fs';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** Which of `names` the kernel BTF at `btfPath` does not name. Throws when the file cannot be read. */
export function missingKernelBtfNames(names: readonly string[], btfPath = VMLINUX_BTF): string[] {
  const btf = readFileSync(btfPath);
  return names.filter((n) => !btf.includes(`\0${n}\0`));
}
