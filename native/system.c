// System calls Node cannot make itself: perf_event_open, tc (clsact) hooks,
// packet sockets for socket filters, mount(2) for tracefs/bpffs, and close(2).
#include "common.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

// perfEventOpen({type, config, period, frequency, pid, cpu, wakeupEvents}) -> fd
static napi_value perf_event_open(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t type, pid, cpu;
  int64_t config, period;
  bool freq;
  if (!get_args(env, info, 6, &a) || !arg_int32(env, a.argv[0], "type", &type) ||
      !arg_int64(env, a.argv[1], "config", &config) || !arg_int64(env, a.argv[2], "period", &period) ||
      !arg_bool(env, a.argv[3], "frequency", &freq) || !arg_int32(env, a.argv[4], "pid", &pid) ||
      !arg_int32(env, a.argv[5], "cpu", &cpu))
    return NULL;
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = (uint32_t)type;
  attr.config = (uint64_t)config;
  attr.freq = freq ? 1 : 0;
  if (freq)
    attr.sample_freq = (uint64_t)period;
  else
    attr.sample_period = (uint64_t)period;
  long fd = syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, "perf_event_open", errno);
    return NULL;
  }
  return make_int(env, fd);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t fd;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "fd", &fd)) return NULL;
  if (close(fd)) throw_errno(env, "close", errno);
  return NULL;
}

static bool tc_hook_args(napi_env env, call_args *a, struct bpf_tc_hook *hook) {
  int32_t ifindex;
  bool ingress;
  if (!arg_int32(env, a->argv[0], "ifindex", &ifindex) || !arg_bool(env, a->argv[1], "ingress", &ingress))
    return false;
  memset(hook, 0, sizeof *hook);
  hook->sz = sizeof *hook;
  hook->ifindex = ifindex;
  hook->attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return true;
}

// tcHookCreate(ifindex, ingress) -> true when this call created the clsact qdisc.
static napi_value tc_hook_create(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_tc_hook hook;
  if (!get_args(env, info, 2, &a) || !tc_hook_args(env, &a, &hook)) return NULL;
  int err = bpf_tc_hook_create(&hook);
  if (err == -EEXIST) return make_bool(env, false);
  if (err) {
    throw_errno(env, "bpf_tc_hook_create", err);
    return NULL;
  }
  return make_bool(env, true);
}

// tcHookDestroy(ifindex): removes the clsact qdisc (ingress and egress together).
static napi_value tc_hook_destroy(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t ifindex;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "ifindex", &ifindex)) return NULL;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
  int err = bpf_tc_hook_destroy(&hook);
  if (err && err != -ENOENT) throw_errno(env, "bpf_tc_hook_destroy", err);
  return NULL;
}

// tcAttach(ifindex, ingress, progFd, priority) -> { handle, priority }
static napi_value tc_attach(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_tc_hook hook;
  int32_t prog_fd;
  uint32_t priority;
  if (!get_args(env, info, 4, &a) || !tc_hook_args(env, &a, &hook) ||
      !arg_int32(env, a.argv[2], "progFd", &prog_fd) || !arg_uint32(env, a.argv[3], "priority", &priority))
    return NULL;
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .priority = priority);
  log_begin();
  int err = bpf_tc_attach(&hook, &opts);
  if (err) {
    throw_errno(env, "bpf_tc_attach", err);
    return NULL;
  }
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "handle", make_int(env, opts.handle));
  set_named(env, r, "priority", make_int(env, opts.priority));
  return r;
}

// tcDetach(ifindex, ingress, handle, priority)
static napi_value tc_detach(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_tc_hook hook;
  uint32_t handle, priority;
  if (!get_args(env, info, 4, &a) || !tc_hook_args(env, &a, &hook) ||
      !arg_uint32(env, a.argv[2], "handle", &handle) || !arg_uint32(env, a.argv[3], "priority", &priority))
    return NULL;
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  int err = bpf_tc_detach(&hook, &opts);
  if (err && err != -ENOENT) throw_errno(env, "bpf_tc_detach", err);
  return NULL;
}

// packetSocketOpen(ifindex) -> fd of an AF_PACKET socket bound to the interface (0 = all).
static napi_value packet_socket_open(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t ifindex;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "ifindex", &ifindex)) return NULL;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    throw_errno(env, "socket(AF_PACKET)", errno);
    return NULL;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll)) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind(AF_PACKET)", err);
    return NULL;
  }
  return make_int(env, fd);
}

static napi_value socket_attach_filter(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t sock_fd, prog_fd;
  if (!get_args(env, info, 2, &a) || !arg_int32(env, a.argv[0], "socketFd", &sock_fd) ||
      !arg_int32(env, a.argv[1], "progFd", &prog_fd))
    return NULL;
  if (setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof prog_fd))
    throw_errno(env, "setsockopt(SO_ATTACH_BPF)", errno);
  return NULL;
}

// mount(source, target, fstype)
static napi_value do_mount(napi_env env, napi_callback_info info) {
  call_args a;
  char *source = NULL, *target = NULL, *fstype = NULL;
  if (!get_args(env, info, 3, &a) || !arg_string(env, a.argv[0], "source", false, &source) ||
      !arg_string(env, a.argv[1], "target", false, &target) ||
      !arg_string(env, a.argv[2], "fstype", false, &fstype)) {
    free(source);
    free(target);
    return NULL;
  }
  int err = mount(source, target, fstype, 0, NULL) ? errno : 0;
  free(source);
  free(target);
  free(fstype);
  if (err) throw_errno(env, "mount", err);
  return NULL;
}

static napi_value versions(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "libbpf", make_string(env, libbpf_version_string()));
  set_named(env, r, "possibleCpus", make_int(env, libbpf_num_possible_cpus()));
  return r;
}

napi_value init_system(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"perfEventOpen", perf_event_open},
      {"closeFd", close_fd},
      {"tcHookCreate", tc_hook_create},
      {"tcHookDestroy", tc_hook_destroy},
      {"tcAttach", tc_attach},
      {"tcDetach", tc_detach},
      {"packetSocketOpen", packet_socket_open},
      {"socketAttachFilter", socket_attach_filter},
      {"mount", do_mount},
      {"versions", versions},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
