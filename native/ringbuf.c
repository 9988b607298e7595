// BPF ring buffer reader driven by Node's event loop: libuv watches the ring
// buffer's epoll fd (no thread, no busy loop); when it is readable, records are
// consumed into one batch buffer and handed to JS in a single call.
//
// Batch layout: for each record, a u32 length (little endian, host order), then
// the record's bytes, then padding to an 8-byte boundary.
#include "common.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define STOP_BATCH_FULL (-E2BIG)

typedef struct {
  napi_env env;
  struct ring_buffer *rb;
  uv_poll_t poll;
  napi_ref callback;
  napi_ref self; // keeps the handle object alive while the poll is active
  napi_async_context async_ctx;
  uint8_t *batch;
  size_t batch_len, batch_cap, max_batch;
  uint64_t lost_oom; // records consumed while no memory was left to copy them
  uint32_t batch_count;
  bool poll_started, closed, finalized, uv_closed;
} ringbuf_handle;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static int on_sample(void *ctx, void *data, size_t size) {
  ringbuf_handle *h = ctx;
  size_t need = h->batch_len + 8 + align8(size);
  if (need > h->batch_cap) {
    // libbpf has already consumed this record, so it must fit: grow past the soft cap.
    size_t cap = h->batch_cap * 2 > need ? h->batch_cap * 2 : need;
    uint8_t *grown = realloc(h->batch, cap);
    if (!grown) {
      h->lost_oom++;
      return 0;
    }
    h->batch = grown;
    h->batch_cap = cap;
  }
  uint32_t len = (uint32_t)size;
  memcpy(h->batch + h->batch_len, &len, 4);
  memset(h->batch + h->batch_len + 4, 0, 4);
  memcpy(h->batch + h->batch_len + 8, data, size);
  h->batch_len = need;
  h->batch_count++;
  // A full batch goes to JS now; the rest waits for the next loop turn (fairness).
  return h->batch_len >= h->max_batch ? STOP_BATCH_FULL : 0;
}

static void maybe_free(ringbuf_handle *h) {
  if (h->finalized && (h->uv_closed || !h->poll_started)) {
    free(h->batch);
    free(h);
  }
}

static void release(ringbuf_handle *h) {
  if (h->rb) ring_buffer__free(h->rb);
  h->rb = NULL;
}

// Consumes one batch; returns records consumed or a negative errno.
static int consume_batch(ringbuf_handle *h, bool *more) {
  h->batch_len = 0;
  h->batch_count = 0;
  int err = ring_buffer__consume(h->rb);
  *more = err == STOP_BATCH_FULL;
  if (err < 0 && err != STOP_BATCH_FULL) return err;
  return (int)h->batch_count;
}

