// Synthetic Exchanges and identities for telemetry and exporter tests: the
// capture contract filled in by hand, with realistic timestamps.
import type { Exchange } from '../../../src/capture/exchange.js';
import type { ServiceIdentity } from '../../../src/telemetry/index.js';

export function identity(name = 'shop', over: Partial<ServiceIdentity> = {}): ServiceIdentity {
  const pid = over.pid ?? 4242;
  return { name, instanceId: `${name}-${pid}`, pid, executableName: 'python3', ...over };
}

let connection = 0;

export interface ExchangeInput extends Partial<Omit<Exchange, 'request' | 'response'>> {
  request: string | Buffer;
  response?: string | Buffer;
  /** Duration from first request byte to last response byte. Default 2 ms. */
  durationNs?: number;
}

/** A server exchange by default: 127.0.0.1:8080 ← 127.0.0.1:50000. */
export function exchange(input: ExchangeInput): Exchange {
  const { request, response = '', durationNs = 2_000_000, ...over } = input;
  const req = typeof request === 'string' ? Buffer.from(request, 'latin1') : request;
  const res = typeof response === 'string' ? Buffer.from(response, 'latin1') : response;
  const start = Number(process.hrtime.bigint()) - durationNs - 1_000_000;
  return {
    pid: 4242,
    tid: 4242,
    role: 'server',
    local: { address: '127.0.0.1', port: 8080 },
    remote: { address: '127.0.0.1', port: 50000 },
    requestStartNs: start,
    requestEndNs: start + 10_000,
    responseStartNs: start + durationNs - 10_000,
    responseEndNs: start + durationNs,
    request: req,
    response: res,
    requestBytes: req.length,
    responseBytes: res.length,
    protocol: 'http1',
    connectionId: `c${++connection}`,
    ...over,
  };
}

export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok';

export function get(path: string, headers = 'Host: shop.local:8080\r\n'): string {
  return `GET ${path} HTTP/1.1\r\n${headers}\r\n`;
}

export function response(status: number, body = ''): string {
  return `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}
