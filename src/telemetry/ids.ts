// Random trace and span ids, drawn from a pooled buffer so a span costs no
// syscall; crypto-quality randomness because ids must not collide across hosts.
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

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** A uniform number in [0, 1) from a trace id (random hex), well mixed even for sequential ids. */
export function traceHash(traceId: string): number {
  let h = FNV_OFFSET;
  const n = traceId.length;
  // The last 16 characters carry enough randomness for any real id.
  for (let i = Math.max(0, n - 16); i < n; i++) h = Math.imul(h ^ traceId.charCodeAt(i), FNV_PRIME);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
