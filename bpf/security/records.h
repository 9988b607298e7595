// Records the security programs send to user space, and the configuration user
// space writes before load. This file is the single source of truth for their
// layout: TypeScript reads every offset from the object's BTF
// (src/security/kernel/layout.ts).
#ifndef WAGGLE_SECURITY_RECORDS_H
#define WAGGLE_SECURITY_RECORDS_H

#include "waggle/common.h"

// Selector sets are bitmasks: one bit per compiled selector, global across hooks.
// 32-bit words so that user space encodes them exactly (JS numbers).
#define SEL_WORDS 4
#define SEL_MAX (SEL_WORDS * 32)

struct selmask {
  __u32 w[SEL_WORDS];
};

// A value in every selector lookup map: selectors whose positive list holds the
// looked-up value, and selectors whose negated list (notEqual, notPrefix…) does.
struct sel_pair {
  struct selmask pos;
  struct selmask neg;
};

// Kept bytes of a path, NUL included: paths longer than 255 characters are
// truncated (and flagged), which keeps prefix matching exact.
#define WAGGLE_PATH_MAX 256
#define WAGGLE_ARGS_MAX 2048
// Longest suffix value: suffixes are matched on the reversed last 64 bytes.
#define WAGGLE_SUFFIX_MAX 64
#define WAGGLE_CGROUP_MAX 128

enum hook_id {
  WG_HOOK_EXEC = 0,
  WG_HOOK_FILE_OPEN,
  WG_HOOK_CONNECT,
  WG_HOOK_BIND,
  WG_HOOK_SETUID,
  WG_HOOK_PTRACE,
  WG_HOOK_MOUNT,
  WG_HOOK_MODULE_LOAD,
  WG_HOOK_COUNT,
};

enum record_type {
  WG_REC_EXEC = 1,
  WG_REC_EXIT = 2,
  WG_REC_FORK = 3,
  WG_REC_POLICY = 4,
};

// Which system call a policy record came from, per hook.
enum op_id {
  WG_OP_NONE = 0,
  WG_OP_OPENAT,
  WG_OP_OPENAT2,
  WG_OP_OPEN,
  WG_OP_CREAT,
  WG_OP_CONNECT,
  WG_OP_BIND,
  WG_OP_SETUID,
  WG_OP_SETGID,
  WG_OP_SETREUID,
  WG_OP_SETREGID,
  WG_OP_SETRESUID,
  WG_OP_SETRESGID,
  WG_OP_SETFSUID,
  WG_OP_SETFSGID,
  WG_OP_PTRACE,
  WG_OP_MOUNT,
  WG_OP_MOVE_MOUNT,
  WG_OP_INIT_MODULE,
  WG_OP_FINIT_MODULE,
  WG_OP_EXECVE,
  WG_OP_LSM_FILE_OPEN,       // BPF LSM hooks: before the operation, whatever the system call
  WG_OP_LSM_BPRM_CHECK,
  WG_OP_LSM_SOCKET_CONNECT,
};

// event_header.flags
enum header_flag {
  WG_HDR_PROC_UNKNOWN = 1,   // the process was not in the kernel process table
  WG_HDR_IN_CONTAINER = 2,   // the process is in a child PID namespace
  WG_HDR_LSM = 4,            // evaluated at a BPF LSM hook, before the operation
};

// path flags (file_record.path_flags, exec_record.flags)
enum path_flag {
  WG_PATH_TRUNCATED = 1,
  WG_PATH_DISCONNECTED = 2,  // walk ended at a root that is not the namespace's (pseudo filesystems)
  WG_CWD_TRUNCATED = 4,
  WG_ARGS_TRUNCATED = 8,
  WG_FILENAME_TRUNCATED = 16,
};

// file_record.flags: what the open asked for (create/truncate need the entry hook).
enum open_flag {
  WG_OPEN_READ = 1,
  WG_OPEN_WRITE = 2,
  WG_OPEN_CREATE = 4,
  WG_OPEN_TRUNCATE = 8,
};

struct event_header {
  __u8 type;   // enum record_type
  __u8 hook;   // enum hook_id (policy records)
  __u8 op;     // enum op_id
  __u8 flags;  // enum header_flag
  __u32 pid;   // thread group id
  __u32 tid;
  __u32 ppid;
  __u64 ktime;               // bpf_ktime_get_ns() of the event
  __u64 start_ktime;         // identity of the process image (exec, fork, or /proc start)
  __u64 parent_start_ktime;  // same for the parent (0: unknown)
  __u32 uid;                 // real uid and gid
  __u32 gid;
};

