// MySQL and MariaDB (client/server protocol 10): detection and the module.
// See README.md for what is emitted from each side and why.
import type { DetectInput, ProtocolModule, Role } from '../module.js';
import { parseGreeting } from './handshake.js';
import { MysqlParser, looksLikeBareSql, looksLikeCommand, startsWithSql } from './parser.js';

export const MYSQL_PORTS = [3306] as const;

/** A response's first packet as a client reads it midway: a length that fits, a sequence id > 0, an OK/ERR/EOF or column-count byte. */
function looksLikeResponse(head: Uint8Array, bytes: number): boolean {
  if (head.length < 5) return false;
  const len = head[0]! | (head[1]! << 8) | (head[2]! << 16);
  if (len < 1 || len + 4 > bytes || head[3] === 0) return false;
  const h = head[4]!;
  if (h === 0xff) return len >= 3;
  if (h === 0x00 || h === 0xfe) return len >= 5 && len < 64;
  return h < 0xfb && len <= 9; // a column count
}

/** A chunk that is exactly one COM_QUERY or COM_STMT_PREPARE packet (sequence 0) of SQL text. */
function looksLikeSqlCommand(head: Uint8Array, bytes: number): boolean {
  if (head.length < 10 || head[3] !== 0 || (head[4] !== 0x03 && head[4] !== 0x16)) return false;
  const len = head[0]! | (head[1]! << 8) | (head[2]! << 16);
  return len + 4 === bytes && startsWithSql(head.subarray(5));
}

function isGreetingChunk(head: Uint8Array, bytes: number): boolean {
  if (head.length < 5 || head[3] !== 0) return false;
  const len = head[0]! | (head[1]! << 8) | (head[2]! << 16);
  if (len < 20 || len > 1024 || len + 4 > bytes) return false;
  return parseGreeting(head.subarray(4, 4 + len)) !== undefined;
}

export function detectMysql({ chunk, localPort, remotePort }: DetectInput): Role | undefined {
  const { head, bytes, direction } = chunk;
  // The server speaks first: its greeting read → the watched process is the client; written → the server.
  if (isGreetingChunk(head, bytes)) return direction === 'in' ? 'client' : 'server';
  // A client that reads the greeting's header and its payload apart: the payload alone.
  if (direction === 'in' && head[0] === 0x0a && head.length === bytes && parseGreeting(head) !== undefined) return 'client';
  // Joined midway, any port: one whole COM_QUERY/COM_STMT_PREPARE whose text starts with an SQL keyword.
  if (looksLikeSqlCommand(head, bytes)) return direction === 'out' ? 'client' : 'server';
  // A server that reads each packet's header and payload apart (MariaDB's does) reads such a payload alone.
  if (direction === 'in' && looksLikeBareSql(head, bytes)) return 'server';
  // Joined midway: other packet shapes, only on MySQL's port.
  const serverIsRemote = MYSQL_PORTS.includes(remotePort as 3306);
  const serverIsLocal = MYSQL_PORTS.includes(localPort as 3306);
  if (!serverIsRemote && !serverIsLocal) return undefined;
  if (looksLikeCommand(head, bytes)) {
    if (direction === 'out' && serverIsRemote) return 'client';
    if (direction === 'in' && serverIsLocal) return 'server';
  }
  if (looksLikeResponse(head, bytes)) {
    if (direction === 'in' && serverIsRemote) return 'client';
    if (direction === 'out' && serverIsLocal) return 'server';
  }
  return undefined;
}

export const mysqlModule: ProtocolModule = {
  name: 'mysql',
  ports: MYSQL_PORTS,
  detect: (input) => {
    try {
      return detectMysql(input);
    } catch {
      return undefined;
    }
  },
  createParser: (role) => new MysqlParser(role),
};
