// PostgreSQL v3 wire protocol: detection and the per-connection parser.
// See README.md for what is emitted from each side and why.
import type { DetectInput, ProtocolModule, Role } from '../module.js';
import { chains, startupCode } from './framer.js';
import { PostgresParser } from './parser.js';

export { describeSql, parseCommandTag, tokenize, type StatementInfo } from './sql.js';
export { PostgresParser } from './parser.js';

const PORT = 5432;
const FRONTEND_FIRST = new Set(['Q', 'P', 'B', 'E', 'S', 'D', 'C', 'X', 'H'].map((c) => c.charCodeAt(0)));
const BACKEND_FIRST = new Set(['T', 'D', 'C', 'Z', 'E', '1', '2', 'n', 'N', 'I', 'S'].map((c) => c.charCodeAt(0)));

/**
 * The connection's first chunk: an untyped startup-phase message (StartupMessage
 * with protocol 3.0, SSLRequest, CancelRequest, GSSENCRequest) from any port; or,
 * joined midway, a chain of well-formed frontend (or backend) messages when one
 * end is port 5432: message shapes alone are too weak a signal on any port.
 */
export function detectPostgres(input: DetectInput): Role | undefined {
  const { chunk, localPort, remotePort } = input;
  const head = chunk.head;
  const out = chunk.direction === 'out';
  // Whoever writes frontend messages is the client.
  if (startupCode(head) !== 0) return out ? 'client' : 'server';
  if (head.length < 5) return undefined;
  const whole = chunk.tail.length === 0 && head.length === chunk.bytes;
  // Frontend bytes go to the server's port; backend bytes come from it.
  if ((out ? remotePort : localPort) === PORT && FRONTEND_FIRST.has(head[0] as number) && chains('frontend', head, 0, head.length, whole)) {
    return out ? 'client' : 'server';
  }
  if ((out ? localPort : remotePort) === PORT && BACKEND_FIRST.has(head[0] as number) && chains('backend', head, 0, head.length, whole)) {
    return out ? 'server' : 'client';
  }
  return undefined;
}

export const postgresql: ProtocolModule = {
  name: 'postgresql',
  ports: [PORT],
  detect: detectPostgres,
  createParser: (role: Role) => new PostgresParser(role),
};
