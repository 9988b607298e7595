// Small, failure-tolerant primitives over /proc. Processes vanish between any
// two reads; ENOENT/ESRCH (and EACCES for what we may not see) are normal, so
// these return undefined instead of throwing. Anything else is a real error.
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';

/** Root of the proc filesystem; tests and containers may point elsewhere. */
export const PROC = '/proc';

const GONE = new Set(['ENOENT', 'ESRCH', 'EACCES', 'EPERM', 'ENOTDIR', 'EINVAL']);

/** True for the errors that mean "this process (or file) is not there for us". */
export function isGone(e: unknown): boolean {
  return typeof e === 'object' && e !== null && GONE.has((e as NodeJS.ErrnoException).code ?? '');
}

function tolerate<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
}

const scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads at most `maxBytes` of a /proc file (they report size 0, so read until
 * EOF). Returns undefined when the file or its process is gone.
 */
export function readProcFile(path: string, maxBytes = 64 * 1024): Buffer | undefined {
  return tolerate(() => {
    const fd = openSync(path, 'r');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      while (total < maxBytes) {
        const n = readSync(fd, scratch, 0, Math.min(scratch.length, maxBytes - total), null);
        if (n === 0) break;
        chunks.push(Buffer.from(scratch.subarray(0, n)));
        total += n;
      }
      return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    } finally {
      closeSync(fd);
    }
  });
}

export function readProcText(path: string, maxBytes?: number): string | undefined {
  return readProcFile(path, maxBytes)?.toString('utf8');
}

export function readProcLink(path: string): string | undefined {
  return tolerate(() => readlinkSync(path));
}

export function readProcDir(path: string): string[] | undefined {
  return tolerate(() => readdirSync(path));
}

/** Process ids (thread group ids) currently in /proc, unordered. */
export function listPids(proc = PROC): number[] {
  const names = readProcDir(proc) ?? [];
  const pids: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}
