// MQTT 3.1, 3.1.1 and 5 (port 1883). See README.md for what is emitted.
import type { DetectInput, ProtocolModule, Role } from '../module.js';
import { PacketType, chainFrom, readHeader } from './framing.js';
import { MqttParser } from './parser.js';

export { MqttParser, MESSAGING_SYSTEM, MAX_PENDING, MAX_ALIASES } from './parser.js';
export { PacketFramer, PacketType, PREFIX_CAP, chainFrom, readHeader } from './framing.js';
export { connackError, reasonError } from './codes.js';

export const MQTT_PORT = 1883;

/** A CONNECT: fixed header 0x10, then the protocol name "MQTT" (4, 5) or "MQIsdp" (3). */
function isConnect(b: Uint8Array): boolean {
  const h = readHeader(b, 0);
  if (h === undefined || h === 'short' || h.type !== PacketType.CONNECT) return false;
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1', h.size, h.size + 9);
  return s.startsWith('\x00\x04MQTT') || s.startsWith('\x00\x06MQIsdp');
}

export function detectMqtt({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const out = chunk.direction === 'out';
  if (isConnect(chunk.head)) return out ? 'client' : 'server';
  // On the MQTT port: well-formed packets, or the start of one. mqtt.js writes
  // a CONNECT as one writev of ~10 iovecs (0x10, the length, "\0\x04", "MQTT",
  // …) which the kernel streams as ~10 chunks: none is recognisable alone, so
  // off this port such a client is not detected. Joined midway, likewise.
  const role: Role | undefined = remotePort === MQTT_PORT ? 'client' : localPort === MQTT_PORT ? 'server' : undefined;
  if (role === undefined || chunk.head.length === 0 || !chainFrom(chunk.head, 0, true)) return undefined;
  return role;
}

export const mqtt: ProtocolModule = {
  name: 'mqtt',
  ports: [MQTT_PORT],
  detect: detectMqtt,
  createParser: (role) => new MqttParser(role),
};