static napi_value batch_args(ringbuf_handle *h, napi_value *argv) {
  void *copy;
  if (napi_create_buffer_copy(h->env, h->batch_len, h->batch, &copy, &argv[0]) != napi_ok) return NULL;
  napi_create_uint32(h->env, h->batch_count, &argv[1]);
  return argv[0];
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  (void)events;
  ringbuf_handle *h = poll->data;
  if (h->closed || !h->rb) return;
  napi_env env = h->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, resource, argv[3];
  napi_get_reference_value(env, h->callback, &cb);
  napi_get_reference_value(env, h->self, &resource);
  bool more = false;
  int n = status < 0 ? status : consume_batch(h, &more);
  if (n < 0) {
    // Report the failure to JS as the third argument; the reader decides what to do.
    napi_value err, msg;
    napi_create_string_utf8(env, "ring_buffer__consume failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    set_named(env, err, "errno", make_int(env, -n));
    napi_get_null(env, &argv[0]);
    napi_create_uint32(env, 0, &argv[1]);
    argv[2] = err;
  } else if (n == 0) {
    napi_close_handle_scope(env, scope);
    return;
  } else {
    batch_args(h, argv);
    napi_get_undefined(env, &argv[2]);
  }
  napi_value result;
  napi_status st = napi_make_callback(env, h->async_ctx, resource, cb, 3, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_uv_closed(uv_handle_t *handle) {
  ringbuf_handle *h = handle->data;
  h->uv_closed = true;
  release(h);
  maybe_free(h);
}

static void close_handle(ringbuf_handle *h) {
  if (h->closed) return;
  h->closed = true;
  if (h->callback) napi_delete_reference(h->env, h->callback);
  if (h->self) napi_delete_reference(h->env, h->self);
  if (h->async_ctx) napi_async_destroy(h->env, h->async_ctx);
  h->callback = h->self = NULL;
  h->async_ctx = NULL;
  if (h->poll_started) {
    uv_poll_stop(&h->poll);
    uv_close((uv_handle_t *)&h->poll, on_uv_closed);
  } else {
    release(h);
  }
}

static void ringbuf_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ringbuf_handle *h = data;
  close_handle(h);
  h->finalized = true;
  maybe_free(h);
}

// ringbufOpen(mapFd, callback(batch, count, error), maxBatchBytes) -> handle
static napi_value ringbuf_open(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t map_fd;
  uint32_t max_batch;
  if (!get_args(env, info, 3, &a) || !arg_int32(env, a.argv[0], "mapFd", &map_fd) ||
      !arg_uint32(env, a.argv[2], "maxBatchBytes", &max_batch))
    return NULL;
  napi_valuetype t;
  napi_typeof(env, a.argv[1], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "WAGGLE_ERR_NATIVE_ARGS", "callback must be a function");
    return NULL;
  }
  if (max_batch < 64 * 1024) max_batch = 64 * 1024;

  ringbuf_handle *h = calloc(1, sizeof *h);
  h->env = env;
  h->batch_cap = max_batch;
  h->max_batch = max_batch;
  h->batch = malloc(max_batch);
  log_begin();
  h->rb = ring_buffer__new(map_fd, on_sample, h, NULL);
  if (!h->rb || !h->batch) {
    int err = errno ? errno : ENOMEM;
    if (h->rb) ring_buffer__free(h->rb);
    free(h->batch);
    free(h);
    throw_errno(env, "ring_buffer__new", err);
    return NULL;
  }

  napi_value ext, name;
  NAPI_CALL(env, napi_create_external(env, h, ringbuf_finalize, NULL, &ext));
  napi_create_reference(env, a.argv[1], 1, &h->callback);
  napi_create_reference(env, ext, 1, &h->self);
  napi_create_string_utf8(env, "waggle:ringbuf", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, ext, name, &h->async_ctx);

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int err = uv_poll_init(loop, &h->poll, ring_buffer__epoll_fd(h->rb));
  if (err == 0) {
    h->poll.data = h;
    h->poll_started = true;
    err = uv_poll_start(&h->poll, UV_READABLE, on_poll);
  }
  if (err) {
    close_handle(h);
    throw_errno(env, "uv_poll_start", -err);
    return NULL;
  }
  return ext;
}

// ringbufConsume(handle) -> { batch, count } | null: consumes one batch synchronously.
static napi_value ringbuf_consume(napi_env env, napi_callback_info info) {
  call_args a;
  ringbuf_handle *h;
  if (!get_args(env, info, 1, &a) || !arg_external(env, a.argv[0], "ringbuf", (void **)&h)) return NULL;
  if (h->closed || !h->rb) {
    throw_code(env, "WAGGLE_ERR_CLOSED", "the ring buffer reader was already closed");
    return NULL;
  }
  bool more;
  int n = consume_batch(h, &more);
  if (n < 0) {
    throw_errno(env, "ring_buffer__consume", -n);
    return NULL;
  }
  napi_value r;
  if (n == 0) {
    napi_get_null(env, &r);
    return r;
  }
  napi_value argv[2];
  if (!batch_args(h, argv)) return NULL;
  napi_create_object(env, &r);
  set_named(env, r, "batch", argv[0]);
  set_named(env, r, "count", argv[1]);
  set_named(env, r, "more", make_bool(env, more));
  set_named(env, r, "lostNoMemory", make_int(env, (int64_t)h->lost_oom));
  return r;
}

static napi_value ringbuf_stats(napi_env env, napi_callback_info info) {
  call_args a;
  ringbuf_handle *h;
  if (!get_args(env, info, 1, &a) || !arg_external(env, a.argv[0], "ringbuf", (void **)&h)) return NULL;
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "lostNoMemory", make_int(env, (int64_t)h->lost_oom));
  return r;
}

static napi_value ringbuf_close(napi_env env, napi_callback_info info) {
  call_args a;
  ringbuf_handle *h;
  if (!get_args(env, info, 1, &a) || !arg_external(env, a.argv[0], "ringbuf", (void **)&h)) return NULL;
  close_handle(h);
  return NULL;
}

napi_value init_ringbuf(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"ringbufOpen", ringbuf_open},
      {"ringbufConsume", ringbuf_consume},
      {"ringbufStats", ringbuf_stats},
      {"ringbufClose", ringbuf_close},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
