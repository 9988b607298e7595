// Carries the trace context to other hosts: writes a W3C `traceparent` header
// into the outgoing plaintext HTTP/1 requests of watched processes, right after
// the request line, and tells user space which ids it wrote (the request's
// CLIENT span takes them, so the remote service's SERVER span, which reads the
// header, becomes its child).
//
// sockops puts every TCP connection this host opens (established once this is
// attached) in `outgoing`; the kernel then runs the sk_msg program on each send
// on them, in the sender's context, before the bytes are queued. Requests that
// already carry a traceparent (an instrumented client) are left alone: the
// header is never duplicated. Loaded only when user space asks
// (traces.inject_traceparent): it changes bytes on the wire, and attaching to a
// cgroup needs CAP_NET_ADMIN.
#include "waggle/common.h"

WAGGLE_LICENSE;

// Bytes of a send looked at for the request line and the whole header block; a
// request whose headers end later is not injected (a traceparent may follow).
#define HEAD_MAX 1024
// A request line longer than this is not taken for one.
#define LINE_MAX 512
// "traceparent: 00-" + 32 hex + "-" + 16 hex + "-01\r\n"
#define TP_LEN 70
// Bytes made contiguous after the insertion (the request's head; a body beyond stays as it was).
#define PULL_MAX 4096
#define TP_TRACE_AT 16
#define TP_SPAN_AT 49

// 0 = only `watched` pids, 1 = every pid except `excluded` ones (as capture's capture_all).
__u32 inject_all = 0;

// Capture's pid sets (user space makes these stand for capture's maps).
#include "pid_sets.h"

// Connections this host opened, by socket cookie (an entry leaves when its socket closes).
struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, __u64);
} outgoing SEC(".maps");

// One record per header written.
struct carried_event {
  __u64 ts_ns;
  __u32 pid;
  __u32 tid;
  __u16 family;
  __u16 lport; // host order
  __u16 rport; // host order
  __u16 pad;
  __u8 trace_id[16];
  __u8 span_id[8];
};
struct carried_event carried_event_layout __attribute__((unused));

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} carried SEC(".maps");

// What the scans found, laundered through memory: the verifier then goes on once
// after a scan instead of once for every place it could have stopped.
struct inject_scan {
  __u32 line_end; // the request line's '\n'
  __u32 verdict;  // of the header scan: HEADERS_*
};

enum { HEADERS_UNSEEN = 0, HEADERS_ENDED = 1, HEADERS_HAVE_TP = 2 };

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct inject_scan);
} scan_scratch SEC(".maps");

enum inject_counter {
  INJ_TRACKED = 0,       // connections put in `outgoing`
  INJ_TRACK_FAILED = 1,  // `outgoing` was full: the connection's requests go out as they are
  INJ_SENDS = 2,         // sends of watched processes on those connections
  INJ_INJECTED = 3,      // headers written
  INJ_HAS_HEADER = 4,    // the request had a traceparent already: left as it was
  INJ_NOT_REQUEST = 5,   // the send does not start an HTTP/1 request (a body, another protocol, TLS)
  INJ_HEADERS_UNSEEN = 6, // the header block did not end within the send's first HEAD_MAX bytes (long, or split over sends)
  INJ_NO_ROOM = 7,       // the ring buffer was full: not written (user space could not have known the ids)
  INJ_FAILED = 8,        // the kernel refused to insert or map the bytes: nothing written
  INJ_COUNTERS = 9,
};

WAGGLE_COUNTERS(inject_counters, INJ_COUNTERS);

static __always_inline void count(__u32 counter) { waggle_count(&inject_counters, counter, 1); }

SEC("sockops")
int inject_track(struct bpf_sock_ops *skops) {
  if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) return 1;
  if (skops->family != 2 /* AF_INET */ && skops->family != 10 /* AF_INET6 */) return 1;
  __u64 cookie = bpf_get_socket_cookie(skops);
  if (bpf_sock_hash_update(skops, &outgoing, &cookie, BPF_NOEXIST) == 0) count(INJ_TRACKED);
  else count(INJ_TRACK_FAILED);
  return 1;
}

