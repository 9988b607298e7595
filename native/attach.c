// Attachments. Every successful attach returns a link handle that linkDestroy()
// detaches; a link collected without being destroyed is detached by its finalizer.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

bool native_get_program(napi_env env, napi_value obj_v, napi_value name_v, struct bpf_program **out);

// A libbpf link, a raw bpf_link fd (tcx, which libbpf 1.1 cannot wrap), or a
// program attached to a map (sk_msg on a sockhash: no link exists for it before
// 6.10), kept as its own copies of both fds so that detaching works whenever it runs.
typedef struct {
  struct bpf_link *link;
  int raw_fd;
  int prog_fd;
  int target_fd;
  enum bpf_attach_type type;
} link_handle;

static int link_release(link_handle *h) {
  int err = 0;
  if (h->link) err = bpf_link__destroy(h->link);
  if (h->raw_fd >= 0) err = close(h->raw_fd) ? -errno : 0;
  if (h->prog_fd >= 0) {
    if (bpf_prog_detach2(h->prog_fd, h->target_fd, h->type)) err = -errno;
    close(h->prog_fd);
    close(h->target_fd);
  }
  h->link = NULL;
  h->raw_fd = -1;
  h->prog_fd = -1;
  h->target_fd = -1;
  return err;
}

static void link_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  link_release(data);
  free(data);
}

static napi_value wrap_raw_link(napi_env env, int fd) {
  link_handle *h = calloc(1, sizeof *h);
  h->raw_fd = fd;
  h->prog_fd = -1;
  h->target_fd = -1;
  napi_value ext;
  NAPI_CALL(env, napi_create_external(env, h, link_finalize, NULL, &ext));
  return ext;
}

static napi_value wrap_link(napi_env env, struct bpf_link *link, const char *op) {
  if (!link) {
    throw_errno(env, op, errno ? errno : EINVAL);
    return NULL;
  }
  link_handle *h = calloc(1, sizeof *h);
  h->link = link;
  h->raw_fd = -1;
  h->prog_fd = -1;
  h->target_fd = -1;
  napi_value ext;
  NAPI_CALL(env, napi_create_external(env, h, link_finalize, NULL, &ext));
  return ext;
}

