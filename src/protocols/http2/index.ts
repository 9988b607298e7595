// HTTP/2 (h2c, and TLS plaintext from the same stream path) and gRPC over it,
// client and server side. See README.md.
import type { ProtocolModule } from '../module.js';
import { detectHttp2, HTTP2_PORTS } from './detect.js';
import { Http2Parser } from './parser.js';

export const http2: ProtocolModule = {
  name: 'http2',
  ports: HTTP2_PORTS,
  detect: detectHttp2,
  createParser: (role) => new Http2Parser(role),
};

export { Http2Parser, type Http2Stats } from './parser.js';
export { detectHttp2 } from './detect.js';
export { HpackDecoder } from './hpack.js';
