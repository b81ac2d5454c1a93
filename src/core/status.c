/* status.c -- status codes and the thread-local last-error message. */
#include "ntkdrift.h"
#include "ntk_private.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[1024];

const char *ntk_status_str(ntk_status s)
{
    switch (s) {
    case NTK_OK: return "ok";
    case NTK_EINVAL: return "invalid argument";
    case NTK_ENOMEM: return "out of memory";
    case NTK_EIO: return "i/o error";
    case NTK_EFORMAT: return "malformed input";
    case NTK_ENUMERIC: return "numerical failure";
    }
    return "unknown status";
}

const char *ntk_last_error(void) { return last_error; }

void ntk_clear_error(void) { last_error[0] = '\0'; }

ntk_status ntk_set_error(ntk_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

const char *ntk_version(void) { return NTK_VERSION_STRING; }
