/* test_data.c -- data module: circle grids and uniform angles, subsets drawn
 * without replacement, the sphere, Fourier / product targets, label noise,
 * the CSV and IDX readers (valid and malformed files) and Fashion-MNIST. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PI 3.14159265358979323846

static int setup_dir(void **state)
{
    (void)state;
    return tu_tmpdir_make("data");
}

static int remove_dir(void **state)
{
    (void)state;
    return tu_tmpdir_remove();
}

#define tpath tu_tmp_path

static void write_bytes(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(tpath(name), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *name, const char *text) { write_bytes(name, text, strlen(text)); }

/* The call fails with `want` and its message names the file and contains `needle`. */
static void expect_error(ntk_status got, ntk_status want, const char *path, const char *needle)
{
    const char *m = ntk_last_error();
    if (got != want || !strstr(m, path) || (needle && !strstr(m, needle)))
        fail_msg("%s: got %s '%s', wanted %s naming the file and '%s'", path, ntk_status_str(got),
                 m, ntk_status_str(want), needle ? needle : "");
}

/* ------------------------------------------------------------------ circle */

static void test_circle_grid(void **state)
{
    (void)state;
    enum { N = 12 };
    double g[N], X[2 * N], Xc[2 * N];
    const double start[2] = {-PI, 0};
    for (int r = 0; r < 2; r++) {
        TU_OK(ntk_data_circle_grid(N, (ntk_angle_range)r, g, X));
        assert_true(g[0] == start[r]);
        TU_ASSERT_LE(fabs(g[N - 1] - (start[r] + 2 * PI * (N - 1) / N)), 1e-15, "last angle");
        for (int i = 1; i < N; i++) TU_ASSERT_LE(fabs(g[i] - g[i - 1] - 2 * PI / N), 1e-15, "spacing");
        for (int i = 0; i < N; i++)
            assert_true(X[2 * i] == cos(g[i]) && X[2 * i + 1] == sin(g[i]));
    }
    TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_SYM, NULL, X));
    TU_OK(ntk_data_circle(N, Xc));
    assert_memory_equal(X, Xc, sizeof X);
    assert_int_equal(ntk_data_circle_grid(0, NTK_ANGLES_SYM, g, X), NTK_EINVAL);
    assert_int_equal(ntk_data_circle_grid(N, (ntk_angle_range)7, g, X), NTK_EINVAL);
}

static void test_circle_uniform(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *g = malloc(N * sizeof *g), *X = malloc(2 * N * sizeof *X), h[37];
    assert_true(g && X);
    const double start[2] = {-PI, 0};
    for (int r = 0; r < 2; r++) {
        TU_OK(ntk_data_circle_uniform(5, 0, N, (ntk_angle_range)r, g, X));
        double mean = 0;
        for (int i = 0; i < N; i++) {
            assert_true(g[i] >= start[r] && g[i] < start[r] + 2 * PI);
            assert_true(X[2 * i] == cos(g[i]) && X[2 * i + 1] == sin(g[i]));
            mean += g[i] / N;
        }
        /* uniform on an interval of length 2 pi: sd 2 pi / sqrt(12); 5 standard errors */
        TU_ASSERT_LE(fabs(mean - (start[r] + PI)), 5 * 2 * PI / sqrt(12.0 * N), "mean angle");
        /* value i depends only on (seed, i): a shorter request is a prefix, and each angle is
         * the i-th uniform of stream ANGLES however the draws are split */
        TU_OK(ntk_data_circle_uniform(5, 0, 37, (ntk_angle_range)r, h, NULL));
        assert_memory_equal(h, g, sizeof h);
        for (size_t i = 1; i < N; i += 997) {
            double u;
            ntk_rng_uniform(5, NTK_STREAM_ANGLES, 0, i, 1, &u);
            assert_true(g[i] == start[r] + 2 * PI * u);
        }
    }
    TU_OK(ntk_data_circle_uniform(6, 0, 37, NTK_ANGLES_POS, h, NULL));
    assert_memory_not_equal(h, g, sizeof h);
    free(g);
    free(X);
}

/* ------------------------------------------------------------------ subset */

