/* npy.c -- .npy arrays: header writer, streaming atomic write, hardened parse.
 * The .npz side (libzip) and the atomic-write helper live in npz.c. */
#include "fsutil.h"
#include "ntk_private.h"
#include "npy_image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NATIVE_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

void ntk_array_clear(ntk_array *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ================================================================ writing */

/* Kind and size of each ntk_dtype; byte order is the host's. */
static const struct { char kind; size_t size; } write_types[] = {
    [NTK_F64] = {'f', 8}, [NTK_F32] = {'f', 4}, [NTK_I64] = {'i', 8},
    [NTK_I32] = {'i', 4}, [NTK_U8] = {'u', 1},
};

/* Checks the writer's arguments; *nbytes = bytes of data.  shape: [ndim]. */
static ntk_status check_write(const char *what, ntk_dtype type, int ndim, const size_t *shape,
                              const void *data, size_t *nbytes)
{
    if ((unsigned)type > (unsigned)NTK_U8)
        return ntk_set_error(NTK_EINVAL, "%s: unknown npy type %d", what, (int)type);
    if (ndim < 0 || ndim > NTK_NPY_MAX_DIM)
        return ntk_set_error(NTK_EINVAL, "%s: ndim %d outside 0..%d", what, ndim, NTK_NPY_MAX_DIM);
    if (ndim > 0 && !shape) return ntk_set_error(NTK_EINVAL, "%s: shape is NULL", what);
    size_t n = write_types[type].size;
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(n, shape[d], &n))
            return ntk_set_error(NTK_EINVAL, "%s: array size overflows size_t", what);
    if (n > 0 && !data) return ntk_set_error(NTK_EINVAL, "%s: data is NULL", what);
    *nbytes = n;
    return NTK_OK;
}

/* hdr: [NPY_HEADER_MAX]; see npy_image.h. */
ntk_status npy_header(const char *what, ntk_dtype type, int ndim, const size_t *shape,
                      const void *data, unsigned char *hdr, size_t *hdr_len, size_t *nbytes)
{
    ntk_status st = check_write(what, type, ndim, shape, data, nbytes);
    if (st != NTK_OK) return st;
    char dict[NPY_HEADER_MAX];   /* at most ~60 + 8 * 22 characters */
    int n = snprintf(dict, sizeof dict, "{'descr': '%c%c%zu', 'fortran_order': False, 'shape': (",
                     write_types[type].size == 1 ? '|' : NATIVE_LE ? '<' : '>',
                     write_types[type].kind, write_types[type].size);
    for (int d = 0; d < ndim; d++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, d ? ", %zu" : "%zu", shape[d]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t pre = NPY_MAGIC_LEN + 4, hlen = (size_t)n + 1;   /* + '\n' */
    hlen += (NPY_ALIGN - (pre + hlen) % NPY_ALIGN) % NPY_ALIGN;
    size_t total;
    if (pre + hlen > NPY_HEADER_MAX || __builtin_add_overflow(pre + hlen, *nbytes, &total))
        return ntk_set_error(NTK_EINVAL, "%s: array size overflows size_t", what);
    memcpy(hdr, NPY_MAGIC, NPY_MAGIC_LEN);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (unsigned char)(hlen & 0xff);
    hdr[9] = (unsigned char)(hlen >> 8);
    memcpy(hdr + pre, dict, (size_t)n);
    memset(hdr + pre + n, ' ', hlen - (size_t)n - 1);
    hdr[pre + hlen - 1] = '\n';
    *hdr_len = pre + hlen;
    return NTK_OK;
}

/* shape: [ndim]; data: [prod(shape)] elements of `type`, written in place (not copied). */
ntk_status ntk_npy_write(const char *path, ntk_dtype type, int ndim, const size_t *shape,
                         const void *data)
{
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "npy_write: empty path");
    unsigned char hdr[NPY_HEADER_MAX];
    size_t hlen = 0, nbytes = 0;
    ntk_status st = npy_header(path, type, ndim, shape, data, hdr, &hlen, &nbytes);
    if (st != NTK_OK) return st;
    return fs_write_atomic(path, hdr, hlen, data, nbytes);
}

/* ================================================================ parsing */

typedef struct {
    char kind;     /* 'f', 'i', 'u' or 'b' */
    size_t size;   /* bytes per element */
    int swap;      /* stored in the non-native byte order */
} npy_dtype;

