/* scratch.c -- a small process-wide pool of scratch blocks that hot calls (the kernel's Gram tiles)
 * take and give back, so that repeated calls reuse memory that is already mapped: glibc serves a
 * block above its mmap threshold (128 KiB at first) with a fresh mapping on every malloc, whose
 * first touch page-faults again on every call.  Thread-safe (one mutex); blocks held by no caller
 * are released at exit. */
#include "la.h"

#include <pthread.h>
#include <stdlib.h>

#define POOL_SLOTS 16

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void *p;
    size_t bytes;
    int busy;
} pool[POOL_SLOTS];

void *la_scratch_get(size_t bytes)
{
    if (bytes == 0) bytes = 1;
    void *p = NULL;
    pthread_mutex_lock(&pool_mu);
    int idle = -1;
    for (int i = 0; i < POOL_SLOTS && !p; i++) {
        if (pool[i].busy) continue;
        if (pool[i].p && pool[i].bytes >= bytes) {
            pool[i].busy = 1;
            p = pool[i].p;
        } else if (idle < 0 || !pool[i].p) {
            idle = i;
        }
    }
    if (!p && idle >= 0) { /* an empty slot, or an idle block too small: replace it */
        free(pool[idle].p);
        pool[idle].p = malloc(bytes);
        pool[idle].bytes = pool[idle].p ? bytes : 0;
        pool[idle].busy = pool[idle].p != NULL;
        p = pool[idle].p;
    }
    pthread_mutex_unlock(&pool_mu);
    return p || idle >= 0 ? p : malloc(bytes); /* every slot busy: a block of its own */
}

void la_scratch_put(void *p)
{
    if (!p) return;
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; i < POOL_SLOTS; i++)
        if (pool[i].p == p) {
            pool[i].busy = 0;
            pthread_mutex_unlock(&pool_mu);
            return;
        }
    pthread_mutex_unlock(&pool_mu);
    free(p); /* not from the pool */
}

__attribute__((destructor)) static void pool_release(void)
{
    pthread_mutex_lock(&pool_mu);
    for (int i = 0; i < POOL_SLOTS; i++)
        if (!pool[i].busy) {
            free(pool[i].p);
            pool[i].p = NULL;
            pool[i].bytes = 0;
        }
    pthread_mutex_unlock(&pool_mu);
}
