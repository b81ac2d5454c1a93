/* npz.c -- .npz archives via libzip (members streamed from the caller's
 * arrays at close, never copied). */
#include "fsutil.h"
#include "ntk_private.h"
#include "npy_image.h"
#include "npz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#define NPZ_MAX_MEMBER ((zip_uint64_t)1 << 40)
#define NPZ_FIRST_ALLOC ((size_t)1 << 24)   /* bytes; doubled while an unbounded member's data lasts */

/* ============================================================ .npz writer */

struct ntk_npz_writer {
    zip_t *za;
    char *path;   /* final name */
    char *tmp;    /* "<path>.tmp.<pid>.<n>" */
};

/* One member's bytes for libzip: our .npy header, then the caller's array,
 * read in place when zip_close writes the archive. */
typedef struct {
    const unsigned char *data;   /* caller's array, [nbytes]; not owned */
    size_t nbytes, hlen, pos;    /* pos: next byte of header + data */
    time_t mtime;
    zip_error_t error;
    unsigned char hdr[];         /* [hlen] */
} member_src;

static zip_int64_t member_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    member_src *m = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        m->pos = 0;
        return 0;
    case ZIP_SOURCE_READ: {
        unsigned char *out = data;
        size_t left = m->hlen + m->nbytes - m->pos, n = len < left ? (size_t)len : left, h = 0;
        if (m->pos < m->hlen) {
            h = m->hlen - m->pos < n ? m->hlen - m->pos : n;
            memcpy(out, m->hdr + m->pos, h);
        }
        if (n > h) memcpy(out + h, m->data + (m->pos + h - m->hlen), n - h);
        m->pos += n;
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &m->error);
        if (!st) return -1;
        /* Size only: libzip computes the CRC; the method is set to STORE by ntk_npz_add. */
        zip_stat_init(st);
        st->size = m->hlen + m->nbytes;
        st->mtime = m->mtime;
        st->valid |= ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        return (zip_int64_t)sizeof *st;
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&m->error, data, len);
    case ZIP_SOURCE_FREE:
        zip_error_fini(&m->error);
        free(m);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              ZIP_SOURCE_SUPPORTS, -1);
    default:
        zip_error_set(&m->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

static void writer_free(ntk_npz_writer *w)
{
    free(w->path);
    free(w->tmp);
    free(w);
}

/* Sets "<path>: <doing>: <libzip's message for code>" with status st. */
static ntk_status zip_code_err(ntk_status st, int code, const char *path, const char *doing)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    st = ntk_set_error(st, "%s: %s: %s", path, doing, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return st;
}

ntk_status ntk_npz_open(const char *path, ntk_npz_writer **out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "npz_open: out is NULL");
    *out = NULL;
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "npz_open: empty path");
    ntk_npz_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path)) || !(w->tmp = fs_temp_name(path))) {
        if (w) writer_free(w);
        return ntk_set_error(NTK_ENOMEM, "%s: out of memory", path);
    }
    /* Create the temp now: an unwritable directory is reported here, and
     * libzip keeps this file's (umask-respecting) permissions. */
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666), zerr = 0;
    ntk_status st = NTK_OK;
    if (fd < 0 || close(fd) != 0)
        st = ntk_set_error(NTK_EIO, "%s: cannot create temp file '%s': %s", path, w->tmp,
                           strerror(errno));
    else if (!(w->za = zip_open(w->tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr)))
        st = zip_code_err(NTK_EIO, zerr, path, "cannot create zip archive");
    if (st != NTK_OK) {
        if (fd >= 0) (void)remove(w->tmp);
        writer_free(w);
        return st;
    }
    *out = w;
    return NTK_OK;
}

