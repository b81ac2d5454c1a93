/* data_inputs.c -- the input points of a data kind (gaussian, circle grids or uniform angles, the
 * sphere, Fashion-MNIST training images) or of a user file (.npy, .npz member X, .csv), with the
 * options' defaults and the description each run records. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_build.h"

static const char *const kinds[] = {"gaussian",      "gaussian-raw",      "circle", "circle-pos", "circle-uniform",
                                    "circle-subset", "circle-pos-subset", "sphere", "fmnist"};

ntk_data_opts ntk_data_defaults(void)
{
    ntk_data_opts o;
    memset(&o, 0, sizeof o);
    o.data = "gaussian";
    o.n = 128;
    o.n0 = 16;
    o.outputs = 1;
    o.eval_points = "uniform";
    o.target = "fourier";
    o.fourier_k = 4;
    o.noise = -1;
    o.pixels = NTK_PIXELS_UNIT;
    return o;
}

int ntk_data_known(const char *s)
{
    if (!s) return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(s, kinds[i]) == 0) return 1;
    return data_ends_with(s, ".npy") || data_ends_with(s, ".npz") || data_ends_with(s, ".csv");
}

int data_is_circle(const char *s)
{
    return strcmp(s, "circle") == 0 || strcmp(s, "circle-pos") == 0 || strcmp(s, "circle-uniform") == 0;
}

int data_is_drawn(const char *s)
{
    return strcmp(s, "gaussian") == 0 || strcmp(s, "gaussian-raw") == 0 || strcmp(s, "sphere") == 0;
}

static void put_desc(char *desc, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_desc(char *desc, size_t cap, const char *fmt, ...)
{
    if (!desc || !cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, cap, fmt, ap);
    va_end(ap);
}

static double *alloc_rows(size_t N, int n0)
{
    size_t n;
    if (__builtin_mul_overflow(N, (size_t)n0, &n) || n > SIZE_MAX / sizeof(double)) return NULL;
    return malloc(n * sizeof(double));
}

static ntk_status drawn(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    size_t N = o->n;
    int raw = strcmp(o->data, "gaussian-raw") == 0, sphere = strcmp(o->data, "sphere") == 0;
    double *X = alloc_rows(N, o->n0);
    if (!X && sphere) return ntk_set_error(NTK_ENOMEM, "data: sphere: out of memory");
    if (!X) return ntk_set_error(NTK_ENOMEM, "data: cannot allocate %zu x %d inputs", N, o->n0);
    d->X_train = X;
    ntk_status st = sphere ? ntk_data_sphere(o->data_seed, N, o->n0, X)
                           : raw ? ntk_data_gaussian_raw(o->data_seed, N, o->n0, X)
                                 : ntk_data_gaussian(o->data_seed, N, o->n0, X);
    if (st != NTK_OK) return data_prefix_error(st, sphere ? "data: sphere: " : "data: ");
    if (sphere)
        put_desc(desc, cap, "uniform on the unit sphere S^{n0-1}, data seed %llu (stream SPHERE)",
                 (unsigned long long)o->data_seed);
    else
        put_desc(desc, cap, "gaussian rows%s, data seed %llu (stream DATA_X)",
                 raw ? " N(0, I) as drawn (not rescaled)" : " rescaled to norm sqrt(n0)",
                 (unsigned long long)o->data_seed);
    return NTK_OK;
}

static ntk_status circle(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    if (o->n0_given && o->n0 != 2)
        return ntk_set_error(NTK_EINVAL, "n0: circle data has n0 = 2, but n0 = %d was given", o->n0);
    size_t N = o->n;
    d->n0 = 2;
    d->X_train = alloc_rows(N, 2);
    d->gamma_train = malloc((N ? N : 1) * sizeof(double));
    if (!d->X_train || !d->gamma_train)
        return ntk_set_error(NTK_ENOMEM, "data: cannot allocate %zu circle points", N);
    ntk_status st;
    if (strcmp(o->data, "circle-uniform") == 0) {
        st = ntk_data_circle_uniform(o->data_seed, 0, N, NTK_ANGLES_SYM, d->gamma_train, d->X_train);
        put_desc(desc, cap, "unit circle, uniform random angles on [-pi, pi), data seed %llu (stream ANGLES)",
                 (unsigned long long)o->data_seed);
    } else {
        int sym = strcmp(o->data, "circle") == 0;
        st = ntk_data_circle_grid(N, sym ? NTK_ANGLES_SYM : NTK_ANGLES_POS, d->gamma_train, d->X_train);
        put_desc(desc, cap, "unit circle, angles %s + 2 pi i / N", sym ? "-pi" : "0");
    }
    return st == NTK_OK ? NTK_OK : data_prefix_error(st, "data: ");
}

static ntk_status fmnist(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    if (o->n0_given && o->n0 != 784)
        return ntk_set_error(NTK_EINVAL, "n0: Fashion-MNIST has n0 = 784, but n0 = %d was given", o->n0);
    ntk_fmnist_opts f = ntk_fmnist_defaults();
    f.classes = o->n_classes ? o->classes : NULL;
    f.n_classes = o->n_classes;
    f.n_train = o->n;
    f.n_eval = 1;
    f.pixels = o->pixels;
    f.dir = o->fmnist_dir && o->fmnist_dir[0] ? o->fmnist_dir : NULL;
    f.seed = o->data_seed;
    ntk_dataset ds = {0};
    ntk_status st = ntk_fmnist_load(&f, &ds);
    if (st != NTK_OK) return data_prefix_error(st, "data: fmnist: ");
    d->n0 = ds.n0;
    d->X_train = ds.X_train;
    ds.X_train = NULL;
    ntk_dataset_clear(&ds);
    put_desc(desc, cap, "Fashion-MNIST training images (%d classes), %zu drawn with data seed %llu, pixels %s",
             o->n_classes ? o->n_classes : 10, o->n, (unsigned long long)o->data_seed,
             o->pixels == NTK_PIXELS_STANDARDIZE ? "standardized" : "x/255");
    return NTK_OK;
}

static ntk_status file(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    size_t rows = 0, cols = 0;
    ntk_status st = ntk_matrix_read(o->data, "data", o->n0_given ? o->n0 : 0, o->all_rows ? 0 : o->n, &d->X_train,
                                    &rows, &cols);
    if (st != NTK_OK) return st;
    d->n_train = o->all_rows ? rows : o->n;
    d->n0 = (int)cols; /* at most 2^30 (ntk_matrix_read) */
    put_desc(desc, cap, "%s: first %zu of %zu rows", o->data, d->n_train, rows); /* rows beyond are unused */
    return NTK_OK;
}

