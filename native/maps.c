// Map element operations by fd. Every buffer is checked against the map's real
// key and value sizes here, so a wrong size is an error and never a stray read.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int fd;
  uint32_t key_size;
  uint32_t value_bytes; // value size as user space sees it (per-CPU maps: one slot per CPU)
} map_handle;

static void map_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data); // the fd belongs to its object or to whoever opened it
}

static bool is_percpu(enum bpf_map_type t) {
  return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
         t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static napi_value map_open(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t fd;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "fd", &fd)) return NULL;
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof mi);
  uint32_t len = sizeof mi;
  int err = bpf_obj_get_info_by_fd(fd, &mi, &len);
  if (err) {
    throw_errno(env, "bpf_obj_get_info_by_fd", err);
    return NULL;
  }
  map_handle *h = calloc(1, sizeof *h);
  h->fd = fd;
  h->key_size = mi.key_size;
  h->value_bytes = mi.value_size;
  if (is_percpu(mi.type)) h->value_bytes = ((mi.value_size + 7) & ~7u) * (uint32_t)libbpf_num_possible_cpus();

  napi_value r, ext;
  napi_create_object(env, &r);
  NAPI_CALL(env, napi_create_external(env, h, map_finalize, NULL, &ext));
  set_named(env, r, "handle", ext);
  set_named(env, r, "id", make_int(env, mi.id));
  set_named(env, r, "fd", make_int(env, fd));
  set_named(env, r, "name", make_string(env, mi.name));
  set_named(env, r, "type", make_string(env, libbpf_bpf_map_type_str(mi.type)));
  set_named(env, r, "keySize", make_int(env, mi.key_size));
  set_named(env, r, "valueSize", make_int(env, mi.value_size));
  set_named(env, r, "valueBytes", make_int(env, h->value_bytes));
  set_named(env, r, "maxEntries", make_int(env, mi.max_entries));
  set_named(env, r, "flags", make_int(env, mi.map_flags));
  set_named(env, r, "possibleCpus", make_int(env, libbpf_num_possible_cpus()));
  return r;
}

static bool size_error(napi_env env, const char *what, size_t got, size_t want) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s is %zu bytes but the map needs %zu", what, got, want);
  throw_code(env, "WAGGLE_ERR_MAP_SIZE", msg);
  return false;
}

static bool get_key(napi_env env, map_handle *h, napi_value v, bool allow_null, void **key) {
  size_t len;
  if (!arg_buffer(env, v, "key", allow_null, key, &len)) return false;
  if (*key && len != h->key_size) return size_error(env, "key", len, h->key_size);
  return true;
}

static bool get_value(napi_env env, map_handle *h, napi_value v, void **value) {
  size_t len;
  if (!arg_buffer(env, v, "value", false, value, &len)) return false;
  if (len != h->value_bytes) return size_error(env, "value", len, h->value_bytes);
  return true;
}

