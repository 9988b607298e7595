// Security observability: process life-cycle (exec, fork, exit) for every
// process, and policy hooks whose selectors are evaluated here, in the kernel,
// so that only operations that break a policy cross into user space.
//
// User space loads only the hooks some policy uses (selectPrograms), writes the
// compiled selectors into the maps and `cfg`/`sels`, and seeds `procs` from /proc.
#include "match.h"
#include "path.h"

#define AF_INET 2
#define AF_INET6 10
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_WRONLY 01
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

// ---- process life-cycle -------------------------------------------------------------

static __always_inline void fill_life_header(struct event_header *h, __u8 type, __u32 tgid, __u32 tid, struct proc_entry *e, __u64 now) {
  __u64 uid_gid = bpf_get_current_uid_gid();
  h->type = type;
  h->hook = 0;
  h->op = 0;
  h->flags = 0;
  h->pid = tgid;
  h->tid = tid;
  h->ppid = e->ppid;
  h->ktime = now;
  h->start_ktime = e->start_ktime;
  h->parent_start_ktime = e->parent_start_ktime;
  h->uid = (__u32)uid_gid;
  h->gid = uid_gid >> 32;
}

static __always_inline void copy_pair(struct sel_pair *dst, const struct sel_pair *src) {
  if (src) *dst = *src;
}

static __always_inline void zero_entry(struct proc_entry *e) { __builtin_memset(e, 0, sizeof(*e)); }

static __always_inline void inherit_parent(struct proc_entry *e, __u32 ppid) {
  e->ppid = ppid;
  struct proc_entry *pp = bpf_map_lookup_elem(&procs, &ppid);
  if (pp) {
    e->parent_start_ktime = pp->start_ktime;
    e->parent = pp->as_parent;
  } else {
    e->flags |= WG_PROC_PARENT_UNKNOWN;
  }
}

static __always_inline void emit_exec_policy(struct file *file);

// enum life_opt, and the agent's own tgid for WG_LIFE_CUT_OWN. Deliberately not
// const: the verifier then checks these paths whatever user space chose (and
// bpf:budget measures them).
volatile __u32 life_opts = 0;
volatile __u32 agent_tgid = 0;

static __always_inline void send_fork_record(__u32 pid, struct proc_entry *pe, __u8 hdr_flags) {
  struct fork_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    waggle_count(&events_drops, 0, 1);
    count_life(WG_LC_DROPS);
    return;
  }
  // ktime: when it forked; uid/gid: the caller's (a late record's image has not exec'd, so it shares them unless it changed ids).
  fill_life_header(&r->hdr, WG_REC_FORK, pid, pid, pe, pe->start_ktime);
  r->hdr.flags = hdr_flags;
  bpf_ringbuf_submit(r, wake_flags(sizeof(*r)));
}

#define LATE_FORK_DEPTH 4  // = sizeof(scratch.late_forks) / 4

