// Pairing of requests and responses on one connection, for any protocol whose
// framing (e.g. http1.h) reports where messages begin and end. Requests queue
// in a FIFO of SLOTS (pipelining); responses answer them in order; each answer
// emits one exchange_event. Captured request bytes of the pending requests
// share one ring so that pipelined requests each keep their first bytes.
#ifndef WAGGLE_CAPTURE_PAIRING_H
#define WAGGLE_CAPTURE_PAIRING_H

#include "maps.h"

_Static_assert(sizeof(struct conn) >= REQ_RING + REQ_CAP_MAX, "bounded ring writes must stay inside struct conn");
_Static_assert(sizeof(struct conn) >= REQ_RING + 2 * RESP_CAP_MAX, "bounded capture writes must stay inside struct conn");
_Static_assert(__builtin_offsetof(struct exchange_event, data) + 2 * REQ_CAP_MAX - 1 + REQ_CAP_MAX <= sizeof(struct event_scratch),
               "masked copies into the record must stay inside the scratch");
_Static_assert((SLOTS & (SLOTS - 1)) == 0 && (REQ_RING & (REQ_RING - 1)) == 0, "power-of-two sizes");

// Why the pending exchanges of a connection are being finished.
enum finish_why { WHY_CLOSE = 0, WHY_EOF = 1, WHY_TIMEOUT = 2 };

static __always_inline __u32 cap_limit(__u32 configured, __u32 max) { return configured < max ? configured : max; }

static __always_inline struct slot *slot_at(struct conn *c, __u32 i) { return &c->slots[(c->head + i) & (SLOTS - 1)]; }

static __always_inline struct slot *newest_slot(struct conn *c) { return slot_at(c, c->count - 1); }

// Where captured bytes come from: io_scratch.buf at this index when the run's
// window already holds them (the header scan read them), else user memory.
#define FROM_USER 0xffffffffU

// Copies `n` bytes of the run into `dst`: from the window at `kpos`, or from
// user memory at `src`. Reading the window again costs a kernel copy instead of
// a second user read (a user read also runs the hardened-usercopy checks).
static __always_inline long copy_run(void *dst, __u32 n, __u64 src, __u32 kpos) {
  if (kpos == FROM_USER || kpos + n > SCAN_BUF) return bpf_probe_read_user(dst, n, (const void *)src);
  struct io_scratch *w = io_scratch_get();
  if (!w) return -1;
  return bpf_probe_read_kernel(dst, n, w->buf + (kpos & (SCAN_BUF - 1)));
}

// Copies the first captured bytes of the request in slot `idx` out of user
// memory. A global function: its bounds arithmetic stays out of the framing
// loop's frame (the verifier's stack budget is per call chain).
WAGGLE_SUBPROG int capture_request(struct conn *c, __u32 idx, __u64 src_addr, __u32 k, __u32 kpos) {
  if (!c) return 0;
  struct slot *s = &c->slots[idx & (SLOTS - 1)];
  __u32 cap = cap_limit(request_capture, REQ_CAP_MAX);
  __u32 have = s->cap_len;
  if (have >= cap) {
    s->xflags |= XF_REQUEST_TRUNCATED;
    return 0;
  }
  if (!src_addr) { // bytes the hook cannot see (sendfile)
    s->xflags |= XF_REQUEST_TRUNCATED;
    return 0;
  }
  __u32 want = cap - have;
  if (want > k) want = k;
  else if (k > want) s->xflags |= XF_REQUEST_TRUNCATED;
  __u32 used = c->ring_tail - c->slots[c->head & (SLOTS - 1)].cap_off;
  if (used >= REQ_RING) {
    s->xflags |= XF_REQUEST_TRUNCATED;
    return 0;
  }
  if (want > REQ_RING - used) {
    want = REQ_RING - used;
    s->xflags |= XF_REQUEST_TRUNCATED;
  }
  if (want > REQ_CAP_MAX) want = REQ_CAP_MAX;
  __u32 pos = c->ring_tail & (REQ_RING - 1);
  __u32 first = REQ_RING - pos;
  if (first > want) first = want;
  if (first > REQ_CAP_MAX) first = REQ_CAP_MAX;
  __u32 second = want - first;
  if (second > REQ_CAP_MAX) second = REQ_CAP_MAX;
  if (copy_run(c->req_ring + BOUND(pos, REQ_RING - 1), BOUND(first, REQ_CAP_MAX), src_addr, kpos)) return 0;
  if (second && copy_run(c->req_ring, BOUND(second, REQ_CAP_MAX), src_addr + first, kpos == FROM_USER ? FROM_USER : kpos + first))
    return 0;
  c->ring_tail += want;
  s->cap_len = have + want;
  return 0;
}