// msg->data and msg->data_end read anew (uapi offsets 0 and 8), so that the
// verifier sees fresh packet pointers: code after a scan is then verified once,
// not once for every place the scan could stop (each with its own checked range).
static __always_inline __u8 *msg_data(struct sk_msg_md *msg) {
  __u8 *p;
  asm volatile("%0 = *(u64 *)(%1 + 0)" : "=r"(p) : "r"(msg));
  return p;
}

static __always_inline __u8 *msg_data_end(struct sk_msg_md *msg) {
  __u8 *p;
  asm volatile("%0 = *(u64 *)(%1 + 8)" : "=r"(p) : "r"(msg));
  return p;
}

static __always_inline int is_upper(__u8 c) { return c >= 'A' && c <= 'Z'; }

static __always_inline __u8 hex_digit(__u8 n) { return n < 10 ? '0' + n : 'a' + n - 10; }

// One byte of the message, loaded anew: the compiler must not reuse a register
// the verifier learnt a constant in (after `c == '\r'` it knows c is 13, and a
// later test of the same register would make it precise), which would keep the
// paths through a scan from merging.
static __always_inline __u8 byte_at(const __u8 *p) { return *(volatile const __u8 *)p; }

// Whether the 12 bytes at p are "traceparent:" in any case (p + 12 is checked by
// the caller): two unaligned loads and two compares, so the verifier follows two
// paths per header line instead of twelve. (The loads are little-endian; OR-ing
// 0x20 folds upper-case letters and leaves ':' as it is.)
static __always_inline int is_traceparent(const __u8 *p) {
  __u64 head = *(volatile const __u64 *)p;     // "tracepar"
  __u32 tail = *(volatile const __u32 *)(p + 8); // "ent:"
  return (head | 0x2020202020202020ULL) == 0x7261706563617274ULL && (tail | 0x00202020) == 0x3a746e65;
}

