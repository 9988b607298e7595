// Which kind of map node a request's peer is: a database, a cache or a message
// broker, from the record's conventions family and system (db.system.name,
// messaging.system). HTTP peers are services or external peers, as before.
import type { RequestRecord } from '../telemetry/request-record.js';
import type { DatastoreKind } from './views.js';

export interface Datastore {
  kind: DatastoreKind;
  /** db.system.name or messaging.system ('postgresql', 'redis', 'nats'…). */
  system: string;
}

/** db.system.name values that are caches rather than databases. */
const CACHE_SYSTEMS: ReadonlySet<string> = new Set(['redis', 'memcached', 'valkey', 'keydb', 'dragonfly', 'hazelcast', 'ignite']);
/** One object per system (records repeat systems; no allocation per request). */
const known = new Map<string, Datastore>();
const MAX_KNOWN = 256;

export function datastoreOf(r: RequestRecord): Datastore | undefined {
  const family = r.family;
  // HTTP and RPC peers are services (or external peers), not datastores.
  if (family === 'http' || family === 'rpc') return undefined;
  const system = r.detail.system ?? r.detail.protocol;
  const key = `${family}\0${system}`;
  let d = known.get(key);
  if (d === undefined) {
    d = { kind: family === 'messaging' ? 'broker' : CACHE_SYSTEMS.has(system) ? 'cache' : 'database', system };
    if (known.size < MAX_KNOWN) known.set(key, d);
  }
  return d;
}
