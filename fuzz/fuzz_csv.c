/* fuzz_csv.c -- the numeric CSV reader (src/data/csv.c).
 *
 * Exercises line splitting (LF / CRLF, a UTF-8 BOM, NUL bytes, very long lines), comment and
 * blank lines, header detection, field trimming and strtod (hex floats, NaN/Inf text, empty
 * fields), ragged rows and the growth of the value buffer.  A successful read must be a 2-D
 * [rows x cols] array of finite values. */
#include <math.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, ".csv");
    ntk_array a;
    ntk_status st = ntk_csv_read(path, &a);
    fuzz_check_array(st, &a, path);
    if (st == NTK_OK) {
        if (a.ndim != 2 || a.shape[0] == 0 || a.shape[1] == 0) {
            fprintf(stderr, "fuzz: csv_read returned an empty or non-2-D array\n");
            abort();
        }
        for (size_t i = 0; i < a.count; i++)
            if (!isfinite(a.data[i])) {
                fprintf(stderr, "fuzz: csv_read returned a non-finite value\n");
                abort();
            }
    }
    ntk_array_clear(&a);
    return 0;
}
