// Object lifecycle: open (editable spec) -> load -> fds -> close.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A verifier log buffer given to libbpf for one program; the handle owns it
// because libbpf only borrows it (it must outlive every load attempt).
typedef struct log_buffer {
  struct bpf_program *prog;
  char *buf;
  size_t size;
  struct log_buffer *next;
} log_buffer;

typedef struct {
  struct bpf_object *obj;
  log_buffer *logs;
} object_handle;

static void release(object_handle *h) {
  if (h->obj) bpf_object__close(h->obj);
  h->obj = NULL;
  while (h->logs) {
    log_buffer *next = h->logs->next;
    free(h->logs->buf);
    free(h->logs);
    h->logs = next;
  }
}

static void object_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  object_handle *h = data;
  // A handle collected without close() still releases its kernel objects.
  release(h);
  free(h);
}

static bool get_handle(napi_env env, napi_value v, object_handle **out) {
  if (!arg_external(env, v, "object", (void **)out)) return false;
  if (!(*out)->obj) {
    throw_code(env, "WAGGLE_ERR_CLOSED", "the BPF object was already closed");
    return false;
  }
  return true;
}

static bool get_object(napi_env env, napi_value v, struct bpf_object **out) {
  object_handle *h;
  if (!get_handle(env, v, &h)) return false;
  *out = h->obj;
  return true;
}

static bool get_program(napi_env env, napi_value obj_v, napi_value name_v, struct bpf_program **out) {
  struct bpf_object *obj;
  char *name;
  if (!get_object(env, obj_v, &obj) || !arg_string(env, name_v, "program name", false, &name)) return false;
  *out = bpf_object__find_program_by_name(obj, name);
  if (!*out) {
    char msg[320];
    snprintf(msg, sizeof msg, "no program named '%s' in the object", name);
    throw_code(env, "WAGGLE_ERR_NOT_FOUND", msg);
  }
  free(name);
  return *out != NULL;
}

bool native_get_program(napi_env env, napi_value obj_v, napi_value name_v, struct bpf_program **out) {
  return get_program(env, obj_v, name_v, out);
}

static bool get_map(napi_env env, napi_value obj_v, napi_value name_v, struct bpf_map **out) {
  struct bpf_object *obj;
  char *name;
  if (!get_object(env, obj_v, &obj) || !arg_string(env, name_v, "map name", false, &name)) return false;
  *out = bpf_object__find_map_by_name(obj, name);
  if (!*out) {
    char msg[320];
    snprintf(msg, sizeof msg, "no map named '%s' in the object", name);
    throw_code(env, "WAGGLE_ERR_NOT_FOUND", msg);
  }
  free(name);
  return *out != NULL;
}

static napi_value open_object(napi_env env, napi_callback_info info) {
  call_args a;
  char *path;
  if (!get_args(env, info, 1, &a) || !arg_string(env, a.argv[0], "path", false, &path)) return NULL;
  log_begin();
  struct bpf_object *obj = bpf_object__open_file(path, NULL);
  int err = errno;
  free(path);
  if (!obj) {
    throw_errno(env, "bpf_object__open_file", err ? err : EINVAL);
    return NULL;
  }
  object_handle *h = calloc(1, sizeof *h);
  h->obj = obj;
  napi_value ext;
  NAPI_CALL(env, napi_create_external(env, h, object_finalize, NULL, &ext));
  return ext;
}

