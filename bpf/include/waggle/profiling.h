// Layouts shared by the CPU profiler's BPF program and user space (read through BTF).
#ifndef WAGGLE_BPF_PROFILING_H
#define WAGGLE_BPF_PROFILING_H

#include "waggle/common.h"

#define PROFILE_MAX_USER_FRAMES 127
// Legacy builds (5.10–5.16): user frames unwound per sample.
#define PROFILE_USER_FRAMES_LEGACY PROFILE_MAX_USER_FRAMES
#define PROFILE_MAX_KERNEL_FRAMES 64
#define PROFILE_MAX_TABLES 4096
#define PROFILE_MAX_ROWS (1 << 21)
// 2^21 rows: 21 halvings find any row.
#define PROFILE_SEARCH_STEPS 22
#define PROFILE_USER_ADDR_END 0x800000000000ULL
#define PF_KTHREAD 0x00200000

enum profile_counter {
  PROFILE_SAMPLES = 0,
  PROFILE_IDLE = 1,
  PROFILE_KERNEL_STACK_LOST = 2,
  PROFILE_USER_TRUNCATED = 3,
  PROFILE_COUNTS_FULL = 4,
  PROFILE_READ_FAILED = 5,
  PROFILE_FRAMES_TABLE = 6,
  PROFILE_FRAMES_FP = 7,
  PROFILE_COUNTERS = 8,
};

// How a row computes the canonical frame address (CFA).
enum unwind_cfa_reg {
  UNWIND_CFA_RSP = 0,
  UNWIND_CFA_RBP = 1,
  UNWIND_CFA_PLT = 2, // .plt stubs: a DWARF expression on rsp and rip
  UNWIND_CFA_GAP = 3, // no FDE covers this address: use frame pointers
  UNWIND_CFA_END = 4, // the return address is undefined: the outermost frame
};

enum unwind_rbp_rule {
  UNWIND_RBP_SAME = 0,
  UNWIND_RBP_AT_CFA = 1, // saved at CFA + rbp_offset
};

struct unwind_row {
  __u32 pc; // first address (ELF virtual address) the row covers
  __s32 cfa_offset;
  __s16 rbp_offset;
  __u8 cfa_reg;
  __u8 rbp_rule;
};

struct unwind_table {
  __u32 first;
  __u32 count;
};

struct mapping_key {
  __u32 prefixlen;
  __u32 pid;  // big endian, so that the trie matches on it first
  __u64 addr; // big endian
};

struct mapping_value {
  __u32 table_id;
  __u32 pad;
  __u64 bias; // ELF virtual address = pc - bias
};

struct user_stack {
  __u32 len;
  __u32 truncated;
  __u64 pcs[PROFILE_MAX_USER_FRAMES];
};

struct sample_key {
  __u32 pid;
  __s32 kernel_stack; // -1: none
  __u64 user_stack;   // hash, 0: none
};

struct walk {
  struct user_stack stack;
  __u64 pc;
  __u64 sp;
  __u64 bp;
  __u64 hash;
  __u32 pid;
};

#endif
