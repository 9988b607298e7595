// Whether an address is this host's: loopback, the wildcard forms, or one of
// the network interfaces' addresses (re-read once a minute, as they change
// with DHCP, VPNs and containers' bridges). Used where a peer's address says
// whether the other end may be a local process (the service map's local
// callers, the trace linker's hold).
import { networkInterfaces } from 'node:os';

/** ::ffff:10.0.0.1 → 10.0.0.1 (a dual-stack socket's view of an IPv4 peer); lower-case IPv6. */
export function normaliseAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const REREAD_MS = 60_000;

export class HostAddresses {
  readonly #read: () => Iterable<string>;
  #addresses = new Set<string>();
  #readMs = -Infinity;

  /** `read`: the host's addresses (default: os.networkInterfaces()), normalised here. */
  constructor(read?: () => Iterable<string>) {
    this.#read = read ?? interfaceAddresses;
  }

  /** Whether `address` (normalised) is this host's. */
  has(address: string, nowMs: number = Date.now()): boolean {
    if (address === '*' || address.startsWith('127.') || address === '::1' || address === '0.0.0.0' || address === '::' || address === 'localhost') return true;
    if (nowMs - this.#readMs > REREAD_MS) {
      this.#readMs = nowMs;
      this.#addresses = new Set([...this.#read()].map(normaliseAddress));
    }
    return this.#addresses.has(address);
  }
}

function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}
