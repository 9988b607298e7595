// Random trace and span ids, drawn from a pooled buffer so a span costs no
// syscall; crypto-quality randomness because ids must not collide across hosts.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

function take(n: number): string {
  for (;;) {
    if (used + n > POOL_SIZE) {
      randomFillSync(pool);
      used = 0;
    }
    const id = pool.toString('hex', used, used + n);
    used += n;
    // All-zero ids are invalid in W3C trace context; skip the (2^-64) chance.
    if (!/^0+$/.test(id)) return id;
  }
}

/** 32 lowercase hex characters. */
export function newTraceId(): string {
  return take(16);
}

/** 16 lowercase hex characters. */
export function newSpanId(): string {
  return take(8);
}
