/* testutil.h -- shared helpers for the cmocka tests. */
#ifndef NTK_TESTUTIL_H
#define NTK_TESTUTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <cmocka.h>

#include "ntkdrift.h"

/* ||a - b||_F / ||b||_F over n entries (NaN-aware: NaN anywhere gives +inf). */
double tu_rel_fro(size_t n, const double *a, const double *b);
/* max_i |a_i - b_i| / max(|b|_max, tiny). */
double tu_rel_max(size_t n, const double *a, const double *b);
/* The same over a rows x cols block: a[r lda + q] against b[r ldb + q] (a, b: row-major with row
 * strides lda, ldb), max |a - b| / max |b|. */
double tu_rel_max_block(size_t rows, size_t cols, const double *a, size_t lda, const double *b, size_t ldb);
/* Assert helper: fails with a message naming what and the numbers. */
#define TU_ASSERT_LE(val, bound, what)                                                   \
    do {                                                                                 \
        double tu_v_ = (val), tu_b_ = (bound);                                           \
        if (!(tu_v_ <= tu_b_))                                                           \
            fail_msg("%s: %.3e exceeds bound %.3e", (what), tu_v_, tu_b_);                \
    } while (0)
#define TU_OK(expr)                                                                      \
    do {                                                                                 \
        ntk_status tu_s_ = (expr);                                                       \
        if (tu_s_ != NTK_OK)                                                             \
            fail_msg("%s -> %s: %s", #expr, ntk_status_str(tu_s_), ntk_last_error());    \
    } while (0)


/* A network for tests: equal hidden widths (widths storage is internal to the net). */
typedef struct {
    int depth, width, n0, k;
    ntk_act act;
    ntk_param param;
    ntk_bias bias, bias_out;
    ntk_first_layer first;
    double sw2, sw2_out, sb;
} tu_netcfg;
tu_netcfg tu_cfg(int depth, int width, int n0, int k);
/* The default spec with `depth` hidden layers of `width` (written into widths: [depth]) and input n0. */
ntk_spec tu_spec_uniform(int depth, int *widths, int width, int n0);
ntk_net *tu_net(const tu_netcfg *c, uint64_t seed);
/* The seed of a statistical test: NTK_TEST_SEED (decimal) when set, else dflt.  Other seeds re-run
 * the same checks on fresh draws (scripts/mutants_lazy.sh runs ten). */
uint64_t tu_seed(uint64_t dflt);
/* A scratch directory /tmp/ntk_test_<tag>_<six random characters> for a test program (cmocka group setup / teardown:
 * 0 on success), and paths inside it (four rotating buffers, so up to four may be held at once). */
int tu_tmpdir_make(const char *tag);
int tu_tmpdir_remove(void);
const char *tu_tmp_path(const char *name);
/* X: [N x n0] Gaussian rows of norm sqrt(n0), caller frees. */
double *tu_gauss_x(uint64_t seed, size_t N, int n0);
#endif
