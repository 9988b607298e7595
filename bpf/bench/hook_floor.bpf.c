// What the hooks alone cost, without any capture logic (bench/hook-floor.ts):
// the same small work (count the call, copy the payload's first bytes) on two
// sets of hooks a capture could stand on.
//   syscall exits: the nine read/write-family exit tracepoints the capture uses;
//     the bytes are read from the user buffer the syscall's registers name.
//   socket tracepoints: tp_btf sock_recv_length/sock_send_length;
//   socket tracepoints + ring: the same, but each call's first bytes (up to
//     RING_COPY) go to user space as one ring-buffer record, woken the way the
//     capture wakes its reader: the least any capture that hands every
//     message's bytes to user space (and frames them there) must pay;
//   socket hooks: sockops puts every TCP connection in a sockhash; sk_msg runs
//     on each send (the sender's context); cgroup_skb/ingress on each incoming
//     segment (softirq), which finds the payload behind the IP and TCP headers.
// Only the server's traffic is copied: its pid for the syscall exits and
// sk_msg, its local port for ingress (softirq knows no pid).
#include "waggle/common.h"
#include "waggle/ringbuf.h"

const volatile __u32 target_tgid = 0;
const volatile __u16 target_port = 0; // host order
// 0: count only (the hook's own price), 1: also copy the payload's first bytes.
const volatile __u8 copy_bytes = 1;
// Ring mode: the reader is woken when the waiting bytes cross this (the capture's default).
const volatile __u32 wakeup_bytes = 256 << 10;

#define RING_COPY 512

#define COPY 64

struct floor_scratch {
  __u64 events;
  __u64 bytes;
  __u8 buf[COPY];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct floor_scratch);
} floor_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, __u64);
} floor_socks SEC(".maps");

struct floor_record {
  __u64 ts;
  __u32 tgid;
  __u32 len;
  __u8 data[RING_COPY];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct floor_record);
} floor_record_scratch SEC(".maps");

WAGGLE_RINGBUF(floor_ring, 1 << 23);

static __always_inline struct floor_scratch *scratch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&floor_scratch, &zero);
}

// Syscall exits: the buffer is the second argument of read/write/recvfrom/sendto
// (readv & co. copy their first iovec's start the same way: a pointer read first).
static __always_inline int on_exit(long ret, int vec) {
  if (waggle_tgid() != target_tgid || ret <= 0) return 0;
  struct floor_scratch *s = scratch();
  if (!s) return 0;
  s->events++;
  s->bytes += ret;
  if (!copy_bytes) return 0;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  __u64 addr = PT_REGS_PARM2_CORE_SYSCALL(regs);
  if (vec) {
    struct iovec iov;
    if (bpf_probe_read_user(&iov, sizeof(iov), (void *)addr)) return 0;
    addr = (__u64)iov.iov_base;
  }
  bpf_probe_read_user(s->buf, COPY, (void *)addr);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int floor_read(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_recvfrom")
int floor_recvfrom(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_readv")
int floor_readv(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 1); }
SEC("tracepoint/syscalls/sys_exit_recvmsg")
int floor_recvmsg(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_write")
int floor_write(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_sendto")
int floor_sendto(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_writev")
int floor_writev(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 1); }
SEC("tracepoint/syscalls/sys_exit_sendmsg")
int floor_sendmsg(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int floor_sendfile(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx->ret, 0); }

// The socket layer's own tracepoints (6.4+): once per sendmsg/recvmsg of any
// socket, in the caller's context, not on every syscall. The bytes are still
// read from the user buffer the syscall named.
SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv, struct sock *sk, int ret, int flags) { return on_exit(ret, 0); }
SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_sock_send, struct sock *sk, int ret, int flags) { return on_exit(ret, 0); }

// The socket tracepoints, each call's bytes (up to RING_COPY) as a ring record.
static __always_inline int to_ring(long ret) {
  if (waggle_tgid() != target_tgid || ret <= 0) return 0;
  __u32 zero = 0;
  struct floor_record *r = bpf_map_lookup_elem(&floor_record_scratch, &zero);
  struct floor_scratch *s = scratch();
  if (!r || !s) return 0;
  s->events++;
  s->bytes += ret;
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
  __u32 n = ret < RING_COPY ? ret : RING_COPY;
  // n is 1..RING_COPY, written so that the verifier sees the bound.
  if (bpf_probe_read_user(r->data, n & (RING_COPY - 1) ? n & (RING_COPY - 1) : RING_COPY, (void *)PT_REGS_PARM2_CORE_SYSCALL(regs))) return 0;
  r->ts = bpf_ktime_get_ns();
  r->tgid = target_tgid;
  r->len = n;
  __u64 size = offsetof(struct floor_record, data) + n;
  if (bpf_ringbuf_output(&floor_ring, r, size <= sizeof(*r) ? size : sizeof(*r), waggle_wake_output(&floor_ring, wakeup_bytes, size)))
    waggle_count(&floor_ring_drops, 0, 1);
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv_ring, struct sock *sk, int ret, int flags) { return to_ring(ret); }
SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_sock_send_ring, struct sock *sk, int ret, int flags) { return to_ring(ret); }

SEC("sockops")
int floor_track(struct bpf_sock_ops *skops) {
  if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) return 1;
  if (skops->family != 2 && skops->family != 10) return 1;
  __u64 cookie = bpf_get_socket_cookie(skops);
  bpf_sock_hash_update(skops, &floor_socks, &cookie, BPF_NOEXIST);
  return 1;
}

SEC("sk_msg")
int floor_send(struct sk_msg_md *msg) {
  if (waggle_tgid() != target_tgid) return SK_PASS;
  struct floor_scratch *s = scratch();
  if (!s) return SK_PASS;
  __u8 *p = msg->data, *end = msg->data_end;
  if (p + COPY <= end) __builtin_memcpy(s->buf, p, COPY);
  s->events++;
  s->bytes += msg->size;
  return SK_PASS;
}

SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb) {
  struct bpf_sock *sk = skb->sk;
  if (!sk || sk->src_port != target_port) return 1;
  __u8 ihl;
  if (bpf_skb_load_bytes(skb, 0, &ihl, 1)) return 1;
  __u32 ip_len = skb->protocol == bpf_htons(0x86dd) ? 40 : (ihl & 0xf) * 4;
  __u8 doff;
  if (bpf_skb_load_bytes(skb, ip_len + 12, &doff, 1)) return 1;
  __u32 at = ip_len + (doff >> 4) * 4;
  if (skb->len <= at) return 1; // no payload (an ACK)
  struct floor_scratch *s = scratch();
  if (!s) return 1;
  if (skb->len >= at + COPY) bpf_skb_load_bytes(skb, at, s->buf, COPY);
  s->events++;
  s->bytes += skb->len - at;
  return 1;
}

WAGGLE_LICENSE;
