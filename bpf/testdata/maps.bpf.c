// Test program: maps of several kinds for user-space CRUD tests; no program runs.
#include "waggle/common.h"

struct point {
  __u32 x;
  __u32 y;
  __u64 label;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct point);
} points SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} slots SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8);
  __type(key, __u64);
  __type(value, __u64);
} lru SEC(".maps");

WAGGLE_BTF_TYPE(point);

SEC("tracepoint/syscalls/sys_enter_getppid")
int touch(void *ctx) {
  __u32 k = 0;
  bpf_map_lookup_elem(&points, &k);
  return 0;
}

WAGGLE_LICENSE;
