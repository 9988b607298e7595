// Command bytes of the command phase, how each one's response is shaped, and
// the reading of the packets that end a response (OK, EOF, ERR).
import { lenenc, u16 } from './packets.js';

export const COM_QUIT = 0x01;
export const COM_INIT_DB = 0x02;
export const COM_QUERY = 0x03;
export const COM_FIELD_LIST = 0x04;
export const COM_STATISTICS = 0x09;
export const COM_PING = 0x0e;
export const COM_CHANGE_USER = 0x11;
export const COM_BINLOG_DUMP = 0x12;
export const COM_STMT_PREPARE = 0x16;
export const COM_STMT_EXECUTE = 0x17;
export const COM_STMT_SEND_LONG_DATA = 0x18;
export const COM_STMT_CLOSE = 0x19;
export const COM_STMT_RESET = 0x1a;
export const COM_STMT_FETCH = 0x1c;
export const COM_RESET_CONNECTION = 0x1f;
export const COM_BINLOG_DUMP_GTID = 0x1e;
export const COM_STMT_BULK_EXECUTE = 0xfa; // MariaDB

/** The protocol's own command names (db.operation.name of commands that carry no SQL). */
const NAMES: Record<number, string> = {
  0x00: 'COM_SLEEP',
  0x01: 'COM_QUIT',
  0x02: 'COM_INIT_DB',
  0x03: 'COM_QUERY',
  0x04: 'COM_FIELD_LIST',
  0x05: 'COM_CREATE_DB',
  0x06: 'COM_DROP_DB',
  0x07: 'COM_REFRESH',
  0x08: 'COM_SHUTDOWN',
  0x09: 'COM_STATISTICS',
  0x0a: 'COM_PROCESS_INFO',
  0x0b: 'COM_CONNECT',
  0x0c: 'COM_PROCESS_KILL',
  0x0d: 'COM_DEBUG',
  0x0e: 'COM_PING',
  0x0f: 'COM_TIME',
  0x10: 'COM_DELAYED_INSERT',
  0x11: 'COM_CHANGE_USER',
  0x12: 'COM_BINLOG_DUMP',
  0x13: 'COM_TABLE_DUMP',
  0x14: 'COM_CONNECT_OUT',
  0x15: 'COM_REGISTER_SLAVE',
  0x16: 'COM_STMT_PREPARE',
  0x17: 'COM_STMT_EXECUTE',
  0x18: 'COM_STMT_SEND_LONG_DATA',
  0x19: 'COM_STMT_CLOSE',
  0x1a: 'COM_STMT_RESET',
  0x1b: 'COM_SET_OPTION',
  0x1c: 'COM_STMT_FETCH',
  0x1d: 'COM_DAEMON',
  0x1e: 'COM_BINLOG_DUMP_GTID',
  0x1f: 'COM_RESET_CONNECTION',
  0xfa: 'COM_STMT_BULK_EXECUTE',
};

export function commandName(cmd: number): string | undefined {
  return NAMES[cmd];
}

/** Commands the server does not answer. */
export function hasResponse(cmd: number): boolean {
  return cmd !== COM_QUIT && cmd !== COM_STMT_CLOSE && cmd !== COM_STMT_SEND_LONG_DATA;
}

export const SERVER_MORE_RESULTS_EXISTS = 0x0008;
export const SERVER_STATUS_CURSOR_EXISTS = 0x0040;

/** An ERR packet's numeric code (db.response.status_code), when captured. */
export function errorCode(p: Uint8Array): number | undefined {
  return p[0] === 0xff ? u16(p, 1) : undefined;
}

/** Server status flags of an OK packet (0x00 or 0xfe header) or an EOF packet; undefined when cut. */
export function statusFlags(p: Uint8Array, length: number): number | undefined {
  if (p[0] === 0xfe && length < 7) return u16(p, 3); // EOF: fe, warnings(2), status(2)
  const affected = lenenc(p, 1);
  if (!affected) return undefined;
  const lastId = lenenc(p, 1 + affected.size);
  if (!lastId) return undefined;
  return u16(p, 1 + affected.size + lastId.size);
}

export type Terminator = { kind: 'ok'; status: number } | { kind: 'err'; code: number };

/**
 * The packet that ends `view` exactly, when it is a response's last packet (an
 * EOF, an OK or an ERR): how a response is found again after framing was lost,
 * since the kernel's tail holds a run's last bytes.
 */
export function terminatorAtEnd(view: Uint8Array): Terminator | undefined {
  const n = view.length;
  // EOF: 05 00 00 seq fe warnings(2) status(2)
  if (n >= 9 && view[n - 9] === 5 && view[n - 8] === 0 && view[n - 7] === 0 && view[n - 5] === 0xfe) {
    return { kind: 'ok', status: view[n - 2]! | (view[n - 1]! << 8) };
  }
  // OK (fe/00 header) or ERR: a header whose length reaches the end exactly.
  for (let p = n - 4 - 7; p >= 0 && p >= n - 4 - 512; p--) {
    const len = view[p]! | (view[p + 1]! << 8) | (view[p + 2]! << 16);
    if (p + 4 + len !== n) continue;
    const payload = view.subarray(p + 4);
    const h = payload[0];
    if (h === 0xff) {
      const code = payload[1]! | (payload[2]! << 8);
      // 0xffff: MariaDB's progress report, not an end.
      if (len >= 9 && payload[3] === 0x23 && code !== 0xffff) return { kind: 'err', code };
      continue;
    }
    if ((h === 0xfe || h === 0x00) && len < 64) {
      const status = statusFlags(payload, len);
      const a = lenenc(payload, 1);
      const b = a && lenenc(payload, 1 + a.size);
      // warnings(2) must fit: header, two lenencs, status(2), warnings(2).
      if (status !== undefined && a && b && 1 + a.size + b.size + 4 <= len) return { kind: 'ok', status };
    }
  }
  return undefined;
}
