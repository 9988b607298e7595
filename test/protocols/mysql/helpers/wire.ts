// Builds MySQL protocol bytes for tests that need shapes a real server is slow
// or unable to produce on demand (16 MB packets, either CLIENT_DEPRECATE_EOF
// mode, hundreds of prepared statements, random conversations for the fuzz
// test). Real-traffic tests live in cli.test.ts and mysql2.test.ts.
import type { RecordedChunk } from '../../helpers/record-proxy.js';

export const CAPS_BASE = 0x0000_0200 | 0x0000_8000 | 0x0002_0000 | 0x0001_0000 | 0x0020_0000 | 0x0008_0000; // 41, secure, multi results/statements, lenenc auth, plugin auth
export const CLIENT_DEPRECATE_EOF = 0x0100_0000;
export const CLIENT_CONNECT_WITH_DB = 0x8;

export function packet(seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq & 0xff;
  return Buffer.concat([h, payload]);
}

/** A payload as packets, split at 0xffffff bytes (with the empty trailer when it is an exact multiple). */
export function packets(seq: number, payload: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const part = payload.subarray(i, i + 0xffffff);
    out.push(packet(seq++, part));
    i += part.length;
    if (part.length < 0xffffff) break;
  }
  return Buffer.concat(out);
}

function lenenc(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}
function lenencStr(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([lenenc(b.length), b]);
}

export function greeting(version: string, caps: number): Buffer {
  const b = Buffer.concat([
    Buffer.from([0x0a]), Buffer.from(version + '\0'), Buffer.from([1, 0, 0, 0]), Buffer.from('abcdefgh'), Buffer.from([0]),
    Buffer.from([caps & 0xff, (caps >> 8) & 0xff, 33, 2, 0, (caps >> 16) & 0xff, (caps >>> 24) & 0xff, 21]),
    Buffer.alloc(10), Buffer.from('ijklmnopqrst\0'), Buffer.from('mysql_native_password\0'),
  ]);
  return packet(0, b);
}

export function handshakeResponse(caps: number, user: string, auth: Buffer, db?: string): Buffer {
  const c = Buffer.alloc(32);
  c.writeUInt32LE((db ? caps | CLIENT_CONNECT_WITH_DB : caps) >>> 0, 0);
  c.writeUInt32LE(0x1000000, 4);
  c[8] = 33;
  const parts = [c, Buffer.from(user + '\0'), lenencStr(auth)];
  if (db) parts.push(Buffer.from(db + '\0'));
  parts.push(Buffer.from('mysql_native_password\0'));
  return packet(1, Buffer.concat(parts));
}

export function ok(seq: number, status = 2, header = 0x00, affected = 0): Buffer {
  return packet(seq, Buffer.concat([Buffer.from([header]), lenenc(affected), lenenc(0), Buffer.from([status & 0xff, status >> 8, 0, 0])]));
}
export function eof(seq: number, status = 2): Buffer {
  return packet(seq, Buffer.from([0xfe, 0, 0, status & 0xff, status >> 8]));
}
export function err(seq: number, code: number, state = '42S02', message = 'no'): Buffer {
  const b = Buffer.concat([Buffer.from([0xff, code & 0xff, code >> 8]), Buffer.from('#' + state + message)]);
  return packet(seq, b);
}
export function command(cmd: number, body: Buffer | string = Buffer.alloc(0)): Buffer {
  return packets(0, Buffer.concat([Buffer.from([cmd]), typeof body === 'string' ? Buffer.from(body) : body]));
}
export function columnDef(seq: number, name: string): Buffer {
  return packet(seq, Buffer.concat([lenencStr('def'), lenencStr('db'), lenencStr('t'), lenencStr('t'), lenencStr(name), lenencStr(name), Buffer.from([0x0c, 33, 0, 255, 0, 0, 0, 253, 0, 0, 0, 0, 0])]));
}

/**
 * A text result set (the whole response to a COM_QUERY) with `rows` rows of
 * `columns` values each; `more`: SERVER_MORE_RESULTS_EXISTS on its terminator.
 */
export function resultSet(seq: number, columns: number, rows: (string | Buffer)[][], deprecateEof: boolean, more = false): { bytes: Buffer; seq: number } {
  const out: Buffer[] = [packet(seq++, lenenc(columns))];
  for (let i = 0; i < columns; i++) out.push(columnDef(seq++, `c${i}`));
  if (!deprecateEof) out.push(eof(seq++));
  for (const r of rows) {
    const payload = Buffer.concat(r.map(lenencStr));
    out.push(packets(seq, payload));
    seq += Math.floor(payload.length / 0xffffff) + 1;
  }
  const status = more ? 0x000a : 0x0002;
  out.push(deprecateEof ? ok(seq++, status, 0xfe) : eof(seq++, status));
  return { bytes: Buffer.concat(out), seq };
}

export function prepareOk(seq: number, id: number, columns: number, params: number, deprecateEof: boolean): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(id, 1);
  b.writeUInt16LE(columns, 5);
  b.writeUInt16LE(params, 7);
  const out = [packet(seq++, b)];
  for (let i = 0; i < params; i++) out.push(columnDef(seq++, '?'));
  if (params > 0 && !deprecateEof) out.push(eof(seq++));
  for (let i = 0; i < columns; i++) out.push(columnDef(seq++, `c${i}`));
  if (columns > 0 && !deprecateEof) out.push(eof(seq++));
  return Buffer.concat(out);
}

export function execute(id: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0x17;
  b.writeUInt32LE(id, 1);
  b.writeUInt32LE(1, 6);
  return packet(0, b);
}

/** A conversation as recorded chunks: each send is one chunk of the sender's. */
export class Conversation {
  readonly chunks: RecordedChunk[] = [];
  private t = 1_000_000;
  client(...parts: Buffer[]): this {
    return this.add('client', parts);
  }
  server(...parts: Buffer[]): this {
    return this.add('server', parts);
  }
  private add(from: 'client' | 'server', parts: Buffer[]): this {
    this.t += 1000;
    this.chunks.push({ from, connection: 0, data: Buffer.concat(parts), timeNs: this.t });
    return this;
  }
}

/** The connection phase: greeting, HandshakeResponse (with `db`), OK. */
export function connect(conv: Conversation, deprecateEof: boolean, db?: string, version = '8.0.36'): Conversation {
  const caps = CAPS_BASE | (deprecateEof ? CLIENT_DEPRECATE_EOF : 0) | CLIENT_CONNECT_WITH_DB;
  return conv
    .server(greeting(version, caps))
    .client(handshakeResponse(CAPS_BASE | (deprecateEof ? CLIENT_DEPRECATE_EOF : 0), 'alice', Buffer.from('hunter2-scrambled-20b'), db))
    .server(ok(2));
}
