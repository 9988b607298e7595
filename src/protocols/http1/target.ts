// Request-target forms (RFC 9112 §3.2) taken apart into path and query, without
// decoding: telemetry reports what was on the wire.

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

export function parseTarget(target: string): RequestTarget {
  if (target.startsWith('/')) return { form: 'origin', ...splitPathQuery(target) };
  if (target === '*') return { form: 'asterisk', path: '' };
  const abs = ABSOLUTE.exec(target);
  if (abs) {
    const rest = abs[3] ?? '';
    const pq = splitPathQuery(rest.startsWith('/') ? rest : `/${rest}`);
    return { form: 'absolute', scheme: abs[1]!.toLowerCase(), ...splitHostPort(abs[2] ?? ''), ...pq };
  }
  if (/^[^/?#\s]+:\d{1,5}$/.test(target)) return { form: 'authority', path: '', ...splitHostPort(target) };
  return { form: 'other', ...splitPathQuery(target) };
}

function splitPathQuery(s: string): { path: string; query?: string } {
  const hash = s.indexOf('#');
  const noFragment = hash >= 0 ? s.slice(0, hash) : s;
  const q = noFragment.indexOf('?');
  return q >= 0 ? { path: noFragment.slice(0, q), query: noFragment.slice(q + 1) } : { path: noFragment };
}

/** Splits `host`, `host:port`, `[v6]:port` (userinfo is dropped: it can hold a password). */
export function splitHostPort(authority: string): { host?: string; port?: number } {
  const at = authority.lastIndexOf('@');
  const a = at >= 0 ? authority.slice(at + 1) : authority;
  if (a === '') return {};
  let host: string;
  let rest: string;
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    if (close < 0) return { host: a };
    host = a.slice(1, close);
    rest = a.slice(close + 1);
  } else {
    const colon = a.indexOf(':');
    if (colon < 0) return { host: a };
    if (a.indexOf(':', colon + 1) >= 0) return { host: a }; // bare IPv6 without brackets
    host = a.slice(0, colon);
    rest = a.slice(colon);
  }
  if (rest === '') return { host };
  if (!/^:\d{1,5}$/.test(rest)) return { host: a };
  const port = Number(rest.slice(1));
  return port <= 65535 ? { host, port } : { host };
}
