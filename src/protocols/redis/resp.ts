// A streaming RESP2/RESP3 decoder for one direction of a connection. It frames
// top-level values (commands or replies) across chunks and across the holes a
// capture leaves in long chunks, keeping only what the module needs: the
// value's type, the first few words of a top-level array, a scalar's first
// bytes and the errors among a top-level array's elements. Everything else
// (values, keys, payloads) is skipped by length, never copied.
//
// Holes: a bulk string whose payload runs into a hole is skipped by its
// declared length. When a hole swallows a type line (an aggregate's elements,
// the next command), framing is lost: the decoder says so (onLost) and ignores
// bytes until the caller resynchronises it at a chunk that starts a value.

/** Longest line carried across chunks (Redis' own inline limit is 64 KB; ours is a few KB). */
export const MAX_LINE = 4096;
/** Nesting depth of aggregates we follow. */
const MAX_DEPTH = 32;
/** Words kept of a top-level array (command + subcommand + one argument). */
export const MAX_WORDS = 3;
/** Bytes kept of a word or scalar. */
const WORD_MAX = 64;
/** Errors remembered among a top-level array's elements (EXEC's reply). */
const MAX_CHILD_ERRORS = 256;
/** Largest bulk length (Redis' proto-max-bulk-len is 512 MB by default, configurable). */
const MAX_BULK = 2 ** 32;
const MAX_COUNT = 2 ** 31;

const CR = 13;
const LF = 10;

export const T = {
  simple: 0x2b, // +
  error: 0x2d, // -
  integer: 0x3a, // :
  bulk: 0x24, // $
  array: 0x2a, // *
  nil: 0x5f, // _
  double: 0x2c, // ,
  boolean: 0x23, // #
  blobError: 0x21, // !
  verbatim: 0x3d, // =
  bigNumber: 0x28, // (
  map: 0x25, // %
  set: 0x7e, // ~
  attribute: 0x7c, // |
  push: 0x3e, // >
} as const;

const SCALAR_LINE = new Set<number>([T.simple, T.error, T.integer, T.nil, T.double, T.boolean, T.bigNumber]);
const BLOB = new Set<number>([T.bulk, T.blobError, T.verbatim]);
const AGGREGATE = new Set<number>([T.array, T.map, T.set, T.attribute, T.push]);

export interface RespMessage {
  /** The top-level value's type byte (after any RESP3 attribute); 0 for an inline command. */
  type: number;
  /** Elements of a top-level aggregate (map: 2 per entry), -1 for a null, else 0. */
  count: number;
  /** The first MAX_WORDS elements of a top-level aggregate that are strings or integers (else ''), or an inline command's words. */
  words: string[];
  /** A top-level scalar's first bytes: simple string, error line, bulk/blob error content. */
  text: string;
  /** Errors among a top-level aggregate's direct elements: [index, error text head]. */
  childErrors: Array<[number, string]>;
  startNs: number;
  endNs: number;
}

function fresh(): RespMessage {
  return { type: 0, count: 0, words: [], text: '', childErrors: [], startNs: 0, endNs: 0 };
}

/** A strict decimal integer (optional '-') from bytes, or NaN. */
export function parseIntBytes(buf: Uint8Array, s: number, e: number): number {
  if (s >= e || e - s > 16) return NaN;
  let neg = false;
  if (buf[s] === 0x2d) {
    neg = true;
    s++;
    if (s >= e) return NaN;
  }
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/** Bytes [s, e) (at most WORD_MAX) as a latin1 string; short ones without a Buffer (the common case: command names, OK). */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  e = Math.min(e, s + WORD_MAX);
  if (e - s > 16) return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
  return out;
}

const enum Capture {
  None,
  Text,
  Word,
  ChildError,
}

export class RespDecoder {
  /** Framing is lost: bytes are ignored until resync(). */
  lost = false;
  /** Lines or values that did not parse (each loss of framing counts once). */
  unparsed = 0;

  private msg: RespMessage = fresh();
  private inMsg = false;
  // The aggregate stack: elements remaining, elements in all, whether a RESP3 attribute.
  private readonly remaining: number[] = [];
  private readonly total: number[] = [];
  private readonly attr: boolean[] = [];
  private depth = 0;
  private readonly carry = Buffer.alloc(MAX_LINE);
  private carryLen = 0;
  /** Bulk payload + CRLF still to skip. */
  private skip = 0;
  private capture = Capture.None;
  private capIndex = 0;
  private readonly cap = Buffer.alloc(WORD_MAX);
  private capLen = 0;
  private capWant = 0;

