// Socket addresses as the kernel stores them (network byte order, 4 or 16
// bytes) → text. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack
// listener such as Node's sees for IPv4 peers) are shown as plain IPv4.

export const AF_INET = 2;
export const AF_INET6 = 10;

const V6_CACHE_LIMIT = 1024;
const v6Cache = new Map<string, string>();
/** IPv4 address (as a 32-bit number) → text: every record carries two addresses, and few distinct ones. */
const V4_CACHE_LIMIT = 4096;
const v4Cache = new Map<number, string>();

function ipv4(buf: Buffer, off: number): string {
  const n = buf[off]! * 0x1000000 + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
  let text = v4Cache.get(n);
  if (text === undefined) {
    text = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
    if (v4Cache.size >= V4_CACHE_LIMIT) v4Cache.clear();
    v4Cache.set(n, text);
  }
  return text;
}

function isV4Mapped(buf: Buffer, off: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[off + i] !== 0) return false;
  return buf[off + 10] === 0xff && buf[off + 11] === 0xff;
}

/** Formats the address at `off` (16 bytes reserved) for socket family `family`. */
export function formatAddress(family: number, buf: Buffer, off: number): string {
  if (family === AF_INET) return ipv4(buf, off);
  if (isV4Mapped(buf, off)) return ipv4(buf, off + 12);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(off + i).toString(16));
  const full = groups.join(':');
  const cached = v6Cache.get(full);
  if (cached !== undefined) return cached;
  // The WHATWG URL parser produces the canonical (RFC 5952) compressed form.
  const text = new URL(`http://[${full}]/`).hostname.slice(1, -1);
  if (v6Cache.size >= V6_CACHE_LIMIT) v6Cache.clear();
  v6Cache.set(full, text);
  return text;
}
