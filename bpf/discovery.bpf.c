// Process discovery: tells user space at once when a process execs, forks from
// a tracked process, exits, or starts listening on a TCP port, so new services
// are picked up without waiting for the next /proc rescan. Hooks are scheduler
// and socket-state tracepoints (tp_btf), never syscall tracepoints, so they add
// nothing to the syscall path.
//
// `tracked` (selected processes) and `excluded` (the agent and what it spawns)
// are kept by user space; forks inherit membership here, in the kernel, so a
// child forked a microsecond after its parent was selected is not missed.
#include "waggle/ringbuf.h"

enum discovery_event_kind {
  DISCOVERY_EXEC = 1,
  DISCOVERY_EXIT = 2,
  DISCOVERY_FORK = 3,
  DISCOVERY_LISTEN = 4,
};

struct discovery_event {
  __u64 ktime_ns;
  __u32 kind;
  /** Process id (tgid). */
  __u32 pid;
  /** Parent's tgid (fork, exec); 0 otherwise. */
  __u32 ppid;
  /** Local port (listen); 0 otherwise. */
  __u32 port;
  /** exec, fork: the process's start time (ns since boot, as /proc/PID/stat's starttime counts). */
  __u64 start_boottime;
  /**
   * exec: the path it was executed as (bprm->filename, truncated), so that a
   * process gone before user space reads /proc still has a name.
   */
  char filename[128];
  /** exec: the first bytes of its arguments (NUL-separated, as /proc/PID/cmdline) and how many. */
  __u32 args_len;
  char args[256];
  /** exec: 1 + the index of the selector whose executable it runs (tracked from here on), else 0. */
  __u32 exec_selector;
  /** exec: the executable's device (the kernel's dev_t) and inode, as /proc/PID/exe names it. */
  __u64 exe_dev;
  __u64 exe_ino;
};

// An executable by device and inode (the file /proc/PID/exe points to).
struct exe_key {
  __u64 dev;
  __u64 ino;
};

enum discovery_counter {
  DISCOVERY_TRACKED_FULL = 0,
  DISCOVERY_EXCLUDED_FULL = 1,
  DISCOVERY_EXEC_TRACKED = 2,
  DISCOVERY_COUNTERS = 3,
};

// Forks and exits are reported for every process, not only tracked ones.
const volatile __u32 track_all = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u8);
} tracked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} excluded SEC(".maps");

// Executables that alone select a process (a selector on the executable only),
// kept by user space; value: 1 + the selector's index. A process that execs one
// is tracked at once, in the kernel: a client that runs for milliseconds is
// watched from its first instruction, not from when user space got to it.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct exe_key);
  __type(value, __u32);
} exec_selected SEC(".maps");

WAGGLE_COUNTERS(discovery_counters, DISCOVERY_COUNTERS);
WAGGLE_RINGBUF(discovery_events, 1 << 18);

// Unused otherwise; keeps the record layout in the object's BTF for user space.
struct discovery_event discovery_event_layout __attribute__((unused));

static __always_inline void emit(__u32 kind, __u32 pid, __u32 ppid, __u32 port, __u64 start_boottime) {
  struct discovery_event *e = WAGGLE_RESERVE(discovery_events, struct discovery_event);
  if (!e) return;
  e->ktime_ns = bpf_ktime_get_ns();
  e->kind = kind;
  e->pid = pid;
  e->ppid = ppid;
  e->port = port;
  e->start_boottime = start_boottime;
  bpf_ringbuf_submit(e, 0);
}

static __always_inline int is_excluded(__u32 tgid) { return bpf_map_lookup_elem(&excluded, &tgid) != NULL; }

