// Socket capture: sees the bytes watched processes read and write on TCP
// sockets, recognises and frames protocol messages in the kernel, pairs
// requests with responses per connection, and sends one record per exchange
// to user space (src/capture).
//
// Hooks: the socket layer's send/receive tracepoints where the kernel has them
// (6.5+), else fexit on the inet layer's send and receive (BPF trampolines),
// else the exits of the read/write-family syscalls. Each runs after
// the bytes moved, while the syscall's arguments are still in the task's saved
// user registers, so no entry hook (and no per-thread map between entry and
// exit) is needed. Connection ends come from the sock:inet_sock_set_state tracepoint,
// which also covers sockets closed by exit(), dup2() or a reset — no close()
// hook. Forks and exits of watched processes come from scheduler tracepoints.
#include "http1.h"
#include "socket.h"
#include "stream.h"
#include "tls.h"

#define WAGGLE_MSG_PEEK 2
#define WAGGLE_TCP_FIN_WAIT1 4
#define WAGGLE_TCP_LAST_ACK 9
#define WAGGLE_RCV_SHUTDOWN 1

#define IOV_WALK_MAX 256

enum io_dir { DIR_IN = 0, DIR_OUT = 1 };
// IO_RECVFROM is IO_BUF whose 4th argument holds flags (MSG_PEEK).
enum io_kind { IO_BUF = 0, IO_RECVFROM = 1, IO_VEC = 2, IO_MSG = 3, IO_SENDFILE = 4 };

// Keeps the record layouts in the object's BTF for user space.
struct exchange_event exchange_event_layout __attribute__((unused));
struct conn conn_layout __attribute__((unused));
struct stream_event stream_event_layout __attribute__((unused));

static __always_inline int is_watched(__u32 tgid) {
  if (capture_all) return bpf_map_lookup_elem(&excluded, &tgid) == NULL;
  return bpf_map_lookup_elem(&watched, &tgid) != NULL;
}

// The syscall's arguments, still in the task's saved user registers at exit
// (read with libbpf's per-architecture PT_REGS_*_SYSCALL accessors).
#ifdef WAGGLE_LEGACY
#include "legacy.h"
#else
static __always_inline struct pt_regs *syscall_regs(void) {
  return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}
#endif

// Which protocol's rule recognises a request at the start of these bytes (0: none).
// A new protocol adds its rule here and its framing in feed_run().
static __always_inline __u8 detect_request(const struct peek *pk, __u32 n) {
  if (http1_request_flags(pk, n) != HTTP1_NOT_REQUEST) return PROTO_HTTP1;
  return 0;
}

// Creates the connection's state when the run in io_scratch starts a request.
// Reading it makes this process the server; writing it, the client. A global
// function: its locals stay out of feed_run's frame.
__attribute__((noinline)) int conn_create(__u64 key, __u32 ino, __u32 dir) {
  struct io_scratch *w = io_scratch_get();
  if (!w) return 0;
  struct feed_state *st = &w->feed;
  __u32 n = st->ubuf ? read_peek(&st->pk, (const __u8 *)st->ubuf, st->len) : 0;
  __u8 protocol = n ? detect_request(&st->pk, n) : 0;
  if (!protocol) return 0;
  __u32 zero = 0;
  struct conn *tmpl = bpf_map_lookup_elem(&conn_zero, &zero);
  if (!tmpl) return 0;
  if (bpf_map_update_elem(&conns, &key, tmpl, BPF_NOEXIST)) {
    count(CNT_CONN_FULL);
    return 0;
  }
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c) return 0;
  count(CNT_CONN_CREATED);
  c->role = dir == DIR_IN ? ROLE_SERVER : ROLE_CLIENT;
  c->protocol = protocol;
  c->ino = ino;
  c->tls = w->io.tls;
  c->created_ns = st->now;
  if (key_is_sock(key)) read_tuple(c, key_sock(key)); // a TLS pseudo connection has no tuple
  return 1;
}