// An exec names an unsent fork image as its parent: user space needs it (and
// unsent images above it, up to LATE_FORK_DEPTH) for the ancestry, so they are
// sent now, oldest first so that each finds its parent.
static __always_inline void send_late_forks(struct scratch *s, __u32 ppid, __u8 hdr_flags) {
  __u32 *chain = s->late_forks;  // in scratch, not on the stack: on_exec is near the stack budget
  __u32 n = 0;
  __u32 pid = ppid;
#pragma unroll
  for (int i = 0; i < LATE_FORK_DEPTH; i++) {
    struct proc_entry *pe = bpf_map_lookup_elem(&procs, &pid);
    if (!pe || !(pe->flags & WG_PROC_UNSENT)) break;
    chain[i] = pid;
    n = i + 1;
    pid = pe->ppid;
  }
#pragma unroll
  for (int i = LATE_FORK_DEPTH - 1; i >= 0; i--) {
    if (i >= n) continue;
    __u32 p = chain[i];
    struct proc_entry *pe = bpf_map_lookup_elem(&procs, &p);
    if (!pe) continue;
    pe->flags &= ~WG_PROC_UNSENT;
    count_life(WG_LC_LATE_FORK);
    send_fork_record(p, pe, hdr_flags);
  }
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  struct scratch *s = get_scratch();
  if (!s) return 0;
  __u64 now = bpf_ktime_get_ns();
  __u32 tgid = BPF_CORE_READ(task, tgid);
  count_life(WG_LC_EXEC);

  struct file *file = BPF_CORE_READ(bprm, file);
  __u32 bflags = 0;
  resolve_file(s, file, &bflags);

  __u32 own = 0;
  if (life_opts & WG_LIFE_CUT_OWN) {
    struct proc_entry *old = bpf_map_lookup_elem(&procs, &tgid);
    if (old) own = old->flags & WG_PROC_OWN;
  }
  struct proc_entry *e = &s->proc;
  zero_entry(e);
  e->start_ktime = now;
  e->flags = own;
  __u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
  inherit_parent(e, ppid);
  if (cfg.uses_binary) copy_pair(&e->bin, bpf_map_lookup_elem(&binary_trie, &s->prefixlen));
  if (cfg.uses_parent) copy_pair(&e->as_parent, bpf_map_lookup_elem(&parent_trie, &s->prefixlen));
  if (bpf_map_update_elem(&procs, &tgid, e, BPF_ANY)) count_life(WG_LC_TABLE_FULL);

  __u32 level = BPF_CORE_READ(task, thread_pid, level);
  if (own) {
    count_life(WG_LC_CUT_OWN);
    emit_exec_policy(file);
    return 0;
  }
  if (life_opts & WG_LIFE_FORKS_NEEDED) send_late_forks(s, ppid, level > 0 ? WG_HDR_IN_CONTAINER : 0);

  struct exec_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    waggle_count(&events_drops, 0, 1);
    count_life(WG_LC_DROPS);
  } else {
    fill_life_header(&r->hdr, WG_REC_EXEC, tgid, tgid, e, now);
    r->hdr.op = WG_OP_EXECVE;
    r->pidns_level = level;
    if (level > 0) r->hdr.flags |= WG_HDR_IN_CONTAINER;
    r->euid = BPF_CORE_READ(task, cred, euid.val);
    r->egid = BPF_CORE_READ(task, cred, egid.val);
    r->cgroup_id = bpf_get_current_cgroup_id();
    __u16 flags = bflags;
    bpf_probe_read_kernel(r->binary, WAGGLE_PATH_MAX, s->path);

    long n = bpf_probe_read_kernel_str(r->filename, WAGGLE_PATH_MAX, BPF_CORE_READ(bprm, filename));
    if (n == WAGGLE_PATH_MAX) flags |= WG_FILENAME_TRUNCATED;

    __u32 cflags = 0;
    resolve_path(s, BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt), &cflags);
    if (cflags & WG_PATH_TRUNCATED) flags |= WG_CWD_TRUNCATED;
    bpf_probe_read_kernel(r->cwd, WAGGLE_PATH_MAX, s->path);

    unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
    unsigned long arg_end = BPF_CORE_READ(task, mm, arg_end);
    unsigned long len = arg_end > arg_start ? arg_end - arg_start : 0;
    if (len > WAGGLE_ARGS_MAX - 1) {
      len = WAGGLE_ARGS_MAX - 1;
      flags |= WG_ARGS_TRUNCATED;
    }
    if (len > 0 && bpf_probe_read_user(r->args, len & (WAGGLE_ARGS_MAX - 1), (void *)arg_start) != 0) len = 0;
    r->args_len = len;

    const char *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
    if (bpf_probe_read_kernel_str(r->cgroup, WAGGLE_CGROUP_MAX, cg) < 0) r->cgroup[0] = 0;
    r->flags = flags;
    bpf_ringbuf_submit(r, wake_flags(sizeof(*r)));
  }
  emit_exec_policy(file);
  return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  __u32 tgid = BPF_CORE_READ(child, tgid);
  if (tgid != BPF_CORE_READ(child, pid)) return 0;  // a thread, not a process
  if (BPF_CORE_READ(child, flags) & PF_KTHREAD) return 0;
  struct scratch *s = get_scratch();
  if (!s) return 0;
  count_life(WG_LC_FORK);
  __u64 now = bpf_ktime_get_ns();
  __u32 ppid = BPF_CORE_READ(child, real_parent, tgid);
  struct proc_entry *e = &s->proc;
  zero_entry(e);
  e->start_ktime = now;
  e->ppid = ppid;
  struct proc_entry *pp = bpf_map_lookup_elem(&procs, &ppid);
  if (pp) {
    // Same image as the parent until it execs; its parent is the parent's image.
    e->parent_start_ktime = pp->start_ktime;
    e->bin = pp->bin;
    e->as_parent = pp->as_parent;
    e->parent = pp->as_parent;
  } else {
    e->flags |= WG_PROC_PARENT_UNKNOWN;
  }
  __u32 opts = life_opts;
  if ((opts & WG_LIFE_CUT_OWN) && (ppid == agent_tgid || (pp && (pp->flags & WG_PROC_OWN)))) e->flags |= WG_PROC_OWN;
  else if (opts & WG_LIFE_FORKS_NEEDED) e->flags |= WG_PROC_UNSENT;
  if (bpf_map_update_elem(&procs, &tgid, e, BPF_ANY)) count_life(WG_LC_TABLE_FULL);
  if (e->flags & WG_PROC_OWN) {
    count_life(WG_LC_CUT_OWN);
    return 0;
  }
  if (e->flags & WG_PROC_UNSENT) {
    count_life(WG_LC_CUT_FORK);
    return 0;
  }
  send_fork_record(tgid, e, BPF_CORE_READ(child, thread_pid, level) > 0 ? WG_HDR_IN_CONTAINER : 0);
  return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task) {
  if (BPF_CORE_READ(task, flags) & PF_KTHREAD) return 0;
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;  // other threads live on
  __u32 tgid = BPF_CORE_READ(task, tgid);
  count_life(WG_LC_EXIT);
  struct proc_entry *pe = bpf_map_lookup_elem(&procs, &tgid);
  if (pe && (pe->flags & (WG_PROC_OWN | WG_PROC_UNSENT))) {
    // Never announced to user space: its exit would name an unknown process.
    count_life(pe->flags & WG_PROC_OWN ? WG_LC_CUT_OWN : WG_LC_CUT_FORK_EXIT);
    bpf_map_delete_elem(&procs, &tgid);
    return 0;
  }
  struct exit_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    waggle_count(&events_drops, 0, 1);
    count_life(WG_LC_DROPS);
  } else {
    __u64 now = bpf_ktime_get_ns();
    __u64 uid_gid = bpf_get_current_uid_gid();
    r->hdr.type = WG_REC_EXIT;
    r->hdr.hook = 0;
    r->hdr.op = 0;
    r->hdr.flags = pe ? 0 : WG_HDR_PROC_UNKNOWN;
    r->hdr.pid = tgid;
    r->hdr.tid = BPF_CORE_READ(task, pid);
    r->hdr.ppid = BPF_CORE_READ(task, real_parent, tgid);
    r->hdr.ktime = now;
    r->hdr.start_ktime = pe ? pe->start_ktime : 0;
    r->hdr.parent_start_ktime = pe ? pe->parent_start_ktime : 0;
    r->hdr.uid = (__u32)uid_gid;
    r->hdr.gid = uid_gid >> 32;
    r->exit_code = BPF_CORE_READ(task, exit_code);
    r->pad = 0;
    bpf_ringbuf_submit(r, wake_flags(sizeof(*r)));
  }
  if (pe) bpf_map_delete_elem(&procs, &tgid);
  return 0;
}

