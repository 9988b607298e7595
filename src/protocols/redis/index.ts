// Redis (RESP2 and RESP3), client and server side. See README.md.
import type { ProtocolModule } from '../module.js';
import { detectRedis, REDIS_PORTS } from './detect.js';
import { RedisParser } from './parser.js';

export const redis: ProtocolModule = {
  name: 'redis',
  ports: REDIS_PORTS,
  detect: detectRedis,
  createParser: (role) => new RedisParser(role),
};

export { RedisParser } from './parser.js';
export { detectRedis } from './detect.js';