static napi_value object_info(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_object *obj;
  if (!get_args(env, info, 1, &a) || !get_object(env, a.argv[0], &obj)) return NULL;
  napi_value result, programs, maps;
  napi_create_object(env, &result);
  napi_create_array(env, &programs);
  napi_create_array(env, &maps);
  set_named(env, result, "name", make_string(env, bpf_object__name(obj)));

  uint32_t i = 0;
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    napi_value p;
    napi_create_object(env, &p);
    set_named(env, p, "name", make_string(env, bpf_program__name(prog)));
    set_named(env, p, "section", make_string(env, bpf_program__section_name(prog)));
    set_named(env, p, "type", make_string(env, libbpf_bpf_prog_type_str(bpf_program__type(prog))));
    set_named(env, p, "autoload", make_bool(env, bpf_program__autoload(prog)));
    set_named(env, p, "instructions", make_int(env, (int64_t)bpf_program__insn_cnt(prog)));
    napi_set_element(env, programs, i++, p);
  }
  i = 0;
  struct bpf_map *map;
  bpf_object__for_each_map(map, obj) {
    napi_value m;
    napi_create_object(env, &m);
    set_named(env, m, "name", make_string(env, bpf_map__name(map)));
    set_named(env, m, "type", make_string(env, libbpf_bpf_map_type_str(bpf_map__type(map))));
    set_named(env, m, "keySize", make_int(env, bpf_map__key_size(map)));
    set_named(env, m, "valueSize", make_int(env, bpf_map__value_size(map)));
    set_named(env, m, "maxEntries", make_int(env, bpf_map__max_entries(map)));
    set_named(env, m, "flags", make_int(env, bpf_map__map_flags(map)));
    set_named(env, m, "internal", make_bool(env, bpf_map__is_internal(map)));
    set_named(env, m, "btfKeyTypeId", make_int(env, bpf_map__btf_key_type_id(map)));
    set_named(env, m, "btfValueTypeId", make_int(env, bpf_map__btf_value_type_id(map)));
    napi_set_element(env, maps, i++, m);
  }
  set_named(env, result, "programs", programs);
  set_named(env, result, "maps", maps);
  return result;
}

static napi_value program_set_autoload(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  bool on;
  if (!get_args(env, info, 3, &a) || !get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_bool(env, a.argv[2], "autoload", &on))
    return NULL;
  int err = bpf_program__set_autoload(prog, on);
  if (err) throw_errno(env, "bpf_program__set_autoload", err);
  return NULL;
}

static napi_value map_set_max_entries(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_map *map;
  uint32_t n;
  if (!get_args(env, info, 3, &a) || !get_map(env, a.argv[0], a.argv[1], &map) ||
      !arg_uint32(env, a.argv[2], "maxEntries", &n))
    return NULL;
  int err = bpf_map__set_max_entries(map, n);
  if (err) throw_errno(env, "bpf_map__set_max_entries", err);
  return NULL;
}

// The map of this object becomes the existing map behind `fd` (libbpf dups the
// fd): the object creates no map of its own, its programs use the shared one.
// libbpf checks type, sizes and flags at load.
static napi_value map_reuse_fd(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_map *map;
  int32_t fd;
  if (!get_args(env, info, 3, &a) || !get_map(env, a.argv[0], a.argv[1], &map) || !arg_int32(env, a.argv[2], "fd", &fd))
    return NULL;
  int err = bpf_map__reuse_fd(map, fd);
  if (err) throw_errno(env, "bpf_map__reuse_fd", err);
  return NULL;
}

static napi_value map_initial_value(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_map *map;
  if (!get_args(env, info, 2, &a) || !get_map(env, a.argv[0], a.argv[1], &map)) return NULL;
  size_t size = 0;
  const void *data = bpf_map__initial_value(map, &size);
  napi_value result;
  if (!data) {
    napi_get_null(env, &result);
    return result;
  }
  void *copy;
  NAPI_CALL(env, napi_create_buffer_copy(env, size, data, &copy, &result));
  return result;
}

static napi_value map_set_initial_value(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_map *map;
  void *data;
  size_t len;
  if (!get_args(env, info, 3, &a) || !get_map(env, a.argv[0], a.argv[1], &map) ||
      !arg_buffer(env, a.argv[2], "value", false, &data, &len))
    return NULL;
  int err = bpf_map__set_initial_value(map, data, len);
  if (err) throw_errno(env, "bpf_map__set_initial_value", err);
  return NULL;
}

static napi_value object_btf(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_object *obj;
  if (!get_args(env, info, 1, &a) || !get_object(env, a.argv[0], &obj)) return NULL;
  napi_value result;
  struct btf *btf = bpf_object__btf(obj);
  if (!btf) {
    napi_get_null(env, &result);
    return result;
  }
  uint32_t size = 0;
  const void *raw = btf__raw_data(btf, &size);
  if (!raw) {
    napi_get_null(env, &result);
    return result;
  }
  void *copy;
  NAPI_CALL(env, napi_create_buffer_copy(env, size, raw, &copy, &result));
  return result;
}

