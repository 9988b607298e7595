// /proc/PID/environ: only the few variables discovery needs. This is the
// environment the process was started with (later setenv calls are invisible).
import { PROC, readProcFile } from './proc-fs.js';

export const WANTED_ENV = ['OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES'] as const;
export type WantedEnv = Partial<Record<(typeof WANTED_ENV)[number], string>>;

/** Environments past this size are read only this far. */
export const MAX_ENVIRON_BYTES = 256 * 1024;

export function parseEnviron(raw: Buffer): WantedEnv {
  const env: WantedEnv = {};
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(0, start);
    if (end < 0) end = raw.length;
    // Cheap prefix check before decoding: every wanted name starts with OTEL_.
    if (raw[start] === 0x4f && raw.toString('latin1', start, start + 5) === 'OTEL_') {
      const entry = raw.toString('utf8', start, end);
      const eq = entry.indexOf('=');
      const name = entry.slice(0, eq);
      if (eq > 0 && (WANTED_ENV as readonly string[]).includes(name)) env[name as keyof WantedEnv] = entry.slice(eq + 1);
    }
    start = end + 1;
  }
  return env;
}

export function readEnviron(pid: number, proc = PROC): WantedEnv | undefined {
  const raw = readProcFile(`${proc}/${pid}/environ`, MAX_ENVIRON_BYTES);
  return raw === undefined ? undefined : parseEnviron(raw);
}