typedef struct {
    const char *p, *end;
    const char *what;
} cursor;

static ntk_status hdr_err(const cursor *c, const char *problem)
{
    return ntk_set_error(NTK_EFORMAT, "%s: malformed .npy header: %s", c->what, problem);
}

/* Skips whitespace; then consumes `word` if it comes next. */
static int accept_word(cursor *c, const char *word)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
    c->p += n;
    return 1;
}

static int accept(cursor *c, char ch) { return accept_word(c, (char[2]){ch, '\0'}); }

/* A '...' or "..." literal without escapes into out[cap]. */
static ntk_status parse_str(cursor *c, char *out, size_t cap)
{
    char q = accept(c, '\'') ? '\'' : accept(c, '"') ? '"' : 0;
    if (!q) return hdr_err(c, "expected a quoted string");
    size_t n = 0;
    /* Printable ASCII only: the text may be echoed into one-line error messages. */
    while (c->p < c->end && *c->p != q && *c->p != '\\' && *c->p >= ' ' && *c->p <= '~' &&
           n + 1 < cap)
        out[n++] = *c->p++;
    if (c->p >= c->end || *c->p != q)
        return hdr_err(c, "unterminated, escaped, non-ASCII or overlong string");
    c->p++;
    out[n] = '\0';
    return NTK_OK;
}

/* One non-negative decimal dimension (Python 2 'L' suffix allowed). */
static ntk_status parse_dim(cursor *c, size_t *out)
{
    if (accept(c, '-'))
        return ntk_set_error(NTK_EFORMAT, "%s: negative dimension in shape", c->what);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return hdr_err(c, "shape must be a tuple of non-negative integers");
    size_t v = 0;
    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++)
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (size_t)(*c->p - '0'), &v))
            return ntk_set_error(NTK_EFORMAT, "%s: shape dimension does not fit in size_t",
                                 c->what);
    if (c->p < c->end && *c->p == 'L') c->p++;
    *out = v;
    return NTK_OK;
}

/* '(' [dim (',' dim)* [',']] ')' -> ndim, shape[NTK_NPY_MAX_DIM]. */
static ntk_status parse_shape(cursor *c, int *ndim, size_t *shape)
{
    if (!accept(c, '(')) return hdr_err(c, "'shape' must be a tuple");
    int n = 0, comma = 0;
    while (!accept(c, ')')) {
        if (n > 0 && !comma) return hdr_err(c, "expected ',' or ')' in shape");
        if (n == NTK_NPY_MAX_DIM)
            return ntk_set_error(NTK_EFORMAT, "%s: shape has more than %d dimensions", c->what,
                                 NTK_NPY_MAX_DIM);
        ntk_status st = parse_dim(c, &shape[n++]);
        if (st != NTK_OK) return st;
        comma = accept(c, ',');
    }
    if (n == 1 && !comma) return hdr_err(c, "1-d shape lacks its trailing comma, e.g. (3,)");
    *ndim = n;
    return NTK_OK;
}

/* Interprets a descr such as '<f8' or '>u2'. */
static ntk_status parse_descr(const char *what, const char *s, npy_dtype *dt)
{
    const char *t = s;
    int big = !NATIVE_LE;
    if (*t == '<' || *t == '>') big = *t++ == '>';
    else if (*t == '|' || *t == '=') t++;
    char kind = *t ? *t++ : '\0';
    size_t size = 0;
    int digits = 0;
    while (*t >= '0' && *t <= '9' && digits < 3) size = size * 10 + (size_t)(*t++ - '0'), digits++;
    int pow2 = size == 1 || size == 2 || size == 4 || size == 8;
    int ok = !*t && digits > 0 &&
             (((kind == 'i' || kind == 'u') && pow2) || (kind == 'f' && (size == 4 || size == 8)) ||
              (kind == 'b' && size == 1));
    if (!ok)
        return ntk_set_error(NTK_EFORMAT, "%s: unsupported dtype '%s' (supported: f8 f4 i8 i4 i2 "
                             "i1 u8 u4 u2 u1 b1, either byte order)", what, s);
    dt->kind = kind;
    dt->size = size;
    dt->swap = size > 1 && big == NATIVE_LE;
    return NTK_OK;
}

