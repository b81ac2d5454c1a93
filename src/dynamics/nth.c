/* nth.c -- the truncated neural tangent hierarchy in discrete time (docs/dynamics.md, "The neural
 * tangent hierarchy"): f, K (and at level 4 O3) advanced by the optimizer's explicit step from their
 * values at step 0, with the top tensor frozen.  Each step is matrix-vector products: n^2 + m n for
 * f, n^3 + m n^2 for K, and at level 4 n^4 + m n^3 for O3 (twice that in flops). */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "la.h"

struct ntk_nth {
    ntk_nth_opts o;
    size_t n, m;
    long step, diverged_at;
    double *f, *fe, *y, *r;  /* [n], [m], [n], [n] */
    double *K, *Ke;          /* [n x n], [m x n] */
    double *O3, *O3e;        /* [n x n x n], [m x n x n] */
    const double *O4, *O4e;  /* [n^4], [m n^3] (level 4; referenced) */
    double *mem;
};

ntk_nth_opts ntk_nth_defaults(void) { return (ntk_nth_opts){.level = 4, .a = 0}; }

void ntk_nth_free(ntk_nth *s)
{
    if (!s) return;
    free(s->mem);
    free(s);
}

ntk_status ntk_nth_alloc(const ntk_nth_opts *o, size_t n, const double *K0, const double *O3, const double *O4,
                         const double *f0, const double *y, size_t m, const double *Ke0, const double *O3e,
                         const double *O4e, const double *fe0, ntk_nth **out)
{
    *out = NULL;
    if (!o) return ntk_set_error(NTK_EINVAL, "nth: options must not be NULL");
    if (o->level != 3 && o->level != 4)
        return ntk_set_error(NTK_EINVAL, "nth: level must be 3 (O3 frozen) or 4 (O4 frozen), got %d", o->level);
    if (!(o->a > 0) || !isfinite(o->a))
        return ntk_set_error(NTK_EINVAL, "nth: a = eta c must be finite and > 0, got %g", o->a);
    if (n == 0) return ntk_set_error(NTK_EINVAL, "nth: n must be > 0");
    if (!K0 || !O3 || !f0 || !y) return ntk_set_error(NTK_EINVAL, "nth: K0, O3, f0 and y are required");
    if (o->level == 4 && !O4) return ntk_set_error(NTK_EINVAL, "nth: level 4 needs O4");
    if (m && (!Ke0 || !O3e || !fe0 || (o->level == 4 && !O4e)))
        return ntk_set_error(NTK_EINVAL, "nth: m = %zu eval entries need Ke0, O3e, fe0%s", m,
                             o->level == 4 ? " and O4e" : "");
    double dn = (double)n, dm = (double)m, n2 = dn * dn, elems = 3.0 * dn + dm + n2 + dm * dn + n2 * dn + dm * n2;
    if (!la_dims_ok(n * n * (o->level == 4 ? n : 1), m * n * (o->level == 4 ? n : 1), n)) return NTK_EINVAL;
    ntk_nth *s = calloc(1, sizeof *s);
    if (s) s->mem = malloc((size_t)(elems + 1) * sizeof *s->mem);
    if (!s || !s->mem) {
        ntk_nth_free(s);
        return ntk_set_error(NTK_ENOMEM, "nth: out of memory for n = %zu, m = %zu (%.3g GB)", n, m, 8e-9 * elems);
    }
    s->o = *o;
    s->n = n, s->m = m, s->step = 0, s->diverged_at = -1;
    double *p = s->mem;
    s->f = p, p += n;
    s->y = p, p += n;
    s->r = p, p += n;
    s->fe = p, p += m;
    s->K = p, p += n * n;
    s->Ke = p, p += m * n;
    s->O3 = p, p += n * n * n;
    s->O3e = p;
    memcpy(s->f, f0, n * sizeof *f0);
    memcpy(s->y, y, n * sizeof *y);
    memcpy(s->K, K0, n * n * sizeof *K0);
    memcpy(s->O3, O3, n * n * n * sizeof *O3);
    if (m) {
        memcpy(s->fe, fe0, m * sizeof *fe0);
        memcpy(s->Ke, Ke0, m * n * sizeof *Ke0);
        memcpy(s->O3e, O3e, m * n * n * sizeof *O3e);
    }
    s->O4 = O4, s->O4e = O4e;
    *out = s;
    return NTK_OK;
}

/* One step: every update from the values at step t (the f and K updates read K_t and O3_t
 * before they are overwritten). */
static void nth_step(ntk_nth *s)
{
    size_t n = s->n, m = s->m;
    double a = s->o.a;
    for (size_t i = 0; i < n; i++) s->r[i] = s->f[i] - s->y[i];
    if (m) cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)n, -a, s->Ke, (int)n, s->r, 1, 1.0, s->fe, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)n, -a, s->K, (int)n, s->r, 1, 1.0, s->f, 1);
    if (m)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(m * n), (int)n, -a, s->O3e, (int)n, s->r, 1, 1.0, s->Ke, 1);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(n * n), (int)n, -a, s->O3, (int)n, s->r, 1, 1.0, s->K, 1);
    if (s->o.level == 4) {
        if (m)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(m * n * n), (int)n, -a, s->O4e, (int)n, s->r, 1, 1.0,
                        s->O3e, 1);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)(n * n * n), (int)n, -a, s->O4, (int)n, s->r, 1, 1.0, s->O3, 1);
    }
}

ntk_status ntk_nth_advance(ntk_nth *s, long t)
{
    if (t < s->step)
        return ntk_set_error(NTK_EINVAL, "nth: cannot go back from step %ld to step %ld", s->step, t);
    while (s->diverged_at < 0 && s->step < t) {
        nth_step(s);
        s->step++;
        for (size_t i = 0; i < s->n; i++)
            if (!isfinite(s->f[i])) {
                s->diverged_at = s->step;
                break;
            }
    }
    return NTK_OK;
}

long ntk_nth_step(const ntk_nth *s) { return s->step; }
long ntk_nth_diverged_at(const ntk_nth *s) { return s->diverged_at; }

ntk_status ntk_nth_get(const ntk_nth *s, double *f, double *fe, double *K, double *Ke)
{
    if (f) memcpy(f, s->f, s->n * sizeof *f);
    if (fe && s->m) memcpy(fe, s->fe, s->m * sizeof *fe);
    if (K) memcpy(K, s->K, s->n * s->n * sizeof *K);
    if (Ke && s->m) memcpy(Ke, s->Ke, s->m * s->n * sizeof *Ke);
    return NTK_OK;
}
