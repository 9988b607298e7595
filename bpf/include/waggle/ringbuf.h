// A ring buffer with a companion drop counter. User space's RingBufferReader
// finds `<name>_drops` next to map `<name>` and reports the sum as records the
// kernel had to drop because the buffer was full.
#ifndef WAGGLE_BPF_RINGBUF_H
#define WAGGLE_BPF_RINGBUF_H

#include "waggle/common.h"

#define WAGGLE_RINGBUF(name, bytes)                                                                \
  struct {                                                                                         \
    __uint(type, BPF_MAP_TYPE_RINGBUF);                                                            \
    __uint(max_entries, bytes);                                                                    \
  } name SEC(".maps");                                                                             \
  WAGGLE_COUNTERS(name##_drops, 1)

// Reserves a record of `type`; on failure counts one drop and yields NULL.
#define WAGGLE_RESERVE(name, type)                                                                 \
  ({                                                                                               \
    type *__rec = bpf_ringbuf_reserve(&name, sizeof(type), 0);                                     \
    if (!__rec) waggle_count(&name##_drops, 0, 1);                                                 \
    __rec;                                                                                         \
  })

// Copies `size` bytes from `data`; on failure counts one drop. Returns 0 on success.
#define WAGGLE_OUTPUT(name, data, size)                                                            \
  ({                                                                                               \
    long __err = bpf_ringbuf_output(&name, data, size, 0);                                         \
    if (__err) waggle_count(&name##_drops, 0, 1);                                                  \
    __err;                                                                                         \
  })

// Wakeup flags that wake the reader only when a record makes the bytes waiting
// in `ring` cross `threshold`: a wakeup costs an irq_work (an interrupt) plus
// the reader's epoll round trip, far more than a record, so records below the
// threshold are left for the reader's own timer. A threshold of 0 keeps the
// kernel's policy (wake a reader that caught up). The record header is 8 bytes.
// For bpf_ringbuf_output: the waiting bytes do not count the record yet.
static __always_inline __u64 waggle_wake_output(void *ring, __u64 threshold, __u64 size) {
  if (!threshold) return 0;
  __u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
  return avail < threshold && avail + size + 8 >= threshold ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

// For bpf_ringbuf_submit: the waiting bytes already count the reserved record.
static __always_inline __u64 waggle_wake_submit(void *ring, __u64 threshold, __u64 size) {
  if (!threshold) return 0;
  __u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
  return avail >= threshold && avail < threshold + size + 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#endif
