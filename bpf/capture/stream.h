// Stream capture: the protocol-agnostic path. A connection of a watched process
// that HTTP/1's fast path does not claim sends each run of bytes it reads or
// writes (head and tail, with the run's length) to user space, where protocol
// modules detect, frame and pair (src/protocols). User space answers through
// stream_verdicts: keep streaming, or ignore (a protocol no module knows), so
// unknown traffic costs one record per run only until it is recognised as such.
#ifndef WAGGLE_CAPTURE_STREAM_H
#define WAGGLE_CAPTURE_STREAM_H

#include "maps.h"

_Static_assert(sizeof(struct stream_scratch) >= __builtin_offsetof(struct stream_event, data) + 2 * STREAM_HEAD_MAX - 1 + STREAM_TAIL_MAX,
               "the masked tail copy must stay inside the scratch");
_Static_assert((STREAM_HEAD_MAX & (STREAM_HEAD_MAX - 1)) == 0, "power-of-two head");

// What stream_feed() did with a run.
enum { STREAM_NONE = 0, STREAM_TAKEN = 1, STREAM_IGNORED = 2 };

// Sends one chunk record of the run (ubuf, len) of the syscall in io_scratch.
// ubuf 0: bytes the hook cannot see (sendfile): the record says how many.
WAGGLE_SUBPROG int stream_record(struct stream_conn *s, __u64 ubuf, __u32 len) {
  struct io_scratch *w = io_scratch_get();
  __u32 zero = 0;
  struct stream_scratch *x = bpf_map_lookup_elem(&stream_scratch, &zero);
  if (!w || !x || !s) return 0;
  struct stream_event *e = &x->e;
  __u64 id = bpf_get_current_pid_tgid();
  e->ts = w->io.now;
  e->sk = w->io.sk;
  e->bytes = len;
  e->seq = s->seq++;
  e->pid = id >> 32;
  e->tid = (__u32)id;
  e->ino = s->ino;
  e->kind = SK_DATA;
  e->dir = w->io.dir;
  e->tls = s->tls;
  __builtin_memcpy(&e->t, &s->t, sizeof(e->t));
  __u32 head = len < stream_head ? len : stream_head;
  if (head > STREAM_HEAD_MAX) head = STREAM_HEAD_MAX;
  __u32 rest = len - head;
  __u32 tail = rest < stream_tail ? rest : stream_tail;
  if (tail > STREAM_TAIL_MAX) tail = STREAM_TAIL_MAX;
  if (!ubuf) head = tail = 0;
  if (head && bpf_probe_read_user(e->data, BOUND(head, STREAM_HEAD_MAX), (const void *)ubuf)) {
    head = tail = 0;
    count(CNT_STREAM_READ_FAILED);
  }
  if (tail && bpf_probe_read_user(e->data + MASKED(head, 2 * STREAM_HEAD_MAX - 1), BOUND(tail, STREAM_TAIL_MAX), (const void *)(ubuf + len - tail))) {
    tail = 0;
    count(CNT_STREAM_READ_FAILED);
  }
  e->head_len = head;
  e->tail_len = tail;
  __u32 size = offsetof(struct stream_event, data) + head + tail;
  __u64 wake = waggle_wake_output(&stream_chunks, wakeup_bytes, size);
  // A new connection's first chunk wakes user space at once: until it decides,
  // the connection has only STREAM_UNDECIDED_MAX chunks (a short-lived client
  // sends hundreds within one flush interval).
  if (e->seq == 0) wake = BPF_RB_FORCE_WAKEUP;
  if (bpf_ringbuf_output(&stream_chunks, e, BOUND(size, sizeof(struct stream_event)), wake)) {
    waggle_count(&stream_chunks_drops, 0, 1);
    return 0;
  }
  count(CNT_STREAM_RECORDS);
  return 0;
}

