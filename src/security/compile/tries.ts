// Longest-prefix-match tries as the kernel holds them (BPF_MAP_TYPE_LPM_TRIE).
// The kernel returns only the longest matching entry, so each entry's value is
// closed over every entry that is a prefix of it: a lookup then yields the
// union of all matching entries' selectors.
//
// Paths: an `equal` value is stored with its terminating NUL and a `prefix`
// value without, so one lookup of "path\0" answers both. Suffixes are stored
// reversed. Addresses are 16 bytes, IPv4 mapped into ::ffff:0:0/96.
import { isIPv4 } from 'node:net';
import { type Pair, emptyPair, orPairInto, setBit } from './mask.js';

export const PATH_KEY_BYTES = 256;
export const ADDR_KEY_BYTES = 16;

export interface TrieKey {
  data: Buffer;
  /** Prefix length in bits. */
  bits: number;
}

export interface TrieEntry extends TrieKey {
  pair: Pair;
}

export function pathKey(value: string, exact: boolean): TrieKey {
  const bytes = Buffer.from(value, 'utf8');
  const data = Buffer.alloc(PATH_KEY_BYTES);
  bytes.copy(data);
  return { data, bits: (bytes.length + (exact ? 1 : 0)) * 8 };
}

export function suffixKey(value: string): TrieKey {
  const bytes = Buffer.from(value, 'utf8').reverse();
  const data = Buffer.alloc(PATH_KEY_BYTES);
  bytes.copy(data);
  return { data, bits: bytes.length * 8 };
}

function ipv6Bytes(address: string): Buffer {
  const out = Buffer.alloc(16);
  let [head = '', tail] = address.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  let headParts = parse(head);
  let tailParts = tail === undefined ? [] : parse(tail);
  const v4 = (parts: string[]) => {
    const last = parts[parts.length - 1];
    if (last && isIPv4(last)) {
      const b = last.split('.').map(Number);
      parts.splice(parts.length - 1, 1, ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    }
    return parts;
  };
  headParts = v4(headParts);
  tailParts = v4(tailParts);
  const words = tail === undefined ? headParts : [...headParts, ...new Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}

/** 16-byte form of an address (IPv4 as ::ffff:a.b.c.d). */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address)) {
    const out = Buffer.alloc(16);
    out[10] = 0xff;
    out[11] = 0xff;
    address.split('.').forEach((b, i) => (out[12 + i] = Number(b)));
    return out;
  }
  return ipv6Bytes(address);
}

export function addrKey(address: string, bits: number, family: 4 | 6): TrieKey {
  return { data: addressBytes(address), bits: family === 4 ? 96 + bits : bits };
}

/** Whether the first `bits` bits of a and b are equal. */
export function samePrefix(a: Buffer, b: Buffer, bits: number): boolean {
  const whole = bits >>> 3;
  if (a.compare(b, 0, whole, 0, whole) !== 0) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

/** Identity of the first `bits` bits of `data` (bits past them ignored). */
function prefixId(data: Buffer, bits: number): string {
  const whole = bits >>> 3;
  const rest = bits & 7;
  const head = data.toString('hex', 0, whole);
  return rest === 0 ? `${bits}:${head}` : `${bits}:${head}${((data[whole] ?? 0) & ((0xff << (8 - rest)) & 0xff)).toString(16)}`;
}

export class TrieBuilder {
  private readonly entries = new Map<string, TrieEntry>();

  add(key: TrieKey, selector: number, negated: boolean): void {
    const id = prefixId(key.data, key.bits);
    let e = this.entries.get(id);
    if (!e) {
      e = { ...key, pair: emptyPair() };
      this.entries.set(id, e);
    }
    setBit(negated ? e.pair.neg : e.pair.pos, selector);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries with values closed over their prefixes: for each entry, one lookup per distinct prefix length. */
  build(): TrieEntry[] {
    const lengths = [...new Set([...this.entries.values()].map((e) => e.bits))].sort((a, b) => a - b);
    return [...this.entries.values()].map((e) => {
      const pair = emptyPair();
      for (const bits of lengths) {
        if (bits > e.bits) break;
        const f = this.entries.get(prefixId(e.data, bits));
        if (f) orPairInto(pair, f.pair);
      }
      return { data: e.data, bits: e.bits, pair };
    });
  }
}

/** What the kernel's lookup returns: the value of the longest entry that prefixes `key`. */
export function lookupTrie(entries: readonly TrieEntry[], key: TrieKey): Pair | undefined {
  let best: TrieEntry | undefined;
  for (const e of entries) {
    if (e.bits > key.bits || (best && e.bits <= best.bits)) continue;
    if (samePrefix(e.data, key.data, e.bits)) best = e;
  }
  return best?.pair;
}