/* Parses the header dict text[len] into dtype, order and shape. */
static ntk_status parse_header(const char *what, const char *text, size_t len, npy_dtype *dt,
                               int *fortran, int *ndim, size_t *shape)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    cursor c = {text, text + len, what};
    int seen[3] = {0, 0, 0};
    char key[32], descr[64], msg[96];
    ntk_status st = NTK_OK;
    if (!accept(&c, '{')) return hdr_err(&c, "does not start with '{'");
    while (!accept(&c, '}')) {
        if ((st = parse_str(&c, key, sizeof key)) != NTK_OK) return st;
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]) != 0) k++;
        if (k == 3 || seen[k]) {
            snprintf(msg, sizeof msg, "%s key '%s'", k == 3 ? "unexpected" : "duplicate", key);
            return hdr_err(&c, msg);
        }
        seen[k] = 1;
        if (!accept(&c, ':')) return hdr_err(&c, "expected ':' after a key");
        if (k == 0 && accept(&c, '['))
            return ntk_set_error(NTK_EFORMAT, "%s: unsupported dtype: structured arrays are not "
                                 "supported", what);
        if (k == 1 && !(*fortran = accept_word(&c, "True")) && !accept_word(&c, "False"))
            return hdr_err(&c, "'fortran_order' must be True or False");
        if (k == 0) st = parse_str(&c, descr, sizeof descr);
        if (k == 2) st = parse_shape(&c, ndim, shape);
        if (st != NTK_OK) return st;
        if (!accept(&c, ',')) {
            if (!accept(&c, '}')) return hdr_err(&c, "expected ',' or '}' in the dict");
            break;
        }
    }
    for (int k = 0; k < 3; k++)
        if (!seen[k]) {
            snprintf(msg, sizeof msg, "missing key '%s'", keys[k]);
            return hdr_err(&c, msg);
        }
    accept_word(&c, "");   /* skips the padding */
    if (c.p != c.end) return hdr_err(&c, "unexpected text after the dict");
    return parse_descr(what, descr, dt);
}

static double load_elem(const unsigned char *p, const npy_dtype *dt)
{
    unsigned char b[8];
    for (size_t i = 0; i < dt->size; i++) b[i] = dt->swap ? p[dt->size - 1 - i] : p[i];
    union { float f4; double f8; int8_t i1; int16_t i2; int32_t i4; int64_t i8;
            uint8_t u1; uint16_t u2; uint32_t u4; uint64_t u8; } v;
    memcpy(&v, b, dt->size);
    switch (dt->kind) {
    case 'f': return dt->size == 4 ? (double)v.f4 : v.f8;
    case 'b': return v.u1 != 0;
    case 'i':
        return dt->size == 1 ? v.i1 : dt->size == 2 ? v.i2 : dt->size == 4 ? v.i4 : (double)v.i8;
    default:
        return dt->size == 1 ? v.u1 : dt->size == 2 ? v.u2 : dt->size == 4 ? v.u4 : (double)v.u8;
    }
}

/* src: count elements in file order; out: [count] float64 in C order. */
static void convert(const unsigned char *src, const npy_dtype *dt, int fortran, int ndim,
                    const size_t *shape, size_t count, double *out)
{
    if (!fortran || ndim < 2) {
        if (dt->kind == 'f' && dt->size == 8 && !dt->swap) {
            memcpy(out, src, count * 8);
        } else {
            for (size_t i = 0; i < count; i++) out[i] = load_elem(src + i * dt->size, dt);
        }
        return;
    }
    /* Fortran order: first index varies fastest in the file. */
    size_t stride[NTK_NPY_MAX_DIM], idx[NTK_NPY_MAX_DIM] = {0}, off = 0;
    stride[ndim - 1] = 1;
    for (int d = ndim - 1; d > 0; d--) stride[d - 1] = stride[d] * shape[d];
    for (size_t i = 0; i < count; i++) {
        out[off] = load_elem(src + i * dt->size, dt);
        for (int d = 0; d < ndim; d++) {
            off += stride[d];
            if (++idx[d] < shape[d]) break;
            off -= stride[d] * shape[d];
            idx[d] = 0;
        }
    }
}