static napi_value object_load(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_object *obj;
  if (!get_args(env, info, 1, &a) || !get_object(env, a.argv[0], &obj)) return NULL;
  log_begin();
  // The verifier gives up with EAGAIN when a signal is pending (libbpf retries
  // only a few times), so a long load in a process that gets signals (V8's
  // SIGPROF under --cpu-prof, SIGCHLD from children) could fail. Signals wait
  // until the load is done.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  int err = bpf_object__load(obj);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (err) throw_errno(env, "bpf_object__load", err);
  return NULL;
}

static napi_value program_fd(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  if (!get_args(env, info, 2, &a) || !get_program(env, a.argv[0], a.argv[1], &prog)) return NULL;
  return make_int(env, bpf_program__fd(prog));
}

static napi_value map_fd(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_map *map;
  if (!get_args(env, info, 2, &a) || !get_map(env, a.argv[0], a.argv[1], &map)) return NULL;
  return make_int(env, bpf_map__fd(map));
}

static napi_value object_close(napi_env env, napi_callback_info info) {
  call_args a;
  object_handle *h;
  if (!get_args(env, info, 1, &a) || !arg_external(env, a.argv[0], "object", (void **)&h)) return NULL;
  release(h);
  return NULL;
}

// The kernel's limits on a verifier log buffer (kernel/bpf/log.c: at least 128
// bytes, at most UINT_MAX >> 2).
#define LOG_SIZE_MIN 128u
#define LOG_SIZE_MAX (UINT32_MAX >> 2)

// programSetLog(obj, name, level, size): the program's next load runs with this
// verifier log level (BPF_LOG_LEVEL1 = 1, LEVEL2 = 2, STATS = 4) into a buffer of
// `size` bytes kept by the handle. A log that does not fit fails the load (ENOSPC).
static napi_value program_set_log(napi_env env, napi_callback_info info) {
  call_args a;
  object_handle *h;
  struct bpf_program *prog;
  uint32_t level, size;
  if (!get_args(env, info, 4, &a) || !get_handle(env, a.argv[0], &h) || !get_program(env, a.argv[0], a.argv[1], &prog) ||
      !arg_uint32(env, a.argv[2], "log level", &level) || !arg_uint32(env, a.argv[3], "log size", &size))
    return NULL;
  if (size < LOG_SIZE_MIN || size > LOG_SIZE_MAX) {
    char msg[128];
    snprintf(msg, sizeof msg, "verifier log size must be %u..%u bytes, got %u", LOG_SIZE_MIN, LOG_SIZE_MAX, size);
    throw_code(env, "WAGGLE_ERR_INVALID_ARGUMENT", msg);
    return NULL;
  }
  log_buffer *l = h->logs;
  while (l && l->prog != prog) l = l->next;
  if (!l) {
    l = calloc(1, sizeof *l);
    if (!l) {
      throw_errno(env, "calloc", ENOMEM);
      return NULL;
    }
    l->prog = prog;
    l->next = h->logs;
    h->logs = l;
  }
  if (l->size != size) {
    char *buf = calloc(1, size);
    if (!buf) {
      throw_errno(env, "calloc", ENOMEM);
      return NULL;
    }
    free(l->buf);
    l->buf = buf;
    l->size = size;
  }
  l->buf[0] = '\0';
  int err = bpf_program__set_log_buf(prog, l->buf, l->size);
  if (!err) err = bpf_program__set_log_level(prog, level);
  if (err) throw_errno(env, "bpf_program__set_log_level", err);
  return NULL;
}