static __always_inline void capture_response(struct conn *c, const __u8 *src, __u32 k, __u32 kpos) {
  __u32 cap = cap_limit(response_capture, RESP_CAP_MAX);
  __u32 have = c->resp_cap_len;
  if (have >= cap || !src) {
    c->resp_xflags |= XF_RESPONSE_TRUNCATED;
    return;
  }
  __u32 want = cap - have;
  if (want > k) want = k;
  else if (k > want) c->resp_xflags |= XF_RESPONSE_TRUNCATED;
  if (want > RESP_CAP_MAX) want = RESP_CAP_MAX;
  if (have > RESP_CAP_MAX - 1) return;
  if (copy_run(c->resp_cap + BOUND(have, RESP_CAP_MAX - 1), BOUND(want, RESP_CAP_MAX), (__u64)src, kpos)) return;
  c->resp_cap_len = have + want;
}

// A new request message begins. Returns 0 when it got a slot.
static __always_inline void request_begin(struct conn *c, __u8 flags, __u64 now) {
  if (c->untracked || c->count >= SLOTS) {
    // Past the pipelining depth: skip it, and its response when it comes.
    c->untracked++;
    c->cur_req = CUR_UNTRACKED;
    count(CNT_PIPELINE_OVERFLOW);
    return;
  }
  __u64 id = bpf_get_current_pid_tgid();
  struct slot *s = slot_at(c, c->count);
  s->req_start_ns = now;
  s->req_end_ns = now;
  s->req_bytes = 0;
  s->tgid = id >> 32;
  s->tid = (__u32)id;
  s->cap_off = c->ring_tail;
  s->cap_len = 0;
  s->flags = flags;
  s->xflags = 0;
  c->count++;
  c->cur_req = CUR_TRACKED;
  count(CNT_REQ_TRACKED);
}

// Legacy builds (5.10: global functions take no pointers): the subprograms the
// feed path calls with its connection become global functions that find it
// again by io_scratch's key, and finish_all one that takes the key — each
// verified once, not at every call site.
#ifdef WAGGLE_LEGACY
static __always_inline struct conn *fed_conn(void) {
  struct io_scratch *w = io_scratch_get();
  return w ? bpf_map_lookup_elem(&conns, &w->io.sk) : NULL;
}

__attribute__((noinline)) int capture_request_fed(__u32 idx, __u64 src_addr, __u32 k, __u32 kpos) {
  struct conn *c = fed_conn();
  return c ? capture_request(c, idx, src_addr, k, kpos) : 0;
}
#define CAPTURE_REQUEST(c, idx, src_addr, k, kpos) capture_request_fed(idx, src_addr, k, kpos)
#else
#define CAPTURE_REQUEST(c, idx, src_addr, k, kpos) capture_request(c, idx, src_addr, k, kpos)
#endif

static __always_inline void request_bytes(struct conn *c, const __u8 *src, __u32 k, __u64 now, __u32 kpos) {
  if (c->cur_req != CUR_TRACKED || c->count == 0) return;
  __u32 idx = (c->head + c->count - 1) & (SLOTS - 1); // the newest slot
  struct slot *s = &c->slots[idx];
  s->req_bytes += k;
  s->req_end_ns = now;
  CAPTURE_REQUEST(c, idx, (__u64)src, k, kpos);
}

static __always_inline void request_end(struct conn *c, __u64 now) {
  if (c->cur_req == CUR_TRACKED && c->count > 0) newest_slot(c)->flags |= SLOT_REQ_DONE;
  c->cur_req = CUR_NONE;
}

// The request that began cannot be what the rule thought (e.g. no HTTP/1.x
// request line): forget it as if it had never started.
static __always_inline void request_abandon(struct conn *c) {
  if (c->cur_req == CUR_TRACKED && c->count > 0) {
    c->ring_tail = newest_slot(c)->cap_off;
    c->count--;
    count(CNT_REQ_ENDED);
  } else if (c->cur_req == CUR_UNTRACKED && c->untracked > 0) {
    c->untracked--;
  }
  c->cur_req = CUR_NONE;
}

