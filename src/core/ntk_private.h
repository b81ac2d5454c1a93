/* ntk_private.h -- library-internal and test-only functions with the ntk_ prefix that are not part
 * of the public header: the error setter every module uses, and the reference Jacobian the tests
 * check the structured kernel against.  The shared library does not export them
 * (cmake/ntkdrift.map). */
#ifndef NTK_PRIVATE_H
#define NTK_PRIVATE_H

#include "ntkdrift.h"

/* Set the thread's error message (printf-style); returns s for chaining. */
ntk_status ntk_set_error(ntk_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reference: materialised Jacobian J: [N*k x P] and K = J J^T (float64; tests
 * only, O(N^2 P)).  K: [N*k x N*k]. */
ntk_status ntk_jacobian(ntk_net *net, size_t N, const double *X, double *J);
ntk_status ntk_kernel_jacobian_ref(ntk_net *net, size_t N, const double *X, double *K);

#endif
