/* data_build.h -- helpers shared by the dataset builder's files (data_inputs.c, data_build.c,
 * matrix_read.c); not exported. */
#ifndef NTK_DATA_BUILD_H
#define NTK_DATA_BUILD_H

#include "ntkdrift.h"

/* Whether s ends with suf. */
int data_ends_with(const char *s, const char *suf);
/* Sets the thread's message to prefix + the current message; returns st. */
ntk_status data_prefix_error(ntk_status st, const char *prefix);
/* Whether s is one of the circle kinds with their own points (circle, circle-pos, circle-uniform). */
int data_is_circle(const char *s);
/* Whether s is gaussian, gaussian-raw or sphere (points drawn row by row). */
int data_is_drawn(const char *s);

#endif