// A response message begins. Returns 0 when a request is waiting for it.
static __always_inline int response_begin(struct conn *c, __u64 now) {
  if (c->responding != RESP_NONE) return 0; // final response after an interim 1xx
  if (c->count > 0) {
    c->responding = RESP_TRACKED;
    c->resp_start_ns = now;
    c->resp_end_ns = now;
    c->resp_bytes = 0;
    c->resp_cap_len = 0;
    c->resp_xflags = 0;
    return 0;
  }
  if (c->untracked > 0) {
    c->responding = RESP_UNTRACKED;
    return 0;
  }
  count(CNT_ORPHAN_RESPONSES);
  return -1;
}

static __always_inline void response_bytes(struct conn *c, const __u8 *src, __u32 k, __u64 now, __u32 kpos) {
  if (c->responding != RESP_TRACKED) return;
  c->resp_bytes += k;
  c->resp_end_ns = now;
  capture_response(c, src, k, kpos);
}

// Assembles and sends the record of slot `idx` (and the current response when
// that slot is the head being answered).
// A global function: verified once for all its callers.
WAGGLE_SUBPROG int emit(struct conn *c, __u32 idx, __u32 incomplete, __u32 xflags, __u32 scratch_key) {
  struct event_scratch *sc = bpf_map_lookup_elem(&event_scratch, &scratch_key);
  if (!sc || !c) return 0;
  count(CNT_REQ_ENDED);
  struct exchange_event *e = &sc->e;
  struct slot *s = &c->slots[idx & (SLOTS - 1)];
  if (!(s->flags & SLOT_VERIFIED)) {
    // Its request line never proved to be HTTP: nothing to report.
    count(CNT_NOT_HTTP);
    return 0;
  }
  int answered = c->responding == RESP_TRACKED && (idx & (SLOTS - 1)) == c->head;
  e->req_start_ns = s->req_start_ns;
  e->req_end_ns = s->req_end_ns;
  e->req_bytes = s->req_bytes;
  e->resp_start_ns = answered ? c->resp_start_ns : 0;
  e->resp_end_ns = answered ? c->resp_end_ns : 0;
  e->resp_bytes = answered ? c->resp_bytes : 0;
  e->status = answered ? c->resp.status : 0;
  e->pid = s->tgid;
  e->tid = s->tid;
  e->ino = c->ino;
  e->family = c->family;
  e->lport = c->lport;
  e->rport = c->rport;
  e->role = c->role;
  e->protocol = c->protocol;
  e->incomplete = incomplete;
  e->flags = xflags | s->xflags | (answered ? c->resp_xflags : 0) | (c->tls ? XF_TLS : 0);
  __builtin_memcpy(e->laddr, c->laddr, 16);
  __builtin_memcpy(e->raddr, c->raddr, 16);

  __u32 rl = s->cap_len;
  if (rl > REQ_CAP_MAX) rl = REQ_CAP_MAX;
  __u32 pos = s->cap_off & (REQ_RING - 1);
  __u32 first = REQ_RING - pos;
  if (first > rl) first = rl;
  if (first > REQ_CAP_MAX) first = REQ_CAP_MAX;
  __u32 second = rl - first;
  if (second > REQ_CAP_MAX) second = REQ_CAP_MAX;
  // probe_read_kernel: the source is this map value, the bounds are ours.
  bpf_probe_read_kernel(e->data, BOUND(first, REQ_CAP_MAX), c->req_ring + pos);
  // Offsets into e->data by mask (first, at <= REQ_CAP_MAX < 2 * REQ_CAP_MAX): the
  // scratch's slack keeps offset + size inside the value (see MASKED).
  if (second) bpf_probe_read_kernel(e->data + MASKED(first, 2 * REQ_CAP_MAX - 1), BOUND(second, REQ_CAP_MAX), c->req_ring);
  __u32 sl = answered ? c->resp_cap_len : 0;
  if (sl > RESP_CAP_MAX) sl = RESP_CAP_MAX;
  __u32 at = first + second;
  if (at > REQ_CAP_MAX) at = REQ_CAP_MAX;
  if (sl) bpf_probe_read_kernel(e->data + MASKED(at, 2 * REQ_CAP_MAX - 1), BOUND(sl, RESP_CAP_MAX), c->resp_cap);
  e->req_len = at;
  e->resp_len = sl;
  __u32 size = offsetof(struct exchange_event, data) + at + sl;
  if (size > sizeof(struct exchange_event)) size = sizeof(struct exchange_event);
  __u64 wake = waggle_wake_output(&exchanges, wakeup_bytes, size);
  if (bpf_ringbuf_output(&exchanges, e, BOUND(size, sizeof(struct exchange_event)), wake)) {
    waggle_count(&exchanges_drops, 0, 1);
    return 0;
  }
  count(CNT_EXCHANGES);
  if (incomplete) count(CNT_INCOMPLETE);
  return 0;
}

