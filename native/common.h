// Shared helpers for the waggle Node-API binding over libbpf.
// The binding holds no policy: it converts arguments, calls libbpf or the bpf
// syscall, and reports failures as errors carrying errno, the operation and
// whatever libbpf printed while it ran (the verifier log among it).
#ifndef WAGGLE_NATIVE_COMMON_H
#define WAGGLE_NATIVE_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAPI_CALL(env, call)                                                   \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      waggle_throw_napi_failure((env), #call);                                 \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

#define MAX_ARGS 8

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
  napi_value this_arg;
} call_args;

// Reads the call's arguments; throws if fewer than `required` were passed.
bool get_args(napi_env env, napi_callback_info info, size_t required, call_args *out);

// Argument readers: each throws a TypeError naming `what` and returns false on a wrong type.
bool arg_int32(napi_env env, napi_value v, const char *what, int32_t *out);
bool arg_uint32(napi_env env, napi_value v, const char *what, uint32_t *out);
bool arg_int64(napi_env env, napi_value v, const char *what, int64_t *out);
bool arg_bool(napi_env env, napi_value v, const char *what, bool *out);
// Allocates with malloc; the caller frees. Null or undefined give *out == NULL when allow_null.
bool arg_string(napi_env env, napi_value v, const char *what, bool allow_null, char **out);
// Borrowed view of a Buffer/TypedArray; null or undefined give data == NULL when allow_null.
bool arg_buffer(napi_env env, napi_value v, const char *what, bool allow_null, void **data, size_t *len);
bool arg_external(napi_env env, napi_value v, const char *what, void **out);

// Throws an Error with .errno (positive), .syscall (the operation) and .libbpfLog.
void throw_errno(napi_env env, const char *op, int err);
// Fills *pi with a loaded program's info (sizes only: no arrays asked for);
// false with a JS error thrown on failure.
struct bpf_prog_info;
bool get_prog_info(napi_env env, int fd, struct bpf_prog_info *pi);
// Throws an Error with a fixed code for misuse detected in the binding itself.
void throw_code(napi_env env, const char *code, const char *msg);
void waggle_throw_napi_failure(napi_env env, const char *what);

napi_value make_int(napi_env env, int64_t v);
napi_value make_bool(napi_env env, bool v);
napi_value make_string(napi_env env, const char *s);
napi_value make_undefined(napi_env env);
void set_named(napi_env env, napi_value obj, const char *name, napi_value v);

// libbpf output capture: everything libbpf prints between log_begin() and the next
// log_begin() is kept so that failures can carry it.
void log_install(void);
void log_begin(void);
const char *log_text(void);

// Module parts register their functions here.
typedef struct {
  const char *name;
  napi_callback fn;
} export_fn;

void export_all(napi_env env, napi_value exports, const export_fn *fns, size_t n);

napi_value init_object(napi_env env, napi_value exports);
napi_value init_maps(napi_env env, napi_value exports);
napi_value init_attach(napi_env env, napi_value exports);
napi_value init_ringbuf(napi_env env, napi_value exports);
napi_value init_system(napi_env env, napi_value exports);
napi_value init_prog_code(napi_env env, napi_value exports);

#endif