static void check_subset(const size_t *idx, size_t n, size_t total)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(idx[i] < total);
        if (i) assert_true(idx[i - 1] < idx[i]);   /* sorted and distinct */
    }
}

static void test_subset(void **state)
{
    (void)state;
    size_t a[100], b[100], c[100];
    TU_OK(ntk_data_subset(1, 0, 1000, 100, a));
    TU_OK(ntk_data_subset(1, 0, 1000, 100, b));
    check_subset(a, 100, 1000);
    assert_memory_equal(a, b, sizeof a);
    TU_OK(ntk_data_subset(2, 0, 1000, 100, b));
    TU_OK(ntk_data_subset(1, 1, 1000, 100, c));
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    TU_OK(ntk_data_subset(3, 0, 100, 100, a));   /* everything */
    for (size_t i = 0; i < 100; i++) assert_int_equal(a[i], i);
    TU_OK(ntk_data_subset(3, 0, 1000000000000ull, 100, a));   /* sparse: O(n_pick) memory */
    check_subset(a, 100, 1000000000000ull);
    TU_OK(ntk_data_subset(3, 0, 10, 0, NULL));
    assert_int_equal(ntk_data_subset(3, 0, 10, 11, a), NTK_EINVAL);

    /* Inclusion frequency: T draws of 5 of 20; each count is Binomial(T, 1/4), so
     * S = sum_i (c_i - T/4)^2 / (T * 3/16) has mean 20 and is ~chi^2 with 19-20 dof;
     * P(S > 60) < 1e-5.  The seeds are fixed, so the check is deterministic. */
    enum { T = 20000, TOT = 20, PICK = 5 };
    double cnt[TOT] = {0}, S = 0, p = (double)PICK / TOT;
    for (uint64_t s = 0; s < T; s++) {
        TU_OK(ntk_data_subset(s, 7, TOT, PICK, a));
        check_subset(a, PICK, TOT);
        for (int i = 0; i < PICK; i++) cnt[a[i]]++;
    }
    for (int i = 0; i < TOT; i++) S += (cnt[i] - T * p) * (cnt[i] - T * p) / (T * p * (1 - p));
    TU_ASSERT_LE(S, 60, "chi-square of inclusion counts");
}

/* --------------------------------------------------------- sphere, targets */

static void test_sphere(void **state)
{
    (void)state;
    enum { N = 4000, D = 5 };
    double *X = malloc(N * D * sizeof *X), mean[D] = {0};
    assert_non_null(X);
    TU_OK(ntk_data_sphere(9, N, D, X));
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            s += X[i * D + j] * X[i * D + j];
            mean[j] += X[i * D + j] / N;
        }
        TU_ASSERT_LE(fabs(s - 1), 1e-14, "squared norm - 1");
    }
    /* each coordinate has variance 1/D: 5 standard errors */
    for (int j = 0; j < D; j++) TU_ASSERT_LE(fabs(mean[j]), 5 / sqrt((double)D * N), "coord mean");
    assert_int_equal(ntk_data_sphere(9, N, 0, X), NTK_EINVAL);
    free(X);
}

static void test_fourier_product(void **state)
{
    (void)state;
    enum { N = 64, K = 4 };
    double g[N], y[N], a[K] = {1.0, -0.5, 0.25, 2.0}, ph[K] = {0.1, 0.2, -1.0, 3.0};
    TU_OK(ntk_data_circle_uniform(3, 0, N, NTK_ANGLES_SYM, g, NULL));
    const int kmaxes[] = {0, 1, 2, 4, 9};
    for (int t = 0; t < 5; t++)
        for (int withph = 0; withph < 2; withph++) {
            TU_OK(ntk_target_fourier(N, g, K, a, withph ? ph : NULL, kmaxes[t], y));
            int kk = kmaxes[t] <= 0 || kmaxes[t] > K ? K : kmaxes[t];
            for (int i = 0; i < N; i++) {
                double ref = 0;
                for (int k = 1; k <= kk; k++) ref += a[k - 1] * sin(k * g[i] + (withph ? ph[k - 1] : 0));
                TU_ASSERT_LE(fabs(y[i] - ref), 1e-14, "fourier target");
            }
        }
    assert_int_equal(ntk_target_fourier(N, g, 0, a, NULL, 0, y), NTK_EINVAL);
    double X[N * 3];
    TU_OK(ntk_data_sphere(4, N, 3, X));
    TU_OK(ntk_target_product(N, 3, X, y));
    for (int i = 0; i < N; i++) assert_true(y[i] == X[3 * i] * X[3 * i + 1]);
    assert_int_equal(ntk_target_product(N, 1, X, y), NTK_EINVAL);
}

