/* test_npy.c -- .npy/.npz round trips, hostile inputs, atomic writes, mkdir -p. */
#include "testutil.h"
#include "fsutil.h" /* ntk_mkdir_p, ntk_write_file_atomic: the library's private file-system helpers */

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- fixtures */

typedef struct {
    char dir[64];
} fixture;

static void rm_rf(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state)
{
    fixture *f = malloc(sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ntk_test_npy_XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_rf(f->dir);
    free(f);
    return 0;
}

static const char *in_dir(const fixture *f, const char *name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", f->dir, name);
    return buf;
}

static void write_raw(const char *path, const void *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Number of entries in dir; fails on any leftover temp file. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, ".tmp.")) fail_msg("temp file left behind: %s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* A .npy image: version major.0, header text verbatim, then data[dlen].  buf: [cap]. */
static size_t make_npy(unsigned char *buf, size_t cap, int major, const char *header,
                       const void *data, size_t dlen)
{
    size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
    assert_true(pre + hl + dlen <= cap);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(buf + pre, header, hl);
    if (dlen) memcpy(buf + pre + hl, data, dlen);
    return pre + hl + dlen;
}

/* Writes img to the fixture and expects NTK_EFORMAT mentioning the file and `needle`. */
static void expect_bad(const fixture *f, const char *name, const unsigned char *img, size_t len,
                       const char *needle)
{
    char path[256];
    in_dir(f, name, path, sizeof path);
    write_raw(path, img, len);
    ntk_array a;
    ntk_clear_error();
    ntk_status st = ntk_npy_read(path, &a);
    const char *msg = ntk_last_error();
    if (st != NTK_EFORMAT) fail_msg("%s: expected EFORMAT, got %s (%s)", name, ntk_status_str(st), msg);
    assert_null(a.data);
    if (!*msg || !strstr(msg, path)) fail_msg("%s: message does not name the file: '%s'", name, msg);
    if (!strstr(msg, needle)) fail_msg("%s: message lacks '%s': '%s'", name, needle, msg);
    assert_int_equal(ntk_npy_parse(img, len, name, &a), NTK_EFORMAT);
}

/* Parses an in-memory image that must be valid; compares shape and data. */
static void expect_good(const unsigned char *img, size_t len, int ndim, const size_t *shape,
                        size_t count, const double *want)
{
    ntk_array a;
    TU_OK(ntk_npy_parse(img, len, "mem", &a));
    assert_int_equal(a.ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(a.shape[d], shape[d]);
    assert_int_equal(a.count, count);
    assert_non_null(a.data);
    for (size_t i = 0; i < count; i++)
        if (a.data[i] != want[i]) fail_msg("element %zu: got %.17g want %.17g", i, a.data[i], want[i]);
    ntk_array_clear(&a);
}

/* ------------------------------------------------------------ round trips */

/* Fills buf with count exactly-representable values of type t; want gets them as double. */
static void fill(ntk_dtype t, size_t count, void *buf, double *want)
{
    for (size_t i = 0; i < count; i++) {
        double v = t == NTK_U8 ? (double)(i % 250) : (double)(i % 50) - 20.0;
        if (t == NTK_F64 || t == NTK_F32) v *= 0.25;
        want[i] = v;
        switch (t) {
        case NTK_F64: ((double *)buf)[i] = v; break;
        case NTK_F32: ((float *)buf)[i] = (float)v; break;
        case NTK_I64: ((int64_t *)buf)[i] = (int64_t)v; break;
        case NTK_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
        case NTK_U8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
        }
    }
}

static void test_roundtrip_types(void **state)
{
    const fixture *f = *state;
    static const char *const descr[] = {"'<f8'", "'<f4'", "'<i8'", "'<i4'", "'|u1'"};
    static const struct { int ndim; size_t shape[3]; const char *text; } shapes[] = {
        {0, {0}, "()"}, {1, {5}, "(5,)"}, {3, {2, 3, 4}, "(2, 3, 4)"}, {2, {0, 3}, "(0, 3)"},
        {1, {300}, "(300,)"},
    };
    double want[300], buf[300];
    char path[256];
    in_dir(f, "a.npy", path, sizeof path);
    for (int t = NTK_F64; t <= NTK_U8; t++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t count = 1;
            for (int d = 0; d < shapes[s].ndim; d++) count *= shapes[s].shape[d];
            fill((ntk_dtype)t, count, buf, want);
            TU_OK(ntk_npy_write(path, (ntk_dtype)t, shapes[s].ndim, shapes[s].shape, buf));
            /* Header: version 1.0, 64-byte aligned, expected descr and shape text. */
            unsigned char raw[4096];
            FILE *fp = fopen(path, "rb");
            assert_non_null(fp);
            size_t len = fread(raw, 1, sizeof raw, fp);
            fclose(fp);
            assert_true(len >= 10 && raw[6] == 1 && raw[7] == 0);
            size_t hlen = raw[8] | (size_t)raw[9] << 8;
            assert_int_equal((10 + hlen) % 64, 0);
            assert_int_equal(raw[10 + hlen - 1], '\n');
            char hdr[512];
            memcpy(hdr, raw + 10, hlen);
            hdr[hlen] = '\0';
            assert_non_null(strstr(hdr, descr[t]));
            assert_non_null(strstr(hdr, "'fortran_order': False"));
            char shape_kv[64];
            snprintf(shape_kv, sizeof shape_kv, "'shape': %s", shapes[s].text);
            if (!strstr(hdr, shape_kv)) fail_msg("header '%s' lacks %s", hdr, shape_kv);

            ntk_array a;
            TU_OK(ntk_npy_read(path, &a));
            assert_int_equal(a.ndim, shapes[s].ndim);
            for (int d = 0; d < a.ndim; d++) assert_int_equal(a.shape[d], shapes[s].shape[d]);
            assert_int_equal(a.count, count);
            assert_non_null(a.data);
            TU_ASSERT_LE(tu_rel_max(count, a.data, want), 0.0, "round trip");
            ntk_array_clear(&a);
            assert_null(a.data);
        }
    assert_int_equal(count_entries(f->dir), 1);
}

static void test_write_bad_args(void **state)
{
    const fixture *f = *state;
    char path[256];
    in_dir(f, "bad.npy", path, sizeof path);
    size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, huge[2] = {SIZE_MAX / 2, 3};
    double x = 1;
    assert_int_equal(ntk_npy_write(path, NTK_F64, 9, shape, &x), NTK_EINVAL);
    assert_int_equal(ntk_npy_write(path, NTK_F64, -1, shape, &x), NTK_EINVAL);
    assert_int_equal(ntk_npy_write(path, (ntk_dtype)99, 1, shape, &x), NTK_EINVAL);
    assert_int_equal(ntk_npy_write(path, NTK_F64, 2, huge, &x), NTK_EINVAL);
    assert_int_equal(ntk_npy_write(path, NTK_F64, 1, shape, NULL), NTK_EINVAL);
    assert_int_equal(count_entries(f->dir), 0);
    char missing[256];
    in_dir(f, "no/such/dir/x.npy", missing, sizeof missing);
    assert_int_equal(ntk_npy_write(missing, NTK_F64, 1, shape, &x), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), missing));
}

