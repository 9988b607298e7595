// The capture's legacy build (-DWAGGLE_LEGACY, for 5.10–5.16; see
// waggle/legacy.h): what socket_capture.bpf.c does with helpers those kernels
// lack, done without them.
#ifndef WAGGLE_CAPTURE_LEGACY_H
#define WAGGLE_CAPTURE_LEGACY_H

#include "pairing.h"

// A copy of the syscall's saved user registers (no bpf_task_pt_regs before
// 5.15): read from the top of the task's kernel stack into per-CPU memory, so
// the PT_REGS_*_SYSCALL accessors load from it directly.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pt_regs);
} legacy_regs SEC(".maps");

static struct pt_regs legacy_no_regs;

static __always_inline struct pt_regs *syscall_regs(void) {
  __u32 zero = 0;
  struct pt_regs *copy = bpf_map_lookup_elem(&legacy_regs, &zero);
  if (!copy) return &legacy_no_regs;
  struct pt_regs *regs = waggle_task_pt_regs((struct task_struct *)bpf_get_current_task());
  if (bpf_probe_read_kernel(copy, sizeof(*copy), regs)) __builtin_memset(copy, 0, sizeof(*copy));
  return copy;
}

// The sweep without bpf_for_each_map_elem (5.13): user space lists the
// connection keys and hands them over SWEEP_BATCH at a time in sweep_keys
// (0: no key); each run adds to sweep_pending and sweep_states, which user
// space zeroes before the first batch.
#define SWEEP_BATCH 8
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, SWEEP_BATCH);
  __type(key, __u32);
  __type(value, __u64);
} sweep_keys SEC(".maps");

#endif