struct exec_record {
  struct event_header hdr;
  __u32 euid;
  __u32 egid;
  __u64 cgroup_id;
  __u32 args_len;
  __u16 flags;  // enum path_flag
  __u16 pidns_level;
  char binary[WAGGLE_PATH_MAX];    // canonical path of the running image (what /proc/PID/exe shows)
  char filename[WAGGLE_PATH_MAX];  // path as passed to execve (a script's own path)
  char cwd[WAGGLE_PATH_MAX];
  char cgroup[WAGGLE_CGROUP_MAX];  // name of the process's cgroup v2 leaf
  char args[WAGGLE_ARGS_MAX];      // argv, NUL-separated
};

struct exit_record {
  struct event_header hdr;
  __u32 exit_code;  // wait status: (code << 8) | signal
  __u32 pad;
};

struct fork_record {
  struct event_header hdr;
};

struct policy_header {
  struct event_header hdr;
  struct selmask posted;  // selectors whose event is posted
  struct selmask killed;  // selectors that sent SIGKILL
  struct selmask dry;     // selectors that would have sent SIGKILL (monitor mode)
};

struct file_record {
  struct policy_header p;
  __u32 flags;  // enum open_flag
  __u32 fmode;
  __u64 ino;
  __u32 dev;
  __u16 path_len;
  __u16 path_flags;
  char path[WAGGLE_PATH_MAX];
};

struct sock_record {
  struct policy_header p;
  __u16 family;
  __u16 port;  // host order
  __u32 pad;
  __u8 addr[16];  // IPv4 as ::ffff:a.b.c.d
};

struct setuid_record {
  struct policy_header p;
  __u32 ids[3];  // as passed; -1 (0xffffffff) means "unchanged"
  __u32 pad;
};

struct ptrace_record {
  struct policy_header p;
  __s64 request;
  __u32 target_pid;
  __u32 pad;
};

struct mount_record {
  struct policy_header p;
  __u64 mount_flags;
  __s32 ret;  // the call's result: 0 or -errno
  __u32 pad;
  char source[WAGGLE_PATH_MAX];
  char target[WAGGLE_PATH_MAX];
  char fstype[32];
};

struct module_record {
  struct policy_header p;
  __u16 path_len;
  __u16 path_flags;
  __u32 pad;
  char path[WAGGLE_PATH_MAX];  // finit_module: the module file
  char args[128];              // module parameters
};

struct exec_policy_record {
  struct policy_header p;
};

// An exec policy evaluated at lsm/bprm_check_security: the process is still the
// caller's image, so the record names the file about to be executed.
struct exec_check_record {
  struct policy_header p;
  __u16 path_len;
  __u16 path_flags;
  __u32 pad;
  char path[WAGGLE_PATH_MAX];
};

// The kernel process table (map procs, key tgid). Binary matches are computed
// once per exec/fork so that hot hooks need a single lookup.
struct proc_entry {
  __u64 start_ktime;
  __u64 parent_start_ktime;
  __u32 ppid;
  __u32 flags;  // enum proc_flag
  struct sel_pair bin;       // this image's binary vs `binary` selectors
  struct sel_pair as_parent; // this image's binary vs `parentBinary` selectors (for its children)
  struct sel_pair parent;    // the parent's binary vs `parentBinary` selectors
};

enum proc_flag {
  WG_PROC_FROM_PROCFS = 1,
  WG_PROC_PARENT_UNKNOWN = 2,
  WG_PROC_OWN = 4,     // the agent's own descendant (life_opts WG_LIFE_CUT_OWN): no life-cycle records
  WG_PROC_UNSENT = 8,  // forked, fork record not sent (WG_LIFE_FORKS_NEEDED): user space does not know it
};

// Life-cycle records user space asked not to receive (variable life_opts).
// Whatever is cut is counted (WG_LC_CUT_*); policy hooks see every process.
enum life_opt {
  WG_LIFE_FORKS_NEEDED = 1,  // a fork record only once an exec names the image as parent; never-exec'd forks and their exits are cut
  WG_LIFE_CUT_OWN = 2,       // no records for the agent's descendants (helpers it runs)
};

// Per-selector settings, indexed by selector bit.
enum sel_action {
  WG_ACTION_POST = 0,
  WG_ACTION_SIGKILL = 1,
  WG_ACTION_NOPOST = 2,
  WG_ACTION_DENY = 3,  // BPF LSM hooks only: the operation fails with EPERM
};

