// Layouts shared by the capture programs and user space (src/capture reads them
// through the object's BTF, so the TypeScript side never hard-codes an offset).
#ifndef WAGGLE_CAPTURE_TYPES_H
#define WAGGLE_CAPTURE_TYPES_H

#include "waggle/common.h"
#include "waggle/legacy.h"

// Compile-time capacities. The run-time capture sizes (request_capture,
// response_capture) may be set lower, never higher.
#define REQ_CAP_MAX 1024  // captured bytes of one request
#define RESP_CAP_MAX 512  // captured bytes of one response
#define REQ_RING 2048     // captures of the requests pending on a connection (pipelining)
#define SLOTS 8           // requests pending on a connection (pipelining depth)
#define CARRY_MAX 48      // a line split across reads/writes (a longer one: its first 40 and last 8 bytes)
#define SCAN_WIN 1024     // bytes of headers examined per step
#define SCAN_BUF 2048     // scan scratch (power of two ≥ CARRY_MAX + SCAN_WIN, plus room for 8-byte loads)
#define HEADER_LIMIT 32768 // a header block longer than this loses framing
#define START_LINE_LIMIT 8192 // a request line longer than this is not taken for HTTP

// Re-checks `x <= max` on the very register the next helper call uses, so the
// verifier sees the bound however the compiler allocated registers.
#define BOUND(x, max)                                                                              \
  ({                                                                                               \
    __u64 __v = (x);                                                                               \
    asm volatile("" : "+r"(__v));                                                                  \
    if (__v > (max)) __v = (max);                                                                  \
    __v;                                                                                           \
  })

// `x & mask` that the compiler cannot fold away (it may know x <= mask): an
// offset bounded by a mask rather than by a compare. On 6.1 the verifier can
// follow a compare into an impossible range (umin > umax) on a dead path and
// then treat pointer + offset as a scalar ("R1 type=scalar expected=... map_value").
#define MASKED(x, mask)                                                                            \
  ({                                                                                               \
    __u64 __m = (x);                                                                               \
    asm volatile("" : "+r"(__m));                                                                  \
    __m & (mask);                                                                                  \
  })

enum capture_role { ROLE_SERVER = 1, ROLE_CLIENT = 2 };

// Protocols the kernel can recognise and frame. Detection and framing are per
// protocol; the pairing of requests and responses (pairing.h) is shared.
// PROTO_SWITCHED: a 101 Switching Protocols ended HTTP/1 on the connection
// (Upgrade: h2c, websocket); its next run leaves the fast path for stream capture.
enum capture_protocol { PROTO_HTTP1 = 1, PROTO_SWITCHED = 2 };

// Why an exchange ended without its response completing.
enum capture_incomplete {
  INCOMPLETE_NONE = 0,
  INCOMPLETE_CLOSED_BEFORE_RESPONSE = 1,
  INCOMPLETE_CLOSED_MID_RESPONSE = 2,
  INCOMPLETE_EVICTED = 3,
  INCOMPLETE_TIMEOUT = 4,
};

// exchange_event.flags
enum capture_flags {
  // The response's length was not known from its framing (it ended at its last
  // byte before the next response, request, close or timeout), or the request's.
  XF_FRAMING_LOST = 1,
  // More request bytes than were captured (request_capture or the ring was full).
  XF_REQUEST_TRUNCATED = 2,
  XF_RESPONSE_TRUNCATED = 4,
  // The bytes were TLS plaintext, seen in the process's OpenSSL calls (tls.h).
  XF_TLS = 8,
};

// Phases of one direction's message parser.
enum parser_phase {
  PH_START = 0,       // the next byte starts a message
  PH_HEADERS = 1,     // start line and header fields, up to the empty line
  PH_BODY = 2,        // Content-Length body: `remaining` bytes left
  PH_CHUNK_SIZE = 3,  // chunked body: a chunk-size line
  PH_CHUNK_DATA = 4,  // chunked body: `remaining` bytes of chunk data
  PH_TRAILERS = 5,    // chunked body: trailer fields up to the empty line
  PH_UNTIL_CLOSE = 6, // response body delimited by the connection's close
  PH_LOST = 7,        // framing unknown: resynchronise at a message start
};