// ---- exec policies --------------------------------------------------------------------

static __always_inline void emit_exec_policy(struct file *file) {
  struct eval e = {};
  count_hook(WG_HOOK_EXEC, WG_CNT_RUNS);
  if (!eval_process(&e, WG_HOOK_EXEC)) {
    count_hook(WG_HOOK_EXEC, WG_CNT_FILTERED);
    return;
  }
  struct resolve_ctx r;
  if (!resolve(&e, &r, BPF_CORE_READ(file, f_inode, i_ino))) return;
  struct exec_policy_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_EXEC, WG_CNT_DROPS);
    return;
  }
  fill_header(&rec->p.hdr, &e, WG_OP_EXECVE);
  copy_policy_masks(&rec->p, &r);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_EXEC, WG_CNT_SENT);
}

// ---- file opens -----------------------------------------------------------------------
// Evaluated at the exit of open calls: the descriptor's struct file gives the
// canonical path and the access mode. SIGKILL from here lands before the process
// can read or write through the descriptor (open's own effects, O_CREAT and
// O_TRUNC, have happened: see docs/policies.md).

static __always_inline int open_enter(__u64 flags) {
  if (!cfg.uses_open_stash) return 0;
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  __u32 f = (flags & O_CREAT ? WG_OPEN_CREATE : 0) | (flags & O_TRUNC ? WG_OPEN_TRUNCATE : 0);
  bpf_map_update_elem(&open_flags, &tid, &f, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int file_enter_openat(struct trace_event_raw_sys_enter *ctx) { return open_enter(ctx->args[2]); }

SEC("tracepoint/syscalls/sys_enter_open")
int file_enter_open(struct trace_event_raw_sys_enter *ctx) { return open_enter(ctx->args[1]); }

SEC("tracepoint/syscalls/sys_enter_creat")
int file_enter_creat(struct trace_event_raw_sys_enter *ctx) { return open_enter(O_CREAT | O_TRUNC | O_WRONLY); }

SEC("tracepoint/syscalls/sys_enter_openat2")
int file_enter_openat2(struct trace_event_raw_sys_enter *ctx) {
  __u64 flags = 0;
  bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]);  // struct open_how.flags
  return open_enter(flags);
}

