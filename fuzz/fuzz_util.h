/* fuzz_util.h -- helpers shared by the fuzz harnesses (header-only: each harness is one
 * translation unit).
 *
 *   fuzz_file()      the input bytes as a file: the readers take paths.  One temp file per
 *                    process (mkstemps in $NTK_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR or
 *                    /tmp), created once and rewritten in place (ftruncate + pwrite) for each
 *                    input; removed at exit.
 *   fuzz_check_*()   invariants every reader promises (include/ntkdrift.h, "Status convention"):
 *                    on failure a valid status, a non-empty one-line message and a zeroed
 *                    output; on success a consistent shape whose every element is readable
 *                    (ASan catches an under-sized buffer).  A broken invariant aborts, which
 *                    libFuzzer and the replay driver report as a crash. */
#ifndef NTK_FUZZ_UTIL_H
#define NTK_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntkdrift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path_[4096];
static int fuzz_fd_ = -1;

static inline void fuzz_cleanup_(void)
{
    if (fuzz_fd_ >= 0) {
        close(fuzz_fd_);
        unlink(fuzz_path_);
        fuzz_fd_ = -1;
    }
}

/* The input as a file (suffix: e.g. ".npz", only for readable names); aborts if the temp file
 * cannot be written, which is the harness's failure, not the reader's. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    if (fuzz_fd_ < 0) {
        const char *dir = getenv("NTK_FUZZ_TMPDIR");
        if (!dir || !*dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        if (!dir || !*dir) dir = "/tmp";
        int n = snprintf(fuzz_path_, sizeof fuzz_path_, "%s/ntkfuzz-XXXXXX%s", dir, suffix);
        if (n < 0 || (size_t)n >= sizeof fuzz_path_) abort();
        fuzz_fd_ = mkstemps(fuzz_path_, (int)strlen(suffix));
        if (fuzz_fd_ < 0) {
            perror("fuzz: mkstemps");
            abort();
        }
        atexit(fuzz_cleanup_);
    }
    if (ftruncate(fuzz_fd_, 0) != 0) {
        perror("fuzz: ftruncate");
        abort();
    }
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(fuzz_fd_, data + off, size - off, (off_t)off);
        if (w <= 0) {
            perror("fuzz: pwrite");
            abort();
        }
        off += (size_t)w;
    }
    return fuzz_path_;
}

static inline void fuzz_fail_(const char *what, ntk_status st)
{
    fprintf(stderr, "fuzz: invariant broken: %s (status %d, message '%s')\n", what, (int)st,
            ntk_last_error());
    abort();
}

/* A failed call: a known status and a message (naming `name` when not NULL). */
static inline void fuzz_check_error(ntk_status st, const char *name)
{
    if (st == NTK_OK) return;
    if (st < NTK_EINVAL || st > NTK_ENUMERIC) fuzz_fail_("unknown status", st);
    const char *msg = ntk_last_error();
    if (!msg[0]) fuzz_fail_("failure without a message", st);
    if (strchr(msg, '\n')) fuzz_fail_("message spans several lines", st);
    if (name && !strstr(msg, name)) fuzz_fail_("message does not name the input", st);
}

/* Sum of n doubles through a volatile sink: every element is read. */
static inline void fuzz_touch(const double *d, size_t n)
{
    volatile double sink = 0;
    for (size_t i = 0; i < n; i++) sink += d[i];
    (void)sink;
}

/* An ntk_array from a reader that returned st; name: see fuzz_check_error. */
static inline void fuzz_check_array(ntk_status st, const ntk_array *a, const char *name)
{
    if (st != NTK_OK) {
        fuzz_check_error(st, name);
        if (a->data || a->count || a->ndim) fuzz_fail_("failed read left a non-empty array", st);
        return;
    }
    if (a->ndim < 0 || a->ndim > NTK_NPY_MAX_DIM || !a->data) fuzz_fail_("bad ndim or NULL data", st);
    size_t count = 1;
    for (int d = 0; d < a->ndim; d++)
        if (__builtin_mul_overflow(count, a->shape[d], &count)) fuzz_fail_("shape overflows", st);
    if (count != a->count) fuzz_fail_("count is not the product of the shape", st);
    fuzz_touch(a->data, a->count);
}

#endif
