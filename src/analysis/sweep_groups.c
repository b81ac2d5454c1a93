/* sweep_groups.c -- statistics across a sweep's cells (docs/sweep.md): the common time tau at
 * which every cell's drift is read, and groups of cells with equal keys (the seeds of one
 * (depth, width, lr_frac)) with percentiles over each group's members. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

double ntk_sweep_tau(size_t n, const double *t_end, const int *diverged)
{
    double tau = 0;
    for (size_t i = 0; t_end && diverged && i < n; i++)
        if (!diverged[i] && t_end[i] > 0 && (tau <= 0 || t_end[i] < tau)) tau = t_end[i];
    return tau;
}

/* Cells sorted by key, NaN after every number, equal keys by cell index (qsort is not stable). */
typedef struct {
    const double *key;
    size_t idx;
    int nk;
} key_ref;

static int cmp_key(const void *pa, const void *pb)
{
    const key_ref *a = pa, *b = pb;
    for (int j = 0; j < a->nk; j++) {
        double x = a->key[j], y = b->key[j];
        bool nx = isnan(x), ny = isnan(y);
        if (nx != ny) return nx ? 1 : -1;
        if (!nx && x < y) return -1;
        if (!nx && x > y) return 1;
    }
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool same_key(const key_ref *a, const key_ref *b)
{
    for (int j = 0; j < a->nk; j++)
        if (!(a->key[j] == b->key[j])) return false; /* NaN equals nothing */
    return true;
}

static int cmp_size(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return a < b ? -1 : a > b;
}

ntk_status ntk_group_keys(size_t n, int nk, const double *keys, size_t *group, size_t *ngroups, size_t *first,
                          size_t *count)
{
    if (nk < 1 || (n > 0 && (!keys || !group)) || !ngroups)
        return ntk_set_error(NTK_EINVAL, "group keys: nk >= 1, keys, group and ngroups needed");
    *ngroups = 0;
    if (n == 0) return NTK_OK;
    key_ref *ref = malloc(n * sizeof *ref);
    size_t *firsts = malloc(n * sizeof *firsts); /* first cell of each run of equal keys */
    if (!ref || !firsts) {
        free(ref);
        free(firsts);
        return ntk_set_error(NTK_ENOMEM, "group keys: out of memory for %zu cells", n);
    }
    for (size_t i = 0; i < n; i++) ref[i] = (key_ref){keys + i * (size_t)nk, i, nk};
    qsort(ref, n, sizeof *ref, cmp_key);
    size_t runs = 0;
    for (size_t i = 0; i < n; i++) /* within a run the first entry is its smallest cell index */
        if (i == 0 || !same_key(&ref[i - 1], &ref[i])) firsts[runs++] = ref[i].idx;
    qsort(firsts, runs, sizeof *firsts, cmp_size); /* groups numbered by their first cell */
    /* group[first cell] = its number, then every other member takes its run's first cell's number */
    for (size_t g = 0; g < runs; g++) group[firsts[g]] = g;
    size_t head = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !same_key(&ref[i - 1], &ref[i])) head = ref[i].idx;
        group[ref[i].idx] = group[head];
    }
    if (count)
        for (size_t g = 0; g < runs; g++) count[g] = 0;
    for (size_t i = 0; count && i < n; i++) count[group[i]]++;
    if (first)
        for (size_t g = 0; g < runs; g++) first[g] = firsts[g];
    *ngroups = runs;
    free(ref);
    free(firsts);
    return NTK_OK;
}

ntk_status ntk_group_percentiles(size_t n, const size_t *group, size_t ngroups, const double *v, int nq,
                                 const double *q, double *out)
{
    if ((n > 0 && (!group || !v)) || nq < 1 || !q || (ngroups > 0 && !out))
        return ntk_set_error(NTK_EINVAL, "group percentiles: nq >= 1, group, v, q and out needed");
    for (size_t i = 0; i < n; i++)
        if (group[i] >= ngroups)
            return ntk_set_error(NTK_EINVAL, "group percentiles: group[%zu] = %zu is not below ngroups = %zu", i,
                                 group[i], ngroups);
    if (ngroups == 0) return NTK_OK;
    /* members of each group in cell order: a counting sort by group */
    size_t *start = calloc(ngroups + 1, sizeof *start);
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    size_t *fill = malloc(ngroups * sizeof *fill);
    ntk_status st = NTK_OK;
    if (!start || !vals || !fill) {
        st = ntk_set_error(NTK_ENOMEM, "group percentiles: out of memory for %zu cells", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) start[group[i] + 1]++;
    for (size_t g = 0; g < ngroups; g++) start[g + 1] += start[g];
    for (size_t g = 0; g < ngroups; g++) fill[g] = start[g];
    for (size_t i = 0; i < n; i++) vals[fill[group[i]]++] = v[i];
    for (size_t g = 0; g < ngroups && st == NTK_OK; g++)
        st = ntk_percentiles(start[g + 1] - start[g], vals + start[g], nq, q, out + g * (size_t)nq);
out:
    free(start);
    free(vals);
    free(fill);
    return st;
}
