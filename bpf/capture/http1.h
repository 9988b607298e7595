// HTTP/1.x in the kernel: the detection rule (what starts a request or a
// response) and the framing (where each message ends: Content-Length, chunked,
// no body, or the connection's close), followed across reads and writes with a
// bounded line scan. It tells the pairing (pairing.h) where messages begin and end.
#ifndef WAGGLE_CAPTURE_HTTP1_H
#define WAGGLE_CAPTURE_HTTP1_H

#include "pairing.h"

#define B8(a, b, c, d, e, f, g, h)                                                                 \
  ((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 |         \
   (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)
#define LOWER8 0x2020202020202020ULL
#define LOW7 0x00ffffffffffffffULL

// Reads up to 16 bytes; returns how many (0 on failure).
static __always_inline __u32 read_peek(struct peek *pk, const __u8 *src, __u32 avail) {
  __builtin_memset(pk, 0, sizeof(*pk));
  __u32 n = avail < 16 ? avail : 16;
  if (!n || bpf_probe_read_user(pk->b, BOUND(n, 16), src)) return 0;
  return n;
}

// Whether the first min(n, len) bytes equal those of `want` (a string of `len` ≤ 8 bytes).
static __always_inline int prefix_is(__u64 w, __u64 want, __u32 len, __u32 n) {
  __u32 k = n < len ? n : len;
  __u64 mask = k >= 8 ? ~0ULL : (1ULL << (k * 8)) - 1;
  return ((w ^ want) & mask) == 0;
}

static __always_inline int target_start(const struct peek *pk, __u32 at, __u32 n) {
  if (at >= n) return 1; // not read yet: the request line check decides later
  __u8 ch = pk->b[at & 15];
  if (ch == '/' || ch == '*') return 1;
  // absolute-form: http://… or https://…
  return ch == 'h' && (at + 1 >= n || pk->b[(at + 1) & 15] == 't');
}

#define HTTP1_NOT_REQUEST 0xff

static __always_inline __u8 method_rule(const struct peek *pk, __u32 n, __u64 w, __u64 want, __u32 len, __u8 flags) {
  if (!prefix_is(w, want, len, n)) return HTTP1_NOT_REQUEST;
  if (flags & SLOT_CONNECT) return n <= len || (pk->b[len & 15] > ' ' && pk->b[len & 15] < 0x7f) ? flags : HTTP1_NOT_REQUEST;
  return target_start(pk, len, n) ? flags : HTTP1_NOT_REQUEST;
}

// The request rule: a method token, a space and the start of a request target.
// A read shorter than that is accepted when it is a prefix of one (a request
// trickling in); the request line's "HTTP/1.x" confirms it later, and nothing
// unconfirmed is ever reported. Returns slot flags, or HTTP1_NOT_REQUEST.
static __always_inline __u8 http1_request_flags(const struct peek *pk, __u32 n) {
  if (!n) return HTTP1_NOT_REQUEST;
  __u64 w = *(const __u64 *)pk->b;
  __u8 r;
  switch (pk->b[0]) {
  case 'G':
    return method_rule(pk, n, w, B8('G', 'E', 'T', ' ', 0, 0, 0, 0), 4, 0);
  case 'P':
    r = method_rule(pk, n, w, B8('P', 'O', 'S', 'T', ' ', 0, 0, 0), 5, 0);
    if (r != HTTP1_NOT_REQUEST) return r;
    r = method_rule(pk, n, w, B8('P', 'U', 'T', ' ', 0, 0, 0, 0), 4, 0);
    if (r != HTTP1_NOT_REQUEST) return r;
    return method_rule(pk, n, w, B8('P', 'A', 'T', 'C', 'H', ' ', 0, 0), 6, 0);
  case 'H':
    return method_rule(pk, n, w, B8('H', 'E', 'A', 'D', ' ', 0, 0, 0), 5, SLOT_HEAD);
  case 'D':
    return method_rule(pk, n, w, B8('D', 'E', 'L', 'E', 'T', 'E', ' ', 0), 7, 0);
  case 'O':
    return method_rule(pk, n, w, B8('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '), 8, 0);
  case 'T':
    return method_rule(pk, n, w, B8('T', 'R', 'A', 'C', 'E', ' ', 0, 0), 6, 0);
  case 'C':
    return method_rule(pk, n, w, B8('C', 'O', 'N', 'N', 'E', 'C', 'T', ' '), 8, SLOT_CONNECT);
  }
  return HTTP1_NOT_REQUEST;
}

// The response rule: "HTTP/1." and a minor version digit (or a prefix of that).
static __always_inline int http1_is_response(const struct peek *pk, __u32 n) {
  __u64 w = *(const __u64 *)pk->b;
  if (!n || !prefix_is(w, B8('H', 'T', 'T', 'P', '/', '1', '.', 0), 7, n)) return 0;
  return n < 8 || (pk->b[7] >= '0' && pk->b[7] <= '9');
}

// ---- line scanning -------------------------------------------------------

enum scan_verdict { SCAN_MORE = 0, SCAN_DONE = 1, SCAN_ABORT = 2, SCAN_LOST = 3 };

#define NO_NUMBER (~0ULL)

static __always_inline __u8 at(struct io_scratch *w, __u32 pos) { return w->buf[pos & (SCAN_BUF - 1)]; }

static __always_inline __u64 load64(struct io_scratch *w, __u32 pos) {
  return *(__u64 *)(w->buf + (pos & (SCAN_BUF - 1)));
}

// Reads the run's bytes at the current offset (up to a scan window) into
// io_scratch.buf, and peeks at their first 16 (into feed_state.pk); returns how
// many it peeked (0 on failure). The header scan that follows a message start
// scans this window as it is, and the captures copy from it: one user read
// where there were three. A global function, verified once.
WAGGLE_SUBPROG int load_window(__u32 avail) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return 0;
  struct feed_state *st = &w->feed;
  st->win_end = st->win_start;
  __builtin_memset(&st->pk, 0, sizeof(st->pk));
  __u32 n = avail < SCAN_WIN ? avail : SCAN_WIN;
  if (!st->ubuf || !n || bpf_probe_read_user(w->buf, BOUND(n, SCAN_WIN), (const void *)(st->ubuf + st->off))) return 0;
  st->win_start = st->off;
  st->win_end = st->off + n;
  st->win_base = 0;
  // The peek holds exactly the bytes read: the rules read past n as zeros.
  __u64 lo = load64(w, 0), hi = load64(w, 8);
  if (n < 8) {
    lo &= (1ULL << (n * 8)) - 1;
    hi = 0;
  } else if (n < 16) {
    hi = n == 8 ? 0 : hi & ((1ULL << ((n - 8) * 8)) - 1);
  }
  __u64 *pk = (__u64 *)st->pk.b;
  pk[0] = lo;
  pk[1] = hi;
  return n < 16 ? n : 16;
}

// Decimal digits after optional whitespace (Content-Length), or NO_NUMBER.
static __always_inline __u64 parse_decimal(struct io_scratch *w, __u32 start, __u32 end) {
  __u64 value = 0;
  int seen = 0;
  for (int i = 0; i < 40; i++) {
    __u32 pos = start + i;
    if (pos >= end) break;
    __u8 ch = at(w, pos);
    if (ch == ' ' || ch == '\t') {
      if (seen) break;
      continue;
    }
    if (ch < '0' || ch > '9') break;
    if (value > 0x0ccccccccccccccULL) return NO_NUMBER;
    value = value * 10 + (ch - '0');
    seen = 1;
  }
  return seen ? value : NO_NUMBER;
}

// Hex digits up to a chunk extension (";…") or whitespace (chunk size), or NO_NUMBER.
static __always_inline __u64 parse_hex(struct io_scratch *w, __u32 start, __u32 end) {
  __u64 value = 0;
  int seen = 0;
  for (int i = 0; i < 17; i++) {
    __u32 pos = start + i;
    if (pos >= end) break;
    __u8 ch = at(w, pos);
    __u8 lc = ch | 0x20;
    __u8 d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (lc >= 'a' && lc <= 'f') d = lc - 'a' + 10;
    else break;
    if (value >> 56) return NO_NUMBER;
    value = (value << 4) | d;
    seen = 1;
  }
  return seen ? value : NO_NUMBER;
}

static __always_inline __u8 start_line(struct io_scratch *w, struct msg_parser *p, __u32 start, __u32 len, __u32 is_resp) {
  if (!is_resp) {
    __u64 v = len >= 14 ? load64(w, start + len - 8) : 0;
    if (v != B8('H', 'T', 'T', 'P', '/', '1', '.', '1') && v != B8('H', 'T', 'T', 'P', '/', '1', '.', '0'))
      return SCAN_ABORT;
    return SCAN_MORE;
  }
  // "HTTP/1.x SSS"
  __u8 d0 = at(w, start + 9), d1 = at(w, start + 10), d2 = at(w, start + 11);
  if (len < 12 || at(w, start + 8) != ' ' || d0 < '1' || d0 > '5' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9')
    return SCAN_LOST;
  p->status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
  return SCAN_MORE;
}

static __always_inline void header_line(struct io_scratch *w, struct msg_parser *p, __u32 start, __u32 len) {
  __u8 c0 = at(w, start) | 0x20;
  if (c0 == 'c' && len >= 16) {
    if ((load64(w, start) | LOWER8) != B8('c', 'o', 'n', 't', 'e', 'n', 't', '-')) return;
    if (((load64(w, start + 8) | LOWER8) & LOW7) != B8('l', 'e', 'n', 'g', 't', 'h', ':', 0)) return;
    __u64 n = parse_decimal(w, start + 15, start + len);
    if (n != NO_NUMBER) {
      p->content_length = n;
      p->flags |= PF_CONTENT_LENGTH;
    }
  } else if (c0 == 't' && len >= 25) {
    if ((load64(w, start) | LOWER8) != B8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r')) return;
    if ((load64(w, start + 8) | LOWER8) != B8('-', 'e', 'n', 'c', 'o', 'd', 'i', 'n')) return;
    if (((at(w, start + 16) | 0x20) != 'g') || at(w, start + 17) != ':') return;
    // Whitespace after the value is not part of it ("chunked " is chunked).
    for (int k = 0; k < 4 && len > 25; k++) {
      __u8 last = at(w, start + len - 1);
      if (last != ' ' && last != '\t') break;
      len--;
    }
    // The last coding decides the framing: "…chunked" at the end of the value.
    // (The shift leaves the top byte 0, so it is masked after lower-casing.)
    if ((((load64(w, start + len - 8) >> 8) | LOWER8) & LOW7) == (B8('c', 'h', 'u', 'n', 'k', 'e', 'd', 0) | (LOWER8 & LOW7)))
      p->flags |= PF_CHUNKED;
  }
}

// One complete line [start, end) ('\n' at end) of the scan buffer. Returns
// the verdict, with bit 2 set when the part ends. A global function: verified
// once, so the line scan's loop does not multiply its paths.
WAGGLE_SUBPROG int on_line(struct msg_parser *p, __u32 start, __u32 end, __u32 is_resp) {
  struct io_scratch *w = io_scratch_get();
  if (!w || !p) return SCAN_LOST | 4;
  __u32 len = end - start;
  if (len > 0 && at(w, end - 1) == '\r') len--;
  if (p->phase == PH_CHUNK_SIZE) {
    if (p->flags & PF_DATA_END) {
      // The line end after chunk data (CRLF, or a lone LF): nothing may precede it.
      p->flags &= ~PF_DATA_END;
      return len == 0 ? SCAN_MORE : SCAN_LOST | 4;
    }
    __u64 size = parse_hex(w, start, start + len);
    if (size == NO_NUMBER) return SCAN_LOST | 4;
    p->chunk_size = size;
    return SCAN_DONE | 4;
  }
  if (p->phase == PH_HEADERS && (p->flags & PF_START_LINE)) {
    p->flags &= ~PF_START_LINE;
    __u8 verdict = start_line(w, p, start, len, is_resp);
    return verdict == SCAN_MORE ? SCAN_MORE : verdict | 4;
  }
  if (len == 0) return SCAN_DONE | 4;
  if (p->phase == PH_HEADERS) header_line(w, p, start, len);
  return SCAN_MORE;
}

// A line on_line would pass over (SCAN_MORE, nothing recorded): a non-empty
// header field that cannot be Content-Length or Transfer-Encoding (header_line
// looks at no other; the same lower-cased prefixes), or a non-empty trailer.
// Checked here so that most lines cost no call.
static __always_inline int line_is_inert(const struct msg_parser *p, struct io_scratch *w, __u32 start, __u32 nl) {
  __u32 len = nl - start; // with a trailing '\r': never shorter than header_line's
  if (len < 2) return 0;  // maybe empty ("" or "\r"): ends the part
  if (p->phase == PH_TRAILERS) return 1;
  if (p->phase != PH_HEADERS || (p->flags & PF_START_LINE)) return 0;
  __u64 w8 = load64(w, start) | LOWER8;
  if (w8 == B8('c', 'o', 'n', 't', 'e', 'n', 't', '-')) return len < 16 || (at(w, start + 8) | 0x20) != 'l';
  if (w8 == B8('t', 'r', 'a', 'n', 's', 'f', 'e', 'r')) return len < 25;
  return 1;
}

// What a line scan's loop steps share: the parser and the scratch (pointers,
// on the stack), the scan's scalars live in the scratch.
struct scan {
  struct msg_parser *p;
  struct io_scratch *w;
};

// Finds the next '\n' eight bytes at a time and hands each line to on_line.
static long scan_step(__u64 i, struct scan *sc) {
  struct io_scratch *w = sc->w;
  struct scan_state *s = &w->scan;
  __u32 cur = s->cursor;
  if (cur >= s->n) return 1;
  __u64 v = load64(w, cur) ^ 0x0a0a0a0a0a0a0a0aULL;
  __u64 m = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
  if (!m) {
    s->cursor = cur + 8;
    return 0;
  }
  m &= -m; // the lowest flagged byte is always a real '\n'
  __u32 j = 0;
  if (m > 0x80000000ULL) {
    j += 4;
    m >>= 32;
  }
  if (m > 0x8000ULL) {
    j += 2;
    m >>= 16;
  }
  if (m > 0x80ULL) j += 1;
  __u32 nl = cur + j;
  if (nl >= s->n) return 1;
  if (line_is_inert(sc->p, w, s->line_start, nl)) {
    s->line_start = nl + 1;
    s->cursor = nl + 1;
    return 0;
  }
  int r = on_line(sc->p, s->line_start, nl, s->is_resp);
  if (r & 4) {
    s->verdict = r & 3;
    s->stop_at = nl + 1;
    return 1;
  }
  s->line_start = nl + 1;
  s->cursor = nl + 1;
  return 0;
}

// Legacy builds: each step is a global function (verified once, not at every
// iteration of the bounded loop), which finds what the loop shares again from
// io_scratch — global functions take no pointers on 5.10.
#ifdef WAGGLE_LEGACY
// Steps per line scan: a step is a line or 8 bytes without one, so 1 KiB of
// headers takes at most 128 + its line count (bpf_loop: carry + window + 1).
#define SCAN_STEPS_LEGACY 256
__attribute__((noinline)) int scan_step_global(__u32 i) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return 1;
  struct conn *c = bpf_map_lookup_elem(&conns, &w->io.sk);
  if (!c) return 1;
  struct scan sc = {.p = w->scan.is_resp ? &c->resp : &c->req, .w = w};
  long r = scan_step(i, &sc);
  if (!r && i == SCAN_STEPS_LEGACY - 1) {
    // Out of steps with bytes left (a window of very many short lines): the
    // framing is lost (counted), as the parser cannot tell where the part ends.
    w->scan.verdict = SCAN_LOST;
    w->scan.stop_at = w->scan.n;
    return 1;
  }
  return r;
}
#define SCAN_STEP(i, sc) scan_step_global(i)
#else
#define SCAN_STEP scan_step
#endif

// ---- feeding a direction's bytes -------------------------------------------

// One run of bytes read or written on a connection (one buffer, or one
// iovec): the connection and the run's scalars (struct feed_state).
struct feed {
  struct conn *c;
  struct feed_state *st;
};

static __always_inline struct msg_parser *parser_of(struct feed *f) { return f->st->is_resp ? &f->c->resp : &f->c->req; }

static __always_inline const __u8 *src_of(struct feed *f) {
  return f->st->ubuf ? (const __u8 *)(f->st->ubuf + f->st->off) : NULL;
}

// Where the k bytes at the run's current offset are in io_scratch.buf, or
// FROM_USER when the window does not hold them all.
static __always_inline __u32 window_pos(struct feed_state *st, __u32 k) {
  if (st->off < st->win_start || st->off + k > st->win_end) return FROM_USER;
  return st->win_base + (st->off - st->win_start);
}

static __always_inline void attribute(struct feed *f, __u32 k) {
  __u32 kpos = window_pos(f->st, k);
  if (f->st->is_resp) response_bytes(f->c, src_of(f), k, f->st->now, kpos);
  else request_bytes(f->c, src_of(f), k, f->st->now, kpos);
}

// The message's length can no longer be followed: count it once, and flag a
// request's exchange (a response's is flagged where the fallback ends it).
static __always_inline void lose(struct feed *f, struct msg_parser *p) {
  if (p->phase != PH_LOST) {
    struct conn *c = f->c;
    count(CNT_FRAMING_LOST);
    if (!f->st->is_resp && c->cur_req == CUR_TRACKED && c->count > 0) newest_slot(c)->xflags |= XF_FRAMING_LOST;
  }
  p->phase = PH_LOST;
}

static __always_inline void parser_reset(struct msg_parser *p) {
  p->phase = PH_HEADERS;
  p->flags = PF_START_LINE;
  p->carry_len = 0;
  p->header_bytes = 0;
  p->content_length = 0;
  p->remaining = 0;
  p->status = 0;
}

static __always_inline void message_end(struct feed *f) {
  struct conn *c = f->c;
  parser_of(f)->phase = PH_START;
  if (f->st->is_resp) response_end(c, 0, f->st->scratch);
  else request_end(c, f->st->now);
}

// After the empty line that ends a header block: where the body ends.
static __always_inline void after_headers(struct feed *f) {
  struct conn *c = f->c;
  struct msg_parser *p = parser_of(f);
  if (f->st->is_resp) {
    __u16 st = p->status;
    __u8 req_flags = (c->responding == RESP_TRACKED && c->count > 0) ? c->slots[c->head & (SLOTS - 1)].flags : 0;
    if (st == 101) {
      // Switching Protocols: HTTP/1 ends with this answer (reported as the
      // upgrade request's response). What follows is another protocol: the rest
      // of this run is dropped, the next run goes to stream capture (feed_run).
      message_end(f);
      c->protocol = PROTO_SWITCHED;
      f->st->off = f->st->len;
      return;
    }
    if (st >= 100 && st < 200) {
      // Interim response (100 Continue, 103 Early Hints): the final one follows.
      c->resp_cap_len = 0;
      p->phase = PH_START;
      return;
    }
    int no_body = st < 200 || st == 204 || st == 304 || (req_flags & SLOT_HEAD) ||
                  ((req_flags & SLOT_CONNECT) && st < 300);
    if (no_body) {
      message_end(f);
    } else if (p->flags & PF_CHUNKED) {
      p->phase = PH_CHUNK_SIZE;
    } else if (p->flags & PF_CONTENT_LENGTH) {
      if (p->content_length == 0) message_end(f);
      else {
        p->remaining = p->content_length;
        p->phase = PH_BODY;
      }
    } else {
      p->phase = PH_UNTIL_CLOSE;
    }
    return;
  }
  if (p->flags & PF_CHUNKED) {
    p->phase = PH_CHUNK_SIZE;
  } else if ((p->flags & PF_CONTENT_LENGTH) && p->content_length > 0) {
    p->remaining = p->content_length;
    p->phase = PH_BODY;
  } else {
    message_end(f);
  }
}

// A message starts at f->st->off: apply the rule, then open it in the pairing.
static __always_inline long begin_message(struct feed *f, struct msg_parser *p, __u32 avail) {
  struct conn *c = f->c;
  struct peek *pk = &f->st->pk;
  __u32 n = load_window(avail);
  if (!n) {
    p->phase = PH_LOST;
    return 0;
  }
  if (f->st->is_resp) {
    if (!http1_is_response(pk, n) || response_begin(c, f->st->now)) {
      p->phase = PH_LOST;
      return 0;
    }
  } else {
    __u8 flags = http1_request_flags(pk, n);
    if (flags == HTTP1_NOT_REQUEST) {
      p->phase = PH_LOST;
      return 0;
    }
    // Keep-alive fallback: a response whose length was unknown ends when the
    // next request starts. One taken for close-delimited was not (the
    // connection carries on): its framing was lost too, and it says so.
    if (c->responding == RESP_TRACKED && (c->resp.phase == PH_LOST || c->resp.phase == PH_UNTIL_CLOSE)) {
      if (c->resp.phase == PH_UNTIL_CLOSE) count(CNT_FRAMING_LOST);
      response_end(c, XF_FRAMING_LOST, f->st->scratch);
      c->resp.phase = PH_START;
    }
    request_begin(c, flags, f->st->now);
  }
  parser_reset(p);
  return 0;
}

// After a line scan: how much of the new bytes the part used, or what to carry.
static __always_inline int scan_finish(struct msg_parser *p, struct io_scratch *sw) {
  struct scan_state *s = &sw->scan;
  __u32 carry = s->carry;
  __u32 w = s->fresh;
  if (s->verdict == SCAN_ABORT) return SCAN_ABORT;
  if (s->stop_at) {
    __u32 used = s->stop_at - carry;
    if (used > w) used = w;
    p->carry_len = 0;
    p->flags &= ~PF_LINE_LONG;
    return s->verdict | used << 2 | 1U << 31;
  }
  // Carry the unfinished line into the next read or write. One too long to
  // carry whole keeps its first bytes (the name, the value's start) and its last
  // 8, which are the bytes just before the next ones: a value's end split across
  // writes ("…chun" | "ked", a length's digits) is still whole. (When the line
  // was already carried, buf starts with that carry, so copying it is identity.)
  __u32 ls = s->line_start;
  __u32 rest = s->n - ls;
  __u64 *to = (__u64 *)p->carry;
  for (int k = 0; k < CARRY_MAX / 8; k++) to[k] = load64(sw, ls + k * 8);
  if (rest > CARRY_MAX) {
    to[CARRY_MAX / 8 - 1] = load64(sw, s->n - 8);
    rest = CARRY_MAX;
    p->flags |= PF_LINE_LONG;
  } else if (ls != 0) {
    p->flags &= ~PF_LINE_LONG;
  }
  p->carry_len = rest;
  return SCAN_MORE | w << 2;
}

// Scans `w` new bytes at `ubuf`, after the start of a line carried from the
// previous read or write, line by line. Returns SCAN_* | used << 2 | stopped << 31,
// `used` being the new bytes that belong to this part (all of them unless a
// line ended it). A global function: the verifier checks it once, not at every
// call site.
WAGGLE_SUBPROG int scan_lines(struct msg_parser *p, __u64 ubuf, __u32 w, __u32 is_resp) {
  struct io_scratch *sw = io_scratch_get();
  if (!sw || !p) return SCAN_LOST;
  if (w > SCAN_WIN) w = SCAN_WIN;
  __u32 carry = p->carry_len;
  if (carry > CARRY_MAX) carry = CARRY_MAX;
  struct feed_state *st = &sw->feed;
  if (carry || st->win_base || st->win_start != st->off || st->win_end < st->off + w) {
    // Not the window a message start just read: carried line start, then the new bytes.
    __u64 *dst = (__u64 *)sw->buf;
    __u64 *from = (__u64 *)p->carry;
    for (int k = 0; k < CARRY_MAX / 8; k++) dst[k] = from[k];
    st->win_end = st->win_start;
    if (bpf_probe_read_user(sw->buf + BOUND(carry, CARRY_MAX), BOUND(w, SCAN_WIN), (const void *)ubuf)) return SCAN_LOST;
    st->win_start = st->off;
    st->win_end = st->off + w;
    st->win_base = carry;
  }
  struct scan_state *s = &sw->scan;
  s->n = carry + w;
  s->cursor = carry;
  s->carry = carry;
  s->fresh = w;
  s->line_start = 0;
  s->stop_at = 0;
  s->is_resp = is_resp;
  s->verdict = SCAN_MORE;
  struct scan sc = {.p = p, .w = sw};
  WAGGLE_LOOP(carry + w + 1, SCAN_STEPS_LEGACY, SCAN_STEP, &sc);
  // Everything after the loop is reloaded from `sc` and the scratch, so that
  // nothing else has to live in this frame across the loop.
  return scan_finish(sc.p, sc.w);
}

// Start line, header fields, chunk-size line or trailers: scan a window of lines.
static __always_inline long scan_part(struct feed *f, struct msg_parser *p, __u32 avail) {
  if (!f->st->ubuf) {
    lose(f, p);
    return 0;
  }
  __u32 w = avail < SCAN_WIN ? avail : SCAN_WIN;
  if (p->phase == PH_CHUNK_SIZE && w > 64) w = 64; // a size line is short; the data after it is not needed
  int r = scan_lines(p, f->st->ubuf + f->st->off, w, f->st->is_resp);
  __u32 verdict = r & 3;
  if (verdict == SCAN_ABORT) {
    // Looked like a request, but its request line is not HTTP/1.x.
    count(CNT_NOT_HTTP);
    request_abandon(f->c);
    p->phase = PH_LOST;
    f->st->off = f->st->len;
    return 1;
  }
  __u32 used = ((__u32)r >> 2) & 0xfff;
  if (used > w) used = w;
  attribute(f, used);
  f->st->off += used;
  p->header_bytes += used;
  if (!f->st->is_resp && p->phase == PH_HEADERS) {
    if (!(p->flags & PF_START_LINE)) {
      // "HTTP/1.x" ended the request line: this request may be reported.
      struct conn *c = f->c;
      if (c->cur_req == CUR_TRACKED && c->count > 0) newest_slot(c)->flags |= SLOT_VERIFIED;
    } else if (p->header_bytes > START_LINE_LIMIT) {
      count(CNT_NOT_HTTP);
      request_abandon(f->c);
      p->phase = PH_LOST;
      f->st->off = f->st->len;
      return 1;
    }
  }
  if (!((__u32)r >> 31)) {
    if (verdict == SCAN_LOST || p->header_bytes > HEADER_LIMIT) lose(f, p);
    return 0;
  }
  if (verdict == SCAN_LOST) {
    lose(f, p);
    return 0;
  }
  if (p->phase == PH_HEADERS) {
    after_headers(f);
  } else if (p->phase == PH_CHUNK_SIZE) {
    if (p->chunk_size == 0) {
      p->phase = PH_TRAILERS;
    } else {
      p->remaining = p->chunk_size;
      p->phase = PH_CHUNK_DATA;
    }
  } else {
    message_end(f); // end of trailers
  }
  return 0;
}

// A message whose framing was lost resynchronises when a read or write starts
// with what the rule recognises.
static __always_inline long lost_bytes(struct feed *f, struct msg_parser *p, __u32 avail) {
  struct conn *c = f->c;
  if (f->st->off == 0 && f->st->ubuf) {
    struct peek *pk = &f->st->pk;
    __u32 n = read_peek(pk, (const __u8 *)f->st->ubuf, avail);
    if (n) {
      if (f->st->is_resp && http1_is_response(pk, n)) {
        if (c->responding != RESP_NONE) response_end(c, XF_FRAMING_LOST, f->st->scratch);
        p->phase = PH_START;
        return 0;
      }
      if (!f->st->is_resp && http1_request_flags(pk, n) != HTTP1_NOT_REQUEST) {
        request_end(c, f->st->now);
        p->phase = PH_START;
        return 0;
      }
    }
  }
  attribute(f, avail);
  f->st->off = f->st->len;
  return 1;
}

// One step over the bytes: a message start, a scanned part, or body bytes.
static long feed_step(__u64 i, struct feed *f) {
  if (f->st->off >= f->st->len) return 1;
  struct msg_parser *p = parser_of(f);
  __u32 avail = f->st->len - f->st->off;
  switch (p->phase) {
  case PH_START:
    return begin_message(f, p, avail);
  case PH_HEADERS:
  case PH_CHUNK_SIZE:
  case PH_TRAILERS:
    return scan_part(f, p, avail);
  case PH_BODY:
  case PH_CHUNK_DATA: {
    __u32 k = p->remaining < avail ? (__u32)p->remaining : avail;
    attribute(f, k);
    f->st->off += k;
    p->remaining -= k;
    if (p->remaining == 0) {
      if (p->phase == PH_BODY) {
        message_end(f);
      } else {
        p->phase = PH_CHUNK_SIZE;
        p->flags |= PF_DATA_END;
      }
    }
    return 0;
  }
  case PH_UNTIL_CLOSE:
    attribute(f, avail);
    f->st->off = f->st->len;
    return 1;
  default:
    return lost_bytes(f, p, avail);
  }
}

// Steps bounded per read or write (a step is a message start, a header or
// chunk-size scan, or a run of body bytes): 8 pipelined chunked responses of a
// few chunks each fit. bpf_loop verifies the step once, so the bound costs
// nothing until it is used.
#define FEED_STEPS 128

#ifdef WAGGLE_LEGACY
__attribute__((noinline)) int feed_step_global(__u32 i) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return 1;
  struct conn *c = bpf_map_lookup_elem(&conns, &w->io.sk);
  if (!c) return 1;
  struct feed f = {.c = c, .st = &w->feed};
  return feed_step(i, &f);
}
#define FEED_STEP(i, f) feed_step_global(i)
#define FEED_STEPS_LEGACY FEED_STEPS
#else
#define FEED_STEP feed_step
#endif

static __always_inline void http1_feed(struct feed *f) {
  WAGGLE_LOOP(FEED_STEPS, FEED_STEPS_LEGACY, FEED_STEP, f);
  if (f->st->off < f->st->len) {
    // Out of steps: the rest goes to the message in progress, whose end is now
    // unknown (it resynchronises at a later message start).
    attribute(f, f->st->len - f->st->off);
    lose(f, parser_of(f));
  }
}

#endif
