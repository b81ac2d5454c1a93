/* fsutil.h -- internal: atomic file writes shared by the writers of every format, and the two
 * file-system helpers of the run directories.  Not part of the public API (not exported by the
 * shared library); the CLI, which links the static library, includes this header for them. */
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

/* Write `len` bytes to path atomically (temp file in the same directory, fsync, rename). */
ntk_status ntk_write_file_atomic(const char *path, const void *data, size_t len);
/* mkdir -p; NTK_EIO with a message on failure. */
ntk_status ntk_mkdir_p(const char *path);

#endif