// One run of bytes (a buffer or one iovec element) of the syscall, or the TLS
// plaintext of the OpenSSL call, described by io_scratch's `io`: the one entry
// point of both. Creates the connection's state when the bytes start a
// request, then frames them. A global function, verified once.
__attribute__((noinline)) int feed_run(__u64 ubuf, __u32 len) {
  struct io_scratch *w = io_scratch_get();
  if (!w || !len) return 0;
  struct feed_state *st = &w->feed;
  __u64 key = w->io.sk;
  __u64 now = w->io.now;
  __u32 dir = w->io.dir;
  st->ubuf = ubuf;
  st->now = now;
  st->len = len;
  st->off = 0;
  st->win_start = st->win_end = 0; // nothing of this run read yet
  st->scratch = SCRATCH_TASK;
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c && c->ino != w->io.ino) {
    // A closed socket's state at this address (created by a run after its close): not this connection's.
    bpf_map_delete_elem(&conns, &key);
    count(CNT_CONN_STALE);
    c = 0;
  }
  if (c && c->protocol == PROTO_SWITCHED) {
    // Upgraded past HTTP/1 (101): forget it here; stream capture takes it from this run on.
    bpf_map_delete_elem(&conns, &key);
    count(CNT_CONN_DELETED);
    c = 0;
  }
  if (!c) {
    // Not on HTTP/1's fast path: a streamed connection takes the run, unless
    // user space ignores it (then a request start can still make it HTTP).
    int streamed = stream_enabled ? stream_feed(ubuf, len) : STREAM_NONE;
    if (streamed == STREAM_TAKEN) return 0;
    if (!conn_create(key, w->io.ino, dir)) {
      // A TLS handshake starts the connection: its bytes are ciphertext from
      // now on (the plaintext comes from the OpenSSL uprobes, tls.h).
      if (!w->io.tls && streamed == STREAM_NONE && tls_hello(st)) {
        tls_mark(key, w->io.ino);
        if (dir == DIR_IN) {
          __u64 id = bpf_get_current_pid_tgid();
          struct ssl_sock r = {.sk = key, .ino = w->io.ino};
          bpf_map_update_elem(&tls_reads, &id, &r, BPF_ANY);
        }
        return 0;
      }
      if (stream_enabled && streamed == STREAM_NONE) stream_start(ubuf, len);
      return 0;
    }
    if (streamed == STREAM_IGNORED) bpf_map_delete_elem(&streams, &key);
    c = bpf_map_lookup_elem(&conns, &key);
    if (!c) return 0;
  }
  c->last_ns = now;
  __u32 request_dir = c->role == ROLE_SERVER ? DIR_IN : DIR_OUT;
  st->is_resp = dir != request_dir;
  struct feed f = {.c = c, .st = st};
  switch (c->protocol) {
  case PROTO_HTTP1:
    http1_feed(&f);
    break;
  }
  return 0;
}

// Feeds the elements of an iovec array (readv/writev/recvmsg/sendmsg) in order.
// The element is read into io_scratch, not the stack (see struct io_scratch).
static __always_inline void feed_iov(const struct iovec *iov, __u64 cnt, __u64 len) {
  __u64 left = len;
  for (int i = 0; i < IOV_WALK_MAX; i++) {
    if (!left || i >= cnt) break;
    struct io_scratch *w = io_scratch_get();
    if (!w || bpf_probe_read_user(&w->iov, sizeof(w->iov), &iov[i])) break;
    __u64 k = w->iov.iov_len < left ? w->iov.iov_len : left;
    feed_run((__u64)w->iov.iov_base, k);
    left -= k;
  }
  // Past IOV_WALK_MAX elements: counted on a connection already known, not seen.
  if (left) feed_run(0, left);
}