#ifdef WAGGLE_LEGACY
__attribute__((noinline)) int emit_fed(__u32 idx, __u32 incomplete, __u32 xflags, __u32 scratch_key) {
  struct conn *c = fed_conn();
  return c ? emit(c, idx, incomplete, xflags, scratch_key) : 0;
}
#define EMIT_FED(c, idx, incomplete, xflags, scratch_key) emit_fed(idx, incomplete, xflags, scratch_key)

__attribute__((noinline)) int emit_key(__u64 key, __u32 idx, __u32 incomplete, __u32 xflags, __u32 scratch_key) {
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  return c ? emit(c, idx, incomplete, xflags, scratch_key) : 0;
}
#define EMIT_KEY(c, key, idx, incomplete, xflags, scratch_key) emit_key(key, idx, incomplete, xflags, scratch_key)
#else
#define EMIT_KEY(c, key, idx, incomplete, xflags, scratch_key) emit(c, idx, incomplete, xflags, scratch_key)
#define EMIT_FED(c, idx, incomplete, xflags, scratch_key) emit(c, idx, incomplete, xflags, scratch_key)
#endif

// The head request is answered (or given up on): forget it.
static __always_inline void pop_head(struct conn *c) {
  c->head = (c->head + 1) & (SLOTS - 1);
  if (c->count > 0) c->count--;
  c->responding = RESP_NONE;
  c->resp_bytes = 0;
  c->resp_cap_len = 0;
  c->resp_xflags = 0;
  if (c->count == 0) {
    c->ring_tail = 0;
    // A request still being read whose response already went (an early reply)
    // has nothing left to be attributed to.
    if (c->cur_req == CUR_TRACKED) c->cur_req = CUR_NONE;
  }
}

// The current response ended (framing said so, or a fallback decided).
static __always_inline void response_end(struct conn *c, __u32 xflags, __u32 scratch_key) {
  if (c->responding == RESP_UNTRACKED) {
    if (c->untracked > 0) c->untracked--;
    c->responding = RESP_NONE;
    return;
  }
  if (c->responding != RESP_TRACKED || c->count == 0) return;
  EMIT_FED(c, c->head, INCOMPLETE_NONE, xflags, scratch_key); // only the feed path ends a response
  pop_head(c);
}

// Ends every pending exchange: on close, end of stream or idle timeout. Legacy
// builds also take the connection's key in conns, for emit_key.
#ifdef WAGGLE_LEGACY
#define LEGACY_KEY_PARAM , __u64 key
#else
#define LEGACY_KEY_PARAM
#endif
WAGGLE_SUBPROG int finish_all(struct conn *c, __u32 why, __u32 scratch_key LEGACY_KEY_PARAM) {
  if (!c) return 0;
  for (int i = 0; i < SLOTS; i++) {
    if (c->count == 0) break;
    __u32 reason = INCOMPLETE_CLOSED_BEFORE_RESPONSE;
    __u32 xflags = 0;
    if (why == WHY_TIMEOUT) {
      reason = INCOMPLETE_TIMEOUT;
      if (c->responding == RESP_TRACKED && c->resp.phase == PH_LOST) xflags = XF_FRAMING_LOST;
    } else if (c->responding == RESP_TRACKED) {
      if (c->resp.phase == PH_UNTIL_CLOSE) {
        reason = INCOMPLETE_NONE; // the close is what ends such a response
      } else if (c->resp.phase == PH_LOST) {
        reason = INCOMPLETE_NONE;
        xflags = XF_FRAMING_LOST;
      } else {
        reason = INCOMPLETE_CLOSED_MID_RESPONSE;
      }
    }
    EMIT_KEY(c, key, c->head, reason, xflags, scratch_key);
    pop_head(c);
  }
  c->untracked = 0;
  return 0;
}

// Ends every pending exchange of the connection at `key` (FINISH_ALL: with its key).
#ifdef WAGGLE_LEGACY
__attribute__((noinline)) int finish_all_key(__u64 key, __u32 why, __u32 scratch_key) {
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  return c ? finish_all(c, why, scratch_key, key) : 0;
}
#define FINISH_ALL(c, key, why, scratch_key) finish_all_key(key, why, scratch_key)
#else
#define FINISH_ALL(c, key, why, scratch_key) finish_all(c, why, scratch_key)
#endif

#endif