// msg_parser.flags
enum parser_flags {
  PF_START_LINE = 1,    // the start line has not ended yet
  PF_CONTENT_LENGTH = 2,
  PF_CHUNKED = 4,
  PF_LINE_LONG = 8,     // the carried line was longer than CARRY_MAX
  PF_DATA_END = 16,     // chunk data ended: the line end after it comes before the next size line
};

struct msg_parser {
  __u64 remaining;
  __u64 content_length;
  __u64 chunk_size;
  __u32 header_bytes;
  __u16 status;
  __u8 phase;
  __u8 flags;
  __u8 carry_len;
  __u8 pad[7];
  __u8 carry[CARRY_MAX];
};

// slot.flags
enum slot_flags {
  SLOT_HEAD = 1,     // HEAD request: the response has no body
  SLOT_CONNECT = 2,  // CONNECT request: a 2xx response has no body
  SLOT_REQ_DONE = 4, // the request message ended
  SLOT_VERIFIED = 8, // its request line ended in HTTP/1.x: it may be reported
};

// One request waiting for (or receiving) its response.
struct slot {
  __u64 req_start_ns;
  __u64 req_end_ns;
  __u64 req_bytes;
  __u32 tgid;
  __u32 tid;
  __u32 cap_off; // position of its captured bytes in req_ring (a stream offset)
  __u16 cap_len;
  __u8 flags;
  __u8 xflags;   // capture_flags gathered on the request side
};

// Per-connection state, keyed by the kernel's struct sock address, from the
// first request seen until the connection closes (or the LRU evicts it, idle
// ones first). The ring comes first so that bounded writes
// into it are provably inside the value for the verifier.
struct conn {
  __u8 req_ring[REQ_RING];
  __u8 resp_cap[RESP_CAP_MAX];
  struct slot slots[SLOTS];
  struct msg_parser req;
  struct msg_parser resp;
  __u64 created_ns;
  __u64 last_ns;
  __u64 resp_start_ns;
  __u64 resp_end_ns;
  __u64 resp_bytes;
  __u32 ring_tail;    // stream offset of the next captured request byte
  __u32 ino;          // socket inode number, as in /proc/PID/fd ("socket:[ino]")
  __u8 laddr[16];
  __u8 raddr[16];
  __u16 lport;
  __u16 rport;
  __u16 family;
  __u16 resp_cap_len;
  __u8 role;
  __u8 protocol;
  __u8 head;          // first pending slot
  __u8 count;         // pending slots
  __u8 responding;    // the head slot's response has started
  __u8 resp_xflags;
  __u8 cur_req;       // the request being read or written: CUR_NONE, CUR_TRACKED (newest slot), CUR_UNTRACKED
  __u8 tls;           // the connection's bytes are TLS plaintext (its key is the sock address | 1, see tls.h)
  __u8 pad[2];
  __u16 untracked;    // pipelined requests past SLOTS whose responses are still to come (and be skipped)
};

enum { CUR_NONE = 0, CUR_TRACKED = 1, CUR_UNTRACKED = 2 };
// conn.responding
enum { RESP_NONE = 0, RESP_TRACKED = 1, RESP_UNTRACKED = 2 };