// `ret` bytes the current syscall (`kind`, arguments in `regs`) of task `id` moved on its
// socket. `hook_sk`, when not NULL, is the socket the hook saw: the I/O is taken
// only when the syscall's fd is that socket (a kernel-internal send or receive
// in the task's context, e.g. NFS, is not the syscall's).
static __always_inline int on_io_regs(__u64 id, long ret, __u8 dir, __u8 kind, struct pt_regs *regs, const struct sock *hook_sk) {
  // Peeked bytes will be read again: count them then.
  if (kind == IO_RECVFROM && (PT_REGS_PARM4_SYSCALL(regs) & WAGGLE_MSG_PEEK)) return 0;          // recvfrom(fd, buf, len, flags, …)
  if (kind == IO_MSG && dir == DIR_IN && (PT_REGS_PARM3_SYSCALL(regs) & WAGGLE_MSG_PEEK)) return 0; // recvmsg(fd, msg, flags)
  struct tcp_ref ref = {};
  if (hook_sk) {
    int r = hook_sock_ref(hook_sk, PT_REGS_PARM1_SYSCALL(regs), &ref);
    if (r == HOOK_SOCK_OTHER) count(CNT_SOCK_OTHER_IO);
    if (r != HOOK_SOCK_TAKEN) return 0;
  } else {
    ref = fd_to_tcp(PT_REGS_PARM1_SYSCALL(regs));
    if (!ref.sk) return 0;
  }
  __u64 key = ref.sk;
  // Ciphertext: the plaintext's state is keyed by sk | 1 (tls.h).
  int tls = tls_syscall(id, key, ref.ino, dir);
  if (tls) key |= 1;
  if (ret == 0) {
    // End of stream: for a client the server closed, which ends a response
    // delimited by close. (A server may still answer after a client's half-close.)
    struct conn *c = bpf_map_lookup_elem(&conns, &key);
    if (c && c->role == ROLE_CLIENT) {
      FINISH_ALL(c, key, WHY_EOF, SCRATCH_TASK);
      bpf_map_delete_elem(&conns, &key);
      count(CNT_CONN_DELETED);
    }
    return 0;
  }
  if (tls) {
    count(CNT_TLS_CIPHER_SKIPPED);
    return 0;
  }
  struct io_scratch *w = io_scratch_get();
  if (!w) return 0;
  w->io.sk = key;
  w->io.now = bpf_ktime_get_ns();
  w->io.ino = ref.ino;
  w->io.dir = dir;
  w->io.tls = 0;
  __u32 len = ret > 0x7fffffff ? 0x7fffffff : (__u32)ret;
  __u64 arg2 = PT_REGS_PARM2_SYSCALL(regs);
  switch (kind) {
  case IO_BUF:
  case IO_RECVFROM:
    feed_run(arg2, len);
    break;
  case IO_VEC:
    feed_iov((const struct iovec *)arg2, PT_REGS_PARM3_SYSCALL(regs), len);
    break;
  case IO_MSG: {
    struct user_msghdr *msg = (struct user_msghdr *)arg2;
    if (bpf_probe_read_user(&w->iov, sizeof(w->iov), &msg->msg_iov)) return 0; // msg_iov, msg_iovlen
    feed_iov((const struct iovec *)w->iov.iov_base, w->iov.iov_len, len);
    break;
  }
  default:
    feed_run(0, len); // sendfile: bytes the hook cannot see
  }
  return 0;
}

static __always_inline int on_io(long ret, __u8 dir, __u8 kind) {
  if (ret < 0 || (ret == 0 && dir == DIR_OUT)) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  if (!is_watched(id >> 32)) return 0;
  return on_io_regs(id, ret, dir, kind, syscall_regs(), NULL);
}

// Hooks, in one of three sets user space chooses between at load time:
// - the socket layer's tracepoints, sock_recv_length and sock_send_length
//   (6.3+; used from 6.5, where sendfile also goes through sock_sendmsg): they
//   run on socket I/O only, in the caller's context, and leave every other
//   syscall of every task alone;
// - fexit on the inet layer's send and receive (kernels before 6.5 with BPF
//   trampolines): the same, where the tracepoints are missing;
// - the exits of the read/write-family syscalls (every kernel): enabling any
//   syscall tracepoint puts every syscall of every task on the traced slow path.
// All read the bytes from the syscall's own arguments.
//
// The task's syscall number, in its saved user registers (CO-RE flavours, so
// that the other architecture's build compiles against this host's vmlinux.h).
#if defined(__TARGET_ARCH_x86)
struct pt_regs___waggle_x86 {
  long orig_ax;
} __attribute__((preserve_access_index));
static __always_inline long syscall_nr(struct pt_regs *regs) { return BPF_CORE_READ((struct pt_regs___waggle_x86 *)regs, orig_ax); }
enum { NR_READ = 0, NR_WRITE = 1, NR_READV = 19, NR_WRITEV = 20, NR_SENDFILE = 40, NR_SENDTO = 44, NR_RECVFROM = 45, NR_SENDMSG = 46, NR_RECVMSG = 47 };
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs___waggle_arm64 {
  int syscallno;
} __attribute__((preserve_access_index));
static __always_inline long syscall_nr(struct pt_regs *regs) { return BPF_CORE_READ((struct pt_regs___waggle_arm64 *)regs, syscallno); }
enum { NR_READ = 63, NR_WRITE = 64, NR_READV = 65, NR_WRITEV = 66, NR_SENDFILE = 71, NR_SENDTO = 206, NR_RECVFROM = 207, NR_SENDMSG = 211, NR_RECVMSG = 212 };
#endif

