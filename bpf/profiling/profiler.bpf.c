// CPU profiler: a perf event (CPU clock) per CPU runs `profile_sample` at a
// fixed frequency. Each sample's kernel stack comes from bpf_get_stackid; its
// user stack is walked here, frame by frame:
//   - where user space loaded an unwind table for the executable mapping that
//     holds the pc (rows computed from the ELF's .eh_frame), by its CFA rule;
//   - elsewhere (JIT code, Go, binaries without tables) by frame pointers.
// Samples are counted in the kernel by (pid, kernel stack id, user stack hash);
// user space drains the counts periodically. Everything lost is counted.
#include "waggle/profiling.h"
#include "waggle/legacy.h"

WAGGLE_LICENSE;

// Only pids in `target_pids` are sampled when set; else every process but `agent_pid`.
const volatile __u32 filter_pids = 0;
const volatile __u32 agent_pid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} target_pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 16384);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, PROFILE_MAX_KERNEL_FRAMES * sizeof(__u64));
} kernel_stacks SEC(".maps");

// User stacks by hash; LRU so it never fills. A count whose stack was evicted
// before the drain is reported as an unknown stack (counted in user space).
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct user_stack);
} user_stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 32768);
  __type(key, struct sample_key);
  __type(value, __u64);
} sample_counts SEC(".maps");

// Executable mappings with an unwind table: (pid, address) → table and bias.
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 65536);
  __type(key, struct mapping_key);
  __type(value, struct mapping_value);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} unwind_mappings SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PROFILE_MAX_TABLES);
  __type(key, __u32);
  __type(value, struct unwind_table);
} unwind_tables SEC(".maps");

// All tables' rows, each table a sorted slice [first, first + count).
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, PROFILE_MAX_ROWS);
  __type(key, __u32);
  __type(value, struct unwind_row);
} unwind_rows SEC(".maps");

// The walk's state: a per-CPU map value, so no frame array sits on the BPF stack.
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct walk);
} walk_scratch SEC(".maps");

WAGGLE_COUNTERS(profile_counters, PROFILE_COUNTERS);

WAGGLE_BTF_TYPE(sample_key);
WAGGLE_BTF_TYPE(user_stack);
WAGGLE_BTF_TYPE(unwind_row);

struct search {
  __u32 lo;
  __u32 hi;
  __u32 target;
};

// One step of a binary search: rows[lo].pc <= target < rows[hi].pc.
static long search_step(__u32 i, void *ctx) {
  struct search *s = ctx;
  if (s->lo + 1 >= s->hi) return 1;
  __u32 mid = s->lo + (s->hi - s->lo) / 2;
  struct unwind_row *r = bpf_map_lookup_elem(&unwind_rows, &mid);
  if (!r) return 1;
  if (r->pc <= s->target)
    s->lo = mid;
  else
    s->hi = mid;
  return 0;
}

// The table row covering `pc` in the mapping that holds it, or NULL.
static __always_inline struct unwind_row *find_row(__u32 pid, __u64 pc, __u32 *plt_target) {
  struct mapping_key key = {.prefixlen = 96, .pid = bpf_htonl(pid), .addr = bpf_cpu_to_be64(pc)};
  struct mapping_value *m = bpf_map_lookup_elem(&unwind_mappings, &key);
  if (!m) return NULL;
  __u32 id = m->table_id;
  struct unwind_table *t = bpf_map_lookup_elem(&unwind_tables, &id);
  if (!t || t->count == 0) return NULL;
  __u64 rel = pc - m->bias;
  if (rel > 0xffffffffULL) return NULL;
  struct search s = {.lo = t->first, .hi = t->first + t->count, .target = (__u32)rel};
  WAGGLE_LOOP(PROFILE_SEARCH_STEPS, PROFILE_SEARCH_STEPS, search_step, &s);
  __u32 lo = s.lo;
  struct unwind_row *r = bpf_map_lookup_elem(&unwind_rows, &lo);
  if (!r || r->pc > s.target) return NULL;
  *plt_target = s.target;
  return r;
}

