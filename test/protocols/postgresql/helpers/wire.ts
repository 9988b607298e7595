// Encoders for PostgreSQL v3 messages, for tests that need bytes no real
// client sends on demand (fuzzing, holes at chosen places).

export function msg(type: string, ...parts: (Buffer | string | number[])[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p + '\0') : Array.isArray(p) ? Buffer.from(p) : p)));
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export function startup(params: Record<string, string>): Buffer {
  const body = Buffer.concat([i32(196608), ...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])]);
  return Buffer.concat([i32(body.length + 4), body]);
}

export const sslRequest = (): Buffer => Buffer.concat([i32(8), i32(80877103)]);
export const query = (sql: string): Buffer => msg('Q', sql);
export const parse = (name: string, sql: string): Buffer => msg('P', name, sql, i16(0));
export const bind = (portal: string, stmt: string, values: string[] = []): Buffer =>
  msg('B', portal, stmt, i16(0), i16(values.length), ...values.flatMap((v) => [i32(Buffer.byteLength(v)), Buffer.from(v)]), i16(0));
export const describePortal = (portal = ''): Buffer => msg('D', 'P' + portal);
export const execute = (portal = ''): Buffer => msg('E', portal, i32(0));
export const sync = (): Buffer => msg('S');
export const password = (secret: string): Buffer => msg('p', secret);

export const authOk = (): Buffer => msg('R', i32(0));
export const ready = (status = 'I'): Buffer => msg('Z', [status.charCodeAt(0)]);
export const rowDescription = (): Buffer => msg('T', i16(1), 'x', i32(0), i16(0), i32(23), i16(4), i32(-1), i16(0));
export const dataRow = (value: string): Buffer => msg('D', i16(1), i32(Buffer.byteLength(value)), Buffer.from(value));
export const commandComplete = (tag: string): Buffer => msg('C', tag);
export const errorResponse = (code: string, text: string): Buffer => msg('E', 'SERROR', 'VERROR', 'C' + code, 'M' + text, '');
export const parseComplete = (): Buffer => msg('1');
export const bindComplete = (): Buffer => msg('2');

/** A conversation: [who wrote it, bytes] in order. */
export type Script = ['client' | 'server', Buffer][];

/** Startup, a simple SELECT with rows, an extended INSERT, a failing query: 3 operations. */
export function sampleConversation(rows = 3): Script {
  return [
    ['client', sslRequest()],
    ['server', Buffer.from('N')],
    ['client', startup({ user: 'u', database: 'shop', password: 'never-sent-like-this' })],
    ['server', msg('R', i32(3))],
    ['client', password('pw-secret')],
    ['server', Buffer.concat([authOk(), msg('S', 'server_version', '15'), msg('K', i32(1), i32(2)), ready()])],
    ['client', query("SELECT x FROM orders WHERE note = 'lit-secret'")],
    ['server', Buffer.concat([rowDescription(), ...Array.from({ length: rows }, (_, i) => dataRow(`row-${i}`)), commandComplete(`SELECT ${rows}`), ready()])],
    ['client', Buffer.concat([parse('', 'INSERT INTO orders VALUES ($1)'), bind('', '', ['val-secret']), describePortal(), execute(), sync()])],
    ['server', Buffer.concat([parseComplete(), bindComplete(), msg('n'), commandComplete('INSERT 0 1'), ready()])],
    ['client', query('SELECT * FROM nowhere')],
    ['server', Buffer.concat([errorResponse('42P01', 'relation "nowhere" does not exist'), ready()])],
  ];
}