  /**
   * @param requests this direction carries commands (arrays of bulk strings, or inline commands)
   */
  constructor(
    private readonly requests: boolean,
    private readonly onMessage: (m: RespMessage) => void,
    private readonly onLost: (partial: RespMessage | undefined) => void,
  ) {}

  /** Whether a value is half-decoded (bytes carried, inside an aggregate or a bulk). */
  get midMessage(): boolean {
    return this.inMsg;
  }

  feed(data: Uint8Array, timeNs: number): void {
    const n = data.length;
    let i = 0;
    while (i < n && !this.lost) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        if (this.capture !== Capture.None && this.capLen < this.capWant) {
          const c = Math.min(take, this.capWant - this.capLen);
          for (let k = 0; k < c; k++) this.cap[this.capLen + k] = data[i + k]!;
          this.capLen += c;
        }
        this.skip -= take;
        i += take;
        if (this.skip === 0) this.blobDone(timeNs);
        continue;
      }
      if (!this.inMsg) {
        this.inMsg = true;
        this.msg.startNs = timeNs;
      }
      const nl = data.indexOf(LF, i);
      if (nl < 0) {
        this.append(data, i, n);
        return;
      }
      if (this.carryLen > 0) {
        if (!this.append(data, i, nl)) return;
        const len = this.carryLen;
        this.carryLen = 0;
        this.line(this.carry, 0, len, timeNs);
      } else {
        this.line(data, i, nl, timeNs);
      }
      i = nl + 1;
    }
  }

  /** `n` bytes were not captured: skip them if a bulk payload covers them, else framing is lost. */
  hole(n: number, timeNs: number): void {
    if (this.lost || n <= 0) return;
    if (this.skip >= n) {
      this.skip -= n;
      this.capWant = this.capLen; // a word cut by the hole stays as far as we saw it
      if (this.skip === 0) this.blobDone(timeNs);
      return;
    }
    this.loseFraming();
  }

  /**
   * Give up on the current value; bytes are ignored until resync(). `counted`:
   * false when chunks went missing (the platform counts those; nothing here was garbage).
   */
  loseFraming(counted = true): void {
    if (this.lost) return;
    const partial = this.inMsg ? this.msg : undefined;
    this.lost = true;
    if (counted) this.unparsed++;
    this.reset();
    this.onLost(partial);
  }

  /** At a chunk start while lost: resume when the bytes look like the start of a value. */
  resync(head: Uint8Array): boolean {
    if (!this.lost) return true;
    if (!looksLikeStart(head, this.requests)) return false;
    this.lost = false;
    return true;
  }

  private reset(): void {
    this.msg = fresh();
    this.inMsg = false;
    this.depth = 0;
    this.carryLen = 0;
    this.skip = 0;
    this.capture = Capture.None;
  }

  private append(data: Uint8Array, s: number, e: number): boolean {
    if (this.carryLen + (e - s) > MAX_LINE) {
      this.loseFraming();
      return false;
    }
    this.carry.set(data.subarray(s, e), this.carryLen);
    this.carryLen += e - s;
    return true;
  }

  /** One line, [s, e) up to the LF; a trailing CR is dropped. */
  private line(buf: Uint8Array, s: number, e: number, timeNs: number): void {
    if (e > s && buf[e - 1] === CR) e--;
    if (this.depth === 0 && this.requests) {
      if (e === s) {
        // Redis ignores empty lines between commands.
        this.inMsg = false;
        return;
      }
      if (buf[s] !== T.array) {
        this.inline(buf, s, e, timeNs);
        return;
      }
    }
    if (e === s) {
      this.loseFraming();
      return;
    }
    const t = buf[s]!;
    const top = this.depth === 0;
    const child = this.depth === 1 && !this.attr[0];
    const index = child ? this.total[0]! - this.remaining[0]! : -1;
    if (SCALAR_LINE.has(t)) {
      if (t === T.integer && Number.isNaN(parseIntBytes(buf, s + 1, e))) {
        this.loseFraming();
        return;
      }
      if (top) {
        this.msg.type = t;
        this.msg.text = latin1(buf, s + 1, e);
      } else if (child) {
        if (t === T.error) this.childError(index, latin1(buf, s + 1, e));
        else if (index < MAX_WORDS) this.msg.words[index] = latin1(buf, s + 1, e);
      }
      this.elementDone(timeNs);
      return;
    }
    if (BLOB.has(t)) {
      const len = parseIntBytes(buf, s + 1, e);
      if (Number.isNaN(len) || len < -1 || len > MAX_BULK) {
        this.loseFraming();
        return;
      }
      if (top) this.msg.type = t;
      if (len === -1) {
        if (top) this.msg.count = -1;
        this.elementDone(timeNs);
        return;
      }
      this.capture = top ? Capture.Text : !child ? Capture.None : t === T.blobError ? Capture.ChildError : index < MAX_WORDS ? Capture.Word : Capture.None;
      this.capIndex = index;
      this.capLen = 0;
      this.capWant = Math.min(len, WORD_MAX);
      this.skip = len + 2;
      return;
    }
    if (AGGREGATE.has(t)) {
      let count = parseIntBytes(buf, s + 1, e);
      if (Number.isNaN(count) || count < -1 || count > MAX_COUNT) {
        this.loseFraming();
        return;
      }
      if (t === T.map || t === T.attribute) count *= 2;
      if (t === T.attribute) {
        if (count > 0) this.push(count, true);
        return;
      }
      if (top) {
        this.msg.type = t;
        this.msg.count = count;
      }
      if (count <= 0) this.elementDone(timeNs);
      else this.push(count, false);
      return;
    }
    this.loseFraming();
  }

  private push(count: number, attr: boolean): void {
    if (this.depth >= MAX_DEPTH) {
      this.loseFraming();
      return;
    }
    this.remaining[this.depth] = count;
    this.total[this.depth] = count;
    this.attr[this.depth] = attr;
    this.depth++;
  }

  private inline(buf: Uint8Array, s: number, e: number, timeNs: number): void {
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if ((c < 0x20 && c !== 9) || c > 0x7e) {
        this.loseFraming();
        return;
      }
    }
    const words = latin1(buf, s, Math.min(e, s + 256)).split(/[ \t]+/).filter((w) => w.length > 0);
    this.msg.type = 0;
    this.msg.count = words.length;
    this.msg.words = words.slice(0, MAX_WORDS).map((w) => w.slice(0, WORD_MAX));
    this.finish(timeNs);
  }

  private childError(index: number, text: string): void {
    if (this.msg.childErrors.length < MAX_CHILD_ERRORS) this.msg.childErrors.push([index, text]);
  }

  private blobDone(timeNs: number): void {
    if (this.capture !== Capture.None) {
      const text = latin1(this.cap, 0, this.capLen);
      if (this.capture === Capture.Text) this.msg.text = text;
      else if (this.capture === Capture.Word) this.msg.words[this.capIndex] = text;
      else this.childError(this.capIndex, text);
      this.capture = Capture.None;
    }
    this.elementDone(timeNs);
  }

  private elementDone(timeNs: number): void {
    for (;;) {
      if (this.depth === 0) {
        this.finish(timeNs);
        return;
      }
      const d = this.depth - 1;
      this.remaining[d]!--;
      if (this.remaining[d]! > 0) return;
      this.depth--;
      // A completed attribute is not an element: the value it annotates follows.
      if (this.attr[d]) return;
    }
  }

  private finish(timeNs: number): void {
    const m = this.msg;
    m.endNs = timeNs;
    for (let i = 0; i < m.words.length; i++) if (m.words[i] === undefined) m.words[i] = '';
    this.msg = fresh();
    this.inMsg = false;
    this.onMessage(m);
  }
}

