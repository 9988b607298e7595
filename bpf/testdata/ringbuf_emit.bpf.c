// Test and benchmark program: emits records into a ring buffer with bpf_loop.
// Triggered either by BPF_PROG_TEST_RUN (raw_tp) or by getppid() calls of one
// process (tracepoint), so the producer can run on another core.
#include "waggle/ringbuf.h"

struct small_record {
  __u64 seq;
  __u32 cpu;
  __u32 size;
  __u8 payload[48];
};

struct large_record {
  __u64 seq;
  __u32 cpu;
  __u32 size;
  __u8 payload[1008];
};

WAGGLE_BTF_TYPE(small_record);
WAGGLE_BTF_TYPE(large_record);

const volatile __u32 target_tgid = 0;
__u32 records_per_trigger = 1;
__u32 use_large = 0;
__u64 next_seq = 0;

WAGGLE_RINGBUF(events, 1 << 22);

static long emit_one(__u64 index, void *ctx) {
  __u64 seq = __sync_fetch_and_add(&next_seq, 1);
  if (use_large) {
    struct large_record *r = WAGGLE_RESERVE(events, struct large_record);
    if (!r) return 0;
    r->seq = seq;
    r->cpu = bpf_get_smp_processor_id();
    r->size = sizeof(*r);
    r->payload[0] = (__u8)seq;
    bpf_ringbuf_submit(r, 0);
  } else {
    struct small_record *r = WAGGLE_RESERVE(events, struct small_record);
    if (!r) return 0;
    r->seq = seq;
    r->cpu = bpf_get_smp_processor_id();
    r->size = sizeof(*r);
    r->payload[0] = (__u8)seq;
    bpf_ringbuf_submit(r, 0);
  }
  return 0;
}

SEC("raw_tp")
int emit_test_run(void *ctx) {
  bpf_loop(records_per_trigger, emit_one, NULL, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit_on_getppid(void *ctx) {
  if (waggle_tgid() != target_tgid) return 0;
  bpf_loop(records_per_trigger, emit_one, NULL, 0);
  return 0;
}

WAGGLE_LICENSE;
