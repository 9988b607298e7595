// Test program: dereferences a hash map lookup result without a NULL check, which the
// verifier must reject.
#include "waggle/common.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} values SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int unchecked_lookup(void *ctx) {
  __u32 zero = 0;
  __u64 *v = bpf_map_lookup_elem(&values, &zero);
  *v += 1; // no NULL check: rejected
  return 0;
}

WAGGLE_LICENSE;