/* Explicit Fourier terms, checked through their Fourier coefficients on an equispaced grid of
 * N = 64 > 2 k_max points, where (2/N) sum_i y_i cos(k g_i) and (2/N) sum_i y_i sin(k g_i) are
 * exactly the cos / sin coefficients of mode k >= 1 (discrete orthogonality; mode 0 gets 1/N):
 * a sin(k g + phi) contributes a sin(phi) to cos and a cos(phi) to sin, a cos(k g - phi)
 * contributes a cos(phi) and a sin(phi).  Rounding of 64-term sums of O(1) values: 1e-13. */
static void test_fourier_terms(void **state)
{
    (void)state;
    enum { N = 64, T = 5, KM = 12 };
    const ntk_fourier_term terms[T] = {{2, 0.9, 0.0, NTK_FOURIER_SIN}, {4, 0.7, M_PI / 2, NTK_FOURIER_SIN},
                                       {7, 0.55, 1.2, NTK_FOURIER_COS}, {4, -0.3, 2.0, NTK_FOURIER_COS},
                                       {0, 0.25, 0.4, NTK_FOURIER_COS}};
    double g[N], y[N];
    TU_OK(ntk_data_circle_grid(N, NTK_ANGLES_POS, g, NULL));
    for (int m = 0; m <= T; m++) {
        TU_OK(ntk_target_fourier_terms(N, g, T, terms, m, y));
        int mm = m == 0 ? T : m;
        double cc[KM] = {0}, ss[KM] = {0};
        for (int j = 0; j < mm; j++) {
            int k = terms[j].mode;
            double a = terms[j].amp, ph = terms[j].phase;
            if (terms[j].basis == NTK_FOURIER_SIN) cc[k] += a * sin(ph), ss[k] += a * cos(ph);
            else cc[k] += a * cos(ph), ss[k] += a * sin(ph);
        }
        for (int k = 0; k < KM; k++) {
            double c = 0, sn = 0;
            for (int i = 0; i < N; i++) c += y[i] * cos(k * g[i]), sn += y[i] * sin(k * g[i]);
            c *= (k == 0 ? 1.0 : 2.0) / N;
            sn *= 2.0 / N;
            TU_ASSERT_LE(fabs(c - cc[k]), 1e-13, "cos coefficient");
            TU_ASSERT_LE(fabs(sn - (k == 0 ? 0 : ss[k])), 1e-13, "sin coefficient");
        }
    }
    ntk_fourier_term bad = {-1, 1, 0, NTK_FOURIER_SIN};
    assert_int_equal(ntk_target_fourier_terms(N, g, 1, &bad, 0, y), NTK_EINVAL);
    assert_int_equal(ntk_target_fourier_terms(N, g, 0, terms, 0, y), NTK_EINVAL);
}

/* Raw Gaussian rows are the draws that ntk_data_gaussian rescales: row i of the rescaled set is
 * row i of the raw one times sqrt(n0) / ||row||. */
static void test_gaussian_raw(void **state)
{
    (void)state;
    enum { N = 50, D = 3 };
    double R[N * D], X[N * D];
    TU_OK(ntk_data_gaussian_raw(5, N, D, R));
    TU_OK(ntk_data_gaussian(5, N, D, X));
    double s2 = 0;
    for (int i = 0; i < N; i++) {
        double nr = 0;
        for (int j = 0; j < D; j++) nr += R[i * D + j] * R[i * D + j];
        for (int j = 0; j < D; j++) TU_ASSERT_LE(fabs(R[i * D + j] * sqrt(D / nr) - X[i * D + j]), 1e-13, "raw row");
        s2 += nr;
    }
    /* not rescaled: the mean squared norm is D (150 draws: 5 standard errors of a chi^2_3 mean) */
    TU_ASSERT_LE(fabs(s2 / N - D), 5 * sqrt(2.0 * D / N), "raw norms");
    assert_int_equal(ntk_data_gaussian_raw(5, 0, D, R), NTK_EINVAL);
}

