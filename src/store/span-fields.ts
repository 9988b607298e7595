// What the store reads from a span's semantic-convention attributes: its side
// (incoming/outgoing), operation, peer and the endpoints used to join the two
// ends of a call on the service map.
import type { RequestRecord } from '../telemetry/request-record.js';
import type { AttributeValue, Span, SpanKind } from '../telemetry/span.js';
import type { Side } from './views.js';

export type { Side };

/** Incoming work (server, consumer) or outgoing calls (client, producer); internal spans have no side. */
export function sideOf(span: { kind: SpanKind }): Side | undefined {
  switch (span.kind) {
    case 'server':
    case 'consumer':
      return 'server';
    case 'client':
    case 'producer':
      return 'client';
    default:
      return undefined;
  }
}

export function str(v: AttributeValue | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  return String(v);
}

export function num(v: AttributeValue | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export interface Endpoint {
  address: string;
  port: number | undefined;
}

export interface ClientTarget {
  peer: Endpoint | undefined;
  /** server.address as the client named it (host name or address). */
  host: string | undefined;
}

/** Where a client span went: the socket peer when known, else server.address/port. */
export function clientTarget(span: Span): ClientTarget {
  const a = span.attributes;
  const peerAddr = str(a['network.peer.address']);
  const serverAddr = str(a['server.address']);
  const port = num(a['network.peer.port']) ?? num(a['server.port']);
  const address = peerAddr ?? serverAddr;
  return { peer: address === undefined ? undefined : { address, port }, host: serverAddr };
}

/** The local listening endpoint of a server span (the port callers connect to). */
export function serverLocal(span: Span): Endpoint | undefined {
  const a = span.attributes;
  const port = num(a['network.local.port']) ?? num(a['server.port']);
  if (port === undefined) return undefined;
  return { address: str(a['network.local.address']) ?? '*', port };
}

/** Who called a server span: the socket peer (address and ephemeral port). */
export function serverCaller(span: Span): Endpoint | undefined {
  const a = span.attributes;
  const address = str(a['network.peer.address']) ?? str(a['client.address']);
  if (address === undefined) return undefined;
  return { address, port: num(a['network.peer.port']) ?? num(a['client.port']) };
}

export function durationNs(span: Span): number {
  const d = span.endTimeUnixNs - span.startTimeUnixNs;
  return d > 0 && Number.isFinite(d) ? d : 0;
}

export function isIpAddress(s: string): boolean {
  if (s.includes(':')) return true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 46 && (c < 48 || c > 57)) return false;
  }
  return s.length > 0;
}

/** A peer's label: host name when the client named one, else address; with the port. */
export function peerLabel(target: ClientTarget): string {
  const port = target.peer?.port;
  const name = target.host && !isIpAddress(target.host) ? target.host : target.peer?.address ?? target.host ?? 'unknown';
  const shown = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  return port === undefined ? shown : `${shown}:${port}`;
}

/** clientTarget() of a request. */
export function clientTargetOf(r: RequestRecord): ClientTarget {
  const serverAddr = r.serverAddress();
  const port = r.peerPort ?? r.serverPort();
  const address = r.peerAddress ?? serverAddr;
  return { peer: address === undefined ? undefined : { address, port }, host: serverAddr };
}

/** serverLocal() of a request. */
export function serverLocalOf(r: RequestRecord): Endpoint | undefined {
  const port = r.localPort ?? r.serverPort();
  if (port === undefined) return undefined;
  return { address: r.localAddress ?? '*', port };
}

/** serverCaller() of a request. */
export function serverCallerOf(r: RequestRecord): Endpoint | undefined {
  return r.peerAddress === undefined ? undefined : { address: r.peerAddress, port: r.peerPort };
}