/* ------------------------------------------------------------------ .npz */

static void expect_member(const char *path, const char *name, int ndim, const size_t *shape,
                          size_t count, const double *want)
{
    ntk_array a;
    TU_OK(ntk_npz_read(path, name, &a));
    assert_int_equal(a.ndim, ndim);
    for (int d = 0; d < ndim; d++) assert_int_equal(a.shape[d], shape[d]);
    assert_int_equal(a.count, count);
    TU_ASSERT_LE(tu_rel_max(count, a.data, want), 0.0, name);
    ntk_array_clear(&a);
}

static void test_npz_roundtrip(void **state)
{
    const fixture *f = *state;
    char path[256];
    in_dir(f, "run.npz", path, sizeof path);
    double K[12], Kw[12], s = 2.5, Xw[6], Iw[4];
    float X[6];
    int64_t I[4] = {-3, 0, 7, 1LL << 40};
    for (int i = 0; i < 12; i++) K[i] = Kw[i] = 0.1 * i - 0.3;
    for (int i = 0; i < 6; i++) Xw[i] = X[i] = (float)(i * 0.5 - 1);
    for (int i = 0; i < 4; i++) Iw[i] = (double)I[i];
    size_t sK[2] = {3, 4}, sX[2] = {3, 2}, sI[1] = {4}, sE[2] = {0, 5};
    ntk_npz_writer *w;
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_add(w, "K", NTK_F64, 2, sK, K));
    TU_OK(ntk_npz_add(w, "X", NTK_F32, 2, sX, X));
    TU_OK(ntk_npz_add(w, "idx", NTK_I64, 1, sI, I));
    TU_OK(ntk_npz_add(w, "s", NTK_F64, 0, NULL, &s));
    TU_OK(ntk_npz_add(w, "empty", NTK_F64, 2, sE, NULL));
    assert_int_equal(ntk_npz_add(w, "K", NTK_F64, 2, sK, K), NTK_EINVAL);
    assert_non_null(strstr(ntk_last_error(), "duplicate"));
    assert_int_equal(ntk_npz_add(w, "", NTK_F64, 2, sK, K), NTK_EINVAL);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);   /* not visible before close */
    TU_OK(ntk_npz_close(w));
    assert_int_equal(count_entries(f->dir), 1);
    expect_member(path, "K", 2, sK, 12, Kw);
    expect_member(path, "K.npy", 2, sK, 12, Kw);
    expect_member(path, "X", 2, sX, 6, Xw);
    expect_member(path, "idx", 1, sI, 4, Iw);
    expect_member(path, "s", 0, NULL, 1, &s);
    expect_member(path, "empty", 2, sE, 0, NULL);
}

