// Common includes for waggle's BPF programs. CO-RE: types come from the running
// kernel's BTF (vmlinux.h, generated at build time), field offsets are relocated
// by libbpf at load time.
#ifndef WAGGLE_BPF_COMMON_H
#define WAGGLE_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

// The build also compiles every object for arm64 against this host's vmlinux.h
// (a portability check: CO-RE relocates by name at load time). That header has
// no arm64 register layout, so declare the one libbpf's PT_REGS_* macros use.
#if defined(__TARGET_ARCH_arm64) && defined(WAGGLE_FOREIGN_VMLINUX)
struct user_pt_regs {
  __u64 regs[31];
  __u64 sp;
  __u64 pc;
  __u64 pstate;
} __attribute__((preserve_access_index));
#endif

#define WAGGLE_LICENSE char LICENSE[] SEC("license") = "GPL"

// Per-CPU u64 counters read (and summed) by user space; index with an enum.
#define WAGGLE_COUNTERS(name, n)                                                                   \
  struct {                                                                                         \
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                                       \
    __uint(max_entries, n);                                                                        \
    __type(key, __u32);                                                                            \
    __type(value, __u64);                                                                          \
  } name SEC(".maps")

static __always_inline void waggle_count(void *counters, __u32 index, __u64 n) {
  __u64 *slot = bpf_map_lookup_elem(counters, &index);
  if (slot) *slot += n;
}

// BTF only describes types reachable from globals, maps and function signatures,
// not local variables. A record type that user space decodes through BTF is
// anchored with this (one unused global pointer in .bss).
#define WAGGLE_BTF_TYPE(tag) struct tag *__waggle_btf_##tag __attribute__((unused))

static __always_inline __u32 waggle_tgid(void) { return bpf_get_current_pid_tgid() >> 32; }

#endif
