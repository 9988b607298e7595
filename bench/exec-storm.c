// Exec storm for bench/process-events.ts: vfork + execve of one binary, N times,
// paced at a fixed rate of executions per second (0: as fast as it can), with at
// most `inflight` children alive at once (reaped without blocking the pacing).
// Node cannot spawn fast enough for this, hence C.
//
//   exec-storm BINARY COUNT RATE INFLIGHT
// Prints "execs elapsed_ns failed" on stdout when every child has been reaped.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int reap(int block, long *failed) {
  int status;
  pid_t p = waitpid(-1, &status, block ? 0 : WNOHANG);
  if (p <= 0) return 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) (*failed)++;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s BINARY COUNT RATE INFLIGHT\n", argv[0]);
    return 2;
  }
  const char *bin = argv[1];
  long count = atol(argv[2]);
  double rate = atof(argv[3]);
  long inflight_max = atol(argv[4]);
  char *child_argv[] = {(char *)bin, NULL};
  char *child_env[] = {NULL};
  long failed = 0, live = 0;
  long long start = now_ns();
  for (long i = 0; i < count; i++) {
    if (rate > 0) {
      long long due = start + (long long)(i * 1e9 / rate);
      for (;;) {
        while (live > 0 && reap(0, &failed)) live--;
        long long t = now_ns();
        if (t >= due) break;
        long long wait = due - t;
        if (wait > 200000) wait = 200000;  // keep reaping while waiting
        struct timespec ts = {0, wait};
        nanosleep(&ts, NULL);
      }
    }
    while (live >= inflight_max) {
      if (reap(1, &failed)) live--;
    }
    // vfork: the child only execs, and the parent skips copying its page tables (a third faster here).
    pid_t pid = vfork();
    if (pid < 0) {
      if (errno == EAGAIN && live > 0) {
        if (reap(1, &failed)) live--;
        i--;
        continue;
      }
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      execve(bin, child_argv, child_env);
      _exit(127);
    }
    live++;
  }
  while (live > 0)
    if (reap(1, &failed)) live--;
  printf("%ld %lld %ld\n", count, now_ns() - start, failed);
  return 0;
}