/* shape: [ndim]; data: [prod(shape)] elements of `type`, read at close: not copied. */
ntk_status ntk_npz_add(ntk_npz_writer *w, const char *name, ntk_dtype type, int ndim,
                       const size_t *shape, const void *data)
{
    if (!w) return ntk_set_error(NTK_EINVAL, "npz_add: writer is NULL");
    if (!name || !*name)
        return ntk_set_error(NTK_EINVAL, "%s: npz_add: empty member name", w->path);
    char member[512], what[4608];
    if ((size_t)snprintf(member, sizeof member, "%s.npy", name) >= sizeof member)
        return ntk_set_error(NTK_EINVAL, "%s: member name too long: '%s'", w->path, name);
    snprintf(what, sizeof what, "%s:%s", w->path, member);
    unsigned char hdr[NPY_HEADER_MAX];
    size_t hlen = 0, nbytes = 0;
    ntk_status st = npy_header(what, type, ndim, shape, data, hdr, &hlen, &nbytes);
    if (st != NTK_OK) return st;
    member_src *m = malloc(sizeof *m + hlen);
    if (!m) return ntk_set_error(NTK_ENOMEM, "%s: out of memory", what);
    /* a fixed timestamp: the same arrays give byte-identical archives (reproducible runs) */
    *m = (member_src){.data = data, .nbytes = nbytes, .hlen = hlen, .mtime = (time_t)1000000000};
    zip_error_init(&m->error);
    memcpy(m->hdr, hdr, hlen);
    zip_source_t *src = zip_source_function(w->za, member_cb, m);   /* frees m from here */
    if (!src) {
        zip_error_fini(&m->error);
        free(m);
        return ntk_set_error(NTK_ENOMEM, "%s: %s", what, zip_strerror(w->za));
    }
    zip_int64_t idx = zip_file_add(w->za, member, src, 0);
    if (idx < 0) {
        int dup = zip_error_code_zip(zip_get_error(w->za)) == ZIP_ER_EXISTS;
        st = ntk_set_error(NTK_EINVAL, "%s: cannot add member: %s", what,
                           dup ? "duplicate member name" : zip_strerror(w->za));
        zip_source_free(src);
        return st;
    }
    if (zip_set_file_compression(w->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return ntk_set_error(NTK_EIO, "%s: cannot select stored compression: %s", what,
                             zip_strerror(w->za));
    return NTK_OK;
}

void ntk_npz_abort(ntk_npz_writer *w)
{
    if (!w) return;
    zip_discard(w->za);
    (void)remove(w->tmp);
    writer_free(w);
}

ntk_status ntk_npz_close(ntk_npz_writer *w)
{
    if (!w) return ntk_set_error(NTK_EINVAL, "npz_close: writer is NULL");
    zip_int64_t members = zip_get_num_entries(w->za, 0);
    ntk_status st = NTK_OK;
    int fd = -1;
    if (zip_close(w->za) != 0) {
        st = ntk_set_error(NTK_EIO, "%s: cannot write zip archive '%s': %s", w->path, w->tmp,
                           zip_strerror(w->za));
        zip_discard(w->za);
    } else if (members <= 0) {
        /* libzip writes no file for an empty archive; numpy accepts a bare end record. */
        static const unsigned char eocd[22] = {'P', 'K', 5, 6};
        (void)remove(w->tmp);
        st = fs_write_atomic(w->path, eocd, sizeof eocd, NULL, 0);
    } else if ((fd = open(w->tmp, O_RDONLY)) < 0 || fsync(fd) != 0) {
        st = ntk_set_error(NTK_EIO, "%s: cannot fsync temp file '%s': %s", w->path, w->tmp,
                           strerror(errno));
    } else if (rename(w->tmp, w->path) != 0) {
        st = ntk_set_error(NTK_EIO, "%s: cannot rename temp file '%s' into place: %s", w->path,
                           w->tmp, strerror(errno));
    }
    if (fd >= 0) close(fd);
    if (st != NTK_OK) (void)remove(w->tmp);
    writer_free(w);
    return st;
}

/* ============================================================ .npz reader */

/* Opens an existing archive read-only with a precise error; *fsize: the archive's bytes. */
static ntk_status npz_open_read(const char *path, zip_t **za, zip_uint64_t *fsize)
{
    struct stat sb;
    int zerr = 0;
    if (stat(path, &sb) != 0)
        return ntk_set_error(NTK_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return ntk_set_error(NTK_EIO, "%s: not a regular file", path);
    if (sb.st_size == 0)
        return ntk_set_error(NTK_EFORMAT, "%s: not a zip archive (empty file)", path);
    *fsize = (zip_uint64_t)sb.st_size;
    if ((*za = zip_open(path, ZIP_RDONLY, &zerr))) return NTK_OK;
    if (zerr == ZIP_ER_NOZIP)
        return ntk_set_error(NTK_EFORMAT, "%s: not a zip archive, or truncated (.npz expected)",
                             path);
    if (zerr == ZIP_ER_MEMORY) return zip_code_err(NTK_ENOMEM, zerr, path, "cannot open");
    if (zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ || zerr == ZIP_ER_SEEK || zerr == ZIP_ER_NOENT)
        return zip_code_err(NTK_EIO, zerr, path, "cannot open");
    return zip_code_err(NTK_EFORMAT, zerr, path, "bad zip archive");
}

/* Reads member idx of an archive of fsize bytes fully into *buf ([*len], malloc'ed); what names it. */
static ntk_status npz_slurp(zip_t *za, zip_int64_t idx, zip_uint64_t fsize, const char *what,
                            unsigned char **buf, size_t *len)
{
    zip_stat_t zs;
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE))
        return ntk_set_error(NTK_EFORMAT, "%s: cannot stat member: %s", what, zip_strerror(za));
    if (zs.size > NPZ_MAX_MEMBER || zs.size >= SIZE_MAX)
        return ntk_set_error(NTK_EFORMAT, "%s: member declares %ju bytes, over the %ju limit",
                             what, (uintmax_t)zs.size, (uintmax_t)NPZ_MAX_MEMBER);
    if ((zs.valid & ZIP_STAT_COMP_SIZE) && zs.comp_size > fsize)
        return ntk_set_error(NTK_EFORMAT, "%s: member declares %ju compressed bytes, more than the "
                             "%ju-byte archive holds", what, (uintmax_t)zs.comp_size, (uintmax_t)fsize);
    /* Deflate expands at most ~1032:1; a larger claim is a lie, not a big array. */
    if ((zs.valid & ZIP_STAT_COMP_SIZE) && (zs.valid & ZIP_STAT_COMP_METHOD) &&
        ((zs.comp_method == ZIP_CM_STORE && zs.size != zs.comp_size) ||
         (zs.comp_method == ZIP_CM_DEFLATE && zs.size / 1100 > zs.comp_size)))
        return ntk_set_error(NTK_EFORMAT, "%s: member sizes are inconsistent (%ju bytes from "
                             "%ju compressed)", what, (uintmax_t)zs.size, (uintmax_t)zs.comp_size);
    /* Stored and deflated sizes are bounded by the archive's size (checked above); other
     * methods' are not, so their buffer grows as data arrives rather than trusting the claim. */
    int bounded = (zs.valid & ZIP_STAT_COMP_SIZE) && (zs.valid & ZIP_STAT_COMP_METHOD) &&
                  (zs.comp_method == ZIP_CM_STORE || zs.comp_method == ZIP_CM_DEFLATE);
    size_t size = (size_t)zs.size, got = 0;
    size_t cap = bounded || size < NPZ_FIRST_ALLOC ? size + 1 : NPZ_FIRST_ALLOC;
    unsigned char *b = malloc(cap);
    if (!b) return ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes", what, cap);
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    ntk_status st = zf ? NTK_OK : ntk_set_error(NTK_EFORMAT, "%s: cannot open member: %s", what,
                                                zip_strerror(za));
    /* Read to EOF (one byte of slack notices excess data): the CRC is checked there. */
    zip_int64_t n = 1;
    while (st == NTK_OK && n > 0 && got <= size) {
        if (got == cap) {
            unsigned char *nb = realloc(b, cap = size + 1 - cap < cap ? size + 1 : 2 * cap);
            if (!nb) {
                st = ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes", what, cap);
                break;
            }
            b = nb;
        }
        if ((n = zip_fread(zf, b + got, cap - got)) < 0)
            st = ntk_set_error(NTK_EFORMAT, "%s: cannot read member: %s", what,
                               zip_file_strerror(zf));
        else
            got += (size_t)n;
    }
    if (st == NTK_OK && got != size)
        st = ntk_set_error(NTK_EFORMAT, "%s: member holds %s than its declared %zu bytes", what,
                           got < size ? "fewer" : "more", size);
    if (zf) zip_fclose(zf);
    if (st != NTK_OK) {
        free(b);
        return st;
    }
    *buf = b;
    *len = size;
    return NTK_OK;
}

/* The index of member `name` in za, or -1: "K" finds K.npy, then K; "K.npy" finds K.npy.
 * member: [cap], receives the member's name in the archive. */
static zip_int64_t npz_locate(zip_t *za, const char *name, char *member, size_t cap)
{
    size_t n = strlen(name);
    zip_int64_t idx = -1;
    if ((n < 4 || strcmp(name + n - 4, ".npy") != 0) && (size_t)snprintf(member, cap, "%s.npy", name) < cap)
        idx = zip_name_locate(za, member, 0);
    if (idx < 0 && (idx = zip_name_locate(za, name, 0)) >= 0) snprintf(member, cap, "%s", name);
    return idx;
}

ntk_status npz_has_member(const char *path, const char *name, bool *found)
{
    if (!path || !*path || !name || !*name || !found)
        return ntk_set_error(NTK_EINVAL, "npz_has_member: empty path, member name or output");
    *found = false;
    zip_t *za;
    zip_uint64_t fsize = 0;
    ntk_status st = npz_open_read(path, &za, &fsize);
    if (st != NTK_OK) return st;
    char member[512];
    *found = npz_locate(za, name, member, sizeof member) >= 0;
    zip_discard(za);
    return NTK_OK;
}

ntk_status ntk_npz_read(const char *path, const char *name, ntk_array *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "npz_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "npz_read: empty path");
    if (!name || !*name) return ntk_set_error(NTK_EINVAL, "%s: npz_read: empty member name", path);
    zip_t *za;
    zip_uint64_t fsize = 0;
    ntk_status st = npz_open_read(path, &za, &fsize);
    if (st != NTK_OK) return st;
    char member[512], what[4608];
    zip_int64_t idx = npz_locate(za, name, member, sizeof member);
    if (idx < 0) {
        st = ntk_set_error(NTK_EFORMAT, "%s: no member '%s' (archive has %jd members)", path, name,
                           (intmax_t)zip_get_num_entries(za, 0));
    } else {
        unsigned char *buf = NULL;
        size_t len = 0;
        snprintf(what, sizeof what, "%s:%s", path, member);
        if ((st = npz_slurp(za, idx, fsize, what, &buf, &len)) == NTK_OK) {
            st = ntk_npy_parse(buf, len, what, out);
            free(buf);
        }
    }
    zip_discard(za);
    return st;
}
