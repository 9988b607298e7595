// The connection phase: the server's greeting (Handshake v10) and the client's
// HandshakeResponse41. Only what shapes the rest of the conversation is read
// (capability flags, the server's flavour, the initial database); the user name
// and the auth response are stepped over and never kept.
import { lenenc, u16, u32 } from './packets.js';

export const CLIENT_CONNECT_WITH_DB = 0x8;
export const CLIENT_COMPRESS = 0x20;
export const CLIENT_PROTOCOL_41 = 0x200;
export const CLIENT_SSL = 0x800;
export const CLIENT_SECURE_CONNECTION = 0x8000;
export const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x200000;
export const CLIENT_DEPRECATE_EOF = 0x1000000;
export const CLIENT_ZSTD_COMPRESSION = 0x4000000;

export interface Greeting {
  /** "mariadb" when the version string says so, else "mysql" (semconv db.system.name values). */
  system: 'mysql' | 'mariadb';
  capabilities: number;
}

function printable(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/**
 * A Handshake v10 payload: protocol 10, a printable NUL-terminated version
 * string starting with a digit, then the connection id, 8 bytes of auth data
 * and a 0 filler (when captured). undefined when it is not one.
 */
export function parseGreeting(p: Uint8Array): Greeting | undefined {
  if (p.length < 2 || p[0] !== 0x0a) return undefined;
  const v0 = p[1]!;
  if (v0 < 0x30 || v0 > 0x39) return undefined;
  let end = 1;
  while (end < p.length && end < 100 && p[end] !== 0) {
    if (!printable(p[end]!)) return undefined;
    end++;
  }
  if (p[end] !== 0) return undefined;
  const version = String.fromCharCode(...p.subarray(1, end));
  const filler = end + 1 + 4 + 8;
  if (filler < p.length && p[filler] !== 0) return undefined;
  const low = u16(p, filler + 1) ?? 0;
  const high = u16(p, filler + 1 + 2 + 1 + 2) ?? 0;
  return { system: /mariadb/i.test(version) ? 'mariadb' : 'mysql', capabilities: (low | (high << 16)) >>> 0 };
}

export interface HandshakeResponse {
  capabilities: number;
  /** The initial database when CLIENT_CONNECT_WITH_DB (not a secret: db.namespace). */
  database?: string;
  /** An SSLRequest: TLS follows, the rest of the connection is opaque. */
  tls: boolean;
}

/** The client's HandshakeResponse41 (or SSLRequest), reading past user and auth data without keeping them. */
export function parseHandshakeResponse(p: Uint8Array, length: number): HandshakeResponse | undefined {
  const caps = u32(p, 0);
  if (caps === undefined) return undefined;
  if (!(caps & CLIENT_PROTOCOL_41)) return { capabilities: caps, tls: false };
  if (length === 32) return { capabilities: caps, tls: (caps & CLIENT_SSL) !== 0 };
  let i = 32;
  // The user name (stepped over).
  while (i < p.length && p[i] !== 0) i++;
  if (i >= p.length) return { capabilities: caps, tls: false };
  i++;
  // The auth response (stepped over).
  if (caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
    const l = lenenc(p, i);
    if (!l) return { capabilities: caps, tls: false };
    i += l.size + l.value;
  } else if (caps & CLIENT_SECURE_CONNECTION) {
    const l = p[i];
    if (l === undefined) return { capabilities: caps, tls: false };
    i += 1 + l;
  } else {
    while (i < p.length && p[i] !== 0) i++;
    i++;
  }
  const out: HandshakeResponse = { capabilities: caps, tls: false };
  if (caps & CLIENT_CONNECT_WITH_DB && i < p.length) {
    let end = i;
    while (end < p.length && p[end] !== 0 && end - i < 256) end++;
    if (p[end] === 0 && end > i) out.database = decodeUtf8(p.subarray(i, end));
  }
  return out;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
export function decodeUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}
