// Kernel symbols from /proc/kallsyms (addresses are visible to root; with
// kptr_restrict they read as zero and frames stay as addresses).
import { readFileSync } from 'node:fs';

export class KernelSymbols {
  private constructor(private readonly addrs: BigUint64Array, private readonly names: string[]) {}

  static load(path = '/proc/kallsyms'): KernelSymbols {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return new KernelSymbols(new BigUint64Array(0), []);
    }
    const rows: [bigint, string][] = [];
    for (const line of text.split('\n')) {
      const sp1 = line.indexOf(' ');
      if (sp1 <= 0) continue;
      const type = line[sp1 + 1];
      if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') continue;
      const addr = BigInt(`0x${line.slice(0, sp1)}`);
      if (addr === 0n) continue;
      const rest = line.slice(sp1 + 3);
      const tab = rest.indexOf('\t'); // module symbols: "name\t[module]"
      rows.push([addr, tab < 0 ? rest : rest.slice(0, tab)]);
    }
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new KernelSymbols(BigUint64Array.from(rows.map((r) => r[0])), rows.map((r) => r[1]));
  }

  get length(): number {
    return this.names.length;
  }

  lookup(addr: bigint): string | undefined {
    let lo = 0;
    let hi = this.addrs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addrs[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.names[found];
  }
}