// Which of the syscalls the exit hooks know moved these bytes (-1: another
// one, e.g. io_uring, recvmmsg, splice: not seen, as with the exit hooks).
static __always_inline int sock_io_kind(long nr, __u8 dir) {
  if (dir == DIR_IN) {
    if (nr == NR_READ) return IO_BUF;
    if (nr == NR_RECVFROM) return IO_RECVFROM;
    if (nr == NR_READV) return IO_VEC;
    if (nr == NR_RECVMSG) return IO_MSG;
    return -1;
  }
  if (nr == NR_WRITE || nr == NR_SENDTO) return IO_BUF;
  if (nr == NR_WRITEV) return IO_VEC;
  if (nr == NR_SENDMSG) return IO_MSG;
  if (nr == NR_SENDFILE) return IO_SENDFILE; // once per spliced chunk
  return -1;
}

static __always_inline int on_sock_io(const struct sock *sk, long ret, __u8 dir) {
  if (ret < 0 || (ret == 0 && dir == DIR_OUT)) return 0;
  __u64 id = bpf_get_current_pid_tgid();
  if (!is_watched(id >> 32)) return 0;
  struct pt_regs *regs = syscall_regs();
  int kind = sock_io_kind(syscall_nr(regs), dir);
  if (kind < 0) {
    count(CNT_SOCK_OTHER_IO);
    return 0;
  }
  return on_io_regs(id, ret, dir, kind, regs, sk);
}

#ifndef WAGGLE_LEGACY
SEC("tp_btf/sock_recv_length")
int BPF_PROG(cap_sock_recv, struct sock *sk, int ret, int flags) { return on_sock_io(sk, ret, DIR_IN); }

SEC("tp_btf/sock_send_length")
int BPF_PROG(cap_sock_send, struct sock *sk, int ret, int flags) { return on_sock_io(sk, ret, DIR_OUT); }
#endif

// The inet layer's socket operations, which every TCP send and receive passes
// through by an indirect call from net/socket.c (so never inlined, unlike
// sock_sendmsg, which 6.1.176 bypasses through a static __sock_sendmsg). Their
// signatures are the same from 5.10 to 6.4; a kernel with others refuses the
// load and the capture falls back to the syscall exits. inet_sendpage carries
// sendfile's chunks before 6.5 (IPv6 stream sockets use it too).
SEC("fexit/inet_recvmsg")
int BPF_PROG(cap_fexit_recv, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret) { return on_sock_io(sock->sk, ret, DIR_IN); }

SEC("fexit/inet6_recvmsg")
int BPF_PROG(cap_fexit_recv6, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret) { return on_sock_io(sock->sk, ret, DIR_IN); }

SEC("fexit/inet_sendmsg")
int BPF_PROG(cap_fexit_send, struct socket *sock, struct msghdr *msg, size_t size, int ret) { return on_sock_io(sock->sk, ret, DIR_OUT); }

SEC("fexit/inet6_sendmsg")
int BPF_PROG(cap_fexit_send6, struct socket *sock, struct msghdr *msg, size_t size, int ret) { return on_sock_io(sock->sk, ret, DIR_OUT); }

SEC("fexit/inet_sendpage")
int BPF_PROG(cap_fexit_sendpage, struct socket *sock, struct page *page, int offset, size_t size, int flags, long ret) { return on_sock_io(sock->sk, ret, DIR_OUT); }

SEC("tracepoint/syscalls/sys_exit_read")
int cap_read(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_IN, IO_BUF); }

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int cap_recvfrom(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_IN, IO_RECVFROM); }

SEC("tracepoint/syscalls/sys_exit_readv")
int cap_readv(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_IN, IO_VEC); }

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int cap_recvmsg(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_IN, IO_MSG); }

SEC("tracepoint/syscalls/sys_exit_write")
int cap_write(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_OUT, IO_BUF); }

SEC("tracepoint/syscalls/sys_exit_sendto")
int cap_sendto(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_OUT, IO_BUF); }