/* Reads the preamble; hstart, hlen locate the header text in buf[len]. */
static ntk_status parse_preamble(const unsigned char *buf, size_t len, const char *what,
                                 size_t *hstart, size_t *hlen)
{
    size_t pre = len > 6 && buf[6] >= 2 ? 12 : 10;   /* 2.0 and 3.0: 4-byte length */
    if (len < pre)
        return ntk_set_error(NTK_EFORMAT, "%s: truncated: %zu bytes is too short for a .npy "
                             "file", what, len);
    if (memcmp(buf, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return ntk_set_error(NTK_EFORMAT, "%s: not a .npy file (bad magic string)", what);
    if (buf[6] < 1 || buf[6] > 3 || buf[7] != 0)
        return ntk_set_error(NTK_EFORMAT, "%s: unsupported .npy format version %d.%d (supported:"
                             " 1.0, 2.0, 3.0)", what, buf[6], buf[7]);
    *hstart = pre;
    *hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    if (pre == 12) *hlen |= (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (*hlen > len - pre)
        return ntk_set_error(NTK_EFORMAT, "%s: truncated: header length %zu exceeds the %zu "
                             "bytes after the preamble", what, *hlen, len - pre);
    return NTK_OK;
}

/* buf: [len] bytes of a complete .npy image. */
ntk_status ntk_npy_parse(const void *buf, size_t len, const char *what, ntk_array *out)
{
    if (!what) what = "<memory>";
    if (!out) return ntk_set_error(NTK_EINVAL, "%s: npy_parse: out is NULL", what);
    memset(out, 0, sizeof *out);
    if (!buf && len > 0) return ntk_set_error(NTK_EINVAL, "%s: npy_parse: buf is NULL", what);
    const unsigned char *b = buf;
    size_t hstart = 0, hlen = 0;
    ntk_status st = parse_preamble(b, len, what, &hstart, &hlen);
    if (st != NTK_OK) return st;
    npy_dtype dt;
    int fortran = 0, ndim = 0;
    size_t shape[NTK_NPY_MAX_DIM];
    st = parse_header(what, (const char *)b + hstart, hlen, &dt, &fortran, &ndim, shape);
    if (st != NTK_OK) return st;
    size_t count = 1, nbytes, dbytes;
    for (int d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(count, shape[d], &count))
            return ntk_set_error(NTK_EFORMAT, "%s: shape's element count overflows size_t", what);
    if (__builtin_mul_overflow(count, dt.size, &nbytes) ||
        __builtin_mul_overflow(count, sizeof(double), &dbytes))
        return ntk_set_error(NTK_EFORMAT, "%s: shape's byte size overflows size_t", what);
    size_t have = len - hstart - hlen;
    if (have < nbytes)
        return ntk_set_error(NTK_EFORMAT, "%s: truncated: header declares %zu bytes of data, "
                             "file has %zu", what, nbytes, have);
    if (have > nbytes)
        return ntk_set_error(NTK_EFORMAT, "%s: %zu trailing bytes after the %zu bytes of data",
                             what, have - nbytes, nbytes);
    double *data = malloc(dbytes ? dbytes : 1);
    if (!data) return ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes", what, dbytes);
    convert(b + hstart + hlen, &dt, fortran, ndim, shape, count, data);
    out->ndim = ndim;
    memcpy(out->shape, shape, (size_t)ndim * sizeof shape[0]);
    out->count = count;
    out->data = data;
    return NTK_OK;
}

/* Reads a whole regular file into *buf (malloc'ed, [*len]). */
static ntk_status slurp(const char *path, unsigned char **buf, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return ntk_set_error(NTK_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    ntk_status st = NTK_OK;
    unsigned char *b = NULL;
    size_t n = 0;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = ntk_set_error(NTK_EIO, "%s: not a regular file", path);
    else if ((uintmax_t)sb.st_size >= SIZE_MAX || !(b = malloc((size_t)sb.st_size + 1)))
        st = ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %jd bytes", path, (intmax_t)sb.st_size);
    else if ((n = fread(b, 1, (size_t)sb.st_size + 1, fp)) != (size_t)sb.st_size || ferror(fp))
        st = ntk_set_error(NTK_EIO, "%s: read error: %s", path,
                           ferror(fp) ? strerror(errno) : "file changed size while being read");
    fclose(fp);
    if (st != NTK_OK) {
        free(b);
        return st;
    }
    *buf = b;
    *len = n;
    return NTK_OK;
}

ntk_status ntk_npy_read(const char *path, ntk_array *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "npy_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "npy_read: empty path");
    unsigned char *buf = NULL;
    size_t len = 0;
    ntk_status st = slurp(path, &buf, &len);
    if (st != NTK_OK) return st;
    st = ntk_npy_parse(buf, len, path, out);
    free(buf);
    return st;
}

