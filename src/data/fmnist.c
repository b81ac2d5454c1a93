/* fmnist.c -- Fashion-MNIST as an ntk_dataset: the four IDX files (gzip) of
 * the standard split, filtered to the requested classes, optionally
 * subsampled without replacement (ntk_data_subset: sub 0 train, 1 eval; the
 * subset keeps file order), pixels scaled to [0, 1] or standardised with the
 * training set's per-pixel mean and (population) std, and binary (+-1) or
 * one-hot targets. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FM_SIDE 28
#define FM_PIXELS (FM_SIDE * FM_SIDE)
#define FM_CLASSES 10

typedef struct {
    ntk_idx img;   /* (n, 28, 28) */
    ntk_idx lab;   /* (n) */
} fm_split;

ntk_fmnist_opts ntk_fmnist_defaults(void)
{
    ntk_fmnist_opts o = {.dir = NULL, .classes = NULL, .n_classes = 0, .n_train = 0, .n_eval = 0,
                         .targets = NTK_TARGETS_ONEHOT, .pixels = NTK_PIXELS_UNIT, .seed = 0};
    return o;
}

/* pos[c] = position of class c in the kept list, -1 if not kept. */
static ntk_status check_opts(const ntk_fmnist_opts *o, int *n_classes, int pos[FM_CLASSES])
{
    int n = o->classes ? o->n_classes : FM_CLASSES;
    if (n < 1 || n > FM_CLASSES)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: n_classes %d outside 1..10", n);
    for (int c = 0; c < FM_CLASSES; c++) pos[c] = -1;
    for (int i = 0; i < n; i++) {
        int c = o->classes ? o->classes[i] : i;
        if (c < 0 || c >= FM_CLASSES)
            return ntk_set_error(NTK_EINVAL, "fashion-mnist: class %d outside 0..9", c);
        if (pos[c] >= 0)
            return ntk_set_error(NTK_EINVAL, "fashion-mnist: class %d listed twice", c);
        pos[c] = i;
    }
    if (o->targets != NTK_TARGETS_BINARY && o->targets != NTK_TARGETS_ONEHOT)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: unknown targets %d", (int)o->targets);
    if (o->targets == NTK_TARGETS_BINARY && n != 2)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: binary targets need exactly 2 classes, "
                             "got %d", n);
    if (o->pixels != NTK_PIXELS_UNIT && o->pixels != NTK_PIXELS_STANDARDIZE)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: unknown pixels %d", (int)o->pixels);
    *n_classes = n;
    return NTK_OK;
}

static ntk_status read_idx(const char *dir, const char *name, ntk_idx *out)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: directory name too long");
    return ntk_idx_read(path, out);
}

/* Reads and cross-checks one split's images and labels. */
static ntk_status load_split(const char *dir, const char *img, const char *lab, fm_split *s)
{
    ntk_status st = read_idx(dir, img, &s->img);
    if (st == NTK_OK) st = read_idx(dir, lab, &s->lab);
    if (st != NTK_OK) return st;
    const size_t *is = s->img.shape;
    if (s->img.ndim != 3 || is[1] != FM_SIDE || is[2] != FM_SIDE)
        return ntk_set_error(NTK_EFORMAT, "%s/%s: expected images of shape (n, 28, 28)", dir, img);
    if (s->lab.ndim != 1 || s->lab.shape[0] != is[0])
        return ntk_set_error(NTK_EFORMAT, "%s/%s: %zu labels for the %zu images of %s", dir, lab,
                             s->lab.ndim == 1 ? s->lab.shape[0] : s->lab.count, is[0], img);
    for (size_t i = 0; i < s->lab.count; i++)
        if (s->lab.data[i] >= FM_CLASSES)
            return ntk_set_error(NTK_EFORMAT, "%s/%s: label %d at index %zu is not in 0..9", dir,
                                 lab, s->lab.data[i], i);
    return NTK_OK;
}

/* Rows of the kept classes, subsampled to `want` (0: all); *sel: [*n] file rows, ascending. */
static ntk_status select_rows(const fm_split *s, const int pos[FM_CLASSES], size_t want,
                              uint64_t seed, uint64_t sub, const char *what, size_t **sel, size_t *n)
{
    size_t avail = 0, m = s->lab.count;
    for (size_t i = 0; i < m; i++) avail += pos[s->lab.data[i]] >= 0;
    if (avail == 0)
        return ntk_set_error(NTK_EFORMAT, "fashion-mnist: the %s split has no examples of the "
                             "requested classes", what);
    if (want > avail)
        return ntk_set_error(NTK_EINVAL, "fashion-mnist: n_%s %zu exceeds the %zu %s examples of "
                             "the requested classes", what, want, avail, what);
    size_t k = want ? want : avail;
    size_t *rows = malloc(avail * sizeof *rows), *pick = malloc(k * sizeof *pick);
    ntk_status st = NTK_OK;
    if (!rows || !pick) st = ntk_set_error(NTK_ENOMEM, "fashion-mnist: out of memory");
    for (size_t i = 0, j = 0; st == NTK_OK && i < m; i++)
        if (pos[s->lab.data[i]] >= 0) rows[j++] = i;
    if (st == NTK_OK && k < avail) st = ntk_data_subset(seed, sub, avail, k, pick);
    if (st == NTK_OK && k < avail)
        for (size_t i = 0; i < k; i++) pick[i] = rows[pick[i]];   /* ascending in, ascending out */
    free(k < avail || st != NTK_OK ? rows : pick);
    if (st != NTK_OK) {
        free(pick);
        return st;
    }
    *sel = k < avail ? pick : rows;
    *n = k;
    return NTK_OK;
}

