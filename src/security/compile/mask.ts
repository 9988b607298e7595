// Sets of selectors as 128-bit masks, in the kernel's layout (struct selmask:
// four u32 words), so that user space encodes them exactly.
import { MAX_SELECTORS_TOTAL } from '../policy/limits.js';

export const SEL_WORDS = MAX_SELECTORS_TOTAL / 32;

export type Mask = number[];

export interface Pair {
  pos: Mask;
  neg: Mask;
}

export const emptyMask = (): Mask => new Array<number>(SEL_WORDS).fill(0);
export const emptyPair = (): Pair => ({ pos: emptyMask(), neg: emptyMask() });

export function setBit(m: Mask, bit: number): Mask {
  m[bit >>> 5] = ((m[bit >>> 5] ?? 0) | (1 << (bit & 31))) >>> 0;
  return m;
}

export const hasBit = (m: Mask, bit: number): boolean => (((m[bit >>> 5] ?? 0) >>> (bit & 31)) & 1) === 1;

export function orInto(dst: Mask, src: Mask): Mask {
  for (let i = 0; i < SEL_WORDS; i++) dst[i] = ((dst[i] ?? 0) | (src[i] ?? 0)) >>> 0;
  return dst;
}

export function orPairInto(dst: Pair, src: Pair): Pair {
  orInto(dst.pos, src.pos);
  orInto(dst.neg, src.neg);
  return dst;
}

export const and = (a: Mask, b: Mask): Mask => a.map((w, i) => (w & (b[i] ?? 0)) >>> 0);
export const andNot = (a: Mask, b: Mask): Mask => a.map((w, i) => (w & ~(b[i] ?? 0)) >>> 0);
export const or = (a: Mask, b: Mask): Mask => a.map((w, i) => (w | (b[i] ?? 0)) >>> 0);
export const isEmpty = (m: Mask): boolean => m.every((w) => w === 0);

/** Bits set, ascending. */
export function bitsOf(m: Mask): number[] {
  const out: number[] = [];
  for (let i = 0; i < SEL_WORDS; i++) {
    let w = m[i] ?? 0;
    while (w !== 0) {
      const low = w & -w;
      out.push(i * 32 + 31 - Math.clz32(low));
      w = (w ^ low) >>> 0;
    }
  }
  return out;
}

/** The BTF codec's view of struct selmask. */
export const maskValue = (m: Mask) => ({ w: [...m] });
export const pairValue = (p: Pair) => ({ pos: maskValue(p.pos), neg: maskValue(p.neg) });
export const maskFromValue = (v: { w: number[] }): Mask => v.w.map((x) => x >>> 0);