static void test_noise(void **state)
{
    (void)state;
    enum { N = 100000 };
    const double sd = 0.3;
    double *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    assert_true(y && z);
    for (int i = 0; i < N; i++) y[i] = z[i] = 1.0;
    TU_OK(ntk_target_add_noise(11, 0, sd, N, y));
    TU_OK(ntk_target_add_noise(11, 0, sd, N, z));
    assert_memory_equal(y, z, N * sizeof *y);
    TU_OK(ntk_target_add_noise(11, 1, sd, 10, z));   /* other sub: different noise */
    assert_memory_not_equal(y, z, 10 * sizeof *y);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += (y[i] - 1) / N;
    for (int i = 0; i < N; i++) v += (y[i] - 1 - m) * (y[i] - 1 - m) / (N - 1);
    /* se(mean) = sd / sqrt(N), se(sample sd) ~ sd / sqrt(2N); 5 se each */
    TU_ASSERT_LE(fabs(m), 5 * sd / sqrt(N), "noise mean");
    TU_ASSERT_LE(fabs(sqrt(v) - sd), 5 * sd / sqrt(2.0 * N), "noise std");
    assert_int_equal(ntk_target_add_noise(11, 0, -1, N, y), NTK_EINVAL);
    assert_int_equal(ntk_target_add_noise(11, 0, NAN, N, y), NTK_EINVAL);
    free(y);
    free(z);
}

/* --------------------------------------------------------------------- csv */

static void test_csv_roundtrip(void **state)
{
    (void)state;
    const double v[3][2] = {{1.5, -2e-300}, {0.1, 3e10}, {-7, 1.0 / 3}};
    FILE *f = fopen(tpath("ok.csv"), "wb");
    assert_non_null(f);
    fprintf(f, "\xEF\xBB\xBF# a comment\r\n x , \"y\"\r\n\r\n");
    for (int i = 0; i < 3; i++) fprintf(f, "%.17g, %.17g\r\n%s", v[i][0], v[i][1], i ? "" : "# mid\n");
    fclose(f);
    ntk_array A;
    TU_OK(ntk_csv_read(tpath("ok.csv"), &A));
    assert_int_equal(A.ndim, 2);
    assert_int_equal(A.shape[0], 3);
    assert_int_equal(A.shape[1], 2);
    assert_memory_equal(A.data, v, sizeof v);
    ntk_array_clear(&A);
    write_text("nohdr.csv", "1,2,3\n4,5,6");   /* no header, no final newline */
    TU_OK(ntk_csv_read(tpath("nohdr.csv"), &A));
    assert_true(A.shape[0] == 2 && A.shape[1] == 3 && A.data[5] == 6);
    ntk_array_clear(&A);
}

