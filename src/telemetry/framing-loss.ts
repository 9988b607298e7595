// Exchanges whose framing the kernel lost (Exchange.framingLost), counted by
// service, side and peer. When the kernel cannot follow a message's length it
// guesses where the message ends, so exchanges may merge or go uncounted: this
// count says so by name, so that an under-count cannot pass for quiet traffic.
// The peer is the remote address for a server (a client's port is ephemeral)
// and address:port for a client (the port names the service it calls). Bounded:
// past maxSeries, new peers count under `_OTHER` for their service and side.
import type { Exchange, Role } from '../capture/exchange.js';

export const FRAMING_LOSS_OTHER_PEER = '_OTHER';

export interface FramingLossSeries {
  service: string;
  role: Role;
  peer: string;
  count: number;
}

export class FramingLossCounter {
  readonly #series = new Map<string, FramingLossSeries>();
  readonly #maxSeries: number;
  #total = 0;

  constructor(maxSeries = 256) {
    this.#maxSeries = maxSeries;
  }

  add(service: string, ex: Exchange): void {
    this.#total++;
    const peer = ex.role === 'server' ? ex.remote.address : `${ex.remote.address}:${ex.remote.port}`;
    let s = this.#series.get(`${service}\0${ex.role}\0${peer}`);
    if (s === undefined) {
      // The _OTHER entries (one per service and side) may go past the cap; services are bounded upstream.
      const full = this.#series.size >= this.#maxSeries;
      const key = `${service}\0${ex.role}\0${full ? FRAMING_LOSS_OTHER_PEER : peer}`;
      s = this.#series.get(key);
      if (s === undefined) {
        s = { service, role: ex.role, peer: full ? FRAMING_LOSS_OTHER_PEER : peer, count: 0 };
        this.#series.set(key, s);
      }
    }
    s.count++;
  }

  /** Every exchange counted, whatever its series. */
  get total(): number {
    return this.#total;
  }

  series(): FramingLossSeries[] {
    return [...this.#series.values()].map((s) => ({ ...s }));
  }
}
