// Feature probes for `waggle doctor`: one tiny program per attach type. Each
// counts its hits for one process (target_tgid) so that the doctor can check
// that the hook really fires, not only that it loads.
#include "waggle/common.h"

enum probe_slot {
  SLOT_TRACEPOINT,
  SLOT_RAW_TRACEPOINT,
  SLOT_TP_BTF,
  SLOT_KPROBE,
  SLOT_FENTRY,
  SLOT_LSM,
  SLOT_UPROBE,
  SLOT_PERF_EVENT,
  SLOT_TC,
  SLOT_SOCKOPS,
  SLOT_SOCKET_FILTER,
  SLOT_SEND_SIGNAL,
  SLOT_COUNT,
};

const volatile __u32 target_tgid = 0;
__u64 hits[SLOT_COUNT];

static __always_inline void hit(int slot) {
  if (slot >= 0 && slot < SLOT_COUNT) __sync_fetch_and_add(&hits[slot], 1);
}

static __always_inline int mine(void) { return waggle_tgid() == target_tgid; }

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_tracepoint(void *ctx) {
  if (mine()) hit(SLOT_TRACEPOINT);
  return 0;
}

SEC("raw_tracepoint/sys_enter")
int probe_raw_tracepoint(void *ctx) {
  if (mine()) hit(SLOT_RAW_TRACEPOINT);
  return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id) {
  if (mine()) hit(SLOT_TP_BTF);
  return 0;
}

SEC("kprobe/vfs_read")
int probe_kprobe(void *ctx) {
  if (mine()) hit(SLOT_KPROBE);
  return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry) {
  if (mine()) hit(SLOT_FENTRY);
  return 0;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file) {
  if (mine()) hit(SLOT_LSM);
  return 0;
}

SEC("uprobe")
int probe_uprobe(void *ctx) {
  if (mine()) hit(SLOT_UPROBE);
  return 0;
}

SEC("perf_event")
int probe_perf_event(void *ctx) {
  if (mine()) hit(SLOT_PERF_EVENT);
  return 0;
}

SEC("tc")
int probe_tc(struct __sk_buff *skb) {
  hit(SLOT_TC);
  return 0; // TC_ACT_OK
}

SEC("sockops")
int probe_sockops(struct bpf_sock_ops *ops) {
  hit(SLOT_SOCKOPS);
  return 1;
}

SEC("socket")
int probe_socket_filter(struct __sk_buff *skb) {
  hit(SLOT_SOCKET_FILTER);
  return 0; // keep nothing on the probe socket
}

// Kills the target process at its next system call.
SEC("raw_tracepoint/sys_enter")
int probe_send_signal(void *ctx) {
  if (!mine()) return 0;
  if (bpf_send_signal(9) == 0) hit(SLOT_SEND_SIGNAL);
  return 0;
}

WAGGLE_LICENSE;
