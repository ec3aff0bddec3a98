#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gan_errf(gan_err *e, int code, const char *fmt, ...) {
    if (!e) return -1;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int gan_err_prefix(gan_err *e, const char *fmt, ...) {
    if (!e) return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t np = strlen(prefix), cap = sizeof e->msg;
    size_t nm = strnlen(e->msg, cap - 1);
    if (np + nm >= cap) nm = cap - 1 - np;  // keep the prefix, cut the tail of the message
    memmove(e->msg + np, e->msg, nm);
    memcpy(e->msg, prefix, np);
    e->msg[np + nm] = '\0';
    return -1;
}