static __always_inline int read_u64(__u64 *out, __u64 addr) {
  return bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

// One frame: records the pc, then finds the caller's pc, sp and bp. Returns 1 to stop.
static long unwind_step(__u32 i, void *ctx) {
  __u32 zero = 0;
  struct walk *w = bpf_map_lookup_elem(&walk_scratch, &zero);
  if (!w) return 1;
  __u64 pc = w->pc;
  if (pc == 0 || pc >= PROFILE_USER_ADDR_END) return 1;
  __u32 n = w->stack.len;
  if (n >= PROFILE_MAX_USER_FRAMES) {
    w->stack.truncated = 1;
    return 1;
  }
  w->stack.pcs[n] = pc;
  w->stack.len = n + 1;
  w->hash = (w->hash ^ pc) * 0x100000001b3ULL;

  // A return address may sit just past its call's function: look up pc - 1.
  __u64 at = n == 0 ? pc : pc - 1;
  __u32 rel = 0;
  struct unwind_row *row = find_row(w->pid, at, &rel);
  if (row && row->cfa_reg != UNWIND_CFA_GAP) {
    if (row->cfa_reg == UNWIND_CFA_END) return 1; // the outermost frame (_start, clone)
    __u64 cfa;
    if (row->cfa_reg == UNWIND_CFA_RBP)
      cfa = w->bp + row->cfa_offset;
    else if (row->cfa_reg == UNWIND_CFA_PLT) // PLT stubs: CFA is rsp+8, or rsp+16 past the push
      cfa = w->sp + 8 + ((rel & 15) >= 11 ? 8 : 0);
    else
      cfa = w->sp + row->cfa_offset;
    __u64 ra = 0;
    if (read_u64(&ra, cfa - 8)) {
      waggle_count(&profile_counters, PROFILE_READ_FAILED, 1);
      return 1;
    }
    if (row->rbp_rule == UNWIND_RBP_AT_CFA) {
      __u64 bp = 0;
      if (read_u64(&bp, cfa + row->rbp_offset) == 0) w->bp = bp;
    }
    if (cfa <= w->sp) return 1; // the stack grows down: a caller's frame is above
    w->sp = cfa;
    w->pc = ra;
    waggle_count(&profile_counters, PROFILE_FRAMES_TABLE, 1);
    return 0;
  }
  // Frame pointers: [bp] is the caller's bp, [bp + 8] the return address.
  __u64 bp = w->bp;
  if (bp == 0 || bp < w->sp) return 1;
  __u64 next_bp = 0, ra = 0;
  if (read_u64(&next_bp, bp) || read_u64(&ra, bp + 8)) {
    waggle_count(&profile_counters, PROFILE_READ_FAILED, 1);
    return 1;
  }
  w->sp = bp + 16;
  w->bp = next_bp;
  w->pc = ra;
  waggle_count(&profile_counters, PROFILE_FRAMES_FP, 1);
  return 0;
}

#ifdef WAGGLE_LEGACY
// Legacy builds: a global step (verified once, not at each frame); its state is in walk_scratch already.
__attribute__((noinline)) int unwind_step_global(__u32 i) { return unwind_step(i, NULL); }
#define UNWIND_STEP(i, unused) unwind_step_global(i)
#else
#define UNWIND_STEP unwind_step
#endif

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 pid = id >> 32;
  if (pid == 0) {
    waggle_count(&profile_counters, PROFILE_IDLE, 1);
    return 0;
  }
  if (filter_pids ? !bpf_map_lookup_elem(&target_pids, &pid) : pid == agent_pid) return 0;
  waggle_count(&profile_counters, PROFILE_SAMPLES, 1);

  struct sample_key key = {.pid = pid, .kernel_stack = -1};
  long kid = bpf_get_stackid(ctx, &kernel_stacks, 0);
  if (kid >= 0)
    key.kernel_stack = kid;
  else if (kid != -14) // -EFAULT: the sample hit user mode, there is no kernel stack
    waggle_count(&profile_counters, PROFILE_KERNEL_STACK_LOST, 1);

#ifdef WAGGLE_LEGACY
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD)) {
#else
  struct task_struct *task = bpf_get_current_task_btf();
  if (!(task->flags & PF_KTHREAD)) {
#endif
    __u32 zero = 0;
    struct walk *w = bpf_map_lookup_elem(&walk_scratch, &zero);
    if (!w) return 0;
    // The task's saved user registers, whichever mode the sample interrupted.
#ifdef WAGGLE_LEGACY
    struct pt_regs *regs = waggle_task_pt_regs(task);
#else
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
#endif
    w->pc = PT_REGS_IP_CORE(regs);
    w->sp = PT_REGS_SP_CORE(regs);
    w->bp = PT_REGS_FP_CORE(regs);
    w->pid = pid;
    w->hash = 0xcbf29ce484222325ULL;
    w->stack.len = 0;
    w->stack.truncated = 0;
    WAGGLE_LOOP(PROFILE_MAX_USER_FRAMES + 1, PROFILE_USER_FRAMES_LEGACY + 1, UNWIND_STEP, NULL);
    if (w->stack.truncated) waggle_count(&profile_counters, PROFILE_USER_TRUNCATED, 1);
    if (w->stack.len > 0) {
      key.user_stack = w->hash ^ w->stack.len;
      if (!bpf_map_lookup_elem(&user_stacks, &key.user_stack)) bpf_map_update_elem(&user_stacks, &key.user_stack, &w->stack, BPF_ANY);
    }
  }

  __u64 *count = bpf_map_lookup_elem(&sample_counts, &key);
  if (count) {
    __sync_fetch_and_add(count, 1);
  } else {
    __u64 one = 1;
    if (bpf_map_update_elem(&sample_counts, &key, &one, BPF_NOEXIST)) {
      count = bpf_map_lookup_elem(&sample_counts, &key);
      if (count)
        __sync_fetch_and_add(count, 1);
      else
        waggle_count(&profile_counters, PROFILE_COUNTS_FULL, 1);
    }
  }
  return 0;
}
