// Test program with a known call graph and known stack use per function, for
// the verifier-budget tooling (test/ebpf/verifier-budget.test.ts). Each function
// fills a volatile array of u64, so its stack depth is the array's size:
//
//   chain_main (40 B) ─┬─ mid (24 B) ── leaf (72 B)
//                      ├─ leaf_big (168 B)
//                      └─ bpf_for_each_map_elem → each_cb (16 B) ── global_fn (200 B, global)
//
// Deepest chain: chain_main → each_cb → global_fn.
//
//   loop_main (40 B) ── bpf_loop → loop_cb (16 B)
//
// The kernel (JIT, ≥ 5.19) inlines that bpf_loop, which gives loop_main 24 more
// bytes after the stack check: its BPF_LOG_STATS depth reads 64.
#include "waggle/common.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} values SEC(".maps");

#define FILL(buf, n, seed)                                                                         \
  volatile __u64 buf[n];                                                                           \
  _Pragma("unroll") for (int i = 0; i < (n); i++) buf[i] = (seed) + i

static __attribute__((noinline)) __u64 leaf(__u64 seed) {
  FILL(b, 9, seed);
  return b[0] + b[8];
}

static __attribute__((noinline)) __u64 mid(__u64 seed) {
  FILL(b, 3, seed);
  return leaf(b[1]) + b[2];
}

static __attribute__((noinline)) __u64 leaf_big(__u64 seed) {
  FILL(b, 21, seed);
  return b[0] + b[20];
}

// Global: the verifier checks it once, on its own, for any argument value.
__attribute__((noinline)) __u64 global_fn(__u64 seed) {
  FILL(b, 25, seed);
  return b[0] + b[24];
}

static long each_cb(void *map, __u32 *key, __u64 *value, void *ctx) {
  FILL(b, 2, *value);
  *value = global_fn(b[1]);
  return 0;
}

SEC("socket")
int chain_main(struct __sk_buff *skb) {
  FILL(b, 5, skb->len);
  __u64 sum = mid(b[1]) + leaf_big(b[2]) + b[4];
  bpf_for_each_map_elem(&values, each_cb, NULL, 0);
  return sum & 1;
}

static long loop_cb(__u64 index, void *ctx) {
  FILL(b, 2, index);
  return b[1] > 100;
}

SEC("socket")
int loop_main(struct __sk_buff *skb) {
  FILL(b, 5, skb->len);
  bpf_loop(4, loop_cb, NULL, 0);
  return b[4] & 1;
}

WAGGLE_LICENSE;
