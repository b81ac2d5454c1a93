/* csv.c -- numeric CSV reader: comma-separated float64 fields, '#' comment
 * lines, blank lines skipped, LF or CRLF line endings, an optional one-line
 * text header (detected when the first content line has a non-numeric
 * field).  Streams the file with getline, so size is bounded by memory only.
 * Every malformation is NTK_EFORMAT with the file, line and column named. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { FIELD_OK, FIELD_EMPTY, FIELD_TEXT, FIELD_NONFINITE } field_kind;

typedef struct {
    const char *path;
    size_t line;          /* 1-based number of the current physical line */
    size_t cols;          /* fields per row, 0 until the first data row */
    size_t first_data;    /* line of the first data row */
    size_t header_cols;   /* fields of the header line, 0 when there is none */
    size_t header_line;
    size_t rows;
    double *data;         /* [cap], rows * cols used */
    size_t len, cap;
} csv_state;

/* First problem of a line: kind, 1-based column and (sanitised) text; has_text: some field is
 * non-numeric (what makes the first content line a header). */
typedef struct {
    field_kind kind;
    size_t col;
    char text[48];
    int has_text;
} field_err;

static ntk_status grow(csv_state *s, size_t need)
{
    if (need <= s->cap) return NTK_OK;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < need)
        if (__builtin_mul_overflow(cap, 2, &cap))
            return ntk_set_error(NTK_ENOMEM, "%s: too many values at line %zu", s->path, s->line);
    size_t bytes;
    if (__builtin_mul_overflow(cap, sizeof(double), &bytes))
        return ntk_set_error(NTK_ENOMEM, "%s: too many values at line %zu", s->path, s->line);
    double *d = realloc(s->data, bytes);
    if (!d) return ntk_set_error(NTK_ENOMEM, "%s: cannot allocate %zu bytes at line %zu", s->path,
                                 bytes, s->line);
    s->data = d;
    s->cap = cap;
    return NTK_OK;
}

static char *trim(char *b, char *e)
{
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *e = '\0';
    return b;
}

static field_kind parse_field(const char *f, double *v)
{
    if (!*f) return FIELD_EMPTY;
    char *end;
    *v = strtod(f, &end);
    if (end == f || *end) return FIELD_TEXT;
    return isfinite(*v) ? FIELD_OK : FIELD_NONFINITE;
}

/* Records problem k at column col (the first one only), with a printable copy of f. */
static void note_err(field_err *err, field_kind k, size_t col, const char *f)
{
    err->has_text |= k == FIELD_TEXT;
    if (err->kind != FIELD_OK) return;
    err->kind = k;
    err->col = col;
    size_t n = 0;
    for (; f[n] && n + 1 < sizeof err->text; n++)
        err->text[n] = (f[n] >= ' ' && f[n] <= '~') ? f[n] : '?';
    err->text[n] = '\0';
}

/* Splits line (NUL-terminated, modified) into fields; numeric values go to data[len..]
 * tentatively.  *nf = number of fields; err: the first problem. */
static ntk_status scan_line(csv_state *s, char *line, size_t *nf, field_err *err)
{
    size_t n = 0;
    err->kind = FIELD_OK;
    err->has_text = 0;
    for (char *p = line;; n++) {
        char *comma = strchr(p, ',');
        char *end = comma ? comma : p + strlen(p);
        char *f = trim(p, end);
        ntk_status st = grow(s, s->len + n + 1);
        if (st != NTK_OK) return st;
        field_kind k = parse_field(f, &s->data[s->len + n]);
        if (k != FIELD_OK) note_err(err, k, n + 1, f);
        if (!comma) break;
        p = comma + 1;
    }
    *nf = n + 1;
    return NTK_OK;
}

