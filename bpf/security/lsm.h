// BPF LSM programs: the selectors of policies that `deny` are evaluated here,
// before the operation happens, and a match returns -EPERM, so the system call
// fails and the operation never takes place (an O_TRUNC open truncates nothing).
// Included by security.bpf.c: the same maps, tries and matching as the
// tracepoint programs, starting from cfg.lsm_hook instead of cfg.hook.
//
// User space loads these only when some policy denies and the kernel runs BPF
// LSM ("bpf" in /sys/kernel/security/lsm and a probe program attaches and fires:
// src/security/kernel/lsm-support.ts); elsewhere they are never loaded.
#ifndef WAGGLE_SECURITY_LSM_H
#define WAGGLE_SECURITY_LSM_H

#define EPERM 1

// Counted here, not in resolve(): the tracepoint programs cannot deny, and a
// branch less keeps on_exec's frame smaller.
static __always_inline int refuse(__u32 hook, int deny) {
  if (!deny) return 0;
  count_hook(hook, WG_CNT_DENIES);
  return -EPERM;
}

// Kernel threads open files and exec helpers on behalf of nobody: no policy applies.
static __always_inline int kernel_thread(void) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  return (BPF_CORE_READ(task, flags) & PF_KTHREAD) != 0;
}

// `ret` is what earlier LSM programs decided: a refusal stands.
SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file *file, int ret) {
  if (ret) return ret;
  if (kernel_thread()) return 0;
  count_hook(WG_HOOK_FILE_OPEN, WG_CNT_RUNS);
  struct eval e = {};
  if (!eval_process_from(&e, WG_HOOK_FILE_OPEN, &cfg.lsm_hook[WG_HOOK_FILE_OPEN], NULL, 0)) goto filtered;
  e.flags |= WG_HDR_LSM;
  // O_CREAT and O_TRUNC are still in f_flags here (do_dentry_open clears them
  // after this hook); truncation happens after the open succeeds, creation before.
  __u32 fmode = BPF_CORE_READ(file, f_mode);
  __u32 fflags = BPF_CORE_READ(file, f_flags);
  __u32 flags = file_flags(fmode) | (fflags & O_CREAT ? WG_OPEN_CREATE : 0) | (fflags & O_TRUNC ? WG_OPEN_TRUNCATE : 0);
  struct scratch *s = get_scratch();
  if (!s) goto filtered;
  __u32 len = 0, pflags = 0;
  if (!eval_file(&e, s, file, flags, &len, &pflags)) goto filtered;
  return refuse(WG_HOOK_FILE_OPEN, act_file(&e, s, file, WG_OP_LSM_FILE_OPEN, flags, len, pflags));
filtered:
  count_hook(WG_HOOK_FILE_OPEN, WG_CNT_FILTERED);
  return 0;
}

// Called for each binary format tried (a script, then its interpreter): the
// `binary` selectors match the file about to run, the process is still the caller.
SEC("lsm/bprm_check_security")
int BPF_PROG(lsm_bprm_check, struct linux_binprm *bprm, int ret) {
  if (ret) return ret;
  if (kernel_thread()) return 0;
  count_hook(WG_HOOK_EXEC, WG_CNT_RUNS);
  struct scratch *s = get_scratch();
  if (!s) goto filtered;
  struct file *file = BPF_CORE_READ(bprm, file);
  __u32 pflags = 0;
  __u32 len = resolve_file(s, file, &pflags);
  struct sel_pair *bin = cfg.uses_binary ? bpf_map_lookup_elem(&binary_trie, &s->prefixlen) : NULL;
  struct eval e = {};
  if (!eval_process_from(&e, WG_HOOK_EXEC, &cfg.lsm_hook[WG_HOOK_EXEC], bin, 1)) goto filtered;
  e.flags |= WG_HDR_LSM;
  struct resolve_ctx r;
  if (!resolve(&e, &r, BPF_CORE_READ(file, f_inode, i_ino))) return refuse(WG_HOOK_EXEC, r.deny);
  struct exec_check_record *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
  if (!rec) {
    waggle_count(&events_drops, 0, 1);
    count_hook(WG_HOOK_EXEC, WG_CNT_DROPS);
    return refuse(WG_HOOK_EXEC, r.deny);
  }
  fill_header(&rec->p.hdr, &e, WG_OP_LSM_BPRM_CHECK);
  copy_policy_masks(&rec->p, &r);
  rec->path_len = len;
  rec->path_flags = pflags;
  rec->pad = 0;
  bpf_probe_read_kernel(rec->path, WAGGLE_PATH_MAX, s->path);
  bpf_ringbuf_submit(rec, wake_flags(sizeof(*rec)));
  count_hook(WG_HOOK_EXEC, WG_CNT_SENT);
  return refuse(WG_HOOK_EXEC, r.deny);
filtered:
  count_hook(WG_HOOK_EXEC, WG_CNT_FILTERED);
  return 0;
}

// The address is the kernel's copy of the caller's: no TOCTOU, unlike the tracepoint.
SEC("lsm/socket_connect")
int BPF_PROG(lsm_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret) {
  if (ret) return ret;
  if (kernel_thread()) return 0;
  return refuse(WG_HOOK_CONNECT, sock_eval(WG_HOOK_CONNECT, WG_OP_LSM_SOCKET_CONNECT, address, addrlen, 1));
}

#endif