static napi_value map_lookup(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *key, *value;
  if (!get_args(env, info, 3, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !get_key(env, h, a.argv[1], h->key_size == 0, &key) || !get_value(env, h, a.argv[2], &value))
    return NULL;
  int err = bpf_map_lookup_elem(h->fd, key, value);
  if (err && errno == ENOENT) return make_bool(env, false);
  if (err) {
    throw_errno(env, "bpf_map_lookup_elem", errno);
    return NULL;
  }
  return make_bool(env, true);
}

static napi_value map_update(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *key, *value;
  int64_t flags = 0;
  if (!get_args(env, info, 3, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !get_key(env, h, a.argv[1], h->key_size == 0, &key) || !get_value(env, h, a.argv[2], &value))
    return NULL;
  if (a.argc > 3 && !arg_int64(env, a.argv[3], "flags", &flags)) return NULL;
  if (bpf_map_update_elem(h->fd, key, value, (uint64_t)flags)) throw_errno(env, "bpf_map_update_elem", errno);
  return NULL;
}

static napi_value map_delete(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *key;
  if (!get_args(env, info, 2, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !get_key(env, h, a.argv[1], false, &key))
    return NULL;
  if (bpf_map_delete_elem(h->fd, key)) {
    if (errno == ENOENT) return make_bool(env, false);
    throw_errno(env, "bpf_map_delete_elem", errno);
    return NULL;
  }
  return make_bool(env, true);
}

static napi_value map_lookup_and_delete(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *key, *value;
  if (!get_args(env, info, 3, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !get_key(env, h, a.argv[1], h->key_size == 0, &key) || !get_value(env, h, a.argv[2], &value))
    return NULL;
  if (bpf_map_lookup_and_delete_elem(h->fd, key, value)) {
    if (errno == ENOENT) return make_bool(env, false);
    throw_errno(env, "bpf_map_lookup_and_delete_elem", errno);
    return NULL;
  }
  return make_bool(env, true);
}

// nextKey(map, key | null, out) -> false when `key` was the last one.
static napi_value map_next_key(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *key, *next;
  if (!get_args(env, info, 3, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !get_key(env, h, a.argv[1], true, &key) || !get_key(env, h, a.argv[2], false, &next))
    return NULL;
  if (bpf_map_get_next_key(h->fd, key, next)) {
    if (errno == ENOENT) return make_bool(env, false);
    throw_errno(env, "bpf_map_get_next_key", errno);
    return NULL;
  }
  return make_bool(env, true);
}

// lookupBatch(map, inBatch|null, outBatch, keys, values, count) -> { count, done }
static napi_value map_lookup_batch(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *in_batch, *out_batch, *keys, *values;
  size_t in_len, out_len, keys_len, values_len;
  uint32_t count;
  if (!get_args(env, info, 6, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !arg_buffer(env, a.argv[1], "inBatch", true, &in_batch, &in_len) ||
      !arg_buffer(env, a.argv[2], "outBatch", false, &out_batch, &out_len) ||
      !arg_buffer(env, a.argv[3], "keys", false, &keys, &keys_len) ||
      !arg_buffer(env, a.argv[4], "values", false, &values, &values_len) ||
      !arg_uint32(env, a.argv[5], "count", &count))
    return NULL;
  uint32_t token = h->key_size > 8 ? h->key_size : 8;
  if ((in_batch && in_len < token) || out_len < token) {
    size_error(env, "batch token", in_batch && in_len < token ? in_len : out_len, token);
    return NULL;
  }
  if (keys_len < (size_t)count * h->key_size) {
    size_error(env, "keys", keys_len, (size_t)count * h->key_size);
    return NULL;
  }
  if (values_len < (size_t)count * h->value_bytes) {
    size_error(env, "values", values_len, (size_t)count * h->value_bytes);
    return NULL;
  }
  uint32_t n = count;
  int err = bpf_map_lookup_batch(h->fd, in_batch, out_batch, keys, values, &n, NULL);
  bool done = false;
  if (err) {
    if (errno != ENOENT) {
      throw_errno(env, "bpf_map_lookup_batch", errno);
      return NULL;
    }
    done = true;
  }
  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "count", make_int(env, n));
  set_named(env, r, "done", make_bool(env, done));
  return r;
}

// updateBatch(map, keys, values, count, flags)
static napi_value map_update_batch(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *keys, *values;
  size_t keys_len, values_len;
  uint32_t count;
  int64_t flags = 0;
  if (!get_args(env, info, 4, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !arg_buffer(env, a.argv[1], "keys", false, &keys, &keys_len) ||
      !arg_buffer(env, a.argv[2], "values", false, &values, &values_len) ||
      !arg_uint32(env, a.argv[3], "count", &count))
    return NULL;
  if (a.argc > 4 && !arg_int64(env, a.argv[4], "flags", &flags)) return NULL;
  if (keys_len != (size_t)count * h->key_size) {
    size_error(env, "keys", keys_len, (size_t)count * h->key_size);
    return NULL;
  }
  if (values_len != (size_t)count * h->value_bytes) {
    size_error(env, "values", values_len, (size_t)count * h->value_bytes);
    return NULL;
  }
  LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = (uint64_t)flags);
  uint32_t n = count;
  if (bpf_map_update_batch(h->fd, keys, values, &n, &opts)) {
    throw_errno(env, "bpf_map_update_batch", errno);
    return NULL;
  }
  return make_int(env, n);
}

// deleteBatch(map, keys, count) -> number deleted
static napi_value map_delete_batch(napi_env env, napi_callback_info info) {
  call_args a;
  map_handle *h;
  void *keys;
  size_t keys_len;
  uint32_t count;
  if (!get_args(env, info, 3, &a) || !arg_external(env, a.argv[0], "map", (void **)&h) ||
      !arg_buffer(env, a.argv[1], "keys", false, &keys, &keys_len) ||
      !arg_uint32(env, a.argv[2], "count", &count))
    return NULL;
  if (keys_len != (size_t)count * h->key_size) {
    size_error(env, "keys", keys_len, (size_t)count * h->key_size);
    return NULL;
  }
  uint32_t n = count;
  if (bpf_map_delete_batch(h->fd, keys, &n, NULL) && errno != ENOENT) {
    throw_errno(env, "bpf_map_delete_batch", errno);
    return NULL;
  }
  return make_int(env, n);
}

napi_value init_maps(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"mapOpen", map_open},
      {"mapLookup", map_lookup},
      {"mapUpdate", map_update},
      {"mapDelete", map_delete},
      {"mapLookupAndDelete", map_lookup_and_delete},
      {"mapNextKey", map_next_key},
      {"mapLookupBatch", map_lookup_batch},
      {"mapUpdateBatch", map_update_batch},
      {"mapDeleteBatch", map_delete_batch},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
