// Memcached's text protocol (classic and meta commands), client and server side. See README.md.
import type { ProtocolModule } from '../module.js';
import { detectMemcached, MEMCACHED_PORTS } from './detect.js';
import { MemcachedParser } from './parser.js';

export const memcached: ProtocolModule = {
  name: 'memcached',
  ports: MEMCACHED_PORTS,
  detect: detectMemcached,
  createParser: (role) => new MemcachedParser(role),
};

export { MemcachedParser } from './parser.js';
