// Network interface lookups for tc and socket filter attachment.
import { readFileSync } from 'node:fs';
import { WaggleError } from './errors.js';

/** ifindex of an interface given by name ("lo") or number. */
export function interfaceIndex(iface: string | number): number {
  if (typeof iface === 'number') return iface;
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8'), 10);
  } catch {
    throw new WaggleError('WAGGLE_ERR_NOT_FOUND', `network interface '${iface}' does not exist`);
  }
}
