/* npy_stream.c -- a .npy written in pieces, for arrays larger than memory (the tiled kernel).
 * The whole file is reserved when it is opened, so a disk that cannot hold it fails before any
 * work is done; it is written as NAME.partial and renamed into place only when complete, and a
 * killed run can reopen the .partial and go on. */
#include "npy_image.h"
#include "ntk_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ntk_npy_stream {
    char *path, *tmp;
    int fd;
    size_t elem, count, data_off; /* bytes per element, elements, header bytes */
};

static const size_t elem_size[] = {[NTK_F64] = 8, [NTK_F32] = 4, [NTK_I64] = 8,
                                   [NTK_I32] = 4, [NTK_U8] = 1};

static void stream_free(ntk_npy_stream *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    free(s->path);
    free(s->tmp);
    free(s);
}

/* Write all of buf at off, retrying short writes. */
static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

/* The reopened .partial must hold exactly this header and be of the full size. */
static ntk_status check_partial(ntk_npy_stream *s, const unsigned char *hdr, size_t hlen, size_t nbytes)
{
    unsigned char old[NPY_HEADER_MAX];
    struct stat sb;
    if (fstat(s->fd, &sb) != 0 || (size_t)sb.st_size != hlen + nbytes || pread(s->fd, old, hlen, 0) != (ssize_t)hlen ||
        memcmp(old, hdr, hlen) != 0)
        return ntk_set_error(NTK_EFORMAT, "%s: does not match this run (another shape, type or a damaged file)",
                             s->tmp);
    return NTK_OK;
}

ntk_status ntk_npy_stream_open(const char *path, ntk_dtype type, int ndim, const size_t *shape, int resume,
                               ntk_npy_stream **out)
{
    *out = NULL;
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "npy stream: empty path");
    unsigned char hdr[NPY_HEADER_MAX];
    size_t hlen = 0, nbytes = 0;
    static const char dummy = 0; /* the header writer checks data != NULL; no data is read */
    ntk_status st = npy_header(path, type, ndim, shape, &dummy, hdr, &hlen, &nbytes);
    if (st != NTK_OK) return st;
    ntk_npy_stream *s = calloc(1, sizeof *s);
    if (!s) return ntk_set_error(NTK_ENOMEM, "%s: out of memory", path);
    s->fd = -1;
    s->path = strdup(path);
    size_t plen = strlen(path) + sizeof ".partial";
    s->tmp = malloc(plen);
    if (s->tmp) snprintf(s->tmp, plen, "%s.partial", path);
    s->elem = elem_size[type];
    s->count = nbytes / s->elem;
    s->data_off = hlen;
    if (!s->path || !s->tmp) {
        stream_free(s);
        return ntk_set_error(NTK_ENOMEM, "%s: out of memory", path);
    }
    s->fd = open(s->tmp, resume ? O_RDWR | O_CLOEXEC : O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        st = ntk_set_error(NTK_EIO, "%s: cannot %s '%s': %s", path, resume ? "reopen" : "create", s->tmp,
                           strerror(errno));
        stream_free(s);
        return st;
    }
    if (resume) {
        if ((st = check_partial(s, hdr, hlen, nbytes)) != NTK_OK) {
            stream_free(s);
            return st;
        }
        *out = s;
        return NTK_OK;
    }
    int err = posix_fallocate(s->fd, 0, (off_t)(hlen + nbytes));
    if (err == EOPNOTSUPP || err == EINVAL) err = 0; /* file system without reservations: writes will tell */
    if (err == 0 && pwrite_all(s->fd, hdr, hlen, 0) != 0) err = errno;
    if (err) {
        st = ntk_set_error(NTK_EIO, "%s: cannot reserve %.3g GB for the file: %s", path,
                           (double)(hlen + nbytes) / 1e9, strerror(err));
        ntk_npy_stream_abort(s);
        return st;
    }
    *out = s;
    return NTK_OK;
}

ntk_status ntk_npy_stream_write(ntk_npy_stream *s, size_t offset, const void *data, size_t count)
{
    if (offset > s->count || count > s->count - offset)
        return ntk_set_error(NTK_EINVAL, "%s: piece [%zu, %zu) outside the array's %zu elements", s->path,
                             offset, offset + count, s->count);
    if (pwrite_all(s->fd, data, count * s->elem, (off_t)(s->data_off + offset * s->elem)) != 0)
        return ntk_set_error(NTK_EIO, "%s: write of %zu bytes failed: %s", s->path, count * s->elem,
                             strerror(errno));
    return NTK_OK;
}

ntk_status ntk_npy_stream_sync(ntk_npy_stream *s)
{
    if (fdatasync(s->fd) != 0) return ntk_set_error(NTK_EIO, "%s: fdatasync failed: %s", s->path, strerror(errno));
    return NTK_OK;
}

ntk_status ntk_npy_stream_close(ntk_npy_stream *s)
{
    ntk_status st = NTK_OK;
    if (fsync(s->fd) != 0)
        st = ntk_set_error(NTK_EIO, "%s: fsync failed: %s", s->path, strerror(errno));
    else if (close(s->fd) != 0)
        st = ntk_set_error(NTK_EIO, "%s: close failed: %s", s->path, strerror(errno));
    s->fd = -1;
    if (st == NTK_OK && rename(s->tmp, s->path) != 0)
        st = ntk_set_error(NTK_EIO, "%s: cannot rename temp file '%s' into place: %s", s->path, s->tmp,
                           strerror(errno));
    if (st != NTK_OK) (void)remove(s->tmp);
    stream_free(s);
    return st;
}

void ntk_npy_stream_release(ntk_npy_stream *s)
{
    stream_free(s); /* closes the descriptor; the .partial stays */
}

void ntk_npy_stream_abort(ntk_npy_stream *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    (void)remove(s->tmp);
    stream_free(s);
}
