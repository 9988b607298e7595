// NATS client protocol (text, port 4222). See README.md for what is emitted.
import type { DetectInput, ProtocolModule, Role } from '../module.js';
import { startsWithVerb } from './lines.js';
import { NatsParser } from './parser.js';

export { NatsParser, destination, errorClass, MESSAGING_SYSTEM, MAX_PENDING } from './parser.js';
export { LineFramer, MAX_LINE, startsWithVerb } from './lines.js';

export const NATS_PORT = 4222;

function startsWith(bytes: Uint8Array, text: string): boolean {
  if (bytes.length < text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = bytes[i]!;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** Verbs only a client sends, and only a server sends (joined midway). */
const CLIENT_VERBS = ['PUB ', 'HPUB ', 'SUB ', 'UNSUB '];
const SERVER_VERBS = ['MSG ', 'HMSG ', '+OK\r\n', '-ERR '];

export function detectNats({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const b = chunk.head;
  const out = chunk.direction === 'out';
  // The server speaks first: INFO {json}; the client answers CONNECT {json}.
  if (startsWith(b, 'INFO {')) return out ? 'server' : 'client';
  if (startsWith(b, 'CONNECT {')) return out ? 'client' : 'server';
  // Joined midway: a verb of the right side, on the NATS port.
  const clientPort = remotePort === NATS_PORT;
  const serverPort = localPort === NATS_PORT;
  if (!clientPort && !serverPort) return undefined;
  if (!startsWithVerb(b)) return undefined;
  const byClient = CLIENT_VERBS.some((v) => startsWith(b, v));
  const byServer = SERVER_VERBS.some((v) => startsWith(b, v));
  if (!byClient && !byServer) return undefined; // PING/PONG alone: either side
  const role: Role = (byClient === out) ? 'client' : 'server';
  if ((role === 'client' && !clientPort) || (role === 'server' && !serverPort)) return undefined;
  return role;
}

export const nats: ProtocolModule = {
  name: 'nats',
  ports: [NATS_PORT],
  detect: detectNats,
  createParser: (role) => new NatsParser(role),
};
