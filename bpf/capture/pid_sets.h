// The processes capture watches, shared by the objects that act on them
// (socket_capture, traceparent: user space makes the second's stand for the
// first's). Kept across forks and exits by capture's lifecycle programs, or by
// the process table's once it takes them over.
#ifndef WAGGLE_CAPTURE_PID_SETS_H
#define WAGGLE_CAPTURE_PID_SETS_H

#include "waggle/common.h"

// Processes to capture (tgid → 1 set by user space, 2 inherited by fork).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u8);
} watched SEC(".maps");

// Processes never captured in capture_all mode (the agent itself).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} excluded SEC(".maps");

#endif