// Sends the run as up to stream_segments records of stream_head bytes each, the
// last with the rest (its head and tail): a read that gathered many small
// messages (a subscriber behind its broker) is seen whole up to segments × head
// bytes, and only longer runs have a hole. To parsers, segments are runs.
WAGGLE_SUBPROG int stream_emit(struct stream_conn *s, __u64 ubuf, __u32 len) {
  __u32 head = stream_head < STREAM_HEAD_MAX ? stream_head : STREAM_HEAD_MAX;
  __u32 off = 0;
  for (int i = 0; i < STREAM_SEGMENTS_MAX; i++) {
    __u32 rest = len - off;
    int last = i + 1 >= stream_segments || rest <= head || !head;
    __u32 part = last ? rest : head;
    stream_record(s, ubuf ? ubuf + off : 0, part);
    if (last) break;
    off += part;
  }
  return 0;
}

// The connection is closing: tell user space (its parser ends what is pending)
// and forget it.
static __always_inline void stream_close(__u64 key) {
  struct stream_conn *s = bpf_map_lookup_elem(&streams, &key);
  if (!s) return;
  if (s->verdict != SV_IGNORE) {
    struct stream_event *e = bpf_ringbuf_reserve(&stream_chunks, offsetof(struct stream_event, data), 0);
    if (e) {
      __builtin_memset(e, 0, offsetof(struct stream_event, data));
      e->ts = bpf_ktime_get_ns();
      e->sk = key;
      e->seq = s->seq;
      e->ino = s->ino;
      e->kind = SK_CLOSE;
      e->tls = s->tls;
      __builtin_memcpy(&e->t, &s->t, sizeof(e->t));
      bpf_ringbuf_submit(e, 0);
    } else {
      waggle_count(&stream_chunks_drops, 0, 1);
    }
  }
  bpf_map_delete_elem(&streams, &key);
}

// The run (ubuf, len) of the syscall in io_scratch on a connection HTTP/1's
// fast path does not hold: STREAM_TAKEN when it belongs to a streamed
// connection (sent, or skipped while undecided); STREAM_IGNORED when user space
// ignores the connection; STREAM_NONE when the connection is not streamed yet.
__attribute__((noinline)) int stream_feed(__u64 ubuf, __u32 len) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return STREAM_NONE;
  __u64 key = w->io.sk;
  struct stream_conn *s = bpf_map_lookup_elem(&streams, &key);
  if (!s) return STREAM_NONE;
  if (s->ino != w->io.ino) {
    // A closed socket's entry at this address: its last run came after its
    // close (the close had already ended it), or its close was never seen.
    // End it and let this run start the new connection.
    stream_close(key);
    count(CNT_STREAM_STALE);
    return STREAM_NONE;
  }
  if (s->verdict == SV_UNDECIDED) {
    __u8 *v = bpf_map_lookup_elem(&stream_verdicts, &key);
    if (v) {
      s->verdict = *v;
      bpf_map_delete_elem(&stream_verdicts, &key);
    } else if (s->seq >= STREAM_UNDECIDED_MAX) {
      s->seq++; // user space sees the hole
      count(CNT_STREAM_UNDECIDED);
      return STREAM_TAKEN;
    }
  }
  if (s->verdict == SV_IGNORE) return STREAM_IGNORED;
  stream_emit(s, ubuf, len);
  return STREAM_TAKEN;
}

// Starts streaming the connection in io_scratch with this run.
__attribute__((noinline)) int stream_start(__u64 ubuf, __u32 len) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return 0;
  __u64 key = w->io.sk;
  // A TLS pseudo connection (no socket known: top bit clear, tls.h) has no
  // inode to name it by in user space: HTTP/1's fast path only.
  if (!(key >> 63)) return 0;
  struct stream_conn fresh = {.ino = w->io.ino, .tls = w->io.tls};
  // A key is a struct sock address, | 1 for its TLS plaintext; a TLS pseudo
  // connection (top bit clear, tls.h) has no socket and no tuple.
  if (key >> 63) READ_TUPLE(&fresh.t, key & ~1ULL);
  if (bpf_map_update_elem(&streams, &key, &fresh, BPF_NOEXIST)) return 0;
  struct stream_conn *s = bpf_map_lookup_elem(&streams, &key);
  if (!s) return 0;
  count(CNT_STREAM_CONNS);
  stream_emit(s, ubuf, len);
  // Already closed (a reset came in while this run was read): its close has
  // passed, so end it here rather than leave an entry no close will remove.
  if (BPF_CORE_READ((struct sock *)(key & ~1ULL), __sk_common.skc_state) == WAGGLE_TCP_CLOSE) stream_close(key);
  return 0;
}

#endif
