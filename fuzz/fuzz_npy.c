/* fuzz_npy.c -- the .npy reader (src/io/npy.c).
 *
 * Each input is parsed twice: in memory by ntk_npy_parse (the path .npz members take) and from a
 * file by ntk_npy_read (slurp + parse).  Exercises the preamble (magic, versions 1.0/2.0/3.0, header
 * length), the header dict tokenizer (quoted strings, keys, True/False, shape tuples with
 * overflowing, negative or too many dimensions), every dtype (byte orders, kinds, sizes), the
 * count/byte-size overflow checks, truncated or trailing data and the C/Fortran conversion.
 * Both calls must agree, succeed with a consistent, fully readable array or fail with a message
 * naming the input. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ntk_array a, b;
    ntk_status sa = ntk_npy_parse(data, size, "fuzz", &a);
    fuzz_check_array(sa, &a, "fuzz");
    const char *path = fuzz_file(data, size, ".npy");
    ntk_status sb = ntk_npy_read(path, &b);
    fuzz_check_array(sb, &b, path);
    if ((sa == NTK_OK) != (sb == NTK_OK)) {
        fprintf(stderr, "fuzz: npy_parse and npy_read disagree (%d vs %d)\n", (int)sa, (int)sb);
        abort();
    }
    if (sa == NTK_OK && (a.count != b.count || a.ndim != b.ndim ||
                         memcmp(a.data, b.data, a.count * sizeof(double)) != 0)) {
        fprintf(stderr, "fuzz: npy_parse and npy_read read different arrays\n");
        abort();
    }
    ntk_array_clear(&a);
    ntk_array_clear(&b);
    return 0;
}
