// Random trace and span ids, drawn from a pooled buffer so a span costs no
// syscall; crypto-quality randomness because ids must not collide across hosts.
//
// A new trace id can also be drawn as four 32-bit words (TraceIdWords) and turned
// into text only when a span is built: consumers that only sample by trace id
// (traceHash) then pay no string for the requests they do not keep.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

/** Offset of `n` fresh random bytes in the pool, not all zero (W3C forbids all-zero ids). */
function draw(n: number): number {
  for (;;) {
    if (used + n > POOL_SIZE) {
      randomFillSync(pool);
      used = 0;
    }
    const at = used;
    used += n;
    for (let i = at; i < at + n; i++) if (pool[i] !== 0) return at;
  }
}

/** 32 lowercase hex characters. */
export function newTraceId(): string {
  const at = draw(16);
  return pool.toString('hex', at, at + 16);
}

/** 16 lowercase hex characters. */
export function newSpanId(): string {
  const at = draw(8);
  return pool.toString('hex', at, at + 8);
}

/** A new trace id as four big-endian 32-bit words (not all zero). */
export class TraceIdWords {
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;

  constructor() {
    const at = draw(16);
    this.w0 = pool.readUInt32BE(at);
    this.w1 = pool.readUInt32BE(at + 4);
    this.w2 = pool.readUInt32BE(at + 8);
    this.w3 = pool.readUInt32BE(at + 12);
  }

  /** The id's 32 lowercase hex characters. */
  toString(): string {
    scratch.writeUInt32BE(this.w0, 0);
    scratch.writeUInt32BE(this.w1, 4);
    scratch.writeUInt32BE(this.w2, 8);
    scratch.writeUInt32BE(this.w3, 12);
    return scratch.toString('hex');
  }

  /** traceHash(this.toString()), without making the string. */
  hash(): number {
    // traceHash reads the last 16 characters: the hex digits of w2 and w3.
    let h = FNV_OFFSET;
    h = hashWord(h, this.w2);
    h = hashWord(h, this.w3);
    return finish(h);
  }
}

const scratch = Buffer.alloc(16);

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Feeds the 8 lowercase hex digits of `w` (most significant first) as character codes. */
function hashWord(h: number, w: number): number {
  for (let shift = 28; shift >= 0; shift -= 4) {
    const nibble = (w >>> shift) & 15;
    h = Math.imul(h ^ (nibble < 10 ? 0x30 + nibble : 0x57 + nibble), FNV_PRIME);
  }
  return h;
}

function finish(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** A uniform number in [0, 1) from a trace id (random hex), well mixed even for sequential ids. */
export function traceHash(traceId: string): number {
  let h = FNV_OFFSET;
  const n = traceId.length;
  // The last 16 characters carry enough randomness for any real id.
  for (let i = Math.max(0, n - 16); i < n; i++) h = Math.imul(h ^ traceId.charCodeAt(i), FNV_PRIME);
  return finish(h);
}
