// A loaded program's code as the kernel keeps it: the translated (xlated)
// instructions and func_info, whose insn_off marks where each subprogram starts.
// Enough for user space to rebuild the program's call graph.
#include "common.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Bounds on what the kernel may report: BPF_COMPLEXITY_LIMIT_INSNS is 1M
// instructions (8 bytes each); a program has at most one func_info per instruction.
#define MAX_XLATED_BYTES (1000000u * 8u)
#define MAX_FUNC_INFO 1000000u

static napi_value program_code(napi_env env, napi_callback_info info) {
  call_args a;
  int32_t fd;
  if (!get_args(env, info, 1, &a) || !arg_int32(env, a.argv[0], "fd", &fd)) return NULL;

  // First call: sizes only.
  struct bpf_prog_info pi;
  if (!get_prog_info(env, fd, &pi)) return NULL;
  uint32_t xlated_len = pi.xlated_prog_len, nr_func = pi.nr_func_info, rec_size = pi.func_info_rec_size;
  if (xlated_len == 0) {
    // The kernel reports zero lengths to callers without CAP_BPF.
    throw_code(env, "WAGGLE_ERR_PERMISSION", "the kernel reported no translated instructions for this program (reading them needs CAP_BPF)");
    return NULL;
  }
  if (xlated_len % 8 != 0 || xlated_len > MAX_XLATED_BYTES || nr_func > MAX_FUNC_INFO ||
      (nr_func > 0 && rec_size < sizeof(struct bpf_func_info))) {
    char msg[192];
    snprintf(msg, sizeof msg, "unexpected program info sizes: xlated_prog_len %u, nr_func_info %u, func_info_rec_size %u",
             xlated_len, nr_func, rec_size);
    throw_code(env, "WAGGLE_ERR_KERNEL", msg);
    return NULL;
  }

  napi_value insns_v;
  void *insns;
  NAPI_CALL(env, napi_create_buffer(env, xlated_len, &insns, &insns_v));
  uint8_t *funcs = nr_func ? calloc(nr_func, rec_size) : NULL;
  if (nr_func && !funcs) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }

  // Second call: the code. Everything else zero, so the kernel fills only these.
  memset(&pi, 0, sizeof pi);
  pi.xlated_prog_len = xlated_len;
  pi.xlated_prog_insns = (uint64_t)(uintptr_t)insns;
  pi.nr_func_info = nr_func;
  pi.func_info_rec_size = rec_size;
  pi.func_info = (uint64_t)(uintptr_t)funcs;
  uint32_t len = sizeof pi;
  if (bpf_obj_get_info_by_fd(fd, &pi, &len)) {
    int err = errno;
    free(funcs);
    throw_errno(env, "bpf_obj_get_info_by_fd", err);
    return NULL;
  }
  // The program cannot change once loaded, so the sizes must still agree.
  if (pi.xlated_prog_len != xlated_len || pi.nr_func_info != nr_func) {
    free(funcs);
    throw_code(env, "WAGGLE_ERR_KERNEL", "program info sizes changed between two reads");
    return NULL;
  }

  napi_value funcs_v;
  napi_create_array_with_length(env, nr_func, &funcs_v);
  for (uint32_t i = 0; i < nr_func; i++) {
    const struct bpf_func_info *f = (const struct bpf_func_info *)(funcs + (size_t)i * rec_size);
    napi_value o;
    napi_create_object(env, &o);
    set_named(env, o, "insnOff", make_int(env, f->insn_off));
    set_named(env, o, "typeId", make_int(env, f->type_id));
    napi_set_element(env, funcs_v, i, o);
  }
  free(funcs);

  napi_value r;
  napi_create_object(env, &r);
  set_named(env, r, "instructions", insns_v);
  set_named(env, r, "funcInfo", funcs_v);
  set_named(env, r, "btfId", make_int(env, pi.btf_id));
  return r;
}

napi_value init_prog_code(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"programCode", program_code},
  };
  export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
  return exports;
}
