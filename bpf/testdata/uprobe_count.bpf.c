// Test program: counts entries into and returns from a user-space function.
#include "waggle/common.h"

__u64 entries = 0;
__u64 returns = 0;
__s64 last_return = 0;

SEC("uprobe")
int on_entry(struct pt_regs *ctx) {
  __sync_fetch_and_add(&entries, 1);
  return 0;
}

SEC("uretprobe")
int on_return(struct pt_regs *ctx) {
  __sync_fetch_and_add(&returns, 1);
  last_return = PT_REGS_RC(ctx);
  return 0;
}

WAGGLE_LICENSE;
