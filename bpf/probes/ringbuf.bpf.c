// Ring buffer probe for `waggle doctor`: one record per getppid() of the target.
#include "waggle/ringbuf.h"

const volatile __u32 target_tgid = 0;

struct probe_record {
  __u32 tgid;
  __u32 magic;
};

WAGGLE_RINGBUF(records, 4096);

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_ringbuf(void *ctx) {
  if (waggle_tgid() != target_tgid) return 0;
  struct probe_record *r = WAGGLE_RESERVE(records, struct probe_record);
  if (!r) return 0;
  r->tgid = target_tgid;
  r->magic = 0x77616767; // "wagg"
  bpf_ringbuf_submit(r, 0);
  return 0;
}

WAGGLE_LICENSE;
