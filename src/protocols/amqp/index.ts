// AMQP 0-9-1 as RabbitMQ speaks it (port 5672). See README.md for what is emitted.
import type { DetectInput, ProtocolModule, Role } from '../module.js';
import { chainFrom } from './framing.js';
import { AmqpParser } from './parser.js';

export { AmqpParser, MESSAGING_SYSTEM, MAX_CHANNELS, MAX_UNCONFIRMED, temporary } from './parser.js';
export { FrameFramer, FrameType, FRAME_END, PREFIX_CAP, chainFrom } from './framing.js';
export { replyError } from './methods.js';

export const AMQP_PORT = 5672;
const HEADER = [0x41, 0x4d, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]; // "AMQP\0\0\x09\x01"

/** connection.start (class 10, method 10) on channel 0: the broker's greeting. */
function isConnectionStart(b: Uint8Array): boolean {
  return b.length >= 11 && b[0] === 1 && b[1] === 0 && b[2] === 0 && b[7] === 0 && b[8] === 10 && b[9] === 0 && b[10] === 10;
}

export function detectAmqp({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const b = chunk.head;
  const out = chunk.direction === 'out';
  if (b.length >= 8 && HEADER.every((c, i) => b[i] === c)) return out ? 'client' : 'server';
  if (isConnectionStart(b) && chainFrom(b, 0, true)) return out ? 'server' : 'client';
  // Joined midway: well-formed frames on the AMQP port.
  const role: Role | undefined = remotePort === AMQP_PORT ? 'client' : localPort === AMQP_PORT ? 'server' : undefined;
  if (role === undefined || b.length < 8 || !chainFrom(b, 0, true)) return undefined;
  return role;
}

export const amqp: ProtocolModule = {
  name: 'amqp',
  ports: [AMQP_PORT],
  detect: detectAmqp,
  createParser: (role) => new AmqpParser(role),
};
