// HPACK Huffman decoding (RFC 7541 §5.2): a bit-by-bit walk of the code tree,
// built once from the code table. Header strings are short; a table-driven
// nibble decoder would be faster if profiles ever show this.
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.js';

/** Tree: children[node * 2 + bit] = child node, or -(symbol + 1) at a leaf; 0 = none. */
const children: Int32Array = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 512);
  let nodes = 1;
  for (let sym = 0; sym < 257; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        tree[slot] = -(sym + 1);
      } else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot]!;
      }
    }
  }
  return tree;
}

/**
 * Decodes `len` bytes at `off` of `src`; undefined when the bytes are not a
 * valid Huffman string (EOS inside, padding longer than 7 bits or not all ones).
 */
export function huffmanDecode(src: Uint8Array, off: number, len: number): string | undefined {
  let out = '';
  let node = 0;
  /** Bits consumed since the last symbol, and whether they were all ones (valid padding). */
  let depth = 0;
  let allOnes = true;
  for (let i = off; i < off + len; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = children[node * 2 + bit]!;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === 256) return undefined;
        out += String.fromCharCode(sym);
        node = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        return undefined;
      } else {
        node = next;
        depth++;
        if (bit === 0) allOnes = false;
      }
    }
  }
  if (depth > 7 || !allOnes) return undefined;
  return out;
}