static void test_npz_empty_and_abort(void **state)
{
    const fixture *f = *state;
    char path[256], path2[256];
    in_dir(f, "empty.npz", path, sizeof path);
    in_dir(f, "aborted.npz", path2, sizeof path2);
    ntk_npz_writer *w;
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_close(w));
    ntk_array a;
    assert_int_equal(ntk_npz_read(path, "K", &a), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "no member 'K'"));

    double x = 1;
    size_t one = 1;
    TU_OK(ntk_npz_open(path2, &w));
    TU_OK(ntk_npz_add(w, "x", NTK_F64, 1, &one, &x));
    ntk_npz_abort(w);
    ntk_npz_abort(NULL);
    assert_int_equal(count_entries(f->dir), 1);   /* only empty.npz */
}

static void test_npz_errors(void **state)
{
    const fixture *f = *state;
    char path[256], other[256];
    in_dir(f, "k.npz", path, sizeof path);
    double x[2] = {1, 2};
    size_t two = 2;
    ntk_npz_writer *w;
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_add(w, "K", NTK_F64, 1, &two, x));
    TU_OK(ntk_npz_close(w));
    ntk_array a;
    assert_int_equal(ntk_npz_read(path, "X", &a), NTK_EFORMAT);
    assert_null(a.data);
    char want[300];
    snprintf(want, sizeof want, "%s: no member 'X'", path);
    if (!strstr(ntk_last_error(), want)) fail_msg("message '%s' lacks '%s'", ntk_last_error(), want);

    /* Not a zip: a .npy under an .npz name, an empty file, text. */
    in_dir(f, "fake.npz", other, sizeof other);
    TU_OK(ntk_npy_write(other, NTK_F64, 1, &two, x));
    assert_int_equal(ntk_npz_read(other, "K", &a), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), other));
    assert_non_null(strstr(ntk_last_error(), "not a zip"));
    write_raw(other, "", 0);
    assert_int_equal(ntk_npz_read(other, "K", &a), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "not a zip"));
    write_raw(other, "hello, world, this is not a zip file at all\n", 44);
    assert_int_equal(ntk_npz_read(other, "K", &a), NTK_EFORMAT);
    assert_non_null(strstr(ntk_last_error(), "not a zip"));

    in_dir(f, "missing.npz", other, sizeof other);
    assert_int_equal(ntk_npz_read(other, "K", &a), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), other));
    in_dir(f, "no/dir/x.npz", other, sizeof other);
    assert_int_equal(ntk_npz_open(other, &w), NTK_EIO);
    assert_null(w);
    assert_non_null(strstr(ntk_last_error(), other));

    /* The directory vanishes before close: EIO, nothing left at the path. */
    char gone[256];
    in_dir(f, "gone", gone, sizeof gone);
    TU_OK(ntk_mkdir_p(gone));
    in_dir(f, "gone/x.npz", other, sizeof other);
    TU_OK(ntk_npz_open(other, &w));
    TU_OK(ntk_npz_add(w, "K", NTK_F64, 1, &two, x));
    rm_rf(gone);
    assert_int_equal(ntk_npz_close(w), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), other));
    struct stat sb;
    assert_int_not_equal(stat(other, &sb), 0);
}

