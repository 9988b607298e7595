// HPACK header-block decoding (RFC 7541) for one direction of one connection:
// the static table, Huffman strings and the dynamic table with its size
// updates. A decoder that did not see the connection from its first header
// block (joined midway, or a block lost in a capture hole) is not `synced`:
// its table then holds only what it inserted itself since, which is the newest
// part of the real table (eviction takes the oldest first), so references into
// it resolve; older references are reported as unknown (counted), never
// guessed. A size update to 0 or an entry larger than the table empties the
// real table, and the decoder is synced again.
import { huffmanDecode } from './huffman.js';
import { STATIC_TABLE } from './hpack-static.js';

/** The dynamic table's size before any SETTINGS or size update (RFC 7540 §6.5.2). */
export const DEFAULT_TABLE_SIZE = 4096;
/** Dynamic table size honoured at most: a larger size update desyncs the decoder (memory stays bounded). */
export const MAX_TABLE_SIZE = 65536;
/** Name reported for a header whose table entry is unknown (`value` is then undefined). */
export const UNKNOWN_HEADER = '';

/** One decoded header; `value` undefined when it referred to an unknown dynamic entry. */
export type HeaderHandler = (name: string, value: string | undefined) => void;

export type DecodeResult = 'ok' | 'error';

interface Entry {
  name: string;
  value: string;
  size: number;
}

export class HpackDecoder {
  /** Newest first. */
  readonly #table: Entry[] = [];
  #tableBytes = 0;
  #maxSize = DEFAULT_TABLE_SIZE;
  /** Whether every insertion since the connection's start was seen. */
  synced: boolean;
  /** References to dynamic entries the decoder does not know. */
  unknownReferences = 0;

  constructor(synced: boolean) {
    this.synced = synced;
  }

  /** A header block was lost: older dynamic entries are unknown from now on. */
  desync(): void {
    if (!this.synced) return;
    this.synced = false;
    this.#table.length = 0;
    this.#tableBytes = 0;
  }

  /**
   * Decodes one whole header block, calling `onHeader` per field in order. On
   * 'error' the block was malformed: the decoder is desynced (its table may
   * have missed insertions).
   */
  decode(block: Uint8Array, onHeader: HeaderHandler): DecodeResult {
    let i = 0;
    const n = block.length;
    const cursor = { at: 0 };
    while (i < n) {
      const b = block[i]!;
      cursor.at = i;
      if (b & 0x80) {
        // Indexed header field.
        const index = readInt(block, cursor, 7);
        if (index <= 0) return this.#fail();
        i = cursor.at;
        const e = this.#lookup(index);
        if (e === null) return this.#fail();
        if (e === undefined) onHeader(UNKNOWN_HEADER, undefined);
        else onHeader(e[0], e[1]);
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update.
        const size = readInt(block, cursor, 5);
        if (size < 0) return this.#fail();
        i = cursor.at;
        if (size > MAX_TABLE_SIZE) {
          this.desync();
          this.#maxSize = MAX_TABLE_SIZE;
        } else {
          this.#maxSize = size;
        }
        this.#evict(0);
        if (size === 0) this.synced = true;
      } else {
        // Literal: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexing = (b & 0xc0) === 0x40;
        const index = readInt(block, cursor, indexing ? 6 : 4);
        if (index < 0) return this.#fail();
        let name: string | undefined;
        let nameKnown = true;
        if (index === 0) {
          const s = readString(block, cursor);
          if (s === null) return this.#fail();
          name = s;
        } else {
          const e = this.#lookup(index);
          if (e === null) return this.#fail();
          if (e === undefined) nameKnown = false;
          else name = e[0];
        }
        const value = readString(block, cursor);
        if (value === null) return this.#fail();
        i = cursor.at;
        if (indexing) this.#insert(nameKnown ? name! : UNKNOWN_HEADER, value);
        if (nameKnown) onHeader(name!, value);
        else onHeader(UNKNOWN_HEADER, undefined);
      }
    }
    return 'ok';
  }

  /** Entries in the dynamic table now (tests, bounds). */
  get tableSize(): number {
    return this.#tableBytes;
  }

  /** [name, value]; undefined: a dynamic entry this decoder does not know; null: out of range (malformed). */
  #lookup(index: number): readonly [string, string] | undefined | null {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const d = index - STATIC_TABLE.length - 1;
    if (d < this.#table.length) {
      const e = this.#table[d]!;
      // An entry inserted under a name this decoder did not know.
      if (e.name === UNKNOWN_HEADER) {
        this.unknownReferences++;
        return undefined;
      }
      return [e.name, e.value];
    }
    if (this.synced) return null;
    this.unknownReferences++;
    return undefined;
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + 32;
    if (size > this.#maxSize) {
      // An entry larger than the table empties it (RFC 7541 §4.4).
      this.#table.length = 0;
      this.#tableBytes = 0;
      this.synced = true;
      return;
    }
    this.#evict(size);
    this.#table.unshift({ name, value, size });
    this.#tableBytes += size;
  }

  /** Evicts the oldest entries until `room` more bytes fit. */
  #evict(room: number): void {
    while (this.#table.length > 0 && this.#tableBytes + room > this.#maxSize) {
      this.#tableBytes -= this.#table.pop()!.size;
    }
  }

  #fail(): DecodeResult {
    this.desync();
    return 'error';
  }
}

/** An HPACK integer with an N-bit prefix at cursor.at (RFC 7541 §5.1); -1 when truncated or too large. */
export function readInt(buf: Uint8Array, cursor: { at: number }, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  let i = cursor.at;
  if (i >= buf.length) return -1;
  let value = buf[i++]! & max;
  if (value === max) {
    let shift = 0;
    for (;;) {
      if (i >= buf.length || shift > 28) return -1;
      const b = buf[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
  }
  cursor.at = i;
  return value;
}

/** An HPACK string literal at cursor.at; null when truncated or badly coded. */
function readString(buf: Uint8Array, cursor: { at: number }): string | null {
  if (cursor.at >= buf.length) return null;
  const huffman = (buf[cursor.at]! & 0x80) !== 0;
  const len = readInt(buf, cursor, 7);
  if (len < 0 || cursor.at + len > buf.length) return null;
  const start = cursor.at;
  cursor.at += len;
  if (huffman) return huffmanDecode(buf, start, len) ?? null;
  return latin1(buf, start, len);
}

function latin1(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) s += String.fromCharCode(buf[i]!);
  return s;
}
