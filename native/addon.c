// Module entry: registers each part's functions on one exports object.
#include "common.h"

static napi_value init(napi_env env, napi_value exports) {
  log_install();
  init_object(env, exports);
  init_maps(env, exports);
  init_attach(env, exports);
  init_ringbuf(env, exports);
  init_system(env, exports);
  init_prog_code(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