/* A 2000 x 2000 float64 kernel (32 MB): streamed from the caller's buffer at close. */
static void test_npz_large(void **state)
{
    const fixture *f = *state;
    char path[256], npy[256];
    in_dir(f, "big.npz", path, sizeof path);
    in_dir(f, "big.npy", npy, sizeof npy);
    const size_t n = 2000, shK[2] = {n, n}, shD[1] = {n};
    double *K = malloc(n * n * sizeof *K), *diag = malloc(n * sizeof *diag);
    assert_non_null(K);
    assert_non_null(diag);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) K[i * n + j] = (double)(i * 7 + j) * 0.125 - 1e5;
    for (size_t i = 0; i < n; i++) diag[i] = K[i * n + i];
    ntk_npz_writer *w;
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_add(w, "K", NTK_F64, 2, shK, K));
    TU_OK(ntk_npz_add(w, "diag", NTK_F64, 1, shD, diag));
    TU_OK(ntk_npz_close(w));
    TU_OK(ntk_npy_write(npy, NTK_F64, 2, shK, K));
    assert_int_equal(count_entries(f->dir), 2);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    /* Stored, not deflated: data plus small headers. */
    assert_true((size_t)sb.st_size > (n + 1) * n * 8 && (size_t)sb.st_size < (n + 1) * n * 8 + 4096);
    expect_member(path, "K", 2, shK, n * n, K);
    expect_member(path, "diag", 1, shD, n, diag);
    ntk_array a;
    TU_OK(ntk_npy_read(npy, &a));
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.count, n * n);
    assert_memory_equal(a.data, K, n * n * sizeof *K);
    ntk_array_clear(&a);
    free(K);
    free(diag);
}

/* Two members (and different shapes / types) may reference one buffer. */
static void test_npz_shared_buffer(void **state)
{
    const fixture *f = *state;
    char path[256];
    in_dir(f, "shared.npz", path, sizeof path);
    double buf[12], want6[6];
    for (int i = 0; i < 12; i++) buf[i] = i * 1.5 - 4;
    for (int i = 0; i < 6; i++) want6[i] = buf[i];
    size_t s34[2] = {3, 4}, s12[1] = {12}, s6[1] = {6};
    ntk_npz_writer *w;
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_add(w, "A", NTK_F64, 2, s34, buf));
    TU_OK(ntk_npz_add(w, "B", NTK_F64, 1, s12, buf));
    TU_OK(ntk_npz_add(w, "head", NTK_F64, 1, s6, buf));
    TU_OK(ntk_npz_close(w));
    expect_member(path, "A", 2, s34, 12, buf);
    expect_member(path, "B", 1, s12, 12, buf);
    expect_member(path, "head", 1, s6, 6, want6);
    /* Aborting an archive that references a buffer leaves the buffer alone. */
    TU_OK(ntk_npz_open(path, &w));
    TU_OK(ntk_npz_add(w, "A", NTK_F64, 2, s34, buf));
    ntk_npz_abort(w);
    expect_member(path, "B", 1, s12, 12, buf);   /* previous archive untouched */
    assert_int_equal(count_entries(f->dir), 1);
}

