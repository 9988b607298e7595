// Leaf value schemas for the agent configuration. Every value may arrive as a
// YAML scalar, an environment variable (a string) or a command-line flag (a
// string, or a list of strings for repeatable flags), so each leaf accepts the
// string form too, and says exactly what was wrong with it.
import { z } from 'zod';
import { ExeGlob, type PortRange, PortSet, compileExeGlob, parsePortRange } from '../../discovery/index.js';
import { parseListenAddress } from '../../ui/http-server.js';

type Ctx = z.core.$RefinementCtx<unknown>;

function fail(ctx: Ctx, message: string, path: (string | number)[] = []): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path, input: undefined });
  return z.NEVER;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** A leaf parsed by `fn`; absent (undefined) stays absent. */
function leaf<T>(fn: (v: unknown, ctx: Ctx) => T) {
  return z
    .unknown()
    .transform((v, ctx): T | undefined => (v === undefined ? undefined : fn(v, ctx)))
    .optional();
}

/** A scalar or a list of scalars, with comma-separated strings split: "a,b" → ["a","b"]. */
function items(v: unknown, split: boolean): unknown[] {
  const list = Array.isArray(v) ? v : [v];
  return list.flatMap((x) => (split && typeof x === 'string' ? x.split(',').map((s) => s.trim()) : [x]));
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const bool = () =>
  leaf((v, ctx) => {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (TRUE.has(s)) return true;
      if (FALSE.has(s)) return false;
    }
    return fail(ctx, `${show(v)} is not a boolean (true/false)`);
  });

export const int = (min: number, max = Number.MAX_SAFE_INTEGER, unit = '') =>
  leaf((v, ctx) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `between ${min} and ${max}`;
      return fail(ctx, `${show(v)} is not an integer ${range}${unit}`);
    }
    return n;
  });

/** A power of two between min and max (both powers of two), e.g. a ring buffer size. */
export const powerOfTwo = (min: number, max: number, unit = '') =>
  leaf((v, ctx) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min || n > max || (n & (n - 1)) !== 0) {
      return fail(ctx, `${show(v)} is not a power of two between ${min} and ${max}${unit}`);
    }
    return n;
  });

export const ratio = () =>
  leaf((v, ctx) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0 || n > 1) return fail(ctx, `${show(v)} is not a number between 0 and 1`);
    return n;
  });

export const text = (what = 'a string') =>
  leaf((v, ctx) => {
    if (typeof v === 'number') return String(v);
    if (typeof v !== 'string' || v.trim() === '') return fail(ctx, `${show(v)} is not ${what}`);
    return v;
  });

export const oneOf = <T extends string>(allowed: readonly T[]) =>
  leaf((v, ctx): T => {
    const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
    if (typeof s === 'string' && (allowed as readonly string[]).includes(s)) return s as T;
    return fail(ctx, `${show(v)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  });

/** Names from a fixed set, as a list or comma-separated ("http,policies"); duplicates dropped. */
export const oneOfList = <T extends string>(allowed: readonly T[]) =>
  leaf((v, ctx): T[] => {
    const out = new Set<T>();
    items(v, true).forEach((item, i) => {
      const s = typeof item === 'string' ? item.trim().toLowerCase() : item;
      if (typeof s === 'string' && (allowed as readonly string[]).includes(s)) out.add(s as T);
      else fail(ctx, `${show(item)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, [i]);
    });
    return [...out];
  });

/** "80,443,8000-8999", 80, or a list of those. */
export const portList = () =>
  leaf((v, ctx): PortSet => {
    const ranges: PortRange[] = [];
    items(v, true).forEach((item, i) => {
      if (typeof item !== 'string' && typeof item !== 'number') return fail(ctx, `${show(item)} is not a port or a range`, [i]);
      const r = parsePortRange(item);
      if (r.ok) ranges.push(r.value);
      else fail(ctx, r.reason, [i]);
    });
    return new PortSet(ranges);
  });

/** One glob, or a list of globs (never split on commas: `{a,b}` is a glob). */
export const globList = () =>
  leaf((v, ctx): string[] => {
    const out: string[] = [];
    items(v, false).forEach((item, i) => {
      if (typeof item !== 'string') return fail(ctx, `${show(item)} is not a glob`, [i]);
      const r = compileExeGlob(item);
      if (r.ok) out.push(item);
      else fail(ctx, item === '' ? 'the glob is empty' : `${r.reason}`, [i]);
    });
    return out;
  });

/** One glob (instrument entries). */
export const glob = () =>
  leaf((v, ctx): string => {
    if (typeof v !== 'string') return fail(ctx, `${show(v)} is not a glob`);
    const r = compileExeGlob(v);
    return r.ok ? new ExeGlob(v).pattern : fail(ctx, v === '' ? 'the glob is empty' : r.reason);
  });

export const pidList = () =>
  leaf((v, ctx): number[] => {
    const out: number[] = [];
    items(v, true).forEach((item, i) => {
      const n = typeof item === 'number' ? item : typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 4194304) fail(ctx, `${show(item)} is not a process id`, [i]);
      else out.push(n);
    });
    return out;
  });

/** A list of non-empty strings; strings are split on commas (paths, route patterns). */
export const stringList = (what: string) =>
  leaf((v, ctx): string[] => {
    const out: string[] = [];
    items(v, true).forEach((item, i) => {
      if (typeof item !== 'string' || item === '') fail(ctx, `${show(item)} is not ${what}`, [i]);
      else out.push(item);
    });
    return out;
  });

export const listenAddress = () =>
  leaf((v, ctx): { host: string; port: number } => {
    if (typeof v !== 'string' && typeof v !== 'number') return fail(ctx, `${show(v)} is not HOST:PORT`);
    try {
      return parseListenAddress(String(v).trim());
    } catch {
      return fail(ctx, `${show(v)} is not HOST:PORT (e.g. 127.0.0.1:9400, [::1]:9400, :9400)`);
    }
  });

/**
 * key=value pairs: a YAML mapping, or "k1=v1,k2=v2" with percent-encoded
 * values (the W3C Baggage form OpenTelemetry uses for headers and resource attributes).
 */
export const keyValues = () =>
  leaf((v, ctx): Record<string, string> => {
    const out: Record<string, string> = {};
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k, val] of Object.entries(v)) {
        if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') fail(ctx, `${show(val)} is not a string`, [k]);
        else out[k] = String(val);
      }
      return out;
    }
    items(v, true).forEach((item, i) => {
      if (typeof item !== 'string') return fail(ctx, `${show(item)} is not key=value`, [i]);
      if (item === '') return;
      const eq = item.indexOf('=');
      const key = eq > 0 ? item.slice(0, eq).trim() : '';
      if (!key) return fail(ctx, `${show(item)} is not key=value`, [i]);
      try {
        out[key] = decodeURIComponent(item.slice(eq + 1).trim());
      } catch {
        fail(ctx, `the value of ${JSON.stringify(key)} is not valid percent-encoding`, [i]);
      }
    });
    return out;
  });

/** An http(s) URL without credentials in it (they go in their own keys). */
export const httpUrl = () =>
  leaf((v, ctx): string => {
    if (typeof v !== 'string' || v.trim() === '') return fail(ctx, `${show(v)} is not a URL`);
    let u: URL;
    try {
      u = new URL(v.trim());
    } catch {
      return fail(ctx, `${show(v)} is not a URL (e.g. http://pyroscope:4040)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail(ctx, `${show(v)} is not an http or https URL`);
    if (u.username || u.password) return fail(ctx, 'credentials may not be written in the URL (use the basic_auth_* keys)');
    return v.trim();
  });