// Open-flag and path dimensions of a file_open evaluation: the path is resolved
// into s->path (*len, *pflags) unless the flags already rule every selector out.
// Returns 0 when no selector is left. Shared by the tracepoints and lsm/file_open.
static __always_inline int eval_file(struct eval *e, struct scratch *s, struct file *file, __u32 flags, __u32 *len, __u32 *pflags) {
  if (cfg.uses_flags) {
#pragma unroll
    for (int i = 0; i < SEL_WORDS; i++) {
      __u32 ok = cfg.no_flags.w[i];
      if (flags & WG_OPEN_READ) ok |= cfg.flag_sel[0].w[i];
      if (flags & WG_OPEN_WRITE) ok |= cfg.flag_sel[1].w[i];
      if (flags & WG_OPEN_CREATE) ok |= cfg.flag_sel[2].w[i];
      if (flags & WG_OPEN_TRUNCATE) ok |= cfg.flag_sel[3].w[i];
      e->cand.w[i] &= ok;
    }
    if (sm_empty(&e->cand)) return 0;
  }
  *len = resolve_file(s, file, pflags);
  if (cfg.uses_path) {
    struct sel_pair *prefix = bpf_map_lookup_elem(&path_trie, &s->prefixlen);
    struct sel_pair *suffix = NULL;
    if (cfg.suffix_max && !(*pflags & WG_PATH_TRUNCATED)) {
      reverse_tail(s, *len, cfg.suffix_max);
      suffix = bpf_map_lookup_elem(&suffix_trie, &s->rprefixlen);
    }
    sm_filter2(&e->cand, prefix, suffix, &cfg.no_path_pos);
    if (sm_empty(&e->cand)) return 0;
  }
  return 1;
}

static __always_inline __u32 file_flags(__u32 fmode) { return (fmode & FMODE_READ ? WG_OPEN_READ : 0) | (fmode & FMODE_WRITE ? WG_OPEN_WRITE : 0); }