// One ring-buffer record per exchange: header, then `req_len` captured request
// bytes and `resp_len` captured response bytes in `data`.
struct exchange_event {
  __u64 req_start_ns;
  __u64 req_end_ns;
  __u64 resp_start_ns;
  __u64 resp_end_ns;
  __u64 req_bytes;
  __u64 resp_bytes;
  __u32 pid;
  __u32 tid;
  __u32 ino;
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 status;      // response status the kernel's framing parsed (0: none)
  __u16 req_len;
  __u16 resp_len;
  __u8 role;
  __u8 protocol;
  __u8 incomplete;
  __u8 flags;
  __u8 laddr[16];
  __u8 raddr[16];
  __u8 data[REQ_CAP_MAX + RESP_CAP_MAX];
};

// Per-CPU scratch to assemble a record; the slack keeps the verifier's
// worst-case bounds of the two capture copies inside the value.
struct event_scratch {
  struct exchange_event e;
  __u8 slack[REQ_CAP_MAX + RESP_CAP_MAX];
};

// The first bytes of a message, read from user memory.
struct peek {
  __u8 b[16];
};

// Scalars of the run of bytes being fed (pointers stay in stack frames: a map
// value can hold no pointer).
struct feed_state {
  __u64 ubuf;    // user address of the bytes; 0: bytes the hook cannot see (sendfile)
  __u64 now;
  __u32 len;
  __u32 off;
  __u8 is_resp;  // the bytes go the response's way
  __u8 scratch;  // event_scratch key
  __u8 pad[6];
  // The run's bytes [win_start, win_end) already copied into io_scratch.buf at
  // win_base (win_end == win_start: none): the framing and the captures read
  // them there instead of from user memory again.
  __u32 win_start;
  __u32 win_end;
  __u32 win_base;
  __u32 pad2;
  struct peek pk;
};

// Scalars of the line scan in progress.
struct scan_state {
  __u32 n;          // valid bytes in buf: carried line start + new bytes
  __u32 cursor;     // next position to search for '\n'
  __u32 line_start;
  __u32 stop_at;    // position after the line that ended this part (0: not ended)
  __u32 carry;      // bytes carried from the previous run at the start of buf
  __u32 fresh;      // new bytes after them
  __u8 is_resp;
  __u8 verdict;
  __u8 pad[6];
};

// Per-CPU working state of one syscall's capture (task context only). The
// verifier allows 512 bytes of stack across a whole call chain, so frames keep
// pointers to this instead of structs of their own.
struct io_scratch {
  struct {
    __u64 sk;  // the connection's key: its struct sock address (| 1 for TLS plaintext, see tls.h)
    __u64 now;
    __u32 ino; // socket inode number
    __u32 dir; // DIR_IN (read) or DIR_OUT (written)
    __u32 tls; // the run is TLS plaintext from an OpenSSL call, not a syscall's bytes
    __u32 pad;
  } io;        // the syscall (or TLS call) being captured
  struct feed_state feed;
  struct scan_state scan;
  struct iovec iov;        // the iovec element being fed (or a msghdr's msg_iov, msg_iovlen)
  __u8 buf[SCAN_BUF + 16]; // scanned lines; the slack allows 8-byte loads at the end
};

