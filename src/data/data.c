/* data.c -- built-in input sets and targets: Gaussian rows on the sphere of
 * radius sqrt(n0), points on the unit circle (grid or uniform), the unit
 * sphere, subsets drawn without replacement, Fourier and product targets and
 * additive label noise.  Every random task draws from its own NTK_STREAM_*,
 * so each value depends only on (seed, stream, sub, index). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

ntk_status ntk_data_gaussian_raw(uint64_t seed, size_t N, int n0, double *X)
{
    if (N == 0 || n0 <= 0) return ntk_set_error(NTK_EINVAL, "gaussian data: N and n0 must be > 0");
    ntk_rng_normal(seed, NTK_STREAM_DATA_X, 0, 0, N * (size_t)n0, X);
    return NTK_OK;
}

ntk_status ntk_data_gaussian(uint64_t seed, size_t N, int n0, double *X)
{
    ntk_status st = ntk_data_gaussian_raw(seed, N, n0, X);
    if (st != NTK_OK) return st;
    size_t m = (size_t)n0;
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (size_t j = 0; j < m; j++) s += X[i * m + j] * X[i * m + j];
        double r = sqrt((double)n0 / s);
        for (size_t j = 0; j < m; j++) X[i * m + j] *= r;
    }
    return NTK_OK;
}

ntk_status ntk_data_circle(size_t N, double *X)
{
    if (N == 0) return ntk_set_error(NTK_EINVAL, "circle data: N must be > 0");
    for (size_t i = 0; i < N; i++) {
        double g = -M_PI + 2.0 * M_PI * (double)i / (double)N;
        X[2 * i] = cos(g);
        X[2 * i + 1] = sin(g);
    }
    return NTK_OK;
}

/* ------------------------------------------------------------------ circle */

static ntk_status check_circle(const char *what, size_t N, ntk_angle_range r)
{
    if (N == 0) return ntk_set_error(NTK_EINVAL, "%s: N must be > 0", what);
    if (r != NTK_ANGLES_SYM && r != NTK_ANGLES_POS)
        return ntk_set_error(NTK_EINVAL, "%s: unknown angle range %d", what, (int)r);
    return NTK_OK;
}

static double range_start(ntk_angle_range r) { return r == NTK_ANGLES_SYM ? -M_PI : 0.0; }

/* Stores angle g as gamma[i] and/or (cos g, sin g) as X[i].  gamma: [N], X: [N x 2]. */
static void put_angle(size_t i, double g, double *gamma, double *X)
{
    if (gamma) gamma[i] = g;
    if (X) {
        X[2 * i] = cos(g);
        X[2 * i + 1] = sin(g);
    }
}

ntk_status ntk_data_circle_grid(size_t N, ntk_angle_range r, double *gamma, double *X)
{
    ntk_status st = check_circle("circle grid", N, r);
    if (st != NTK_OK) return st;
    double a = range_start(r);
    for (size_t i = 0; i < N; i++) put_angle(i, a + 2.0 * M_PI * (double)i / (double)N, gamma, X);
    return NTK_OK;
}

ntk_status ntk_data_circle_uniform(uint64_t seed, uint64_t sub, size_t N, ntk_angle_range r, double *gamma,
                                   double *X)
{
    ntk_status st = check_circle("circle uniform", N, r);
    if (st != NTK_OK) return st;
    double a = range_start(r), b = a + 2.0 * M_PI, u[256];
    for (size_t i0 = 0; i0 < N; i0 += 256) {
        size_t n = N - i0 < 256 ? N - i0 : 256;
        ntk_rng_uniform(seed, NTK_STREAM_ANGLES, sub, i0, n, u);
        for (size_t i = 0; i < n; i++) {
            double g = a + 2.0 * M_PI * u[i];
            if (g >= b) g = nextafter(b, a);   /* u near 1 may round up to the end */
            put_angle(i0 + i, g, gamma, X);
        }
    }
    return NTK_OK;
}

/* ------------------------------------------------------------------ subset */

#define SUBSET_MAX_TOTAL ((uint64_t)1 << 52)

/* Uniform integer in [0, r), 0 < r <= 2^52, exactly unbiased: the 52-bit integer m behind each
 * uniform u = (m + 1/2) 2^-52 is recovered exactly, draws with m at or above the largest multiple
 * of r are rejected, and the next counter value is tried.  *ctr counts the draws used. */
