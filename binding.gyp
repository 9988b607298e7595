{
  "targets": [
    {
      "target_name": "waggle_bpf",
      "sources": [
        "native/addon.c",
        "native/common.c",
        "native/object.c",
        "native/maps.c",
        "native/attach.c",
        "native/ringbuf.c",
        "native/system.c",
        "native/prog_code.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