static napi_value attach_tracepoint(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  char *category = NULL, *name = NULL;
  if (!get_args(env, info, 4, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_string(env, a.argv[2], "category", false, &category) ||
      !arg_string(env, a.argv[3], "name", false, &name)) {
    free(category);
    return NULL;
  }
  log_begin();
  errno = 0;
  struct bpf_link *link = bpf_program__attach_tracepoint(prog, category, name);
  free(category);
  free(name);
  return wrap_link(env, link, "bpf_program__attach_tracepoint");
}

static napi_value attach_raw_tracepoint(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  char *name;
  if (!get_args(env, info, 3, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_string(env, a.argv[2], "name", false, &name))
    return NULL;
  log_begin();
  errno = 0;
  struct bpf_link *link = bpf_program__attach_raw_tracepoint(prog, name);
  free(name);
  return wrap_link(env, link, "bpf_program__attach_raw_tracepoint");
}

// tp_btf, fentry/fexit, fmod_ret, lsm: the target is fixed at load time by the section.
static napi_value attach_auto(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  if (!get_args(env, info, 2, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog)) return NULL;
  log_begin();
  errno = 0;
  return wrap_link(env, bpf_program__attach(prog), "bpf_program__attach");
}

static napi_value attach_kprobe(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  bool retprobe;
  char *func;
  if (!get_args(env, info, 4, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_bool(env, a.argv[2], "retprobe", &retprobe) || !arg_string(env, a.argv[3], "function", false, &func))
    return NULL;
  log_begin();
  errno = 0;
  struct bpf_link *link = bpf_program__attach_kprobe(prog, retprobe, func);
  free(func);
  return wrap_link(env, link, "bpf_program__attach_kprobe");
}

// attachUprobe(obj, prog, retprobe, pid, binaryPath, functionName | null, offset)
static napi_value attach_uprobe(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  bool retprobe;
  int32_t pid;
  char *path = NULL, *func = NULL;
  int64_t offset;
  if (!get_args(env, info, 7, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_bool(env, a.argv[2], "retprobe", &retprobe) || !arg_int32(env, a.argv[3], "pid", &pid) ||
      !arg_string(env, a.argv[4], "binaryPath", false, &path) ||
      !arg_string(env, a.argv[5], "functionName", true, &func) || !arg_int64(env, a.argv[6], "offset", &offset)) {
    free(path);
    return NULL;
  }
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .func_name = func);
  log_begin();
  errno = 0;
  struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)offset, &opts);
  free(path);
  free(func);
  return wrap_link(env, link, "bpf_program__attach_uprobe_opts");
}

static napi_value attach_perf_event(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  int32_t pfd;
  if (!get_args(env, info, 3, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_int32(env, a.argv[2], "perfEventFd", &pfd))
    return NULL;
  log_begin();
  errno = 0;
  return wrap_link(env, bpf_program__attach_perf_event(prog, pfd), "bpf_program__attach_perf_event");
}

static napi_value attach_cgroup(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  int32_t cgroup_fd;
  if (!get_args(env, info, 3, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_int32(env, a.argv[2], "cgroupFd", &cgroup_fd))
    return NULL;
  log_begin();
  errno = 0;
  return wrap_link(env, bpf_program__attach_cgroup(prog, cgroup_fd), "bpf_program__attach_cgroup");
}

// tcx (kernel >= 6.6): a bpf_link on an interface's ingress or egress, released
// with its fd, so nothing is left behind if the process dies. libbpf 1.1 predates
// bpf_program__attach_tcx, hence the raw link_create with the uapi constants.
#define WAGGLE_BPF_TCX_INGRESS 46
#define WAGGLE_BPF_TCX_EGRESS 47
static napi_value attach_tcx(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  int32_t ifindex;
  bool ingress;
  if (!get_args(env, info, 4, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_int32(env, a.argv[2], "ifindex", &ifindex) || !arg_bool(env, a.argv[3], "ingress", &ingress))
    return NULL;
  int prog_fd = bpf_program__fd(prog);
  int link_fd = bpf_link_create(prog_fd, ifindex, ingress ? WAGGLE_BPF_TCX_INGRESS : WAGGLE_BPF_TCX_EGRESS, NULL);
  if (link_fd < 0) {
    throw_errno(env, "bpf_link_create(tcx)", errno);
    return NULL;
  }
  return wrap_raw_link(env, link_fd);
}

// sk_msg (or sk_skb) on a sockmap/sockhash: bpf_prog_attach, detached by linkDestroy.
static napi_value attach_sockmap(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  int32_t map_fd;
  if (!get_args(env, info, 3, &a) || !native_get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_int32(env, a.argv[2], "mapFd", &map_fd))
    return NULL;
  enum bpf_attach_type type = bpf_program__expected_attach_type(prog);
  if (bpf_program__type(prog) == BPF_PROG_TYPE_SK_MSG) type = BPF_SK_MSG_VERDICT;
  int prog_fd = fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 0);
  if (prog_fd < 0) {
    throw_errno(env, "dup(program fd)", errno);
    return NULL;
  }
  int target_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 0);
  if (target_fd < 0) {
    int err = errno;
    close(prog_fd);
    throw_errno(env, "dup(map fd)", err);
    return NULL;
  }
  if (bpf_prog_attach(prog_fd, target_fd, type, 0)) {
    int err = errno;
    close(prog_fd);
    close(target_fd);
    throw_errno(env, "bpf_prog_attach(sockmap)", err);
    return NULL;
  }
  link_handle *h = calloc(1, sizeof *h);
  h->raw_fd = -1;
  h->prog_fd = prog_fd;
  h->target_fd = target_fd;
  h->type = type;
  napi_value ext;
  NAPI_CALL(env, napi_create_external(env, h, link_finalize, NULL, &ext));
  return ext;
}

static napi_value link_destroy(napi_env env, napi_callback_info info) {
  call_args a;
  link_handle *h;
  if (!get_args(env, info, 1, &a) || !arg_external(env, a.argv[0], "link", (void **)&h)) return NULL;
  int err = link_release(h);
  if (err) throw_errno(env, "bpf_link__destroy", err);
  return NULL;
}

napi_value init_attach(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"attachTracepoint", attach_tracepoint},
      {"attachRawTracepoint", attach_raw_tracepoint},
      {"attachAuto", attach_auto},
      {"attachKprobe", attach_kprobe},
      {"attachUprobe", attach_uprobe},
      {"attachPerfEvent", attach_perf_event},
      {"attachCgroup", attach_cgroup},
      {"attachTcx", attach_tcx},
      {"attachSockmap", attach_sockmap},
      {"linkDestroy", link_destroy},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