static ntk_status field_error(const csv_state *s, const field_err *e)
{
    static const char *const what[] = {"", "empty field", "non-numeric field",
                                       "non-finite value (NaN/Inf are not accepted)"};
    if (e->kind == FIELD_EMPTY)
        return ntk_set_error(NTK_EFORMAT, "%s: line %zu, column %zu: empty field", s->path,
                             s->line, e->col);
    return ntk_set_error(NTK_EFORMAT, "%s: line %zu, column %zu: %s '%s'", s->path, s->line,
                         e->col, what[e->kind], e->text);
}

/* One content line (comments and blank lines already removed). */
static ntk_status process_line(csv_state *s, char *line)
{
    size_t nf = 0;
    field_err e;
    ntk_status st = scan_line(s, line, &nf, &e);
    if (st != NTK_OK) return st;
    if (s->rows == 0 && s->header_line == 0 && e.has_text) {
        s->header_line = s->line;
        s->header_cols = nf;
        return NTK_OK;
    }
    if (s->rows == 0) {
        if (s->header_cols && nf != s->header_cols)
            return ntk_set_error(NTK_EFORMAT, "%s: line %zu has %zu fields but the header (line "
                                 "%zu) has %zu", s->path, s->line, nf, s->header_line,
                                 s->header_cols);
        s->cols = nf;
        s->first_data = s->line;
    } else if (nf != s->cols) {
        return ntk_set_error(NTK_EFORMAT, "%s: line %zu has %zu fields, expected %zu (as on line "
                             "%zu)", s->path, s->line, nf, s->cols, s->first_data);
    }
    if (e.kind != FIELD_OK) return field_error(s, &e);
    s->len += nf;
    s->rows++;
    return NTK_OK;
}

/* Strips the line ending; returns NULL for blank and comment lines. */
static char *content(csv_state *s, char *buf, size_t n)
{
    if (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r') buf[--n] = '\0';
    char *p = buf;
    if (s->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;   /* UTF-8 BOM */
    while (*p == ' ' || *p == '\t') p++;
    return *p == '\0' || *p == '#' ? NULL : p;
}

static ntk_status read_lines(csv_state *s, FILE *fp)
{
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t n;
    ntk_status st = NTK_OK;
    errno = 0;
    while (st == NTK_OK && (n = getline(&buf, &bcap, fp)) >= 0) {
        s->line++;
        if (memchr(buf, '\0', (size_t)n))
            st = ntk_set_error(NTK_EFORMAT, "%s: line %zu contains a NUL byte (binary file?)",
                               s->path, s->line);
        char *p = st == NTK_OK ? content(s, buf, (size_t)n) : NULL;
        if (p) st = process_line(s, p);
        errno = 0;
    }
    if (st == NTK_OK && ferror(fp))
        st = errno == ENOMEM
                 ? ntk_set_error(NTK_ENOMEM, "%s: out of memory reading line %zu", s->path, s->line + 1)
                 : ntk_set_error(NTK_EIO, "%s: read error after line %zu: %s", s->path, s->line,
                                 strerror(errno ? errno : EIO));
    free(buf);
    return st;
}

ntk_status ntk_csv_read(const char *path, ntk_array *out)
{
    if (!out) return ntk_set_error(NTK_EINVAL, "csv_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "csv_read: empty path");
    FILE *fp = fopen(path, "r");
    if (!fp) return ntk_set_error(NTK_EIO, "%s: cannot open: %s", path, strerror(errno));
    csv_state s = {.path = path};
    ntk_status st = read_lines(&s, fp);
    fclose(fp);
    if (st == NTK_OK && s.rows == 0)
        st = ntk_set_error(NTK_EFORMAT, "%s: no data rows (%s)", path,
                           s.header_line ? "only a header line" : "empty file or only comments");
    if (st != NTK_OK) {
        free(s.data);
        return st;
    }
    double *d = realloc(s.data, s.len * sizeof(double));   /* shrink; keep the old on failure */
    out->ndim = 2;
    out->shape[0] = s.rows;
    out->shape[1] = s.cols;
    out->count = s.len;
    out->data = d ? d : s.data;
    return NTK_OK;
}