enum rate_scope {
  WG_RATE_PROCESS = 0,
  WG_RATE_GLOBAL = 1,
};

struct sel_config {
  struct selmask later;  // later selectors of the same policy (first match wins)
  __u32 action;          // enum sel_action
  __u32 monitor;         // 1: report sigkill/deny without doing it
  __u64 rate_ns;         // 0: no rate limit on posting
  __u32 rate_scope;      // enum rate_scope
  __u32 pad;
};

// What the compiled policy set needs; "no_*" masks hold the selectors that do
// not constrain that dimension (they pass it whatever the value).
struct sec_config {
  struct selmask hook[WG_HOOK_COUNT];      // selectors evaluated by the tracepoint programs
  struct selmask lsm_hook[WG_HOOK_COUNT];  // ... by the BPF LSM programs (policies that deny)
  struct selmask no_bin_pos;
  struct selmask no_parent_pos;
  struct selmask no_uid_pos;
  struct selmask no_pid_pos;
  struct selmask no_path_pos;
  struct selmask no_addr_pos;
  struct selmask no_port_pos;
  struct selmask no_flags;
  struct selmask flag_sel[4];  // selectors accepting WG_OPEN_READ, WG_OPEN_WRITE, WG_OPEN_CREATE, WG_OPEN_TRUNCATE
  struct selmask container_only;
  struct selmask host_only;
  __u32 nsel;          // selector bits in use
  __u32 uses_binary;   // some selector constrains binary
  __u32 uses_parent;
  __u32 uses_uid;
  __u32 uses_pid;
  __u32 uses_container;
  __u32 uses_path;
  __u32 uses_flags;       // some selector constrains open flags
  __u32 uses_open_stash;  // ... with create/truncate, known only at the entry of open calls
  __u32 uses_addr;
  __u32 uses_port;
  __u32 suffix_max;    // longest suffix value (0: no suffix selectors)
  __u32 uses_deny;     // some selector denies (evaluated by the LSM programs)
};

// Map keys.
struct path_key {
  __u32 prefixlen;
  __u8 data[WAGGLE_PATH_MAX];
};

struct addr_key {
  __u32 prefixlen;
  __u8 addr[16];
};

struct rate_key {
  __u32 selector;
  __u32 scope;  // tgid, or 0 for global
  __u64 fingerprint;
};

// Kernel counters (map counters): per hook, then process life-cycle.
enum hook_counter {
  WG_CNT_RUNS = 0,      // relevant operations the hook saw
  WG_CNT_FILTERED,      // no selector matched: nothing crossed to user space
  WG_CNT_MATCHED,       // at least one selector matched
  WG_CNT_SENT,          // records committed to the ring buffer
  WG_CNT_RATE_LIMITED,  // posts suppressed by a rate limit
  WG_CNT_NOPOST,        // matches whose action is nopost
  WG_CNT_KILLS,         // SIGKILLs sent
  WG_CNT_DENIES,        // operations denied (BPF LSM hooks)
  WG_CNT_DROPS,         // records lost: ring buffer full
  WG_CNT_PER_HOOK,
};

enum life_counter {
  WG_LC_EXEC = 0,
  WG_LC_FORK,
  WG_LC_EXIT,
  WG_LC_DROPS,       // life-cycle records lost: ring buffer full
  WG_LC_TABLE_FULL,  // process table insertions that failed
  WG_LC_TABLE_MISS,  // policy evaluations for a process missing from the table
  WG_LC_CUT_FORK,    // fork records not sent (WG_LIFE_FORKS_NEEDED)
  WG_LC_CUT_FORK_EXIT,  // exit records not sent: the image was never announced (a fork without exec)
  WG_LC_LATE_FORK,   // fork records sent late: an exec named the unsent image as parent
  WG_LC_CUT_OWN,     // records not sent for the agent's descendants (WG_LIFE_CUT_OWN)
  WG_LC_COUNT,
};

#define LIFE_BASE (WG_HOOK_COUNT * WG_CNT_PER_HOOK)
#define COUNTERS_N (LIFE_BASE + WG_LC_COUNT)

enum sel_counter {
  WG_SC_MATCHED = 0,  // the selector was the first match of its policy
  WG_SC_POSTED,
  WG_SC_RATE_LIMITED,
  WG_SC_KILLED,
  WG_SC_DENIED,
  WG_SC_PER_SEL,
};

#endif
