// Maps and settings of the capture programs.
#ifndef WAGGLE_CAPTURE_MAPS_H
#define WAGGLE_CAPTURE_MAPS_H

#include "waggle/ringbuf.h"
#include "types.h"

// Set by user space before load.
const volatile __u32 request_capture = 512;  // ≤ REQ_CAP_MAX
const volatile __u32 response_capture = 256; // ≤ RESP_CAP_MAX
const volatile __u64 idle_timeout_ns = 30000000000ULL;
// User space is woken once this many bytes of records wait in the ring buffer
// (it also drains on a timer), not once per record: one wakeup per batch.
const volatile __u64 wakeup_bytes = 65536;

// Stream capture (types.h): off, or on with these captured sizes per run.
const volatile __u32 stream_enabled = 1;
const volatile __u32 stream_head = 2048; // ≤ STREAM_HEAD_MAX
const volatile __u32 stream_tail = 256;  // ≤ STREAM_TAIL_MAX
const volatile __u32 stream_segments = 4; // ≤ STREAM_SEGMENTS_MAX

// Changed at run time by user space: 0 = only `watched` pids, 1 = every pid
// except `excluded` ones.
__u32 capture_all = 0;
// At the end of the last sweep: requests pending (tracked, not yet ended) and
// connection states alive.
__u64 sweep_pending = 0;
__u64 sweep_states = 0;

#include "pid_sets.h"

// Connections with HTTP traffic, keyed by struct sock address.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, struct conn);
} conns SEC(".maps");

// Never written: the zeroed value new connection states are created from.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct conn);
} conn_zero SEC(".maps");

// Slot 0: syscall and sweep programs; slot 1: socket state changes, which may
// run in softirq context on top of a syscall program on the same CPU.
#define SCRATCH_TASK 0
#define SCRATCH_SOFTIRQ 1

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct event_scratch);
} event_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct io_scratch);
} io_scratch SEC(".maps");

static __always_inline struct io_scratch *io_scratch_get(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&io_scratch, &zero);
}

// Streamed connections (not HTTP/1's fast path), keyed by struct sock address.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct stream_conn);
} streams SEC(".maps");

// Written by user space: its verdict on a streamed connection (enum stream_verdict).
// The kernel moves it into the connection's state and deletes the entry.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u64);
  __type(value, __u8);
} stream_verdicts SEC(".maps");

// Syscall programs only (close records carry no bytes and are reserved in place).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct stream_scratch);
} stream_scratch SEC(".maps");

WAGGLE_COUNTERS(capture_counters, CNT_COUNTERS);
WAGGLE_RINGBUF(stream_chunks, 1 << 23);
WAGGLE_RINGBUF(exchanges, 1 << 23);

static __always_inline void count(__u32 counter) { waggle_count(&capture_counters, counter, 1); }

#endif