// Resolves the actions of a matched open and posts its record; returns r->deny.
// The inode, device and f_mode are read again for the record (only matches get
// here) rather than kept live across resolve(): fewer spills keep
// lsm_file_open's frame within 192 bytes.
static __always_inline int act_file(struct eval *e, struct scratch *s, struct file *file, __u8 op, __u32 flags, __u32 len, __u32 pflags) {
  struct resolve_ctx r;
  if (!resolve(e, &r, BPF_CORE_READ(file, f_inode, i_ino) ^ ((__u64)BPF_CORE_READ(file, f_inode, i_sb, s_dev) << 40))) return r.deny;
  struct file_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_FILE_OPEN, WG_CNT_DROPS);
    return r.deny;
  }
  fill_header(&rec->p.hdr, e, op);
  copy_policy_masks(&rec->p, &r);
  rec->flags = flags;
  rec->fmode = BPF_CORE_READ(file, f_mode);
  rec->ino = BPF_CORE_READ(file, f_inode, i_ino);
  rec->dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
  rec->path_len = len;
  rec->path_flags = pflags;
  bpf_probe_read_kernel(rec->path, WAGGLE_PATH_MAX, s->path);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_FILE_OPEN, WG_CNT_SENT);
  return r.deny;
}

static __always_inline int open_exit(long ret, __u8 op) {
  __u32 stashed = 0;
  if (cfg.uses_open_stash) {
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    __u32 *f = bpf_map_lookup_elem(&open_flags, &tid);
    if (f) {
      stashed = *f;
      bpf_map_delete_elem(&open_flags, &tid);
    }
  }
  if (ret < 0) return 0;
  count_hook(WG_HOOK_FILE_OPEN, WG_CNT_RUNS);
  struct eval e = {};
  if (!eval_process(&e, WG_HOOK_FILE_OPEN)) goto filtered;
  struct file *file = fd_file(ret);
  if (!file) goto filtered;
  __u32 fmode = BPF_CORE_READ(file, f_mode);
  __u32 flags = stashed | file_flags(fmode);
  struct scratch *s = get_scratch();
  if (!s) goto filtered;
  __u32 len = 0, pflags = 0;
  if (!eval_file(&e, s, file, flags, &len, &pflags)) goto filtered;
  act_file(&e, s, file, op, flags, len, pflags);
  return 0;
filtered:
  count_hook(WG_HOOK_FILE_OPEN, WG_CNT_FILTERED);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int file_exit_openat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx->ret, WG_OP_OPENAT); }

SEC("tracepoint/syscalls/sys_exit_openat2")
int file_exit_openat2(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx->ret, WG_OP_OPENAT2); }

SEC("tracepoint/syscalls/sys_exit_open")
int file_exit_open(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx->ret, WG_OP_OPEN); }

SEC("tracepoint/syscalls/sys_exit_creat")
int file_exit_creat(struct trace_event_raw_sys_exit *ctx) { return open_exit(ctx->ret, WG_OP_CREAT); }

// ---- connect / bind ---------------------------------------------------------------------
// At the entry: the address is the caller's own (TOCTOU: another thread may change
// it before the kernel copies it). SIGKILL here does not stop the kernel from
// starting the connection (see docs/policies.md).