static void test_csv_malformed(void **state)
{
    (void)state;
    static const struct { const char *text, *needle; } cases[] = {
        {"", "no data rows"},
        {"# only a comment\n\n", "no data rows"},
        {"a,b\n", "only a header"},
        {"a,b\n1,2\n3\n", "line 3 has 1 fields"},
        {"1,2\n3,4,5\n", "line 2 has 3 fields"},
        {"a,b,c\n1,2\n", "line 2 has 2 fields but the header"},
        {"1,2\n3,x4\n", "line 2, column 2: non-numeric"},
        {"#c\n1,2\n\n3,nan\n", "line 4, column 2: non-finite"},
        {"1,2\n-inf,4\n", "line 2, column 1: non-finite"},
        {"1,1e999\n", "line 1, column 2: non-finite"},
        {"1,2\n3,\n", "line 2, column 2: empty field"},
        {"1,2\n3,4,\n", "line 2 has 3 fields"},
        {"x,y\n1,2\n1 2,3\n", "line 3, column 1: non-numeric"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.csv", c);
        write_text(name, cases[c].text);
        ntk_array A = {.data = (double *)&A};   /* garbage: must be reset */
        expect_error(ntk_csv_read(tpath(name), &A), NTK_EFORMAT, tpath(name), cases[c].needle);
        assert_null(A.data);
    }
    ntk_array A;
    expect_error(ntk_csv_read(tpath("missing.csv"), &A), NTK_EIO, "missing.csv", "cannot open");
}

/* --------------------------------------------------------------------- idx */

/* An IDX image: header (type, dims) then body[nbody]; written raw or with gzip. */
static void write_idx(const char *name, int gz, int type, int ndim, const uint32_t *dims,
                      const unsigned char *body, size_t nbody)
{
    unsigned char hdr[4 + 4 * 8] = {0, 0, (unsigned char)type, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++)
        for (int b = 0; b < 4; b++) hdr[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    size_t nh = 4 + 4 * (size_t)ndim;
    if (gz) {
        gzFile g = gzopen(tpath(name), "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, hdr, (unsigned)nh), (int)nh);
        if (nbody) assert_int_equal(gzwrite(g, body, (unsigned)nbody), (int)nbody);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(tpath(name), "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(hdr, 1, nh, f), nh);
        if (nbody) assert_int_equal(fwrite(body, 1, nbody, f), nbody);
        fclose(f);
    }
}

static void test_idx_valid(void **state)
{
    (void)state;
    unsigned char body[3 * 2 * 5];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (unsigned char)(i * 37 + 1);
    const uint32_t dims[3] = {3, 2, 5}, d1[1] = {30};
    for (int gz = 0; gz < 2; gz++) {
        const char *name = gz ? "ok.idx.gz" : "ok.idx";
        ntk_idx a;
        write_idx(name, gz, 0x08, 3, dims, body, sizeof body);
        TU_OK(ntk_idx_read(tpath(name), &a));
        assert_true(a.ndim == 3 && a.shape[0] == 3 && a.shape[1] == 2 && a.shape[2] == 5);
        assert_int_equal(a.count, sizeof body);
        assert_memory_equal(a.data, body, sizeof body);
        ntk_idx_clear(&a);
        assert_null(a.data);
        write_idx(name, gz, 0x08, 1, d1, body, sizeof body);
        TU_OK(ntk_idx_read(tpath(name), &a));
        assert_true(a.ndim == 1 && a.shape[0] == 30 && a.count == 30);
        ntk_idx_clear(&a);
    }
}

static void test_idx_malformed(void **state)
{
    (void)state;
    unsigned char body[4096];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (unsigned char)((i * i) >> 5);
    const uint32_t dims[2] = {64, 64}, huge[3] = {0xffffffffu, 0xffffffffu, 2}, big[2] = {65536, 65537};
    ntk_idx a;
    for (int gz = 0; gz < 2; gz++) {
        write_idx("t.idx", gz, 0x08, 2, dims, body, sizeof body - 10);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"),
                     "truncated: header declares 4096 bytes, got 4086");
        write_idx("t.idx", gz, 0x08, 1, dims, body, sizeof body);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "trailing");
        write_idx("t.idx", gz, 0x0D, 2, dims, body, sizeof body);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "type 0x0d");
        write_idx("t.idx", gz, 0x08, 3, huge, body, 16);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "2^32");
        write_idx("t.idx", gz, 0x08, 2, big, body, 16);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "2^32");
        const uint32_t limit[2] = {65536, 65536};   /* exactly 2^32 elements: allowed, but short */
        write_idx("t.idx", gz, 0x08, 2, limit, body, sizeof body);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"),
                     "truncated: header declares 4294967296 bytes, got 4096");
        write_idx("t.idx", gz, 0x08, 0, dims, body, 16);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "dimensions");
        const uint32_t five[5] = {64, 64, 1, 1, 1};
        write_idx("t.idx", gz, 0x08, 5, five, body, sizeof body);
        expect_error(ntk_idx_read(tpath("t.idx"), &a), NTK_EFORMAT, tpath("t.idx"), "dimensions");
    }
    write_bytes("magic.idx", "\x01\x02\x08\x01\x00\x00\x00\x01x", 9);
    expect_error(ntk_idx_read(tpath("magic.idx"), &a), NTK_EFORMAT, "magic.idx", "magic");
    write_bytes("short.idx", "\0\0\x08\x02\0\0\0\x01\0", 9);   /* second dimension cut */
    expect_error(ntk_idx_read(tpath("short.idx"), &a), NTK_EFORMAT, "short.idx", "truncated");
    write_text("empty.idx", "");
    expect_error(ntk_idx_read(tpath("empty.idx"), &a), NTK_EFORMAT, "empty.idx", "truncated");
    expect_error(ntk_idx_read(tpath("none.idx"), &a), NTK_EIO, "none.idx", "cannot open");

    /* corrupt gzip: flip bytes in the middle of a valid .gz */
    write_idx("c.idx.gz", 1, 0x08, 2, dims, body, sizeof body);
    FILE *f = fopen(tpath("c.idx.gz"), "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    for (long off = len / 2 - 4; off < len / 2 + 4; off++) {
        fseek(f, off, SEEK_SET);
        int ch = fgetc(f);
        fseek(f, off, SEEK_SET);
        fputc(ch ^ 0x5a, f);
    }
    fclose(f);
    expect_error(ntk_idx_read(tpath("c.idx.gz"), &a), NTK_EFORMAT, "c.idx.gz", NULL);
    assert_null(a.data);
    /* a .gz cut in half: zlib reports the unexpected end of the stream */
    write_idx("h.idx.gz", 1, 0x08, 2, dims, body, sizeof body);
    assert_int_equal(truncate(tpath("h.idx.gz"), len / 2), 0);
    expect_error(ntk_idx_read(tpath("h.idx.gz"), &a), NTK_EFORMAT, "h.idx.gz", "gzip");
}