SEC("tp_btf/sched_process_exec")
int BPF_PROG(discovery_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 tgid = p->tgid;
  if (is_excluded(tgid)) return 0;
  struct discovery_event *e = WAGGLE_RESERVE(discovery_events, struct discovery_event);
  if (!e) return 0;
  e->ktime_ns = bpf_ktime_get_ns();
  e->kind = DISCOVERY_EXEC;
  e->pid = tgid;
  e->ppid = p->real_parent->tgid;
  e->port = 0;
  e->start_boottime = BPF_CORE_READ(p, group_leader, start_boottime);
  if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename)) < 0) e->filename[0] = 0;
  // The new image's arguments are in this task's memory now (at exec's end).
  __u64 arg_start = BPF_CORE_READ(p, mm, arg_start);
  __u64 arg_end = BPF_CORE_READ(p, mm, arg_end);
  __u64 n = arg_end > arg_start ? arg_end - arg_start : 0;
  if (n > sizeof(e->args)) n = sizeof(e->args);
  e->args_len = 0;
  if (n && !bpf_probe_read_user(e->args, n, (const void *)arg_start)) e->args_len = n;
  struct exe_key key = {};
  struct inode *inode = BPF_CORE_READ(p, mm, exe_file, f_inode);
  key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
  key.ino = BPF_CORE_READ(inode, i_ino);
  e->exe_dev = key.dev;
  e->exe_ino = key.ino;
  e->exec_selector = 0;
  __u32 *selector = track_all ? NULL : bpf_map_lookup_elem(&exec_selected, &key);
  if (selector) {
    __u8 one = 1;
    e->exec_selector = *selector;
    if (bpf_map_update_elem(&tracked, &tgid, &one, BPF_ANY)) waggle_count(&discovery_counters, DISCOVERY_TRACKED_FULL, 1);
    else waggle_count(&discovery_counters, DISCOVERY_EXEC_TRACKED, 1);
  }
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(discovery_fork, struct task_struct *parent, struct task_struct *child) {
  // New threads also pass here; only new processes (thread group leaders) matter.
  if (child->pid != child->tgid) return 0;
  __u32 parent_tgid = parent->tgid;
  __u32 child_tgid = child->tgid;
  __u8 one = 1;
  if (is_excluded(parent_tgid)) {
    if (bpf_map_update_elem(&excluded, &child_tgid, &one, BPF_ANY))
      waggle_count(&discovery_counters, DISCOVERY_EXCLUDED_FULL, 1);
    return 0;
  }
  if (!track_all) {
    if (!bpf_map_lookup_elem(&tracked, &parent_tgid)) return 0;
    if (bpf_map_update_elem(&tracked, &child_tgid, &one, BPF_ANY))
      waggle_count(&discovery_counters, DISCOVERY_TRACKED_FULL, 1);
  }
  // The child's start time: with the parent's identity, it names a child that
  // never execs and is gone before user space reads /proc (a PostgreSQL backend).
  emit(DISCOVERY_FORK, child_tgid, parent_tgid, 0, BPF_CORE_READ(child, start_boottime));
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(discovery_exit, struct task_struct *p) {
  // The process is gone when its last thread exits (signal->live reaches 0
  // before this tracepoint fires), whichever thread that is.
  if (BPF_CORE_READ(p, signal, live.counter) != 0) return 0;
  __u32 tgid = p->tgid;
  bpf_map_delete_elem(&excluded, &tgid);
  int was_tracked = bpf_map_delete_elem(&tracked, &tgid) == 0;
  if (was_tracked || track_all) emit(DISCOVERY_EXIT, tgid, 0, 0, 0);
  return 0;
}

// Fires on every TCP state change, in the context of the task that caused it;
// for close → listen that is the process calling listen().
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(discovery_listen, const struct sock *sk, const int oldstate, const int newstate) {
  if (newstate != TCP_LISTEN) return 0;
  if (sk->sk_protocol != IPPROTO_TCP) return 0;
  __u32 tgid = waggle_tgid();
  if (is_excluded(tgid)) return 0;
  emit(DISCOVERY_LISTEN, tgid, 0, sk->__sk_common.skc_num, 0);
  return 0;
}

WAGGLE_LICENSE;