/** Whether bytes at a chunk start look like the start of a RESP value (or an inline command). */
export function looksLikeStart(head: Uint8Array, requests: boolean): boolean {
  if (head.length === 0) return false;
  const nl = head.indexOf(LF);
  const end = nl < 0 ? head.length : nl > 0 && head[nl - 1] === CR ? nl - 1 : nl;
  if (nl < 0 && head.length < 64) return false;
  const t = head[0]!;
  if (requests) {
    if (t === T.array) {
      const n = parseIntBytes(head, 1, end);
      return n >= 0 && n < MAX_COUNT && (nl < 0 || nl + 1 >= head.length || head[nl + 1] === T.bulk);
    }
    return isCommandWord(head, 0, end);
  }
  if (SCALAR_LINE.has(t)) {
    for (let i = 1; i < end; i++) if (head[i]! < 0x20) return false;
    return t !== T.integer || !Number.isNaN(parseIntBytes(head, 1, end));
  }
  if (BLOB.has(t) || AGGREGATE.has(t)) {
    const n = parseIntBytes(head, 1, end);
    return n >= -1 && n < MAX_BULK;
  }
  return false;
}

/** An inline command's first word: letters, then a space or the line end. */
export function isCommandWord(buf: Uint8Array, s: number, end: number): boolean {
  let i = s;
  while (i < end && i - s < 24) {
    const c = buf[i]! | 0x20;
    if (c < 0x61 || c > 0x7a) break;
    i++;
  }
  return i > s && (i === end || buf[i] === 0x20);
}
