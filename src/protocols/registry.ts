// Every protocol module the stream platform knows, in detection order (the
// most specific first). Adding a protocol: its folder under src/protocols/ and
// one line here.
import { amqp } from './amqp/index.js';
import { http2 } from './http2/index.js';
import { memcached } from './memcached/index.js';
import type { ProtocolModule } from './module.js';
import { mqtt } from './mqtt/index.js';
import { mysqlModule } from './mysql/index.js';
import { nats } from './nats/index.js';
import { postgresql } from './postgresql/index.js';
import { redis } from './redis/index.js';

export const PROTOCOL_MODULES: readonly ProtocolModule[] = [
  postgresql,
  mysqlModule,
  redis,
  memcached,
  nats,
  mqtt,
  amqp,
  // Last: its midway detection reads frame headers, the least specific signature.
  http2,
];