// Per-CPU counters (capture_counters), summed by user space.
enum capture_counter {
  CNT_EXCHANGES = 0,        // records emitted (complete or not)
  CNT_INCOMPLETE = 1,       // of which incomplete
  CNT_CONN_CREATED = 2,     // connection states created
  CNT_CONN_DELETED = 3,     // connection states deleted by the programs
  CNT_PIPELINE_OVERFLOW = 4,// pipelined requests beyond SLOTS (not reported)
  CNT_NOT_HTTP = 5,         // request-looking starts whose request line was not HTTP/1.x
  CNT_FRAMING_LOST = 6,     // messages whose length the kernel could not follow
  CNT_ORPHAN_RESPONSES = 7, // responses with no pending request on their connection
  CNT_WATCH_FULL = 8,       // forked children not watched because the pid map was full
  CNT_CONN_FULL = 9,        // connection states that could not be created
  CNT_REQ_TRACKED = 10,     // requests given a slot
  CNT_REQ_ENDED = 11,       // slots given up: emitted, abandoned, or found not to be HTTP
  CNT_STREAM_CONNS = 12,    // streamed connections created
  CNT_STREAM_RECORDS = 13,  // stream chunk records sent
  CNT_STREAM_UNDECIDED = 14,// chunks not sent: user space had not decided the connection within STREAM_UNDECIDED_MAX
  CNT_STREAM_READ_FAILED = 15, // chunks whose bytes could not be read from user memory (sent without them)
  CNT_TLS_RUNS = 16,        // runs of TLS plaintext fed (SSL_read/SSL_write returns)
  CNT_TLS_UNBOUND = 17,     // of which on an SSL object whose socket was unknown (fed on a pseudo connection)
  CNT_TLS_SOCKETS = 18,     // sockets found to carry TLS (their ciphertext is skipped)
  CNT_TLS_CIPHER_SKIPPED = 19, // syscall runs of ciphertext skipped
  CNT_TLS_CALLS_LOST = 20,  // SSL calls whose arguments could not be kept (ssl_calls full)
  CNT_STREAM_STALE = 21,    // stream entries of a closed socket found at a new socket's address (ended, replaced)
  CNT_CONN_STALE = 22,      // connection states of a closed socket found at a new socket's address (dropped)
  CNT_SOCK_OTHER_IO = 23,   // socket tracepoint or fexit runs not taken: another syscall than the read/write family, or not the syscall's own socket
  CNT_COUNTERS = 24,
};

// Stream capture: every connection of a watched process that HTTP/1's fast path
// did not claim streams each read and write (its head and tail bytes) to user
// space, where protocol modules detect, frame and pair (src/protocols).
#define STREAM_HEAD_MAX 4096 // captured first bytes of one run
#define STREAM_TAIL_MAX 256  // captured last bytes of a run longer than its head
#define STREAM_SEGMENTS_MAX 8 // records one run may be sent as (see stream_emit)
// Chunks sent for a connection before user space says whether it wants it.
#define STREAM_UNDECIDED_MAX 2048

// What user space decided for a streamed connection (stream_verdicts map).
enum stream_verdict { SV_UNDECIDED = 0, SV_STREAM = 1, SV_IGNORE = 2 };
// stream_event.kind
enum stream_kind { SK_DATA = 1, SK_CLOSE = 2 };

// The connection's 4-tuple, local end first (IPv4 in the first 4 bytes).
struct tuple {
  __u8 laddr[16];
  __u8 raddr[16];
  __u16 family;
  __u16 lport;
  __u16 rport;
  __u16 pad;
};

// Per streamed connection, keyed by struct sock address (LRU).
struct stream_conn {
  struct tuple t;
  __u32 seq;    // chunks of this connection so far, sent or not (user space finds holes by it)
  __u32 ino;
  __u8 verdict; // enum stream_verdict, copied from stream_verdicts once user space decided
  __u8 tls;     // TLS plaintext (tls.h)
  __u8 pad[6];
};

// One ring-buffer record of the stream capture: the header, then head_len
// bytes of the run's start and tail_len bytes of its end.
struct stream_event {
  __u64 ts;
  __u64 sk;        // connection key
  __u32 bytes;     // bytes the run moved
  __u32 seq;       // stream_conn.seq of this chunk
  __u32 pid;
  __u32 tid;
  __u32 ino;
  __u16 head_len;
  __u16 tail_len;
  __u8 kind;       // enum stream_kind
  __u8 dir;        // 0: read by the process, 1: written
  __u8 tls;        // TLS plaintext (tls.h)
  __u8 pad[5];
  struct tuple t;
  __u8 data[STREAM_HEAD_MAX + STREAM_TAIL_MAX];
};

// Per-CPU assembly of a stream record; the slack keeps masked offsets inside.
struct stream_scratch {
  struct stream_event e;
  __u8 slack[STREAM_HEAD_MAX];
};

#endif