// `lsm`: the address is the kernel's copy (lsm/socket_connect) and the LSM
// selectors apply; returns 1 when the operation must be denied.
static __always_inline int sock_eval(__u32 hook, __u8 op, void *addr, long addrlen, int lsm) {
  if (!addr || addrlen < 2) return 0;
  __u16 family = 0;
  if (lsm ? bpf_probe_read_kernel(&family, sizeof(family), addr) : bpf_probe_read_user(&family, sizeof(family), addr)) return 0;
  if (family != AF_INET && family != AF_INET6) return 0;
  count_hook(hook, WG_CNT_RUNS);
  struct eval e = {};
  if (!eval_process_from(&e, hook, lsm ? &cfg.lsm_hook[hook] : &cfg.hook[hook], NULL, 0)) goto filtered;
  if (lsm) e.flags |= WG_HDR_LSM;
  struct scratch *s = get_scratch();
  if (!s) goto filtered;
  struct addr_key *k = &s->addr;
  __u16 port = 0;
  __builtin_memset(k->addr, 0, sizeof(k->addr));
  if (family == AF_INET) {
    struct sockaddr_in sin = {};
    if (lsm) bpf_probe_read_kernel(&sin, sizeof(sin), addr);
    else bpf_probe_read_user(&sin, sizeof(sin), addr);
    port = bpf_ntohs(sin.sin_port);
    k->addr[10] = 0xff;
    k->addr[11] = 0xff;
    __builtin_memcpy(&k->addr[12], &sin.sin_addr.s_addr, 4);
  } else {
    struct sockaddr_in6 sin6 = {};
    if (lsm) bpf_probe_read_kernel(&sin6, sizeof(sin6), addr);
    else bpf_probe_read_user(&sin6, sizeof(sin6), addr);
    port = bpf_ntohs(sin6.sin6_port);
    __builtin_memcpy(k->addr, &sin6.sin6_addr, 16);
  }
  k->prefixlen = 128;
  if (cfg.uses_addr) sm_filter(&e.cand, bpf_map_lookup_elem(&addr_trie, k), &cfg.no_addr_pos);
  if (cfg.uses_port) {
    __u32 p32 = port;
    sm_filter(&e.cand, bpf_map_lookup_elem(&port_set, &p32), &cfg.no_port_pos);
  }
  if (sm_empty(&e.cand)) goto filtered;
  __u64 fp = 0;
  __builtin_memcpy(&fp, &k->addr[8], 8);
  struct resolve_ctx r;
  if (!resolve(&e, &r, fp ^ ((__u64)port << 48))) return r.deny;
  struct sock_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(hook, WG_CNT_DROPS);
    return r.deny;
  }
  fill_header(&rec->p.hdr, &e, op);
  copy_policy_masks(&rec->p, &r);
  rec->family = family;
  rec->port = port;
  rec->pad = 0;
  __builtin_memcpy(rec->addr, k->addr, 16);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(hook, WG_CNT_SENT);
  return r.deny;
filtered:
  count_hook(hook, WG_CNT_FILTERED);
  return 0;
}

static __always_inline int sock_enter(__u32 hook, __u8 op, void *uaddr, long addrlen) {
  sock_eval(hook, op, uaddr, addrlen, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int sock_connect(struct trace_event_raw_sys_enter *ctx) { return sock_enter(WG_HOOK_CONNECT, WG_OP_CONNECT, (void *)ctx->args[1], ctx->args[2]); }

SEC("tracepoint/syscalls/sys_enter_bind")
int sock_bind(struct trace_event_raw_sys_enter *ctx) { return sock_enter(WG_HOOK_BIND, WG_OP_BIND, (void *)ctx->args[1], ctx->args[2]); }

// ---- hooks without operation selectors: setuid family, ptrace, mount, modules --------

// Process-level evaluation shared by the simple hooks; returns 1 with *r filled when
// an event must be posted.
static __always_inline int simple_eval(__u32 hook, struct eval *e, struct resolve_ctx *r, __u64 fingerprint) {
  count_hook(hook, WG_CNT_RUNS);
  if (!eval_process(e, hook)) {
    count_hook(hook, WG_CNT_FILTERED);
    return 0;
  }
  return resolve(e, r, fingerprint);
}

static __always_inline int setuid_enter(__u8 op, __u32 a, __u32 b, __u32 c) {
  struct eval e = {};
  struct resolve_ctx r;
  if (!simple_eval(WG_HOOK_SETUID, &e, &r, op)) return 0;
  struct setuid_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_SETUID, WG_CNT_DROPS);
    return 0;
  }
  fill_header(&rec->p.hdr, &e, op);
  copy_policy_masks(&rec->p, &r);
  rec->ids[0] = a;
  rec->ids[1] = b;
  rec->ids[2] = c;
  rec->pad = 0;
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_SETUID, WG_CNT_SENT);
  return 0;
}