SEC("tracepoint/syscalls/sys_exit_writev")
int cap_writev(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_OUT, IO_VEC); }

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int cap_sendmsg(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_OUT, IO_MSG); }

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int cap_sendfile(struct trace_event_raw_sys_exit *ctx) { return on_io(ctx->ret, DIR_OUT, IO_SENDFILE); }

// Ends the state keyed by `key` (the socket's, or its TLS plaintext's) as the
// socket closes.
static __always_inline void end_conn(__u64 key, const struct sock *sk, int newstate) {
  struct conn *c = bpf_map_lookup_elem(&conns, &key);
  if (c) {
    if (newstate != WAGGLE_TCP_CLOSE && !(sk->sk_shutdown & WAGGLE_RCV_SHUTDOWN)) return;
    FINISH_ALL(c, key, WHY_CLOSE, SCRATCH_SOFTIRQ);
    bpf_map_delete_elem(&conns, &key);
    count(CNT_CONN_DELETED);
    return;
  }
  // A streamed connection ends at its close: its parser sees every byte first
  // (the ring buffer keeps order), and a half-close may still carry replies.
  if (stream_enabled && newstate == WAGGLE_TCP_CLOSE) stream_close(key);
}

// The socket is closing on our side (close(), exit(), a reset) or is closed:
// whatever is pending ends here. A shutdown(SHUT_WR) alone keeps reading.
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(cap_sock_state, const struct sock *sk, const int oldstate, const int newstate) {
  if (newstate != WAGGLE_TCP_CLOSE && newstate != WAGGLE_TCP_FIN_WAIT1 && newstate != WAGGLE_TCP_LAST_ACK) return 0;
  __u64 key = (__u64)sk;
#ifdef WAGGLE_LEGACY
  bpf_probe_read_kernel(&key, sizeof(key), &ctx[0]); // a scalar, as global functions' arguments must be on 5.10
#endif
  end_conn(key, sk, newstate);
  // A TLS mark may be a closed socket's at the same address: ending a plaintext
  // state that does not exist costs a lookup.
  if (!bpf_map_lookup_elem(&tls_socks, &key)) return 0;
  end_conn(key + 1, sk, newstate); // key | 1 (aligned); the verifier allows no | on a pointer
  if (newstate == WAGGLE_TCP_CLOSE) tls_forget(key);
  return 0;
}

// OpenSSL calls (tls.h). Entry: keep the arguments for the return, and bind a
// memory BIO's SSL (Node) to the TLS socket just read on this thread.
static __always_inline int ssl_enter(struct pt_regs *ctx, __u32 dir, __u32 ex) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if (!is_watched(tgid)) return 0;
  struct ssl_call call = {
      .ssl = PT_REGS_PARM1(ctx),
      .buf = PT_REGS_PARM2(ctx),
      .out_len = ex ? PT_REGS_PARM4(ctx) : 0,
      .dir = dir,
      .ex = ex,
  };
  if (dir == DIR_IN) {
    struct ssl_sock *r = bpf_map_lookup_elem(&tls_reads, &id);
    if (r) {
      struct ssl_key k = {.ssl = call.ssl, .tgid = tgid};
      if (!bpf_map_lookup_elem(&ssl_socks, &k)) tls_bind(call.ssl, tgid, r->sk, r->ino);
      bpf_map_delete_elem(&tls_reads, &id);
    }
  }
  if (bpf_map_update_elem(&ssl_calls, &id, &call, BPF_ANY)) count(CNT_TLS_CALLS_LOST);
  return 0;
}

// Return: the plaintext the call moved is one run on the SSL's connection.
static __always_inline int ssl_exit(struct pt_regs *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  struct ssl_call *p = bpf_map_lookup_elem(&ssl_calls, &id);
  if (!p) return 0;
  struct ssl_call call = *p;
  bpf_map_delete_elem(&ssl_calls, &id);
  int rc = (int)PT_REGS_RC(ctx); // an int: rax's upper half is not part of it
  __u64 len = 0;
  if (call.ex) {
    if (rc != 1 || !call.out_len || bpf_probe_read_user(&len, sizeof(len), (const void *)call.out_len)) return 0;
  } else {
    if (rc <= 0) return 0;
    len = rc;
  }
  if (!len) return 0;
  if (len > 0x7fffffff) len = 0x7fffffff;
  struct io_scratch *w = io_scratch_get();
  if (!w) return 0;
  __u32 tgid = id >> 32;
  struct ssl_key k = {.ssl = call.ssl, .tgid = tgid};
  struct ssl_sock *b = bpf_map_lookup_elem(&ssl_socks, &k);
  if (b) {
    w->io.sk = b->sk | 1;
    w->io.ino = b->ino;
  } else {
    w->io.sk = tls_pseudo_key(call.ssl, tgid);
    w->io.ino = 0;
    count(CNT_TLS_UNBOUND);
  }
  w->io.now = bpf_ktime_get_ns();
  w->io.dir = call.dir;
  w->io.tls = 1;
  count(CNT_TLS_RUNS);
  feed_run(call.buf, (__u32)len);
  return 0;
}

