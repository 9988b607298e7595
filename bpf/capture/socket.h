// From a file descriptor of the current task to its TCP socket, with CO-RE
// reads (task->files->fdt->fd[fd] → file → inode mode S_IFSOCK → socket → sock).
#ifndef WAGGLE_CAPTURE_SOCKET_H
#define WAGGLE_CAPTURE_SOCKET_H

#include "types.h"

#define WAGGLE_AF_INET 2
#define WAGGLE_AF_INET6 10
#define WAGGLE_IPPROTO_TCP 6
#define WAGGLE_SOCK_STREAM 1
#define WAGGLE_S_IFMT 00170000
#define WAGGLE_S_IFSOCK 0140000

struct tcp_ref {
  __u64 sk; // struct sock address (a plain number: it is a map key)
  __u32 ino;
};

#ifdef WAGGLE_CAPTURE_KFUNC
// The build for kernels with the bpf_rdonly_cast kfunc (6.2+): fields of the
// file, socket and sock load directly. In an A/B under the same load (ab -k
// against Node) the capture's programs ran ~15 % less BPF time per request than
// with the CO-RE reads below. src/capture loads this build first and falls back.
// Turns a kernel address into a read-only typed pointer: its fields then load
// directly (faults read as 0) instead of through a helper call each.
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

// The TCP (IPv4 or IPv6) socket behind `fd`, or sk = NULL for anything else.
static __always_inline struct tcp_ref fd_to_tcp(__u64 fd) {
  struct tcp_ref ref = {};
  struct task_struct *task = bpf_get_current_task_btf();
  struct files_struct *files = task->files;
  if (!files) return ref;
  struct fdtable *fdt = files->fdt;
  if (!fdt || fd >= fdt->max_fds) return ref;
  struct file **fds = fdt->fd;
  void *raw = NULL;
  if (bpf_probe_read_kernel(&raw, sizeof(raw), &fds[fd]) || !raw) return ref;
  struct file *file = bpf_rdonly_cast(raw, bpf_core_type_id_kernel(struct file));
  struct inode *inode = file->f_inode;
  if (!inode || (inode->i_mode & WAGGLE_S_IFMT) != WAGGLE_S_IFSOCK) return ref;
  struct socket *sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
  __u64 skaddr = 0;
  if (bpf_probe_read_kernel(&skaddr, sizeof(skaddr), &sock->sk) || !skaddr) return ref;
  struct sock *sk = bpf_rdonly_cast((void *)skaddr, bpf_core_type_id_kernel(struct sock));
  __u16 family = sk->__sk_common.skc_family;
  if (family != WAGGLE_AF_INET && family != WAGGLE_AF_INET6) return ref;
  if (sk->sk_protocol != WAGGLE_IPPROTO_TCP || sk->sk_type != WAGGLE_SOCK_STREAM) return ref;
  ref.sk = skaddr;
  ref.ino = inode->i_ino;
  return ref;
}

#else
// The TCP (IPv4 or IPv6) socket behind `fd`, or sk = 0 for anything else.
// Plain CO-RE reads (no kfunc such as bpf_rdonly_cast, which 6.1 lacks), so the
// same object loads on every kernel with BTF.
static __always_inline struct tcp_ref fd_to_tcp(__u64 fd) {
  struct tcp_ref ref = {};
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds)) return ref;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *file = NULL;
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file) return ref;
  struct inode *inode = BPF_CORE_READ(file, f_inode);
  if (!inode || (BPF_CORE_READ(inode, i_mode) & WAGGLE_S_IFMT) != WAGGLE_S_IFSOCK) return ref;
  struct socket *sock = BPF_CORE_READ(file, private_data);
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk) return ref;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != WAGGLE_AF_INET && family != WAGGLE_AF_INET6) return ref;
  if (BPF_CORE_READ(sk, sk_protocol) != WAGGLE_IPPROTO_TCP || BPF_CORE_READ(sk, sk_type) != WAGGLE_SOCK_STREAM) return ref;
  ref.sk = (__u64)sk;
  ref.ino = BPF_CORE_READ(inode, i_ino);
  return ref;
}

#endif

enum hook_sock { HOOK_SOCK_NOT_TCP = 0, HOOK_SOCK_TAKEN = 1, HOOK_SOCK_OTHER = 2 };

