/* fsutil.h -- internal: atomic file writes shared by the writers of every format. */
#ifndef NTK_FSUTIL_H
#define NTK_FSUTIL_H

#include "ntkdrift.h"

/* "<path>.tmp.<pid>.<n>" (malloc'ed; NULL when out of memory), n from a
 * process-wide atomic counter: unique across threads and calls. */
char *fs_temp_name(const char *path);

/* Writes head[hlen] then body[blen] to a fresh temp file next to path, fsyncs
 * and renames it into place (then syncs the directory, best effort).  Either
 * part may be NULL when its length is 0.  On failure nothing is left behind. */
ntk_status fs_write_atomic(const char *path, const void *head, size_t hlen, const void *body, size_t blen);

#endif
