/* npy_image.h -- internal to npy.c and npz.c: the .npy header writer. */
#ifndef NTK_NPY_IMAGE_H
#define NTK_NPY_IMAGE_H

#include "ntkdrift.h"

#include <stddef.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64
/* Bound on a version 1.0 header we write (preamble + padded dict of at most
 * ~60 + 8 * 22 characters). */
#define NPY_HEADER_MAX 512

/* Checks the arguments and builds the version 1.0 header (preamble, dict,
 * padding to NPY_ALIGN) of an array whose data follows it unchanged.
 * hdr: [NPY_HEADER_MAX]; *hdr_len: bytes of header; *nbytes: bytes of data.
 * `what` names the file or member in errors (NTK_EINVAL). */
ntk_status npy_header(const char *what, ntk_dtype type, int ndim, const size_t *shape,
                      const void *data, unsigned char *hdr, size_t *hdr_len, size_t *nbytes);

#endif /* NTK_NPY_IMAGE_H */
