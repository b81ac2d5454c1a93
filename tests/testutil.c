/* testutil.c -- numeric comparison helpers for tests. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double tu_rel_fro(size_t n, const double *a, const double *b)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        num += d * d;
        den += b[i] * b[i];
    }
    if (isnan(num) || isnan(den)) return INFINITY;
    if (den == 0) return num == 0 ? 0 : INFINITY;
    return sqrt(num / den);
}

double tu_rel_max(size_t n, const double *a, const double *b)
{
    double m = 0, s = 1e-300;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return m / s;
}

double tu_rel_max_block(size_t rows, size_t cols, const double *a, size_t lda, const double *b, size_t ldb)
{
    double m = 0, s = 1e-300;
    for (size_t r = 0; r < rows; r++)
        for (size_t q = 0; q < cols; q++) {
            double d = fabs(a[r * lda + q] - b[r * ldb + q]);
            if (isnan(d)) return INFINITY;
            if (d > m) m = d;
            if (fabs(b[r * ldb + q]) > s) s = fabs(b[r * ldb + q]);
        }
    return m / s;
}

tu_netcfg tu_cfg(int depth, int width, int n0, int k)
{
    tu_netcfg c = {depth, width, n0, k, NTK_ACT_RELU, NTK_PARAM_NTK, NTK_BIAS_NORMAL, NTK_BIAS_NORMAL,
                   NTK_FIRST_FAN_IN, 2.0, 1.0, 0.5};
    return c;
}

ntk_net *tu_net(const tu_netcfg *c, uint64_t seed)
{
    int *w = malloc((size_t)(c->depth > 0 ? c->depth : 1) * sizeof *w);
    assert_non_null(w);
    for (int l = 0; l < c->depth; l++) w[l] = c->width + l % 3; /* slightly unequal widths */
    ntk_spec s = ntk_spec_default();
    s.depth = c->depth;
    s.widths = w;
    s.n0 = c->n0;
    s.outputs = c->k;
    s.act = c->act;
    s.param = c->param;
    s.bias = c->bias;
    s.bias_out = c->bias_out;
    s.first_layer = c->first;
    s.sw2 = c->sw2;
    s.sw2_out = c->sw2_out;
    s.sb = c->sb;
    ntk_net *net = NULL;
    TU_OK(ntk_net_alloc(&s, &net));
    free(w);
    TU_OK(ntk_net_init(net, seed));
    return net;
}

double *tu_gauss_x(uint64_t seed, size_t N, int n0)
{
    double *X = malloc(N * (size_t)n0 * sizeof *X);
    assert_non_null(X);
    TU_OK(ntk_data_gaussian(seed, N, n0, X));
    return X;
}

uint64_t tu_seed(uint64_t dflt)
{
    const char *e = getenv("NTK_TEST_SEED");
    if (!e || !*e) return dflt;
    char *end = NULL;
    unsigned long long v = strtoull(e, &end, 10);
    if (*end != '\0') fail_msg("NTK_TEST_SEED='%s' is not a decimal integer", e);
    return (uint64_t)v;
}

static char tu_dir[96];

int tu_tmpdir_make(const char *tag)
{
    int len = snprintf(tu_dir, sizeof tu_dir - 7, "/tmp/ntk_test_%s_", tag);
    if (len < 0 || (size_t)len >= sizeof tu_dir - 7) return -1;
    memset(tu_dir + len, 'X', 6); /* mkdtemp's template: six characters it replaces */
    tu_dir[len + 6] = '\0';
    return mkdtemp(tu_dir) ? 0 : -1;
}

int tu_tmpdir_remove(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    return system(cmd) == 0 ? 0 : -1;
}

const char *tu_tmp_path(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tu_dir, name);
    return p[k];
}

ntk_spec tu_spec_uniform(int depth, int *widths, int width, int n0)
{
    for (int l = 0; l < depth; l++) widths[l] = width;
    ntk_spec s = ntk_spec_default();
    s.depth = depth;
    s.widths = widths;
    s.n0 = n0;
    return s;
}
