/* first_touch.c -- what the first write to fresh memory costs on this machine: the page faults a
 * single `ntkdrift kernel` process pays on its ~100 MB of new buffers (bench/README.md, "ntk").
 *
 * Build: cc -O2 -o first_touch first_touch.c      (bench/peers.py builds it into bench/out/)
 * Run:   first_touch [MB=256] [HUGE=1]
 *   Maps MB MiB of anonymous memory (advised MADV_HUGEPAGE when HUGE is 1, as ntk_alloc_big does,
 *   else MADV_NOHUGEPAGE), writes every byte once (first: page faults, zeroing by the kernel, and in a
 *   virtual machine the host's backing of guest pages it had not yet given), then once more (second:
 *   the plain memset rate), single-threaded.
 * Output: one JSON line {"probe": "first_touch", "mb", "huge", "first_s", "first_gbs", "second_s",
 * "second_gbs", "check"} (GB = 1e9 bytes; check = the sum of one byte per 4 KiB, MB * 256 * 2).  Exit status 2 on bad arguments, 1 when the
 * memory cannot be mapped. */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE, MAP_ANONYMOUS under -std=c17 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 256, huge = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
    if (argc > 3 || mb < 1 || mb > (1L << 20) || (huge != 0 && huge != 1)) {
        fprintf(stderr, "usage: first_touch [MB=256 (1..1048576)] [HUGE=1 (0 or 1)]\n");
        return 2;
    }
    size_t n = (size_t)mb << 20;
    unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "first_touch: cannot map %ld MiB\n", mb);
        return 1;
    }
    (void)madvise(p, n, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE); /* advice only: THP may be off */
    double t0 = seconds_now();
    memset(p, 1, n);
    __asm__ volatile("" : : "r"(p) : "memory"); /* both writes happen: neither is a dead store */
    double t1 = seconds_now();
    memset(p, 2, n);
    __asm__ volatile("" : : "r"(p) : "memory");
    double t2 = seconds_now();
    unsigned long check = 0;
    for (size_t i = 0; i < n; i += 4096) check += p[i];
    printf("{\"probe\": \"first_touch\", \"mb\": %ld, \"huge\": %ld, \"first_s\": %.6e, \"first_gbs\": %.3f, "
           "\"second_s\": %.6e, \"second_gbs\": %.3f, \"check\": %lu}\n",
           mb, huge, t1 - t0, (double)n / (t1 - t0) / 1e9, t2 - t1, (double)n / (t2 - t1) / 1e9, check);
    munmap(p, n);
    return 0;
}
