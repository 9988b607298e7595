// bench:profiling's workload: spins through a few nested calls for argv[1]
// seconds and prints how many iterations it did (its throughput).
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t done;
static volatile uint64_t sink;

static void stop(int sig) { (void)sig; done = 1; }

__attribute__((noinline)) static uint64_t leaf(uint64_t x) {
  for (int i = 0; i < 1000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

__attribute__((noinline)) static uint64_t middle(uint64_t x) { return leaf(x) ^ 1; }

int main(int argc, char **argv) {
  signal(SIGALRM, stop);
  alarm(argc > 1 ? atoi(argv[1]) : 10);
  uint64_t n = 0, x = 1;
  while (!done) {
    x = middle(x);
    n++;
  }
  sink = x;
  printf("%llu\n", (unsigned long long)n);
  return 0;
}
