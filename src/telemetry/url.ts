// URL pieces for span attributes, with secrets kept out. Query values can carry
// tokens, signatures and e-mail addresses, and an instrumentation cannot tell which
// ones do: waggle keeps every key and replaces every value with `REDACTED`
// (semconv's placeholder for scrubbed query values), in url.query and url.full.
// userinfo (`user:pass@`) never reaches url.full.

export const REDACTED = 'REDACTED';
/** Keys kept in a scrubbed query; further parameters are dropped. */
export const MAX_QUERY_KEYS = 32;
/** Attribute length caps, so a pathological URL cannot bloat every exporter. */
export const MAX_PATH_LENGTH = 1024;
export const MAX_URL_LENGTH = 2048;

/** `a=1&b&c=x` → `a=REDACTED&b&c=REDACTED`. */
export function scrubQuery(query: string): string {
  const out: string[] = [];
  for (const pair of query.split('&', MAX_QUERY_KEYS)) {
    const eq = pair.indexOf('=');
    out.push(eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`);
  }
  return clip(out.join('&'), MAX_URL_LENGTH);
}

export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}

/** IPv6 literals need brackets in a URL authority. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `scheme://host[:port]path[?scrubbed-query]`, the default port omitted. */
export function buildFullUrl(scheme: string, host: string, port: number | undefined, path: string, query: string | undefined): string {
  const defaultPort = scheme === 'https' ? 443 : 80;
  const authority = port === undefined || port === defaultPort ? hostForUrl(host) : `${hostForUrl(host)}:${port}`;
  const q = query === undefined ? '' : `?${scrubQuery(query)}`;
  return clip(`${scheme}://${authority}${path || '/'}${q}`, MAX_URL_LENGTH);
}