static uint64_t draw_below(uint64_t seed, uint64_t sub, uint64_t *ctr, uint64_t r)
{
    uint64_t limit = SUBSET_MAX_TOTAL - SUBSET_MAX_TOTAL % r;
    for (;;) {
        double u;
        ntk_rng_uniform(seed, NTK_STREAM_SUBSET, sub, (*ctr)++, 1, &u);
        uint64_t m = (uint64_t)(u * 0x1p52);   /* floor: exact, u < 1 so m < 2^52 */
        if (m < limit) return m % r;
    }
}

/* Open-addressing map position -> value for a sparse Fisher-Yates shuffle (absent = identity). */
typedef struct {
    size_t *key, *val;   /* [mask + 1]; key SIZE_MAX marks an empty slot */
    size_t mask;
} posmap;

static size_t *posmap_slot(const posmap *m, size_t k)
{
    uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15u;
    size_t h = (size_t)(x ^ x >> 32) & m->mask;
    while (m->key[h] != k && m->key[h] != SIZE_MAX) h = (h + 1) & m->mask;
    return &m->key[h];
}

static size_t posmap_get(const posmap *m, size_t k)
{
    size_t *s = posmap_slot(m, k);
    return *s == k ? m->val[s - m->key] : k;
}

static void posmap_put(posmap *m, size_t k, size_t v)
{
    size_t *s = posmap_slot(m, k);
    *s = k;
    m->val[s - m->key] = v;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Partial Fisher-Yates over the virtual array 0..n_total-1 (O(n_pick) memory); idx: [n_pick]. */
ntk_status ntk_data_subset(uint64_t seed, uint64_t sub, size_t n_total, size_t n_pick, size_t *idx)
{
    if (n_pick > n_total)
        return ntk_set_error(NTK_EINVAL, "subset: cannot draw %zu of %zu items without "
                             "replacement", n_pick, n_total);
    if ((uint64_t)n_total > SUBSET_MAX_TOTAL)
        return ntk_set_error(NTK_EINVAL, "subset: n_total %zu exceeds 2^52", n_total);
    if (n_pick == 0) return NTK_OK;
    if (!idx) return ntk_set_error(NTK_EINVAL, "subset: idx is NULL");
    size_t cap = 16;
    while (cap < 2 * n_pick) cap *= 2;   /* n_pick <= 2^52: no overflow; load <= 1/2 */
    posmap m = {malloc(cap * sizeof(size_t)), malloc(cap * sizeof(size_t)), cap - 1};
    if (!m.key || !m.val) {
        free(m.key);
        free(m.val);
        return ntk_set_error(NTK_ENOMEM, "subset: cannot allocate a map of %zu entries", cap);
    }
    memset(m.key, 0xff, cap * sizeof(size_t));
    uint64_t ctr = 0;
    for (size_t i = 0; i < n_pick; i++) {
        size_t j = i + (size_t)draw_below(seed, sub, &ctr, (uint64_t)(n_total - i));
        idx[i] = posmap_get(&m, j);
        if (j != i) posmap_put(&m, j, posmap_get(&m, i));   /* position i is never read again */
    }
    free(m.key);
    free(m.val);
    qsort(idx, n_pick, sizeof *idx, cmp_size);
    return NTK_OK;
}

/* ------------------------------------------------------------------ sphere */

ntk_status ntk_data_sphere(uint64_t seed, size_t N, int n0, double *X)
{
    if (N == 0 || n0 <= 0) return ntk_set_error(NTK_EINVAL, "sphere data: N and n0 must be > 0");
    if (!X) return ntk_set_error(NTK_EINVAL, "sphere data: X is NULL");
    size_t m = (size_t)n0, n;
    if (__builtin_mul_overflow(N, m, &n))
        return ntk_set_error(NTK_EINVAL, "sphere data: N * n0 overflows size_t");
    ntk_rng_normal(seed, NTK_STREAM_SPHERE, 0, 0, n, X);
    for (size_t i = 0; i < N; i++) {
        double *x = X + i * m, s = 0;
        for (size_t j = 0; j < m; j++) s += x[j] * x[j];
        if (s == 0) {   /* probability ~0; keep the row on the sphere regardless */
            x[0] = 1;
            continue;
        }
        double r = 1.0 / sqrt(s);
        for (size_t j = 0; j < m; j++) x[j] *= r;
    }
    return NTK_OK;
}

/* ----------------------------------------------------------------- targets */

ntk_status ntk_target_fourier(size_t N, const double *gamma, int K, const double *a,
                              const double *phase, int kmax, double *y)
{
    if (N == 0 || K < 1) return ntk_set_error(NTK_EINVAL, "fourier target: N and K must be >= 1");
    if (!gamma || !a || !y)
        return ntk_set_error(NTK_EINVAL, "fourier target: gamma, a and y must not be NULL");
    int kk = kmax <= 0 || kmax > K ? K : kmax;
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (int k = 1; k <= kk; k++)
            s += a[k - 1] * sin((double)k * gamma[i] + (phase ? phase[k - 1] : 0.0));
        y[i] = s;
    }
    return NTK_OK;
}

