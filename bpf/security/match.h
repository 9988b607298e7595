// Selector evaluation: every dimension turns into a set of selectors (a
// bitmask) by one map lookup, and the candidates are their intersection. Cheap
// dimensions (process, uid, pid, namespace) go first so that most operations
// are dropped before any string is read. Then, per policy, the first matching
// selector decides the action (post, sigkill, nopost).
#ifndef WAGGLE_SECURITY_MATCH_H
#define WAGGLE_SECURITY_MATCH_H

#include "state.h"

#define SIGKILL 9
#define PF_KTHREAD 0x00200000

static __always_inline void sm_load(struct selmask *d, const volatile struct selmask *a) {
#pragma unroll
  for (int i = 0; i < SEL_WORDS; i++) d->w[i] = a->w[i];
}

static __always_inline int sm_empty(const struct selmask *m) {
  __u32 any = 0;
#pragma unroll
  for (int i = 0; i < SEL_WORDS; i++) any |= m->w[i];
  return any == 0;
}

// cand &= (pos | none) & ~neg, where pos/neg come from a lookup (NULL: no entry).
static __always_inline void sm_filter(struct selmask *cand, const struct sel_pair *pair, const volatile struct selmask *none) {
#pragma unroll
  for (int i = 0; i < SEL_WORDS; i++) {
    __u32 pos = pair ? pair->pos.w[i] : 0;
    __u32 neg = pair ? pair->neg.w[i] : 0;
    cand->w[i] &= (pos | none->w[i]) & ~neg;
  }
}

// Same for two lookups of one dimension (a path's prefix and suffix tries).
static __always_inline void sm_filter2(struct selmask *cand, const struct sel_pair *a, const struct sel_pair *b, const volatile struct selmask *none) {
#pragma unroll
  for (int i = 0; i < SEL_WORDS; i++) {
    __u32 pos = (a ? a->pos.w[i] : 0) | (b ? b->pos.w[i] : 0);
    __u32 neg = (a ? a->neg.w[i] : 0) | (b ? b->neg.w[i] : 0);
    cand->w[i] &= (pos | none->w[i]) & ~neg;
  }
}

struct eval {
  struct selmask cand;
  struct proc_entry *proc;
  __u32 tgid;
  __u32 hook;
  __u8 flags;  // header flags
};

static __always_inline __u32 pidns_level(struct task_struct *task) { return BPF_CORE_READ(task, thread_pid, level); }

// Process-level dimensions, starting from the selectors in `start` (the
// tracepoint or the LSM selectors of a hook). `bin`, when `own_bin` is set,
// replaces the process's binary match (an exec checked before it happens).
// Returns 0 when no selector can match.
static __always_inline int eval_process_from(struct eval *e, __u32 hook, const volatile struct selmask *start, const struct sel_pair *bin, int own_bin) {
  e->hook = hook;
  e->tgid = waggle_tgid();
  e->flags = 0;
  sm_load(&e->cand, start);
  if (sm_empty(&e->cand)) return 0;
  e->proc = bpf_map_lookup_elem(&procs, &e->tgid);
  if (!e->proc) {
    e->flags |= WG_HDR_PROC_UNKNOWN;
    count_life(WG_LC_TABLE_MISS);
  }
  if (cfg.uses_binary) sm_filter(&e->cand, own_bin ? bin : e->proc ? &e->proc->bin : NULL, &cfg.no_bin_pos);
  if (cfg.uses_parent) sm_filter(&e->cand, e->proc ? &e->proc->parent : NULL, &cfg.no_parent_pos);
  if (cfg.uses_uid) {
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    sm_filter(&e->cand, bpf_map_lookup_elem(&uid_set, &uid), &cfg.no_uid_pos);
  }
  if (cfg.uses_pid) sm_filter(&e->cand, bpf_map_lookup_elem(&pid_set, &e->tgid), &cfg.no_pid_pos);
  if (cfg.uses_container) {
    int in = pidns_level((struct task_struct *)bpf_get_current_task()) > 0;
    if (in) e->flags |= WG_HDR_IN_CONTAINER;
#pragma unroll
    for (int i = 0; i < SEL_WORDS; i++) e->cand.w[i] &= ~(in ? cfg.host_only.w[i] : cfg.container_only.w[i]);
  }
  return !sm_empty(&e->cand);
}

static __always_inline int eval_process(struct eval *e, __u32 hook) { return eval_process_from(e, hook, &cfg.hook[hook], NULL, 0); }

static __always_inline void fill_header(struct event_header *h, struct eval *e, __u8 op) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u64 uid_gid = bpf_get_current_uid_gid();
  h->type = WG_REC_POLICY;
  h->hook = e->hook;
  h->op = op;
  h->flags = e->flags;
  if (pidns_level(task) > 0) h->flags |= WG_HDR_IN_CONTAINER;
  h->pid = pid_tgid >> 32;
  h->tid = (__u32)pid_tgid;
  h->ppid = BPF_CORE_READ(task, real_parent, tgid);
  h->ktime = bpf_ktime_get_ns();
  h->start_ktime = e->proc ? e->proc->start_ktime : 0;
  h->parent_start_ktime = e->proc ? e->proc->parent_start_ktime : 0;
  h->uid = (__u32)uid_gid;
  h->gid = uid_gid >> 32;
}