ntk_status ntk_data_inputs(const ntk_data_opts *o, ntk_dataset *d, char *desc, size_t cap)
{
    if (!d) return ntk_set_error(NTK_EINVAL, "data: no dataset to fill");
    memset(d, 0, sizeof *d);
    if (desc && cap) desc[0] = '\0';
    if (!o || !o->data) return ntk_set_error(NTK_EINVAL, "data: no data kind given");
    d->n_train = o->n;
    d->n0 = o->n0;
    d->k = o->outputs;
    ntk_status st;
    if (data_is_drawn(o->data)) {
        st = drawn(o, d, desc, cap);
    } else if (strcmp(o->data, "circle-subset") == 0 || strcmp(o->data, "circle-pos-subset") == 0) {
        st = ntk_set_error(NTK_EINVAL,
                           "data: %s (training points drawn from the evaluation grid) applies to train and sweep only",
                           o->data);
    } else if (data_is_circle(o->data)) {
        st = circle(o, d, desc, cap);
    } else if (strcmp(o->data, "fmnist") == 0) {
        st = fmnist(o, d, desc, cap);
    } else if (data_ends_with(o->data, ".npy") || data_ends_with(o->data, ".npz") ||
               data_ends_with(o->data, ".csv")) {
        st = file(o, d, desc, cap);
    } else {
        st = ntk_set_error(NTK_EINVAL, "data: unknown value '%s' (expected gaussian|gaussian-raw|circle|circle-pos|"
                           "circle-uniform|circle-subset|circle-pos-subset|sphere|fmnist|PATH.npy|PATH.npz|PATH.csv)",
                           o->data);
    }
    if (st != NTK_OK) ntk_dataset_clear(d);
    return st;
}
