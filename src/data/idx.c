/* idx.c -- IDX files (the MNIST container), raw or gzip-compressed, read
 * through zlib's gz* interface which handles both transparently.
 *
 * Layout: 0x00 0x00, a type byte, ndim; ndim big-endian uint32 dimensions;
 * then the data, C order.  Only type 0x08 (unsigned byte) is supported.  Bad
 * magic, unsupported types, absurd shapes, truncated or trailing data and
 * corrupt gzip streams are NTK_EFORMAT with a message naming the file. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_MAX_COUNT ((uint64_t)1 << 32)   /* elements */
#define IDX_CHUNK (1u << 30)                /* bytes per gzread call (fits in int) */
#define IDX_FIRST_ALLOC ((size_t)1 << 24)   /* bytes; doubled while the data lasts */

void ntk_idx_clear(ntk_idx *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* The stream's error after a short or failed read: NTK_OK when it simply ended. */
static ntk_status gz_status(gzFile gz, const char *path)
{
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (err == Z_OK) return NTK_OK;
    if (err == Z_ERRNO)
        return ntk_set_error(NTK_EIO, "%s: read error: %s", path, strerror(errno ? errno : EIO));
    if (err == Z_MEM_ERROR) return ntk_set_error(NTK_ENOMEM, "%s: zlib out of memory", path);
    if (!msg || !*msg) msg = "unknown zlib error";
    size_t n = strlen(path);   /* zlib prefixes the message with "path: " */
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    return ntk_set_error(NTK_EFORMAT, "%s: corrupt or truncated gzip stream: %s", path, msg);
}

/* Reads up to n bytes into buf; *got = bytes read.  Fails only on stream errors. */
static ntk_status read_some(gzFile gz, const char *path, void *buf, size_t n, size_t *got)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < IDX_CHUNK ? n - *got : IDX_CHUNK;
        int r = gzread(gz, p + *got, (unsigned)want);
        if (r > 0) *got += (size_t)r;
        if (r < 0 || (size_t)r < want) return gz_status(gz, path);
    }
    return NTK_OK;
}

static const char *type_name(int t)
{
    switch (t) {
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

/* Magic and dimensions; on success out->ndim, shape and count are set. */
static ntk_status read_header(gzFile gz, const char *path, ntk_idx *out)
{
    unsigned char m[4], d[16];
    size_t got;
    ntk_status st = read_some(gz, path, m, 4, &got);
    if (st != NTK_OK) return st;
    if (got < 4)
        return ntk_set_error(NTK_EFORMAT, "%s: truncated: %zu bytes is too short for an IDX "
                             "header", path, got);
    if (m[0] != 0 || m[1] != 0)
        return ntk_set_error(NTK_EFORMAT, "%s: not an IDX file (bad magic number 0x%02x%02x%02x"
                             "%02x; expected 0x0000TTDD)", path, m[0], m[1], m[2], m[3]);
    if (m[2] != 0x08)
        return ntk_set_error(NTK_EFORMAT, "%s: unsupported IDX data type 0x%02x (%s); only 0x08 "
                             "(unsigned byte) is supported", path, m[2], type_name(m[2]));
    if (m[3] < 1 || m[3] > 4)
        return ntk_set_error(NTK_EFORMAT, "%s: IDX header declares %d dimensions; 1..4 are "
                             "supported", path, m[3]);
    int ndim = m[3];
    if ((st = read_some(gz, path, d, 4 * (size_t)ndim, &got)) != NTK_OK) return st;
    if (got < 4 * (size_t)ndim)
        return ntk_set_error(NTK_EFORMAT, "%s: truncated: the IDX header needs %d dimension "
                             "fields, file ends after %zu bytes", path, ndim, 4 + got);
    uint64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        const unsigned char *b = d + 4 * i;
        uint64_t v = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
        out->shape[i] = (size_t)v;
        if (__builtin_mul_overflow(count, v, &count) || count > IDX_MAX_COUNT)
            return ntk_set_error(NTK_EFORMAT, "%s: IDX header declares more than 2^32 elements "
                                 "(dimension %d is %llu)", path, i, (unsigned long long)v);
    }
    out->ndim = ndim;
    out->count = (size_t)count;
    return NTK_OK;
}

/* Reads count bytes into a buffer grown as data arrives, so a short file that declares a huge
 * shape never costs more than twice its real size.  *buf: [count] on success. */
static ntk_status read_data(gzFile gz, const char *path, size_t count, unsigned char **buf)
{
    size_t cap = count < IDX_FIRST_ALLOC ? count : IDX_FIRST_ALLOC, got = 0;
    unsigned char *data = malloc(cap ? cap : 1);
    ntk_status st = data ? NTK_OK : ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes",
                                                  path, cap);
    while (st == NTK_OK) {
        size_t n;
        st = read_some(gz, path, data + got, cap - got, &n);
        got += n;
        if (st != NTK_OK || got < cap || cap == count) break;
        cap = count - cap < cap ? count : 2 * cap;
        unsigned char *d = realloc(data, cap);
        if (!d) st = ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes", path, cap);
        else data = d;
    }
    if (st == NTK_OK && got < count)
        st = ntk_set_error(NTK_EFORMAT, "%s: truncated: header declares %zu bytes, got %zu", path,
                           count, got);
    if (st != NTK_OK) {
        free(data);
        return st;
    }
    *buf = data;
    return NTK_OK;
}

static ntk_status read_body(gzFile gz, const char *path, ntk_idx *out)
{
    unsigned char *data = NULL, extra;
    size_t got;
    ntk_status st = read_data(gz, path, out->count, &data);
    if (st == NTK_OK) st = read_some(gz, path, &extra, 1, &got);   /* also checks the gzip CRC */
    if (st == NTK_OK && got > 0)
        st = ntk_set_error(NTK_EFORMAT, "%s: trailing data after the %zu bytes the header "
                           "declares", path, out->count);
    if (st != NTK_OK) {
        free(data);
        return st;
    }
    out->data = data;
    return NTK_OK;
}

ntk_status ntk_idx_read(const char *path, ntk_idx *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "idx_read: empty path");
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return ntk_set_error(errno == ENOMEM ? NTK_ENOMEM : NTK_EIO, "%s: cannot open: %s", path,
                             errno ? strerror(errno) : "gzopen failed");
    gzbuffer(gz, 1u << 18);
    ntk_status st = read_header(gz, path, out);
    if (st == NTK_OK) st = read_body(gz, path, out);
    gzclose(gz);
    if (st != NTK_OK) memset(out, 0, sizeof *out);
    return st;
}