#define NO_ID 0xffffffff
SEC("tracepoint/syscalls/sys_enter_setuid")
int setuid_setuid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETUID, ctx->args[0], NO_ID, NO_ID); }
SEC("tracepoint/syscalls/sys_enter_setgid")
int setuid_setgid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETGID, ctx->args[0], NO_ID, NO_ID); }
SEC("tracepoint/syscalls/sys_enter_setreuid")
int setuid_setreuid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETREUID, ctx->args[0], ctx->args[1], NO_ID); }
SEC("tracepoint/syscalls/sys_enter_setregid")
int setuid_setregid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETREGID, ctx->args[0], ctx->args[1], NO_ID); }
SEC("tracepoint/syscalls/sys_enter_setresuid")
int setuid_setresuid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETRESUID, ctx->args[0], ctx->args[1], ctx->args[2]); }
SEC("tracepoint/syscalls/sys_enter_setresgid")
int setuid_setresgid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETRESGID, ctx->args[0], ctx->args[1], ctx->args[2]); }
SEC("tracepoint/syscalls/sys_enter_setfsuid")
int setuid_setfsuid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETFSUID, ctx->args[0], NO_ID, NO_ID); }
SEC("tracepoint/syscalls/sys_enter_setfsgid")
int setuid_setfsgid(struct trace_event_raw_sys_enter *ctx) { return setuid_enter(WG_OP_SETFSGID, ctx->args[0], NO_ID, NO_ID); }

#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSR 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

// Only requests that take control of another process or change it.
SEC("tracepoint/syscalls/sys_enter_ptrace")
int ptrace_enter(struct trace_event_raw_sys_enter *ctx) {
  long req = ctx->args[0];
  if (req != PTRACE_ATTACH && req != PTRACE_SEIZE && req != PTRACE_POKETEXT && req != PTRACE_POKEDATA && req != PTRACE_POKEUSR &&
      req != PTRACE_SETREGS && req != PTRACE_SETFPREGS && req != PTRACE_SETREGSET)
    return 0;
  struct eval e = {};
  struct resolve_ctx r;
  __u32 target = ctx->args[1];
  if (!simple_eval(WG_HOOK_PTRACE, &e, &r, ((__u64)req << 32) | target)) return 0;
  struct ptrace_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_PTRACE, WG_CNT_DROPS);
    return 0;
  }
  fill_header(&rec->p.hdr, &e, WG_OP_PTRACE);
  copy_policy_masks(&rec->p, &r);
  rec->request = req;
  rec->target_pid = target;
  rec->pad = 0;
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_PTRACE, WG_CNT_SENT);
  return 0;
}

// Evaluated at the exit: the kernel has copied the strings by then, so pages a
// forked child never touched (string literals) are present and readable; at the
// entry bpf_probe_read_user would fail on them. The entry only keeps the pointers.
struct mount_args {
  __u64 source;
  __u64 target;
  __u64 fstype;
  __u64 flags;
  __u32 op;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct mount_args);
} mount_calls SEC(".maps");

static __always_inline int mount_enter(__u8 op, __u64 source, __u64 target, __u64 fstype, __u64 flags) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct mount_args a = {.source = source, .target = target, .fstype = fstype, .flags = flags, .op = op};
  bpf_map_update_elem(&mount_calls, &tid, &a, BPF_ANY);
  return 0;
}