// Attached by user space per binary (libssl.so.3, or an executable carrying
// OpenSSL such as node): SSL_read, SSL_read_ex, SSL_write, SSL_write_ex.
// Not in the legacy build: there tls_return verified at 528k instructions on
// 6.1 (more on 5.10), twice the budget, so kernels before 5.17 get no TLS.
#ifndef WAGGLE_LEGACY
SEC("uprobe")
int tls_read_enter(struct pt_regs *ctx) { return ssl_enter(ctx, DIR_IN, 0); }

SEC("uprobe")
int tls_read_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, DIR_IN, 1); }

SEC("uprobe")
int tls_write_enter(struct pt_regs *ctx) { return ssl_enter(ctx, DIR_OUT, 0); }

SEC("uprobe")
int tls_write_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, DIR_OUT, 1); }

SEC("uretprobe")
int tls_return(struct pt_regs *ctx) { return ssl_exit(ctx); }
#endif

// Children of watched processes are watched from their first instruction.
SEC("tp_btf/sched_process_fork")
int BPF_PROG(cap_fork, struct task_struct *parent, struct task_struct *child) {
  if (capture_all) return 0;
  __u32 child_tgid = child->tgid;
  if (child_tgid != child->pid) return 0; // a new thread, not a new process
  __u32 parent_tgid = parent->tgid;
  if (!bpf_map_lookup_elem(&watched, &parent_tgid)) return 0;
  __u8 inherited = 2;
  if (bpf_map_update_elem(&watched, &child_tgid, &inherited, BPF_NOEXIST) == -7 /* E2BIG */) count(CNT_WATCH_FULL);
  return 0;
}

// The last thread of a process exits: forget its pid before it can be reused.
SEC("tp_btf/sched_process_exit")
int BPF_PROG(cap_exit, struct task_struct *task) {
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  __u32 tgid = task->tgid;
  bpf_map_delete_elem(&watched, &tgid);
  bpf_map_delete_elem(&excluded, &tgid);
  return 0;
}

struct sweep_ctx {
  __u64 now;
  __u64 pending;
  __u64 states;
};

static long sweep_one(struct bpf_map *map, __u64 *key, struct conn *c, struct sweep_ctx *s) {
  if (c->last_ns + idle_timeout_ns > s->now) {
    s->pending += c->count;
    s->states++;
    return 0;
  }
  FINISH_ALL(c, *key, WHY_TIMEOUT, SCRATCH_TASK);
  bpf_map_delete_elem(map, key);
  count(CNT_CONN_DELETED);
  return 0;
}

// Run by user space (BPF_PROG_TEST_RUN) now and then: ends exchanges idle past
// idle_timeout_ns, drops idle connection states, and counts what is pending
// (for the eviction accounting: tracked − ended − pending = lost to eviction).
SEC("raw_tp")
int cap_sweep(void *ctx) {
  struct sweep_ctx s = {.now = bpf_ktime_get_ns()};
#ifdef WAGGLE_LEGACY
  for (__u32 i = 0; i < SWEEP_BATCH; i++) {
    __u32 slot = i;
    __u64 *key = bpf_map_lookup_elem(&sweep_keys, &slot);
    if (!key || !*key) break;
    struct conn *c = bpf_map_lookup_elem(&conns, key);
    if (c) sweep_one((struct bpf_map *)&conns, key, c, &s);
  }
  sweep_pending += s.pending;
  sweep_states += s.states;
#else
  bpf_for_each_map_elem(&conns, sweep_one, &s, 0);
  sweep_pending = s.pending;
  sweep_states = s.states;
#endif
  return 0;
}

WAGGLE_LICENSE;
