/* fuzz_npz.c -- the .npz reader (src/io/npz.c on libzip, then src/io/npy.c per member).
 *
 * The input is an archive; members "X", "K", "theta" and "K.npy" are looked up (name resolution
 * with and without the ".npy" suffix) and read.  Exercises the open-time checks (empty file,
 * not a zip, libzip's errors), the member size checks (declared vs compressed sizes, the 2^40
 * limit, stored vs deflated), reading to EOF with the CRC check, short or long members, and the
 * .npy parse of whatever the member holds. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"X", "K", "theta", "K.npy"};
    const char *path = fuzz_file(data, size, ".npz");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ntk_array a;
        ntk_status st = ntk_npz_read(path, names[i], &a);
        fuzz_check_array(st, &a, path);
        ntk_array_clear(&a);
    }
    return 0;
}
