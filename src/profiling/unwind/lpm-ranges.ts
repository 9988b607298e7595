// An address range as the fewest (prefix, length) blocks an LPM trie can hold.

/** Blocks [start, start + 2^bits) covering [start, end) exactly; `bits` is the block's size in address bits. */
export function rangeToBlocks(start: number, end: number): { start: number; bits: number }[] {
  const out: { start: number; bits: number }[] = [];
  let at = start;
  while (at < end) {
    let bits = 0;
    // The largest aligned power-of-two block that starts at `at` and fits.
    while (bits < 48 && at % 2 ** (bits + 1) === 0 && at + 2 ** (bits + 1) <= end) bits++;
    out.push({ start: at, bits });
    at += 2 ** bits;
  }
  return out;
}
