// Maps and constants of the security programs. Everything here is written by
// user space (src/security/kernel/loader.ts) from the compiled policy set.
#ifndef WAGGLE_SECURITY_STATE_H
#define WAGGLE_SECURITY_STATE_H

#include "waggle/ringbuf.h"
#include "waggle/legacy.h"
#include "records.h"

// Frozen at load: the verifier prunes every check no policy asks for.
const volatile struct sec_config cfg = {};
const volatile struct sel_config sels[SEL_MAX] = {};

WAGGLE_RINGBUF(events, 1 << 23);
WAGGLE_COUNTERS(counters, COUNTERS_N);
WAGGLE_COUNTERS(sel_counters, SEL_MAX * WG_SC_PER_SEL);

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 32768);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u32);
  __type(value, struct proc_entry);
} procs SEC(".maps");

// Paths: equal values are stored with their NUL ("/etc/shadow\0"), prefixes
// without, so one longest-prefix lookup answers both. Each entry's value holds
// the selectors of every entry that is a prefix of it (closed by user space).
#define PATH_TRIE(name)                                                                            \
  struct {                                                                                         \
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);                                                           \
    __uint(max_entries, 4096);                                                                     \
    __uint(map_flags, BPF_F_NO_PREALLOC);                                                          \
    __type(key, struct path_key);                                                                  \
    __type(value, struct sel_pair);                                                                \
  } name SEC(".maps")

PATH_TRIE(path_trie);      // file paths: equal, prefix
PATH_TRIE(suffix_trie);    // file paths reversed: suffix
PATH_TRIE(binary_trie);    // process binary: equal, prefix
PATH_TRIE(parent_trie);    // parent's binary: equal, prefix

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 4096);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct addr_key);
  __type(value, struct sel_pair);
} addr_trie SEC(".maps");

#define VALUE_HASH(name)                                                                           \
  struct {                                                                                         \
    __uint(type, BPF_MAP_TYPE_HASH);                                                               \
    __uint(max_entries, 4096);                                                                     \
    __type(key, __u32);                                                                            \
    __type(value, struct sel_pair);                                                                \
  } name SEC(".maps")

VALUE_HASH(port_set);
VALUE_HASH(uid_set);
VALUE_HASH(pid_set);

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct rate_key);
  __type(value, __u64);
} rate_limits SEC(".maps");

// Open flags from the entry of open calls, for create/truncate selectors.
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 8192);
  __type(key, __u32);
  __type(value, __u32);
} open_flags SEC(".maps");

// Per-CPU working memory: paths are assembled here, and this is also the
// lookup key (prefixlen followed by path) of the path tries.
#define WALK_MAX_COMPONENTS 64
#define WALK_MAX_STEPS 96

struct path_component {
  const unsigned char *name;
  __u32 len;
  __u32 pad;
};

struct resolve_state {
  struct selmask remaining;
  struct selmask posted;
  struct selmask killed;
  struct selmask dry;
};

struct scratch {
  __u8 slack[WAGGLE_SUFFIX_MAX];  // read (never used) by reverse_tail's window for short paths
  __u32 prefixlen;
  char path[2 * WAGGLE_PATH_MAX];  // room for masked writes past the kept bytes
  __u32 rprefixlen;
  char rpath[2 * WAGGLE_PATH_MAX];  // reversed tail, for suffix lookups
  struct path_component comps[WALK_MAX_COMPONENTS];
  struct proc_entry proc;
  struct addr_key addr;
  struct resolve_state resolve;
  __u32 late_forks[4];  // send_late_forks: unsent images, nearest first
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline struct scratch *get_scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&scratch_map, &zero);
}

// The reader is woken when the waiting bytes cross this (waggle_wake_submit);
// user space also drains on a timer. 0: the kernel's default.
const volatile __u64 wakeup_bytes = 65536;

static __always_inline __u64 wake_flags(__u64 size) { return waggle_wake_submit(&events, wakeup_bytes, size); }

static __always_inline void count_hook(__u32 hook, __u32 counter) {
  waggle_count(&counters, hook * WG_CNT_PER_HOOK + counter, 1);
}

static __always_inline void count_life(__u32 counter) { waggle_count(&counters, LIFE_BASE + counter, 1); }

#endif