ntk_status ntk_target_fourier_terms(size_t N, const double *gamma, int nterms, const ntk_fourier_term *terms,
                                    int m, double *y)
{
    if (N == 0 || nterms < 1) return ntk_set_error(NTK_EINVAL, "fourier target: N and the number of terms must be >= 1");
    if (!gamma || !terms || !y)
        return ntk_set_error(NTK_EINVAL, "fourier target: gamma, terms and y must not be NULL");
    for (int j = 0; j < nterms; j++)
        if (terms[j].mode < 0 || !isfinite(terms[j].amp) || !isfinite(terms[j].phase))
            return ntk_set_error(NTK_EINVAL, "fourier target: term %d needs a mode >= 0 and a finite amplitude and "
                                 "phase (mode %d, amplitude %g, phase %g)", j, terms[j].mode, terms[j].amp,
                                 terms[j].phase);
    int mm = m <= 0 || m > nterms ? nterms : m;
    for (size_t i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < mm; j++) {
            double kg = (double)terms[j].mode * gamma[i];
            s += terms[j].amp * (terms[j].basis == NTK_FOURIER_COS ? cos(kg - terms[j].phase) : sin(kg + terms[j].phase));
        }
        y[i] = s;
    }
    return NTK_OK;
}

ntk_status ntk_target_product(size_t N, int n0, const double *X, double *y)
{
    if (N == 0 || n0 < 2) return ntk_set_error(NTK_EINVAL, "product target: need N >= 1 and n0 >= 2");
    if (!X || !y) return ntk_set_error(NTK_EINVAL, "product target: X and y must not be NULL");
    for (size_t i = 0; i < N; i++) y[i] = X[i * (size_t)n0] * X[i * (size_t)n0 + 1];
    return NTK_OK;
}

ntk_status ntk_target_teacher(const ntk_spec *teacher, uint64_t seed, size_t N, const double *X, double *Y)
{
    if (N == 0 || !X || !Y) return ntk_set_error(NTK_EINVAL, "teacher target: need N >= 1 and non-NULL X, Y");
    ntk_net *net = NULL;
    ntk_status st = ntk_net_alloc(teacher, &net);
    if (st == NTK_OK) st = ntk_net_init(net, seed);
    if (st == NTK_OK) st = ntk_net_forward(net, N, X, Y);
    ntk_net_free(net);
    return st;
}

ntk_status ntk_target_add_noise(uint64_t seed, uint64_t sub, double std, size_t n, double *y)
{
    if (!(std >= 0) || !isfinite(std))
        return ntk_set_error(NTK_EINVAL, "label noise: std must be finite and >= 0, got %g", std);
    if (n > 0 && !y) return ntk_set_error(NTK_EINVAL, "label noise: y is NULL");
    double z[256];
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t m = n - i0 < 256 ? n - i0 : 256;
        ntk_rng_normal(seed, NTK_STREAM_NOISE, sub, i0, m, z);
        for (size_t i = 0; i < m; i++) y[i0 + i] += std * z[i];
    }
    return NTK_OK;
}

/* ----------------------------------------------------------------- dataset */

void ntk_dataset_clear(ntk_dataset *d)
{
    if (!d) return;
    free(d->X_train);
    free(d->Y_train);
    free(d->X_eval);
    free(d->Y_eval);
    free(d->gamma_train);
    free(d->gamma_eval);
    free(d->label_train);
    free(d->label_eval);
    memset(d, 0, sizeof *d);
}