static __always_inline int mount_exit(long ret) {
  __u32 tid = (__u32)bpf_get_current_pid_tgid();
  struct mount_args *a = bpf_map_lookup_elem(&mount_calls, &tid);
  if (!a) return 0;
  struct mount_args args = *a;
  bpf_map_delete_elem(&mount_calls, &tid);
  struct eval e = {};
  struct resolve_ctx r;
  if (!simple_eval(WG_HOOK_MOUNT, &e, &r, 0)) return 0;
  struct mount_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_MOUNT, WG_CNT_DROPS);
    return 0;
  }
  fill_header(&rec->p.hdr, &e, args.op);
  copy_policy_masks(&rec->p, &r);
  rec->mount_flags = args.flags;
  rec->ret = ret;
  rec->pad = 0;
  rec->source[0] = 0;
  rec->target[0] = 0;
  rec->fstype[0] = 0;
  if (args.source) bpf_probe_read_user_str(rec->source, sizeof(rec->source), (const char *)args.source);
  if (args.target) bpf_probe_read_user_str(rec->target, sizeof(rec->target), (const char *)args.target);
  if (args.fstype) bpf_probe_read_user_str(rec->fstype, sizeof(rec->fstype), (const char *)args.fstype);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_MOUNT, WG_CNT_SENT);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int mount_enter_mount(struct trace_event_raw_sys_enter *ctx) {
  return mount_enter(WG_OP_MOUNT, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_move_mount")
int mount_enter_move_mount(struct trace_event_raw_sys_enter *ctx) {
  return mount_enter(WG_OP_MOVE_MOUNT, ctx->args[1], ctx->args[3], 0, ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_exit_mount")
int mount_exit_mount(struct trace_event_raw_sys_exit *ctx) { return mount_exit(ctx->ret); }

SEC("tracepoint/syscalls/sys_exit_move_mount")
int mount_exit_move_mount(struct trace_event_raw_sys_exit *ctx) { return mount_exit(ctx->ret); }

static __always_inline int module_enter(__u8 op, long fd, const char *uargs) {
  struct eval e = {};
  struct resolve_ctx r;
  if (!simple_eval(WG_HOOK_MODULE_LOAD, &e, &r, op)) return 0;
  struct module_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_MODULE_LOAD, WG_CNT_DROPS);
    return 0;
  }
  fill_header(&rec->p.hdr, &e, op);
  copy_policy_masks(&rec->p, &r);
  rec->path[0] = 0;
  rec->path_len = 0;
  rec->path_flags = 0;
  rec->pad = 0;
  struct file *file = fd >= 0 ? fd_file(fd) : NULL;
  struct scratch *s = get_scratch();
  if (file && s) {
    __u32 pflags = 0;
    rec->path_len = resolve_file(s, file, &pflags);
    rec->path_flags = pflags;
    bpf_probe_read_kernel(rec->path, WAGGLE_PATH_MAX, s->path);
  }
  rec->args[0] = 0;
  if (uargs) bpf_probe_read_user_str(rec->args, sizeof(rec->args), uargs);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_MODULE_LOAD, WG_CNT_SENT);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_init_module")
int module_init_module(struct trace_event_raw_sys_enter *ctx) { return module_enter(WG_OP_INIT_MODULE, -1, (const char *)ctx->args[2]); }

SEC("tracepoint/syscalls/sys_enter_finit_module")
int module_finit_module(struct trace_event_raw_sys_enter *ctx) { return module_enter(WG_OP_FINIT_MODULE, ctx->args[0], (const char *)ctx->args[1]); }

#include "lsm.h"

// Types that appear only in user space's view must still be in the BTF.
struct exec_record *unused_exec_record;
struct exit_record *unused_exit_record;
struct fork_record *unused_fork_record;
struct file_record *unused_file_record;
struct sock_record *unused_sock_record;
struct setuid_record *unused_setuid_record;
struct ptrace_record *unused_ptrace_record;
struct mount_record *unused_mount_record;
struct module_record *unused_module_record;
struct exec_policy_record *unused_exec_policy_record;
struct exec_check_record *unused_exec_check_record;
enum hook_id *unused_hook_id;
enum record_type *unused_record_type;
enum op_id *unused_op_id;
enum header_flag *unused_header_flag;
enum path_flag *unused_path_flag;
enum open_flag *unused_open_flag;
enum sel_action *unused_sel_action;
enum rate_scope *unused_rate_scope;
enum hook_counter *unused_hook_counter;
enum life_counter *unused_life_counter;
enum sel_counter *unused_sel_counter;
enum proc_flag *unused_proc_flag;
enum life_opt *unused_life_opt;

WAGGLE_LICENSE;