/* Several threads rewriting the same .npy and .npz: temp names never collide. */
typedef struct {
    const char *npy, *npz;
    double v[64];
    int ok;
} writer_job;

static void *writer_thread(void *arg)
{
    writer_job *j = arg;
    size_t s[1] = {64};
    j->ok = 1;
    for (int r = 0; r < 20 && j->ok; r++) {
        ntk_npz_writer *w = NULL;
        j->ok = ntk_npy_write(j->npy, NTK_F64, 1, s, j->v) == NTK_OK &&
                ntk_npz_open(j->npz, &w) == NTK_OK &&
                ntk_npz_add(w, "v", NTK_F64, 1, s, j->v) == NTK_OK &&
                ntk_npz_close(w) == NTK_OK;
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    const fixture *f = *state;
    char npy[256], npz[256];
    in_dir(f, "same.npy", npy, sizeof npy);
    in_dir(f, "same.npz", npz, sizeof npz);
    enum { T = 4 };
    writer_job jobs[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        jobs[t].npy = npy;
        jobs[t].npz = npz;
        for (int i = 0; i < 64; i++) jobs[t].v[i] = t * 1000 + i;
        assert_int_equal(pthread_create(&th[t], NULL, writer_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < T; t++) assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < T; t++)
        if (!jobs[t].ok) fail_msg("writer thread %d failed", t);
    assert_int_equal(count_entries(f->dir), 2);
    /* Each file holds one thread's complete array. */
    const char *files[2] = {npy, npz};
    for (int k = 0; k < 2; k++) {
        ntk_array a;
        TU_OK(k == 0 ? ntk_npy_read(npy, &a) : ntk_npz_read(npz, "v", &a));
        assert_int_equal(a.count, 64);
        int t = (int)(a.data[0] / 1000);
        assert_true(t >= 0 && t < T);
        if (tu_rel_max(64, a.data, jobs[t].v) != 0.0) fail_msg("%s: mixed contents", files[k]);
        ntk_array_clear(&a);
    }
}

/* -------------------------------------------------------- hostile inputs */

static void test_malformed(void **state)
{
    const fixture *f = *state;
    unsigned char img[1024];
    double d[4] = {1, 2, 3, 4};
    const char *ok1 = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n";
    size_t n;

    n = make_npy(img, sizeof img, 1, ok1, d, 32);
    expect_bad(f, "truncated.npy", img, n - 3, "truncated: header declares 32 bytes of data, file has 29");
    expect_bad(f, "tiny.npy", img, 5, "truncated");
    unsigned char pad[40];
    memcpy(pad, d, 32);
    memset(pad + 32, 0xAB, 8);
    n = make_npy(img, sizeof img, 1, ok1, pad, 40);
    expect_bad(f, "trailing.npy", img, n, "8 trailing bytes");

    n = make_npy(img, sizeof img, 1, ok1, d, 32);
    img[1] = 'M';
    expect_bad(f, "magic.npy", img, n, "bad magic");
    n = make_npy(img, sizeof img, 4, ok1, d, 32);
    expect_bad(f, "version.npy", img, n, "unsupported .npy format version 4.0");
    n = make_npy(img, sizeof img, 1, ok1, d, 32);
    img[8] = 0xff;
    img[9] = 0xff;
    expect_bad(f, "hlen.npy", img, n, "header length 65535 exceeds");
    n = make_npy(img, sizeof img, 2, ok1, d, 32);
    img[11] = 0x80;
    expect_bad(f, "hlen2.npy", img, n, "exceeds");

    static const struct { const char *name, *header, *needle; } bad[] = {
        {"huge.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
         "overflows"},
        {"hugebytes.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
         "overflows"},
        {"bigdim.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
         "does not fit"},
        {"negative.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", "negative dimension"},
        {"complex.npy", "{'descr': '<c16', 'fortran_order': False, 'shape': (4,), }", "unsupported dtype '<c16'"},
        {"object.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (4,), }", "unsupported dtype '|O'"},
        {"unicode.npy", "{'descr': '<U4', 'fortran_order': False, 'shape': (4,), }", "unsupported dtype"},
        {"half.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (4,), }", "unsupported dtype"},
        {"struct.npy", "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (4,), }", "structured"},
        {"noshape.npy", "{'descr': '<f8', 'fortran_order': False, }", "missing key 'shape'"},
        {"nodescr.npy", "{'fortran_order': False, 'shape': (4,), }", "missing key 'descr'"},
        {"extra.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'x': 1}", "unexpected key 'x'"},
        {"dupkey.npy", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (4,)}", "duplicate key"},
        {"garbage.npy", "\x01\x02garbage{}", "does not start with '{'"},
        {"unterminated.npy", "{'descr': '<f8", "unterminated"},
        {"ctrl.npy", "{'descr': '<f8\n', 'fortran_order': False, 'shape': (4,), }", "non-ASCII"},
        {"nobrace.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)", "expected ',' or '}'"},
        {"after.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), } junk", "after the dict"},
        {"fortran.npy", "{'descr': '<f8', 'fortran_order': 1, 'shape': (4,), }", "True or False"},
        {"tuple1.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4), }", "trailing comma"},
        {"shapelist.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': [4], }", "must be a tuple"},
        {"ndim9.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
         "more than 8 dimensions"},
        {"shapejunk.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4 4), }", "expected ','"},
        {"float.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4.0,), }", "expected ','"},
        {"empty.npy", "", "does not start"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = make_npy(img, sizeof img, 1, bad[i].header, d, 32);
        expect_bad(f, bad[i].name, img, n, bad[i].needle);
    }
}

static void test_fortran_order(void **state)
{
    (void)state;
    unsigned char img[1024];
    /* A[i][j] = 10 i + j, shape (2, 3), stored column-major. */
    double fd[6] = {0, 10, 1, 11, 2, 12}, c2[6] = {0, 1, 2, 10, 11, 12};
    size_t s2[2] = {2, 3};
    size_t n = make_npy(img, sizeof img, 1,
                        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n", fd, sizeof fd);
    expect_good(img, n, 2, s2, 6, c2);
    /* B[i][j][k] = 100 i + 10 j + k, shape (2, 3, 4), int32, column-major. */
    int32_t fi[24];
    double c3[24];
    size_t s3[3] = {2, 3, 4}, m = 0;
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 2; i++) fi[m++] = 100 * i + 10 * j + k;
    m = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++) c3[m++] = 100 * i + 10 * j + k;
    n = make_npy(img, sizeof img, 1,
                 "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3, 4), }\n", fi, sizeof fi);
    expect_good(img, n, 3, s3, 24, c3);
    /* Empty Fortran array. */
    size_t s0[2] = {0, 3};
    n = make_npy(img, sizeof img, 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (0, 3), }", NULL, 0);
    expect_good(img, n, 2, s0, 0, NULL);
}

static void test_dtypes_and_endianness(void **state)
{
    (void)state;
    unsigned char img[1024], raw[64];
    char hdr[128];
    size_t s3[1] = {3};
    static const struct {
        const char *descr;
        unsigned char bytes[24];
        size_t size;
        double want[3];
    } cases[] = {
        {">f8", {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0}, 8, {1, -2, 0.5}},
        {">f4", {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0}, 4, {1, -2, 0.5}},
        {"<f4", {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f}, 4, {1, -2, 0.5}},
        {">i8", {0, 0, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 7}, 8, {256, -2, 7}},
        {">i4", {0, 0, 1, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 4, {258, -1, 0}},
        {"<i4", {2, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 4, {258, -1, 0}},
        {">i2", {0x80, 0, 0, 5, 0xff, 0xfe}, 2, {-32768, 5, -2}},
        {"<i2", {0, 0x80, 5, 0, 0xfe, 0xff}, 2, {-32768, 5, -2}},
        {"|i1", {0x80, 0x7f, 0xff}, 1, {-128, 127, -1}},
        {"i1", {0x80, 0x7f, 0xff}, 1, {-128, 127, -1}},
        {"|u1", {0x80, 0x7f, 0xff}, 1, {128, 127, 255}},
        {">u2", {0xff, 0xfe, 0, 1, 1, 0}, 2, {65534, 1, 256}},
        {"=u2", {0xfe, 0xff, 1, 0, 0, 1}, 2, {65534, 1, 256}},
        {">u4", {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 1, 0, 0}, 4, {4294967295.0, 1, 65536}},
        {"<u8", {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 2, 0, 0, 0, 0, 0, 0, 0}, 8,
         {1, 9223372036854775808.0, 2}},
        {">u8", {0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 8,
         {1, 9223372036854775808.0, 2}},
        {"|b1", {0, 1, 1}, 1, {0, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (3,), }",
                 cases[c].descr);
        memcpy(raw, cases[c].bytes, 3 * cases[c].size);
        size_t n = make_npy(img, sizeof img, 1, hdr, raw, 3 * cases[c].size);
        expect_good(img, n, 1, s3, 3, cases[c].want);
    }
    /* Big-endian Fortran order together, shape (2, 2): [[1, 2], [3, 4]]. */
    unsigned char be[16] = {0, 1, 0, 3, 0, 2, 0, 4};
    double want[4] = {1, 2, 3, 4};
    size_t s22[2] = {2, 2};
    size_t n = make_npy(img, sizeof img, 1,
                        "{\"descr\": \">i2\", \"fortran_order\": True, \"shape\": (2L, 2L)}", be, 8);
    expect_good(img, n, 2, s22, 4, want);
}

static void test_versions_and_special_shapes(void **state)
{
    (void)state;
    unsigned char img[1024];
    double d[4] = {1.5, -2, 3, 4}, z = 0;
    size_t s4[1] = {4}, s05[2] = {0, 5};
    const char *h4 = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n";
    for (int major = 1; major <= 3; major++) {
        size_t n = make_npy(img, sizeof img, major, h4, d, 32);
        expect_good(img, n, 1, s4, 4, d);
    }
    size_t n = make_npy(img, sizeof img, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': ()}", d, 8);
    expect_good(img, n, 0, NULL, 1, d);
    n = make_npy(img, sizeof img, 1, "{'shape': (0, 5), 'fortran_order': False, 'descr': '<f8'}", NULL, 0);
    expect_good(img, n, 2, s05, 0, &z);
    /* Enormous leading zero dim: count 0 is fine, no allocation of the product. */
    size_t sz[2] = {0, SIZE_MAX};
    n = make_npy(img, sizeof img, 1,
                 "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 18446744073709551615), }", NULL, 0);
    expect_good(img, n, 2, sz, 0, &z);
}

/* Every truncation and many single-byte mutations: never crash, only OK or EFORMAT. */
static void test_fuzz_mutations(void **state)
{
    (void)state;
    unsigned char img[1024], mut[1024];
    double d[6] = {1, 2, 3, 4, 5, 6};
    size_t n = make_npy(img, sizeof img, 1,
                        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }          \n", d, 48);
    ntk_array a;
    for (size_t len = 0; len < n; len++)
        assert_int_equal(ntk_npy_parse(img, len, "prefix", &a), NTK_EFORMAT);
    static const unsigned char vals[] = {0, '(', ')', ',', '\'', '-', '9', 'L', '{', '}', ' ', 0xff, '[', 'T'};
    size_t ok = 0;
    for (size_t pos = 0; pos < n - 48; pos++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(mut, img, n);
            mut[pos] = vals[v];
            ntk_status st = ntk_npy_parse(mut, n, "mut", &a);
            if (st != NTK_OK && st != NTK_EFORMAT) fail_msg("pos %zu val %d: %s", pos, vals[v], ntk_status_str(st));
            if (st == NTK_OK) {
                assert_true(a.count * 8 <= 48 && a.data != NULL);
                ok++;
            }
            ntk_array_clear(&a);
        }
    assert_true(ok > 0);   /* e.g. padding spaces replaced by spaces */
}

static void test_read_io_errors(void **state)
{
    const fixture *f = *state;
    char path[256];
    ntk_array a;
    in_dir(f, "nope.npy", path, sizeof path);
    assert_int_equal(ntk_npy_read(path, &a), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), path));
    assert_int_equal(ntk_npy_read(f->dir, &a), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), "not a regular file"));
    assert_int_equal(ntk_npz_read(f->dir, "K", &a), NTK_EIO);
}

/* ------------------------------------------------------------- fsutil */

static void test_atomic_write(void **state)
{
    const fixture *f = *state;
    char path[256], sub[256];
    in_dir(f, "out.txt", path, sizeof path);
    TU_OK(ntk_write_file_atomic(path, "first version\n", 14));
    TU_OK(ntk_write_file_atomic(path, "second\n", 7));
    char buf[64] = {0};
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 7);
    fclose(fp);
    assert_string_equal(buf, "second\n");
    TU_OK(ntk_write_file_atomic(path, NULL, 0));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_int_equal(count_entries(f->dir), 1);

    /* Failures: missing directory; target is a directory (rename fails). */
    in_dir(f, "missing/out.txt", sub, sizeof sub);
    assert_int_equal(ntk_write_file_atomic(sub, "x", 1), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), sub));
    in_dir(f, "adir", sub, sizeof sub);
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(ntk_write_file_atomic(sub, "x", 1), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), "rename"));
    assert_int_equal(count_entries(f->dir), 2);
    assert_int_equal(ntk_write_file_atomic("", "x", 1), NTK_EINVAL);
    assert_int_equal(ntk_write_file_atomic(path, NULL, 1), NTK_EINVAL);
}

static void test_mkdir_p(void **state)
{
    const fixture *f = *state;
    char path[256], file[256];
    struct stat sb;
    in_dir(f, "a//b/c/", path, sizeof path);
    TU_OK(ntk_mkdir_p(path));
    TU_OK(ntk_mkdir_p(path));
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    TU_OK(ntk_mkdir_p(f->dir));
    TU_OK(ntk_mkdir_p("/"));
    in_dir(f, "a/file", file, sizeof file);
    TU_OK(ntk_write_file_atomic(file, "x", 1));
    in_dir(f, "a/file/sub", path, sizeof path);
    assert_int_equal(ntk_mkdir_p(path), NTK_EIO);
    assert_non_null(strstr(ntk_last_error(), "not a directory"));
    assert_int_equal(ntk_mkdir_p(""), NTK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npz_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npz_empty_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npz_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npz_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npz_shared_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test(test_fortran_order),
        cmocka_unit_test(test_dtypes_and_endianness),
        cmocka_unit_test(test_versions_and_special_shapes),
        cmocka_unit_test(test_fuzz_mutations),
        cmocka_unit_test_setup_teardown(test_read_io_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