SEC("sk_msg")
int inject_traceparent(struct sk_msg_md *msg) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if (inject_all ? bpf_map_lookup_elem(&excluded, &tgid) != NULL : bpf_map_lookup_elem(&watched, &tgid) == NULL) return SK_PASS;
  count(INJ_SENDS);
  __u32 size = msg->size;
  if (size < 18) { // "GET / HTTP/1.1\r\n\r\n"
    count(INJ_NOT_REQUEST);
    return SK_PASS;
  }
  __u32 head = size < HEAD_MAX ? size : HEAD_MAX;
  if (bpf_msg_pull_data(msg, 0, head, 0) != 0) {
    count(INJ_FAILED);
    return SK_PASS;
  }
  __u8 *data = msg_data(msg);
  __u8 *end = msg_data_end(msg);
  // A method token (upper-case letters) and a space; CONNECT opens a tunnel, not a request to carry.
  if (data + 8 > end || !is_upper(data[0]) || (data[0] == 'C' && data[1] == 'O')) {
    count(INJ_NOT_REQUEST);
    return SK_PASS;
  }
  __u32 zero = 0;
  struct inject_scan *scan = bpf_map_lookup_elem(&scan_scratch, &zero);
  if (!scan) return SK_PASS;
  scan->line_end = 0;
  scan->verdict = HEADERS_UNSEEN;
  for (__u32 i = 1; i < LINE_MAX; i++) {
    if (data + i + 1 > end) break;
    if (byte_at(data + i) == '\n') {
      scan->line_end = i;
      break;
    }
  }
  __u32 nl = *(volatile __u32 *)&scan->line_end;
  data = msg_data(msg);
  end = msg_data_end(msg);
  // "... HTTP/1.x\r\n"
  if (nl < 12 || nl >= LINE_MAX) {
    count(INJ_NOT_REQUEST);
    return SK_PASS;
  }
  __u8 *v = data + (nl - 10); // " HTTP/1.x\r"
  if (v + 11 > end) return SK_PASS;
  if (v[0] != ' ' || v[1] != 'H' || v[2] != 'T' || v[3] != 'T' || v[4] != 'P' || v[5] != '/' || v[6] != '1' ||
      v[7] != '.' || (v[8] != '0' && v[8] != '1') || v[9] != '\r') {
    count(INJ_NOT_REQUEST);
    return SK_PASS;
  }
  // The header fields: each line start is looked at for "traceparent:", up to the empty line.
  __u8 *line_end = data + nl;
  for (__u32 k = 0; k < HEAD_MAX - 12; k++) {
    __u8 *p = line_end + k;
    if (p + 3 > end) break;
    if (byte_at(p) != '\n') continue;
    if (byte_at(p + 1) == '\r') {
      if (byte_at(p + 2) != '\n') continue;
      scan->verdict = HEADERS_ENDED;
      break;
    }
    // A pointer of its own for the longer look, so that the scan's pointer keeps
    // the same checked range on every path and the paths merge at the next byte.
    __u8 *q = msg_data(msg) + nl + k;
    asm volatile("" : "+r"(q)); // one register, checked and then read (not rebuilt from its parts)
    if (q + 13 > end) break;
    if (is_traceparent(q + 1)) {
      scan->verdict = HEADERS_HAVE_TP;
      break;
    }
  }
  __u32 verdict = *(volatile __u32 *)&scan->verdict;
  nl = *(volatile __u32 *)&scan->line_end;
  if (verdict == HEADERS_HAVE_TP) {
    count(INJ_HAS_HEADER);
    return SK_PASS;
  }
  if (verdict != HEADERS_ENDED || nl >= LINE_MAX) {
    count(INJ_HEADERS_UNSEEN);
    return SK_PASS;
  }
  // Room for the record first: a header user space cannot learn of is not written.
  struct carried_event *e = bpf_ringbuf_reserve(&carried, sizeof(*e), 0);
  if (!e) {
    count(INJ_NO_ROOM);
    return SK_PASS;
  }
  __u32 at = nl + 1;
  if (bpf_msg_push_data(msg, at, TP_LEN, 0) != 0) {
    bpf_ringbuf_discard(e, 0);
    count(INJ_FAILED);
    return SK_PASS;
  }
  // Make the head of the request one element again (request line, header,
  // fields): sent as three elements it would leave as three segments. Up to a
  // page: a large body stays where it was, uncopied.
  __u32 size_now = msg->size;
  __u32 linear = size_now < PULL_MAX ? size_now : PULL_MAX;
  if (linear < at + TP_LEN || bpf_msg_pull_data(msg, 0, linear, 0) != 0) {
    bpf_msg_pop_data(msg, at, TP_LEN, 0);
    bpf_ringbuf_discard(e, 0);
    count(INJ_FAILED);
    return SK_PASS;
  }
  data = msg_data(msg);
  end = msg_data_end(msg);
  __u8 *tp = data + (at & (HEAD_MAX - 1));
  if (tp + TP_LEN > end) {
    bpf_msg_pop_data(msg, at, TP_LEN, 0);
    bpf_ringbuf_discard(e, 0);
    count(INJ_FAILED);
    return SK_PASS;
  }
  // Random ids, never all zero (W3C).
  __u32 r[6];
  for (int j = 0; j < 6; j++) r[j] = bpf_get_prandom_u32();
  r[0] |= 1;
  r[4] |= 1;
  __builtin_memcpy(e->trace_id, r, 16);
  __builtin_memcpy(e->span_id, &r[4], 8);
  const char name[] = "traceparent: 00-";
#pragma unroll
  for (int j = 0; j < 16; j++) tp[j] = name[j];
#pragma unroll
  for (int j = 0; j < 16; j++) {
    tp[TP_TRACE_AT + 2 * j] = hex_digit(e->trace_id[j] >> 4);
    tp[TP_TRACE_AT + 2 * j + 1] = hex_digit(e->trace_id[j] & 15);
  }
  tp[48] = '-';
#pragma unroll
  for (int j = 0; j < 8; j++) {
    tp[TP_SPAN_AT + 2 * j] = hex_digit(e->span_id[j] >> 4);
    tp[TP_SPAN_AT + 2 * j + 1] = hex_digit(e->span_id[j] & 15);
  }
  tp[65] = '-';
  tp[66] = '0';
  tp[67] = '1';
  tp[68] = '\r';
  tp[69] = '\n';
  e->ts_ns = bpf_ktime_get_ns();
  e->pid = tgid;
  e->tid = (__u32)id;
  e->family = msg->family;
  e->lport = msg->local_port;
  e->rport = bpf_ntohl(msg->remote_port);
  e->pad = 0;
  // No wakeup: user space reads these when a client exchange asks (and on a timer);
  // a wakeup per request cost more than the rest of the program.
  bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
  count(INJ_INJECTED);
  return SK_PASS;
}