// The socket a socket-layer hook (tp_btf, fexit) was handed, when it is the
// TCP socket behind the current task's `fd`: HOOK_SOCK_TAKEN with `ref`
// filled; HOOK_SOCK_OTHER when it is another (kernel-internal I/O in the
// task's context, e.g. NFS); HOOK_SOCK_NOT_TCP when it is not ours at all.
#if defined(WAGGLE_CAPTURE_KFUNC) || defined(WAGGLE_LEGACY)
// The kfunc build's fd_to_tcp loads directly already: walking from the hook's
// pointer instead measured the same on Node and 5 % more BPF time on nginx (two
// interleaved A/B runs, 2026-12-06). In the legacy build the walk's frame took
// fexit's combined stack from 384 to 416 bytes on 6.1, past the budget. Both
// compare the fd's socket with the hook's.
static __always_inline int hook_sock_ref(const struct sock *sk, __u64 fd, struct tcp_ref *ref) {
  *ref = fd_to_tcp(fd);
  if (!ref->sk) return HOOK_SOCK_NOT_TCP;
  // Compared through an opaque copy: once they compare equal, clang may
  // otherwise use the hook's pointer for the key, on which `| 1` is refused.
  __u64 mine = ref->sk;
  asm volatile("" : "+r"(mine));
  return mine == (__u64)sk ? HOOK_SOCK_TAKEN : HOOK_SOCK_OTHER;
}
#else
// The file behind the current task's `fd` as a number (0: none), for a
// comparison: the fd table's slot is the one read of the walk (the task's
// fields load directly from bpf_get_current_task_btf, 5.11+).
static __always_inline __u64 fd_file(__u64 fd) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct files_struct *files = task->files;
  if (!files) return 0;
  struct fdtable *fdt = files->fdt;
  if (!fdt || fd >= fdt->max_fds) return 0;
  struct file **fds = fdt->fd;
  __u64 file = 0;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

// In the CO-RE build (5.17–6.1), fd_to_tcp is a dozen helper reads. The hook's pointer is
// trusted, so its fields load directly: the fd table is read only to compare
// its file with the socket's, and the sock's address once more as a number (a
// map key, on which the verifier allows no arithmetic as a pointer). Paced BPF
// time per request in this build: Node 4.03 → 3.44 µs, nginx 4.97 → 3.67 µs.
static __always_inline int hook_sock_ref(const struct sock *sk, __u64 fd, struct tcp_ref *ref) {
  __u16 family = sk->__sk_common.skc_family;
  if (family != WAGGLE_AF_INET && family != WAGGLE_AF_INET6) return HOOK_SOCK_NOT_TCP;
  if (sk->sk_protocol != WAGGLE_IPPROTO_TCP || sk->sk_type != WAGGLE_SOCK_STREAM) return HOOK_SOCK_NOT_TCP;
  struct socket *sock = sk->sk_socket;
  if (!sock) return HOOK_SOCK_OTHER;
  struct file *file = sock->file;
  // An opaque copy of the fd's file: once they compare equal, clang may
  // otherwise read f_inode through the number rather than the trusted pointer.
  __u64 fd_has = fd_file(fd);
  asm volatile("" : "+r"(fd_has));
  if (!file || (__u64)file != fd_has) return HOOK_SOCK_OTHER;
  __u64 skaddr = 0;
  if (bpf_probe_read_kernel(&skaddr, sizeof(skaddr), &sock->sk) || !skaddr) return HOOK_SOCK_OTHER;
  ref->sk = skaddr;
  ref->ino = file->f_inode->i_ino;
  return HOOK_SOCK_TAKEN;
}
#endif

#define WAGGLE_TCP_CLOSE 7

// Addresses and ports of the connection, local first, into any struct with
// family, lport, rport, laddr[16], raddr[16]. IPv4 sockets fill the first 4
// bytes; IPv6 sockets (including IPv4-mapped ones) all 16.
#define READ_TUPLE(dst, skaddr)                                                                    \
  do {                                                                                             \
    struct sock *__sk = (struct sock *)(skaddr);                                                   \
    (dst)->family = BPF_CORE_READ(__sk, __sk_common.skc_family);                                   \
    (dst)->lport = BPF_CORE_READ(__sk, __sk_common.skc_num);                                       \
    (dst)->rport = bpf_ntohs(BPF_CORE_READ(__sk, __sk_common.skc_dport));                          \
    if ((dst)->family == WAGGLE_AF_INET) {                                                         \
      __u32 __l = BPF_CORE_READ(__sk, __sk_common.skc_rcv_saddr);                                  \
      __u32 __r = BPF_CORE_READ(__sk, __sk_common.skc_daddr);                                      \
      __builtin_memcpy((dst)->laddr, &__l, 4);                                                     \
      __builtin_memcpy((dst)->raddr, &__r, 4);                                                     \
    } else {                                                                                       \
      BPF_CORE_READ_INTO(&(dst)->laddr, __sk, __sk_common.skc_v6_rcv_saddr);                       \
      BPF_CORE_READ_INTO(&(dst)->raddr, __sk, __sk_common.skc_v6_daddr);                           \
    }                                                                                              \
  } while (0)

static __always_inline void read_tuple(struct conn *c, __u64 skaddr) { READ_TUPLE(c, skaddr); }

#endif
