/* failmalloc.c -- an LD_PRELOAD fault injector for tests/cli/test_alloc_faults.py (glibc only).
 *
 * NTK_FAIL_MALLOC="SIZE:NTH" makes the NTH call (1-based) of malloc(SIZE) return NULL with errno
 * ENOMEM; every other call goes to glibc's allocator unchanged.  Unset or malformed: no effect. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t n);

static atomic_int state; /* 0: environment not read yet, 1: armed, 2: off */
static size_t fail_size;
static long fail_nth;
static atomic_long seen;

static void arm(void)
{
    const char *e = getenv("NTK_FAIL_MALLOC"); /* getenv does not allocate */
    char *end = NULL;
    int on = 0;
    if (e) {
        unsigned long long sz = strtoull(e, &end, 10);
        if (end != e && *end == ':') {
            char *end2 = NULL;
            long nth = strtol(end + 1, &end2, 10);
            if (end2 != end + 1 && *end2 == '\0' && nth > 0 && sz > 0) {
                fail_size = (size_t)sz;
                fail_nth = nth;
                on = 1;
            }
        }
    }
    atomic_store(&state, on ? 1 : 2);
}

void *malloc(size_t n)
{
    if (atomic_load(&state) == 0) arm();
    if (atomic_load(&state) == 1 && n == fail_size && atomic_fetch_add(&seen, 1) + 1 == fail_nth) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_malloc(n);
}
