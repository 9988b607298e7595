// AMQP 0-9-1 method ids, reply codes and argument readers (bounds-checked:
// a read past the kept bytes gives undefined, never a throw).

export const M = {
  CONNECTION_CLOSE: 0x000a0032, // 10.50
  CHANNEL_OPEN: 0x0014000a, // 20.10
  CHANNEL_CLOSE: 0x00140028, // 20.40
  CHANNEL_CLOSE_OK: 0x00140029, // 20.41
  BASIC_CONSUME: 0x003c0014, // 60.20
  BASIC_PUBLISH: 0x003c0028, // 60.40
  BASIC_RETURN: 0x003c0032, // 60.50
  BASIC_DELIVER: 0x003c003c, // 60.60
  BASIC_GET: 0x003c0046, // 60.70
  BASIC_GET_OK: 0x003c0047, // 60.71
  BASIC_GET_EMPTY: 0x003c0048, // 60.72
  BASIC_ACK: 0x003c0050, // 60.80
  BASIC_NACK: 0x003c0078, // 60.120
  CONFIRM_SELECT: 0x0055000a, // 85.10
} as const;

/** Synchronous requests with their -ok, as operations without messaging.operation.type. */
export const SYNC_REQUESTS: ReadonlyMap<number, { name: string; ok: number }> = new Map([
  [0x0028000a, { name: 'exchange.declare', ok: 0x0028000b }],
  [0x00280014, { name: 'exchange.delete', ok: 0x00280015 }],
  [0x0028001e, { name: 'exchange.bind', ok: 0x0028001f }],
  [0x00280028, { name: 'exchange.unbind', ok: 0x00280033 }],
  [0x0032000a, { name: 'queue.declare', ok: 0x0032000b }],
  [0x00320014, { name: 'queue.bind', ok: 0x00320015 }],
  [0x0032001e, { name: 'queue.purge', ok: 0x0032001f }],
  [0x00320028, { name: 'queue.delete', ok: 0x00320029 }],
  [0x00320032, { name: 'queue.unbind', ok: 0x00320033 }],
  [0x003c0014, { name: 'basic.consume', ok: 0x003c0015 }],
]);

/** AMQP reply codes as error.type. */
const REPLY_CODES: Record<number, string> = {
  311: 'content_too_large',
  312: 'no_route',
  313: 'no_consumers',
  320: 'connection_forced',
  402: 'invalid_path',
  403: 'access_refused',
  404: 'not_found',
  405: 'resource_locked',
  406: 'precondition_failed',
  501: 'frame_error',
  502: 'syntax_error',
  503: 'command_invalid',
  504: 'channel_error',
  505: 'unexpected_frame',
  506: 'resource_error',
  530: 'not_allowed',
  540: 'not_implemented',
  541: 'internal_error',
};

export function replyError(code: number): string | undefined {
  if (code === 200) return undefined;
  return REPLY_CODES[code] ?? `reply_${code}`;
}

/** A cursor over a method's kept argument bytes. */
export class Args {
  at = 0;
  constructor(private readonly b: Uint8Array) {}

  u8(): number | undefined {
    return this.at < this.b.length ? this.b[this.at++] : undefined;
  }

  u16(): number | undefined {
    if (this.at + 2 > this.b.length) return undefined;
    const v = (this.b[this.at]! << 8) | this.b[this.at + 1]!;
    this.at += 2;
    return v;
  }

  u32(): number | undefined {
    if (this.at + 4 > this.b.length) return undefined;
    const b = this.b;
    const v = ((b[this.at]! << 24) >>> 0) + (b[this.at + 1]! << 16) + (b[this.at + 2]! << 8) + b[this.at + 3]!;
    this.at += 4;
    return v;
  }

  u64(): number | undefined {
    const hi = this.u32();
    const lo = this.u32();
    return hi === undefined || lo === undefined ? undefined : hi * 2 ** 32 + lo;
  }

  shortstr(): string | undefined {
    const n = this.u8();
    if (n === undefined || this.at + n > this.b.length) return undefined;
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.at, n).toString('utf8');
    this.at += n;
    return s;
  }

  skip(n: number): void {
    this.at += n;
  }
}
