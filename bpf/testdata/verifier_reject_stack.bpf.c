// Test program the verifier must reject for its combined stack: a chain of six
// calls below a 40-byte entry, 88 bytes each. Rounded to 16 (JIT, Linux ≥ 6.9)
// the sixth frame reaches 48 + 5 × 96 = 528 > 512; rounded to 32, 64 + 5 × 96 =
// 544. Tests compare the kernel's message with firstStackOverflow().
#include "waggle/common.h"

#define FILL(buf, n, seed)                                                                         \
  volatile __u64 buf[n];                                                                           \
  _Pragma("unroll") for (int i = 0; i < (n); i++) buf[i] = (seed) + i

#define LINK(name, next)                                                                           \
  static __attribute__((noinline)) __u64 name(__u64 seed) {                                        \
    FILL(b, 11, seed);                                                                             \
    return next(b[0]) + b[10];                                                                     \
  }

static __attribute__((noinline)) __u64 f6(__u64 seed) {
  FILL(b, 11, seed);
  return b[0] + b[10];
}
LINK(f5, f6)
LINK(f4, f5)
LINK(f3, f4)
LINK(f2, f3)
LINK(f1, f2)

SEC("socket")
int too_deep(struct __sk_buff *skb) {
  FILL(b, 5, skb->len);
  return (f1(b[1]) + b[4]) & 1;
}

WAGGLE_LICENSE;