// Masks live in the per-CPU scratch map: the verifier accepts bounded
// variable-offset accesses to map values, not to the stack.
struct resolve_ctx {
  struct resolve_state *st;
  __u64 fingerprint;
  __u64 now;
  __u32 tgid;
  __u32 kill;
  __u32 deny;
  __u32 limited;
};

static __always_inline int rate_limited(__u32 sel, __u64 rate_ns, __u32 scope, struct resolve_ctx *c) {
  struct rate_key k = {.selector = sel, .scope = scope == WG_RATE_GLOBAL ? 0 : c->tgid, .fingerprint = c->fingerprint};
  __u64 *last = bpf_map_lookup_elem(&rate_limits, &k);
  if (last && c->now - *last < rate_ns) return 1;
  bpf_map_update_elem(&rate_limits, &k, &c->now, BPF_ANY);
  return 0;
}

static long resolve_step(__u32 i, void *data) {
  struct resolve_ctx *c = data;
  struct resolve_state *st = c->st;
  if (i >= SEL_MAX) return 1;
  __u32 idx = i;
  asm volatile("" : "+r"(idx));  // keep the mask: clang drops it after the check, the verifier needs it
  idx &= SEL_MAX - 1;
  __u32 word = idx / 32, bit = 1u << (idx % 32);
  if (!(st->remaining.w[word] & bit)) return 0;
  const volatile struct sel_config *sc = &sels[idx];
#pragma unroll
  for (int w = 0; w < SEL_WORDS; w++) st->remaining.w[w] &= ~sc->later.w[w];
  __u32 base = idx * WG_SC_PER_SEL;
  waggle_count(&sel_counters, base + WG_SC_MATCHED, 1);
  if (sc->action == WG_ACTION_NOPOST) return 0;
  // cfg.uses_deny is a load-time constant: without deny policies the verifier drops the deny branch.
  if (sc->action == WG_ACTION_SIGKILL || (cfg.uses_deny && sc->action == WG_ACTION_DENY)) {
    if (sc->monitor) {
      st->dry.w[word] |= bit;
    } else if (!cfg.uses_deny || sc->action == WG_ACTION_SIGKILL) {
      c->kill = 1;
      st->killed.w[word] |= bit;
      waggle_count(&sel_counters, base + WG_SC_KILLED, 1);
    } else {
      c->deny = 1;  // the LSM program returns -EPERM
      waggle_count(&sel_counters, base + WG_SC_DENIED, 1);
    }
  }
  if (sc->rate_ns && rate_limited(idx, sc->rate_ns, sc->rate_scope, c)) {
    waggle_count(&sel_counters, base + WG_SC_RATE_LIMITED, 1);
    c->limited = 1;
    return 0;
  }
  st->posted.w[word] |= bit;
  waggle_count(&sel_counters, base + WG_SC_POSTED, 1);
  return 0;
}

#ifdef WAGGLE_LEGACY
// Legacy builds: the step is global (see WAGGLE_LEGACY_LOOP and walk_step_global in path.h).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u8[sizeof(struct resolve_ctx)]);
} legacy_resolve SEC(".maps");

__attribute__((noinline)) int resolve_step_global(__u32 i) {
  __u32 zero = 0;
  struct resolve_ctx *saved = bpf_map_lookup_elem(&legacy_resolve, &zero);
  struct scratch *s = get_scratch();
  if (!saved || !s) return 1;
  struct resolve_ctx c = *saved;
  c.st = &s->resolve;
  long r = resolve_step(i, &c);
  saved->kill = c.kill;
  saved->deny = c.deny;
  saved->limited = c.limited;
  return r;
}
#define RESOLVE_STEP_GLOBAL(i, unused) resolve_step_global(i)
#define RESOLVE_LOOP(n, r) WAGGLE_LEGACY_LOOP(n, SEL_MAX, RESOLVE_STEP_GLOBAL, legacy_resolve, r, st)
#else
#define RESOLVE_LOOP(n, r) bpf_loop((n), resolve_step, (r), 0)
#endif

// Applies the first matching selector of each policy. Returns 1 when an event
// must be posted (r->st->posted non-empty); SIGKILL has already been sent, and
// r->deny says whether an LSM caller must refuse the operation.
static __always_inline int resolve(struct eval *e, struct resolve_ctx *r, __u64 fingerprint) {
  r->kill = 0;
  r->deny = 0;
  r->limited = 0;
  struct scratch *s = get_scratch();
  if (!s) return 0;
  struct resolve_state *st = &s->resolve;
#pragma unroll
  for (int i = 0; i < SEL_WORDS; i++) {
    st->remaining.w[i] = e->cand.w[i];
    st->posted.w[i] = 0;
    st->killed.w[i] = 0;
    st->dry.w[i] = 0;
  }
  r->st = st;
  r->fingerprint = fingerprint;
  r->now = bpf_ktime_get_ns();
  r->tgid = e->tgid;
  count_hook(e->hook, WG_CNT_MATCHED);
  RESOLVE_LOOP(cfg.nsel, r);
  if (r->kill) {
    bpf_send_signal(SIGKILL);
    count_hook(e->hook, WG_CNT_KILLS);
  }
  if (sm_empty(&st->posted)) {
    count_hook(e->hook, r->limited ? WG_CNT_RATE_LIMITED : WG_CNT_NOPOST);
    return 0;
  }
  return 1;
}

static __always_inline void copy_policy_masks(struct policy_header *p, struct resolve_ctx *r) {
  p->posted = r->st->posted;
  p->killed = r->st->killed;
  p->dry = r->st->dry;
}

#endif
