/* fuzz_idx.c -- the IDX reader (src/data/idx.c: raw or gzip through zlib's gz* interface).
 *
 * Exercises the magic and type byte, the dimension count, the big-endian dimensions and their
 * product (the 2^32-element limit, overflow), the growing read of the data (short files that
 * declare huge shapes), trailing data, and gzip streams that are corrupt, truncated mid-stream
 * or followed by garbage.  A successful read must hold count = prod(shape) readable bytes. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".idx");
    ntk_idx x;
    ntk_status st = ntk_idx_read(path, &x);
    if (st != NTK_OK) {
        fuzz_check_error(st, path);
        if (x.data || x.count || x.ndim) {
            fprintf(stderr, "fuzz: failed idx_read left a non-empty result\n");
            abort();
        }
        return 0;
    }
    size_t count = 1;
    for (int d = 0; d < x.ndim; d++) count *= x.shape[d];
    if (x.ndim < 1 || x.ndim > 4 || count != x.count || !x.data) {
        fprintf(stderr, "fuzz: idx_read returned an inconsistent result\n");
        abort();
    }
    volatile unsigned sink = 0;
    for (size_t i = 0; i < x.count; i++) sink += x.data[i];
    (void)sink;
    ntk_idx_clear(&x);
    return 0;
}