// programVerifierLog(obj, name) -> the log of the program's last load attempt, or
// null when no log was requested with programSetLog.
static napi_value program_verifier_log(napi_env env, napi_callback_info info) {
  call_args a;
  object_handle *h;
  struct bpf_program *prog;
  if (!get_args(env, info, 2, &a) || !get_handle(env, a.argv[0], &h) || !get_program(env, a.argv[0], a.argv[1], &prog))
    return NULL;
  for (log_buffer *l = h->logs; l; l = l->next) {
    if (l->prog != prog) continue;
    napi_value s;
    // The kernel NUL-terminates within the buffer; strnlen guards a buffer it never wrote.
    NAPI_CALL(env, napi_create_string_utf8(env, l->buf, strnlen(l->buf, l->size), &s));
    return s;
  }
  napi_value n;
  napi_get_null(env, &n);
  return n;
}

// programInstructions(obj, name) -> the program's instructions as libbpf holds them:
// after a load attempt, relocated with its subprograms appended, as the kernel got them.
static napi_value program_instructions(napi_env env, napi_callback_info info) {
  call_args a;
  struct bpf_program *prog;
  if (!get_args(env, info, 2, &a) || !get_program(env, a.argv[0], a.argv[1], &prog)) return NULL;
  const struct bpf_insn *insns = bpf_program__insns(prog);
  size_t n = bpf_program__insn_cnt(prog);
  napi_value result;
  void *copy;
  NAPI_CALL(env, napi_create_buffer_copy(env, n * sizeof *insns, insns, &copy, &result));
  return result;
}

// Kernel-side facts about a loaded program: id, run counters (when bpf_stats is on).
static napi_value program_info(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t fd;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "fd", &fd)) return NULL;
  struct bpf_prog_info pi;
  if (!get_prog_info(env, fd, &pi)) return NULL;
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "id", make_int(env, pi.id));
  set_named(env, r, "name", make_string(env, pi.name));
  set_named(env, r, "type", make_string(env, libbpf_bpf_prog_type_str(pi.type)));
  set_named(env, r, "runTimeNs", make_int(env, (int64_t)pi.run_time_ns));
  set_named(env, r, "runCount", make_int(env, (int64_t)pi.run_cnt));
  set_named(env, r, "recursionMisses", make_int(env, (int64_t)pi.recursion_misses));
  set_named(env, r, "verifiedInstructions", make_int(env, pi.verified_insns));
  return r;
}

// Turns on kernel run-time accounting of BPF programs until the returned fd is closed.
static napi_value enable_stats(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) {
    throw_errno(env, "bpf_enable_stats", errno);
    return NULL;
  }
  return make_int(env, fd);
}

// programTestRun(progFd, ctx | null, repeat) -> { retval, durationNs } (BPF_PROG_TEST_RUN)
static napi_value program_test_run(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t fd;
  uint32_t repeat;
  void *ctx;
  size_t ctx_len;
  if (!get_args(env, info, 3, &a) || !arg_int32(env, a.argv[0], "progFd", &fd) ||
      !arg_buffer(env, a.argv[1], "ctx", true, &ctx, &ctx_len) || !arg_uint32(env, a.argv[2], "repeat", &repeat))
    return NULL;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = ctx, .ctx_size_in = (uint32_t)ctx_len, .repeat = repeat);
  if (bpf_prog_test_run_opts(fd, &opts)) {
    throw_errno(env, "bpf_prog_test_run_opts", errno);
    return NULL;
  }
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "retval", make_int(env, opts.retval));
  set_named(env, r, "durationNs", make_int(env, opts.duration));
  return r;
}

napi_value init_object(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"openObject", open_object},
      {"objectInfo", object_info},
      {"programSetAutoload", program_set_autoload},
      {"mapSetMaxEntries", map_set_max_entries},
      {"mapReuseFd", map_reuse_fd},
      {"mapInitialValue", map_initial_value},
      {"mapSetInitialValue", map_set_initial_value},
      {"objectBtf", object_btf},
      {"objectLoad", object_load},
      {"programFd", program_fd},
      {"mapFd", map_fd},
      {"objectClose", object_close},
      {"programInfo", program_info},
      {"enableStats", enable_stats},
      {"programTestRun", program_test_run},
      {"programSetLog", program_set_log},
      {"programVerifierLog", program_verifier_log},
      {"programInstructions", program_instructions},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
