// Test fixture: the real capture plus one program the verifier always refuses (a
// random number dereferenced as a pointer). It stands in for
// every capture build (capture/*.bpf.o) in a WAGGLE_BPF_DIR tree, so that the agent's
// capture fails in the kernel exactly as a capture that does not verify on some
// kernel would, while every other object loads (test/agent/degrade.test.ts).
// Its name puts it among the refusals bpf:budget expects (testdata/verifier_reject*).
#include "../capture/socket_capture.bpf.c"

SEC("tracepoint/syscalls/sys_exit_getppid")
int cap_never_verifies(void *ctx) {
  return *(volatile int *)(long)bpf_get_prandom_u32();
}
