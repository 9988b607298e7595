#include "common.h"
#include <bpf/bpf.h>

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool get_args(napi_env env, napi_callback_info info, size_t required, call_args *out) {
  out->env = env;
  out->argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &out->argc, out->argv, &out->this_arg, NULL) != napi_ok) {
    waggle_throw_napi_failure(env, "napi_get_cb_info");
    return false;
  }
  if (out->argc < required) {
    char msg[128];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", required, out->argc);
    napi_throw_type_error(env, "WAGGLE_ERR_NATIVE_ARGS", msg);
    return false;
  }
  for (size_t i = out->argc; i < MAX_ARGS; i++) napi_get_undefined(env, &out->argv[i]);
  return true;
}

static bool type_error(napi_env env, const char *what, const char *expected) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s must be %s", what, expected);
  napi_throw_type_error(env, "WAGGLE_ERR_NATIVE_ARGS", msg);
  return false;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

bool arg_int32(napi_env env, napi_value v, const char *what, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return type_error(env, what, "a number");
  return true;
}

bool arg_uint32(napi_env env, napi_value v, const char *what, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) return type_error(env, what, "a number");
  return true;
}

bool arg_int64(napi_env env, napi_value v, const char *what, int64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    bool lossless;
    if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok) return type_error(env, what, "a bigint");
    return true;
  }
  if (napi_get_value_int64(env, v, out) != napi_ok) return type_error(env, what, "a number or bigint");
  return true;
}

bool arg_bool(napi_env env, napi_value v, const char *what, bool *out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) return type_error(env, what, "a boolean");
  return true;
}

bool arg_string(napi_env env, napi_value v, const char *what, bool allow_null, char **out) {
  *out = NULL;
  if (allow_null && is_nullish(env, v)) return true;
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return type_error(env, what, "a string");
  char *s = malloc(len + 1);
  if (!s) {
    throw_errno(env, "malloc", ENOMEM);
    return false;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  *out = s;
  return true;
}

bool arg_buffer(napi_env env, napi_value v, const char *what, bool allow_null, void **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (allow_null && is_nullish(env, v)) return true;
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    void *base;
    napi_get_typedarray_info(env, v, &type, &length, &base, &ab, &offset);
    size_t elem = 1;
    switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
    }
    *data = base;
    *len = length * elem;
    return true;
  }
  return type_error(env, what, "a Buffer or Uint8Array");
}

bool arg_external(napi_env env, napi_value v, const char *what, void **out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_external) return type_error(env, what, "a native handle");
  napi_get_value_external(env, v, out);
  if (*out == NULL) {
    throw_code(env, "WAGGLE_ERR_CLOSED", "the native handle was already closed");
    return false;
  }
  return true;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

napi_value make_bool(napi_env env, bool v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

napi_value make_string(napi_env env, const char *s) {
  napi_value r;
  if (!s) {
    napi_get_null(env, &r);
    return r;
  }
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

napi_value make_undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

void set_named(napi_env env, napi_value obj, const char *name, napi_value v) {
  napi_set_named_property(env, obj, name, v);
}

void throw_errno(napi_env env, const char *op, int err) {
  if (err < 0) err = -err;
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", op, strerror(err));
  napi_value error, message;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  set_named(env, error, "errno", make_int(env, err));
  set_named(env, error, "syscall", make_string(env, op));
  set_named(env, error, "libbpfLog", make_string(env, log_text()));
  napi_throw(env, error);
}

void throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
}

void waggle_throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[512];
  snprintf(msg, sizeof msg, "Node-API call failed: %s (%s)", what,
           info && info->error_message ? info->error_message : "unknown");
  napi_throw_error(env, "WAGGLE_ERR_NATIVE", msg);
}

void export_all(napi_env env, napi_value exports, const export_fn *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}

// ---- libbpf print capture ----
// Bounded: libbpf can print multi-megabyte verifier logs; we keep the first 4 MiB.
#define LOG_CAP (4u << 20)
static char *log_buf;
static size_t log_len, log_size;

static int log_print(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level;
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return 0;
  size_t need = log_len + (size_t)n + 1;
  if (need > LOG_CAP) return 0;
  if (need > log_size) {
    size_t size = log_size ? log_size : 4096;
    while (size < need) size *= 2;
    char *grown = realloc(log_buf, size);
    if (!grown) return 0;
    log_buf = grown;
    log_size = size;
  }
  vsnprintf(log_buf + log_len, (size_t)n + 1, fmt, args);
  log_len += (size_t)n;
  return n;
}

void log_install(void) { libbpf_set_print(log_print); }

void log_begin(void) {
  log_len = 0;
  if (log_buf) log_buf[0] = '\0';
}

const char *log_text(void) { return log_buf && log_len ? log_buf : ""; }

bool get_prog_info(napi_env env, int fd, struct bpf_prog_info *pi) {
  memset(pi, 0, sizeof *pi);
  uint32_t len = sizeof *pi;
  int err = bpf_obj_get_info_by_fd(fd, pi, &len);
  if (err) {
    throw_errno(env, "bpf_obj_get_info_by_fd", err);
    return false;
  }
  return true;
}