/* ----------------------------------------------------------- fashion-mnist */

static int have_fmnist(void)
{
    if (access(NTK_FMNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0) return 1;
    print_message("note: %s absent (install dataset-fashion-mnist); skipping\n", NTK_FMNIST_DIR);
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_fmnist_full(void **state)
{
    (void)state;
    if (!have_fmnist()) skip();
    ntk_fmnist_opts o = ntk_fmnist_defaults();
    assert_true(o.dir == NULL && o.classes == NULL && o.n_train == 0 && o.n_eval == 0 &&
                o.targets == NTK_TARGETS_ONEHOT && o.pixels == NTK_PIXELS_UNIT && o.seed == 0);
    ntk_dataset d;
    double t0 = now();
    TU_OK(ntk_fmnist_load(&o, &d));
    print_message("full Fashion-MNIST load: %.3f s\n", now() - t0);
    assert_true(d.n_train == 60000 && d.n_eval == 10000 && d.n0 == 784 && d.k == 10);
    size_t ct[10] = {0}, ce[10] = {0};
    for (size_t i = 0; i < d.n_train; i++) {
        ct[d.label_train[i]]++;
        for (size_t a = 0; a < 10; a++) assert_true(d.Y_train[i * 10 + a] == (a == (size_t)d.label_train[i]));
    }
    for (size_t i = 0; i < d.n_eval; i++) ce[d.label_eval[i]]++;
    for (int c = 0; c < 10; c++) assert_true(ct[c] == 6000 && ce[c] == 1000);
    ntk_dataset_clear(&d);
    assert_null(d.X_train);
    o.n_eval = 10001;
    expect_error(ntk_fmnist_load(&o, &d), NTK_EINVAL, "n_eval 10001", "10000");
}

static void test_fmnist_binary(void **state)
{
    (void)state;
    if (!have_fmnist()) skip();
    const int cls[2] = {0, 9};
    ntk_fmnist_opts o = ntk_fmnist_defaults();
    o.classes = cls;
    o.n_classes = 2;
    o.n_train = 200;
    o.n_eval = 100;
    o.targets = NTK_TARGETS_BINARY;
    o.seed = 4;
    ntk_dataset d, e;
    TU_OK(ntk_fmnist_load(&o, &d));
    assert_true(d.n_train == 200 && d.n_eval == 100 && d.n0 == 784 && d.k == 1);
    for (size_t i = 0; i < 200; i++) {
        assert_true(d.label_train[i] == 0 || d.label_train[i] == 9);
        assert_true(d.Y_train[i] == (d.label_train[i] == 0 ? 1.0 : -1.0));
    }
    for (size_t i = 0; i < 100; i++) assert_true(d.Y_eval[i] == (d.label_eval[i] == 0 ? 1.0 : -1.0));
    for (size_t i = 0; i < 200 * 784; i++) assert_true(d.X_train[i] >= 0 && d.X_train[i] <= 1);
    TU_OK(ntk_fmnist_load(&o, &e));
    assert_memory_equal(d.X_train, e.X_train, 200 * 784 * sizeof(double));
    assert_memory_equal(d.Y_eval, e.Y_eval, 100 * sizeof(double));
    assert_memory_equal(d.label_eval, e.label_eval, 100 * sizeof(int));
    ntk_dataset_clear(&e);
    const int cls3[3] = {0, 9, 4};
    o.classes = cls3;
    o.n_classes = 3;
    assert_int_equal(ntk_fmnist_load(&o, &e), NTK_EINVAL);   /* binary needs 2 classes */
    ntk_dataset_clear(&d);
}

static void test_fmnist_standardize(void **state)
{
    (void)state;
    if (!have_fmnist()) skip();
    ntk_fmnist_opts o = ntk_fmnist_defaults();
    o.pixels = NTK_PIXELS_STANDARDIZE;
    o.n_train = 3000;
    o.n_eval = 10;
    ntk_dataset d;
    TU_OK(ntk_fmnist_load(&o, &d));
    int nonconst = 0;
    for (size_t j = 0; j < 784; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < d.n_train; i++) m += d.X_train[i * 784 + j];
        m /= (double)d.n_train;
        for (size_t i = 0; i < d.n_train; i++) v += pow(d.X_train[i * 784 + j] - m, 2);
        v /= (double)d.n_train;
        TU_ASSERT_LE(fabs(m), 1e-12, "standardized mean");
        if (v > 0) {
            nonconst++;
            TU_ASSERT_LE(fabs(sqrt(v) - 1), 1e-12, "standardized std");
        }
    }
    assert_true(nonconst > 700);
    ntk_dataset_clear(&d);
}

/* Teacher target: a depth-0 identity teacher in the NTK parameterization with
 * no bias is y = W x / sqrt(n0), W the first n0 normals of the weight stream of
 * layer 1 -- an independent reconstruction from the documented conventions. */
static void test_teacher_target(void **state)
{
    (void)state;
    ntk_spec t = ntk_spec_default();
    t.depth = 0;
    t.widths = NULL;
    t.n0 = 3;
    t.outputs = 2;
    t.act = NTK_ACT_IDENTITY;
    t.sw2_out = 1.0;
    t.bias = t.bias_out = NTK_BIAS_NONE;
    double X[4 * 3] = {1, 2, 3, -1, 0, 1, 0.5, 0.5, -2, 0, 0, 0}, Y[8], W[6];
    TU_OK(ntk_target_teacher(&t, 77, 4, X, Y));
    ntk_rng_normal(77, NTK_STREAM_WEIGHT, 1, 0, 6, W);
    for (int i = 0; i < 4; i++)
        for (int a = 0; a < 2; a++) {
            double ref = 0;
            for (int j = 0; j < 3; j++) ref += W[a * 3 + j] * X[i * 3 + j] / sqrt(3.0);
            assert_true(fabs(Y[i * 2 + a] - ref) <= 1e-14 * (1 + fabs(ref)));
        }
    t.n0 = 0;
    assert_int_equal(ntk_target_teacher(&t, 1, 4, X, Y), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_teacher_target),
        cmocka_unit_test(test_circle_grid),
        cmocka_unit_test(test_circle_uniform),
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_sphere),
        cmocka_unit_test(test_fourier_product),
        cmocka_unit_test(test_fourier_terms),
        cmocka_unit_test(test_gaussian_raw),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_csv_roundtrip),
        cmocka_unit_test(test_csv_malformed),
        cmocka_unit_test(test_idx_valid),
        cmocka_unit_test(test_idx_malformed),
        cmocka_unit_test(test_fmnist_full),
        cmocka_unit_test(test_fmnist_binary),
        cmocka_unit_test(test_fmnist_standardize),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
