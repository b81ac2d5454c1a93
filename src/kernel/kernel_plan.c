/* kernel_plan.c -- the memory plan of a kernel run: peak bytes in memory and tiled, the bytes of
 * the tiled path's files, the rows per block a budget allows, the memory available, the disk space
 * free where the files go, and the largest N a budget holds. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static double elem_bytes(ntk_dtype t) { return t == NTK_F32 ? 4 : 8; }

/* Held by every run whatever the path: activations and deltas, inputs, parameters. */
static double fixed_bytes(const ntk_spec *s, size_t N, ntk_dtype t, size_t P)
{
    return (double)ntk_feats_bytes(s, N, t) + (double)N * s->n0 * 8.0 + 8.0 * (double)P;
}

double ntk_kernel_bytes_in_memory(const ntk_spec *s, size_t N, ntk_dtype t, int per_layer, size_t P)
{
    double es = elem_bytes(t), nk = (double)N * s->outputs;
    double b = fixed_bytes(s, N, t, P) + (double)ntk_kernel_bytes(s, N, t, per_layer);
    if (s->outputs > 1) b += nk * nk * es * (per_layer ? 2 : 1); /* (N,N,k,k) re-layout for the file */
    return b;
}

/* One block of B rows: ntk_kernel_rows' buffers, plus for k > 1 the re-layout and trace rows. */
static double block_bytes(const ntk_spec *s, size_t N, size_t B, ntk_dtype t, int per_layer)
{
    double es = elem_bytes(t), k = s->outputs;
    double b = (double)ntk_kernel_rows_bytes(s, N, B, t, per_layer);
    if (s->outputs > 1) b += es * (double)B * (double)N * (k * k + 1);
    return b;
}

double ntk_kernel_bytes_tiled(const ntk_spec *s, size_t N, size_t B, ntk_dtype t, int per_layer, size_t P)
{
    return fixed_bytes(s, N, t, P) + block_bytes(s, N, B, t, per_layer);
}

double ntk_kernel_file_bytes(const ntk_spec *s, size_t N, ntk_dtype t, int per_layer)
{
    double es = elem_bytes(t), k = s->outputs;
    double per_pair = es * (k * k * (1 + (per_layer ? s->depth + 1 : 0)) + (k > 1 ? 1 : 0));
    return per_pair * (double)N * (double)N + (double)N * s->n0 * 8.0;
}

size_t ntk_kernel_tile_rows(const ntk_spec *s, size_t N, ntk_dtype t, int per_layer, size_t P, double have)
{
    double room = have - fixed_bytes(s, N, t, P);
    if (room > NTK_TILE_TARGET_BYTES) room = NTK_TILE_TARGET_BYTES;
    double per_row = block_bytes(s, N, 1, t, per_layer);
    if (!(room >= per_row)) return 0;
    double B = floor(room / per_row);
    return B >= (double)N ? N : (size_t)B;
}

double ntk_mem_available_bytes(void)
{
    FILE *fp = fopen("/proc/meminfo", "r");
    double kb = 0;
    if (fp) {
        char line[256];
        while (fgets(line, sizeof line, fp))
            if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1) break;
        fclose(fp);
    }
    if (kb > 0) return kb * 1024.0;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (double)pages * (double)psz : 1e18;
}

double ntk_disk_free_bytes(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path && *path ? path : ".");
    for (;;) {
        struct statvfs sv;
        if (statvfs(dir, &sv) == 0) return (double)sv.f_bavail * (double)sv.f_frsize;
        char *slash = strrchr(dir, '/');
        if (!slash) {
            if (strcmp(dir, ".") == 0) return 1e300;
            snprintf(dir, sizeof dir, ".");
        } else if (slash == dir) {
            if (dir[1] == '\0') return 1e300;
            dir[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
}

size_t ntk_plan_max_points(double budget, double (*bytes_for)(size_t, void *), void *ctx, size_t N_hi)
{
    if (!bytes_for || N_hi == 0) return 0;
    size_t lo = 1, hi = N_hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (bytes_for(mid, ctx) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return bytes_for(lo, ctx) <= budget ? lo : 0;
}
