/* fsutil.c -- atomic file writes (temp file + fsync + rename) and mkdir -p. */
#include "fsutil.h"
#include "ntk_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint temp_counter;

char *fs_temp_name(const char *path)
{
    size_t cap = strlen(path) + 48;   /* ".tmp." + pid + "." + counter + NUL */
    char *tmp = malloc(cap);
    if (tmp)
        snprintf(tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add_explicit(&temp_counter, 1u, memory_order_relaxed));
    return tmp;
}

/* Best effort: make a rename in path's directory durable (errors ignored). */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir) return;
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* head: [hlen], body: [blen]; see fsutil.h. */
ntk_status fs_write_atomic(const char *path, const void *head, size_t hlen, const void *body,
                            size_t blen)
{
    char *tmp = fs_temp_name(path);
    if (!tmp) return ntk_set_error(NTK_ENOMEM, "%s: out of memory for temp name", path);
    ntk_status st = NTK_OK;
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        st = ntk_set_error(NTK_EIO, "%s: cannot create temp file '%s': %s", path, tmp,
                           strerror(errno));
        free(tmp);
        return st;
    }
    int err = 0;
    const char *step = NULL;
    errno = 0;
    if ((hlen > 0 && fwrite(head, 1, hlen, fp) != hlen) ||
        (blen > 0 && fwrite(body, 1, blen, fp) != blen) || fflush(fp) != 0) {
        err = errno;
        step = "write";
    } else if (fsync(fileno(fp)) != 0) {
        err = errno;
        step = "fsync";
    }
    if (fclose(fp) != 0 && !step) {
        err = errno;
        step = "close";
    }
    if (step)
        st = ntk_set_error(NTK_EIO, "%s: %s of temp file '%s' failed (%zu bytes): %s", path, step,
                           tmp, hlen + blen, err ? strerror(err) : "short write");
    else if (rename(tmp, path) != 0)
        st = ntk_set_error(NTK_EIO, "%s: cannot rename temp file '%s' into place: %s", path, tmp,
                           strerror(errno));
    if (st != NTK_OK)
        (void)remove(tmp);
    else
        sync_parent_dir(path);
    free(tmp);
    return st;
}

/* data: [len] bytes. */
ntk_status ntk_write_file_atomic(const char *path, const void *data, size_t len)
{
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "write_file_atomic: empty path");
    if (!data && len > 0)
        return ntk_set_error(NTK_EINVAL, "%s: write_file_atomic: data is NULL (len %zu)", path, len);
    return fs_write_atomic(path, data, len, NULL, 0);
}

/* Create one directory level; an existing directory is fine. */
static ntk_status mkdir_one(const char *full, const char *dir)
{
    if (mkdir(dir, 0777) == 0) return NTK_OK;
    int err = errno;
    struct stat sb;
    if (err == EEXIST) {
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) return NTK_OK;
        return ntk_set_error(NTK_EIO, "%s: cannot create directory: '%s' exists and is not a "
                             "directory", full, dir);
    }
    return ntk_set_error(NTK_EIO, "%s: cannot create directory '%s': %s", full, dir,
                         strerror(err));
}

ntk_status ntk_mkdir_p(const char *path)
{
    if (!path || !*path) return ntk_set_error(NTK_EINVAL, "mkdir_p: empty path");
    char *buf = strdup(path);
    if (!buf) return ntk_set_error(NTK_ENOMEM, "%s: out of memory", path);
    ntk_status st = NTK_OK;
    /* Walk component ends; skip the leading '/' of absolute paths. */
    for (char *p = buf + 1; st == NTK_OK; p++) {
        if (*p != '/' && *p != '\0') continue;
        if (p[-1] != '/') {   /* not an empty component ("a//b", trailing '/') */
            char saved = *p;
            *p = '\0';
            st = mkdir_one(path, buf);
            *p = saved;
        }
        if (*p == '\0') break;
    }
    free(buf);
    return st;
}
