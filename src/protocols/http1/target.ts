// Request-target forms (RFC 9112 §3.2) taken apart into path and query, without
// decoding: telemetry reports what was on the wire. Written without regular
// expressions or object spreads on the origin-form path (every request takes it).

export interface RequestTarget {
  form: 'origin' | 'absolute' | 'authority' | 'asterisk' | 'other';
  /** Path without query or fragment; '' for authority and asterisk forms. */
  path: string;
  /** Query without the '?', undefined when there is none. */
  query?: string;
  /** From absolute form (`http://h:8080/p`) or authority form (`h:443`). */
  scheme?: string;
  host?: string;
  port?: number;
}

const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/;
const AUTHORITY = /^[^/?#\s]+:\d{1,5}$/;

export function parseTarget(target: string): RequestTarget {
  if (target.charCodeAt(0) === 0x2f) return withPathQuery({ form: 'origin', path: target }, target);
  if (target === '*') return { form: 'asterisk', path: '' };
  const abs = ABSOLUTE.exec(target);
  if (abs) {
    const rest = abs[3] ?? '';
    const t: RequestTarget = { form: 'absolute', scheme: abs[1]!.toLowerCase(), path: '' };
    withHostPort(t, abs[2] ?? '');
    return withPathQuery(t, rest.startsWith('/') ? rest : `/${rest}`);
  }
  if (AUTHORITY.test(target)) return withHostPort({ form: 'authority', path: '' }, target);
  return withPathQuery({ form: 'other', path: target }, target);
}

/** Sets path (and query when there is one) from `s`, dropping any fragment. */
function withPathQuery(t: RequestTarget, s: string): RequestTarget {
  const hash = s.indexOf('#');
  const noFragment = hash >= 0 ? s.slice(0, hash) : s;
  const q = noFragment.indexOf('?');
  if (q >= 0) {
    t.path = noFragment.slice(0, q);
    t.query = noFragment.slice(q + 1);
  } else {
    t.path = noFragment;
  }
  return t;
}

function withHostPort(t: RequestTarget, authority: string): RequestTarget {
  const hp = splitHostPort(authority);
  if (hp.host !== undefined) t.host = hp.host;
  if (hp.port !== undefined) t.port = hp.port;
  return t;
}

/** Splits `host`, `host:port`, `[v6]:port` (userinfo is dropped: it can hold a password). */
export function splitHostPort(authority: string): { host?: string; port?: number } {
  const at = authority.lastIndexOf('@');
  const a = at >= 0 ? authority.slice(at + 1) : authority;
  if (a === '') return {};
  let host: string;
  let rest: number;
  if (a.charCodeAt(0) === 0x5b) {
    const close = a.indexOf(']');
    if (close < 0) return { host: a };
    host = a.slice(1, close);
    rest = close + 1;
  } else {
    const colon = a.indexOf(':');
    if (colon < 0) return { host: a };
    if (a.indexOf(':', colon + 1) >= 0) return { host: a }; // bare IPv6 without brackets
    host = a.slice(0, colon);
    rest = colon;
  }
  if (rest === a.length) return { host };
  const port = portAt(a, rest);
  if (port === undefined) return { host: a };
  return port <= 65535 ? { host, port } : { host };
}

/** `:` and 1–5 digits from `i` to the end of `s`, as a number; undefined otherwise. */
function portAt(s: string, i: number): number | undefined {
  const n = s.length - i - 1;
  if (n < 1 || n > 5 || s.charCodeAt(i) !== 0x3a) return undefined;
  let port = 0;
  for (let k = i + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return undefined;
    port = port * 10 + (c - 0x30);
  }
  return port;
}

/**
 * What splitHostPort says of the Latin-1 authority in `b[start, end)`, without
 * making a string: the port; NO_PORT when it has none; NO_HOST when it names no host.
 */
export const NO_PORT = -1;
export const NO_HOST = -2;

export function authorityPort(b: Uint8Array, start: number, end: number): number {
  // One pass: the last '@' (userinfo ends there), and after it the first ']',
  // the first and the second ':'.
  let s = start;
  let close = -1;
  let colon = -1;
  let colons = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x40) {
      s = i + 1;
      close = -1;
      colon = -1;
      colons = 0;
    } else if (c === 0x5d) {
      if (close < 0) close = i;
    } else if (c === 0x3a) {
      if (colons++ === 0) colon = i;
    }
  }
  if (s === end) return NO_HOST;
  let rest: number;
  if (b[s] === 0x5b) {
    if (close < 0) return NO_PORT;
    rest = close + 1;
  } else {
    if (colons !== 1) return NO_PORT; // none, or a bare IPv6 address without brackets
    rest = colon;
  }
  const n = end - rest - 1;
  if (n < 1 || n > 5 || b[rest] !== 0x3a) return NO_PORT;
  let port = 0;
  for (let k = rest + 1; k < end; k++) {
    const c = b[k]!;
    if (c < 0x30 || c > 0x39) return NO_PORT;
    port = port * 10 + (c - 0x30);
  }
  return port <= 65535 ? port : NO_PORT;
}
