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

#endif
