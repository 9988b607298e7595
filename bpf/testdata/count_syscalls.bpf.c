// Test program: counts getppid() calls of one process (target set in .rodata
// before load) on a syscall tracepoint, and records per-call ids in a hash map.
#include "waggle/common.h"

const volatile __u32 target_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} calls SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx) {
  if (waggle_tgid() != target_tgid) return 0;
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&calls, &zero);
  if (n) __sync_fetch_and_add(n, 1);
  return 0;
}

WAGGLE_LICENSE;
