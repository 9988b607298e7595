// What differs between the modern build of an object and its legacy build
// (-DWAGGLE_LEGACY, dist/bpf/**/*_legacy.bpf.o) for kernels 5.10–5.16. User
// space loads the modern build first and the legacy one where it is refused.
//
// 5.10 lacks: bpf_loop (5.17) and every callback helper (5.13: the verifier
// does not know a function's address as a value, hence "number of funcs in
// func_info doesn't match number of subprogs"); global functions taking
// pointers other than the context (5.12: "Arg#0 type PTR ... is not supported
// yet"); bpf_get_current_task_btf (5.11) and bpf_task_pt_regs (5.15).
#ifndef WAGGLE_LEGACY_H
#define WAGGLE_LEGACY_H

#include "common.h"

// WAGGLE_LOOP(n, bound, step, ctx): calls `long step(i, ctx)` for i = 0, 1, …
// until it returns non-zero, at most `n` times. Modern builds: bpf_loop, whose
// step the verifier checks once, so `n` may be large. Legacy builds: a plain
// loop of at most `bound` (a constant) iterations, each of which the verifier
// walks — `bound` is what keeps the object far under 5.10's limits.
#ifdef WAGGLE_LEGACY
#define WAGGLE_LOOP(n, bound, step, ctx)                                                           \
  do {                                                                                             \
    __u32 __waggle_n = (n);                                                                        \
    for (__u32 __waggle_i = 0; __waggle_i < (bound); __waggle_i++) {                               \
      if (__waggle_i >= __waggle_n || step(__waggle_i, ctx)) break;                                \
    }                                                                                              \
  } while (0)
#else
#define WAGGLE_LOOP(n, bound, step, ctx) bpf_loop((n), (step), (ctx), 0)
#endif

#ifdef WAGGLE_LEGACY
// A bounded loop of global steps (`int step(__u32 i, 0)`, each verified once)
// sharing *ctx through the per-CPU array `map` (global functions take no
// pointers on 5.10): *ctx is stored there before the loop and read back after,
// its pointer field `ptr` (which the steps set again) kept.
#define WAGGLE_LEGACY_LOOP(n, bound, step, map, ctx, ptr)                                          \
  do {                                                                                             \
    __u32 __zero = 0;                                                                              \
    __typeof__(ctx) __saved = bpf_map_lookup_elem(&map, &__zero);                                  \
    if (!__saved) break;                                                                           \
    *__saved = *(ctx);                                                                             \
    __saved->ptr = 0;                                                                              \
    WAGGLE_LOOP(n, bound, step, 0);                                                                \
    __saved = bpf_map_lookup_elem(&map, &__zero);                                                  \
    if (!__saved) break;                                                                           \
    __typeof__((ctx)->ptr) __keep = (ctx)->ptr;                                                    \
    *(ctx) = *__saved;                                                                             \
    (ctx)->ptr = __keep;                                                                           \
  } while (0)
#endif

// A subprogram with pointer arguments: global (verified once, whatever the
// call site) on modern builds, static on legacy ones (verified at each call,
// its stack added to its caller's: keep chains under the 512-byte limit).
#ifdef WAGGLE_LEGACY
#define WAGGLE_SUBPROG static __attribute__((noinline))
#else
#define WAGGLE_SUBPROG __attribute__((noinline))
#endif

// The kernel stack size, for task_pt_regs() on kernels without
// bpf_task_pt_regs: 16 KiB on x86-64 and on arm64 with 4 KiB pages (Debian,
// Ubuntu, Amazon Linux builds; a KASAN kernel doubles it).
#define WAGGLE_THREAD_SIZE 16384

// The task's saved user registers (the kernel's task_pt_regs(): the top of
// its kernel stack). A plain kernel address: read it with the CORE accessors
// or bpf_probe_read_kernel.
static __always_inline struct pt_regs *waggle_task_pt_regs(struct task_struct *task) {
  void *stack = BPF_CORE_READ(task, stack);
  return (struct pt_regs *)(stack + WAGGLE_THREAD_SIZE) - 1;
}

#endif
