/* test_version.c -- the version block of include/ntkdrift.h agrees with itself, with CMake's project
 * version and with the library: NTK_VERSION_STRING is "MAJOR.MINOR.PATCH" made of the three macros,
 * CMakeLists.txt read the same numbers (NTK_CMAKE_VERSION, passed at compile time), and
 * ntk_version() -- linked from libntkdrift.so -- returns the same string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ntkdrift.h"

static void from_macros(char *buf, size_t cap)
{
    snprintf(buf, cap, "%d.%d.%d", NTK_VERSION_MAJOR, NTK_VERSION_MINOR, NTK_VERSION_PATCH);
}

static void test_string_is_the_numbers(void **state)
{
    (void)state;
    char v[64];
    from_macros(v, sizeof v);
    assert_string_equal(NTK_VERSION_STRING, v);
}

static void test_library_returns_it(void **state)
{
    (void)state;
    char v[64];
    from_macros(v, sizeof v);
    assert_non_null(ntk_version());
    assert_string_equal(ntk_version(), v);
}

static void test_cmake_read_the_same(void **state)
{
    (void)state;
    char v[64];
    from_macros(v, sizeof v);
    assert_string_equal(NTK_CMAKE_VERSION, v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_is_the_numbers),
        cmocka_unit_test(test_library_returns_it),
        cmocka_unit_test(test_cmake_read_the_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