/* X: [n x 784] pixels / 255, Y: [n x k] targets, label: [n] for the file rows sel: [n]. */
static void fill_rows(const fm_split *s, const size_t *sel, size_t n, const int pos[FM_CLASSES],
                      ntk_targets targets, int k, double *X, double *Y, int *label)
{
    double scale[256];   /* v / 255, exactly as the division gives it */
    for (int v = 0; v < 256; v++) scale[v] = v / 255.0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *px = s->img.data + sel[i] * FM_PIXELS;
        for (size_t j = 0; j < FM_PIXELS; j++) X[i * FM_PIXELS + j] = scale[px[j]];
        int c = s->lab.data[sel[i]];
        label[i] = c;
        if (targets == NTK_TARGETS_BINARY) {
            Y[i] = pos[c] == 0 ? 1.0 : -1.0;
        } else {
            for (int a = 0; a < k; a++) Y[i * (size_t)k + (size_t)a] = a == pos[c] ? 1.0 : 0.0;
        }
    }
}

/* (x - mean_j) / std_j with the training statistics (population std; 0 -> 1), row by row for
 * cache-friendly access.  Xt: [nt x 784], Xe: [ne x 784]. */
static void standardize(size_t nt, double *Xt, size_t ne, double *Xe)
{
    double mean[FM_PIXELS] = {0}, sd[FM_PIXELS] = {0};
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < FM_PIXELS; j++) mean[j] += Xt[i * FM_PIXELS + j];
    for (size_t j = 0; j < FM_PIXELS; j++) mean[j] /= (double)nt;
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < FM_PIXELS; j++) {
            double d = Xt[i * FM_PIXELS + j] - mean[j];
            sd[j] += d * d;
        }
    for (size_t j = 0; j < FM_PIXELS; j++) {
        sd[j] = sqrt(sd[j] / (double)nt);
        if (!(sd[j] > 0)) sd[j] = 1;
    }
    for (size_t i = 0; i < nt + ne; i++) {
        double *x = i < nt ? Xt + i * FM_PIXELS : Xe + (i - nt) * FM_PIXELS;
        for (size_t j = 0; j < FM_PIXELS; j++) x[j] = (x[j] - mean[j]) / sd[j];
    }
}

/* Allocates the output arrays for d->n_train / n_eval / k. */
static ntk_status alloc_dataset(ntk_dataset *d)
{
    size_t nt = d->n_train, ne = d->n_eval, k = (size_t)d->k;
    d->X_train = malloc(nt * FM_PIXELS * sizeof(double));
    d->Y_train = malloc(nt * k * sizeof(double));
    d->label_train = malloc(nt * sizeof(int));
    d->X_eval = malloc(ne * FM_PIXELS * sizeof(double));
    d->Y_eval = malloc(ne * k * sizeof(double));
    d->label_eval = malloc(ne * sizeof(int));
    if (!d->X_train || !d->Y_train || !d->label_train || !d->X_eval || !d->Y_eval ||
        !d->label_eval)
        return ntk_set_error(NTK_ENOMEM, "fashion-mnist: cannot allocate the dataset "
                             "(%zu + %zu examples)", nt, ne);
    return NTK_OK;
}

ntk_status ntk_fmnist_load(const ntk_fmnist_opts *o, ntk_dataset *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "fashion-mnist: out is NULL");
    memset(out, 0, sizeof *out);
    if (!o) return ntk_set_error(NTK_EINVAL, "fashion-mnist: options are NULL");
    int pos[FM_CLASSES], nc = 0;
    ntk_status st = check_opts(o, &nc, pos);
    if (st != NTK_OK) return st;
    const char *dir = o->dir ? o->dir : NTK_FMNIST_DIR;
    fm_split tr = {0}, te = {0};
    size_t *sel_tr = NULL, *sel_te = NULL;
    st = load_split(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &tr);
    if (st == NTK_OK)
        st = load_split(dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", &te);
    if (st == NTK_OK)
        st = select_rows(&tr, pos, o->n_train, o->seed, 0, "train", &sel_tr, &out->n_train);
    if (st == NTK_OK)
        st = select_rows(&te, pos, o->n_eval, o->seed, 1, "eval", &sel_te, &out->n_eval);
    out->n0 = FM_PIXELS;
    out->k = o->targets == NTK_TARGETS_BINARY ? 1 : nc;
    if (st == NTK_OK) st = alloc_dataset(out);
    if (st == NTK_OK) {
        fill_rows(&tr, sel_tr, out->n_train, pos, o->targets, out->k, out->X_train, out->Y_train,
                  out->label_train);
        fill_rows(&te, sel_te, out->n_eval, pos, o->targets, out->k, out->X_eval, out->Y_eval,
                  out->label_eval);
        if (o->pixels == NTK_PIXELS_STANDARDIZE)
            standardize(out->n_train, out->X_train, out->n_eval, out->X_eval);
    }
    free(sel_tr);
    free(sel_te);
    ntk_idx_clear(&tr.img);
    ntk_idx_clear(&tr.lab);
    ntk_idx_clear(&te.img);
    ntk_idx_clear(&te.lab);
    if (st != NTK_OK) ntk_dataset_clear(out);
    return st;
}
