#include "progress.h"

#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

double gan_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void gan_progress_init(gan_progress *p, FILE *out, int64_t total_steps, int64_t every) {
    *p = (gan_progress){.out = out, .live = isatty(fileno(out)) != 0, .total = total_steps,
                        .every = every > 0 ? every : 1, .last_draw = -1.0};
}

// Writes text now. A never_block progress (gan_progress_never_block) does not wait for a reader
// that stopped reading: it writes in one write(2) with O_NONBLOCK set for its duration, and drops
// what the reader cannot take (a note waits up to wait_ms for room first).
static void emit(const gan_progress *p, const char *text, int wait_ms) {
    if (!p->never_block) {
        fputs(text, p->out);
        fflush(p->out);
        return;
    }
    fflush(p->out);  // what stdio still holds goes first
    int fd = fileno(p->out);
    size_t n = strlen(text);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_NONBLOCK)) {
        (void)!write(fd, text, n);
        return;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    if (wait_ms > 0) poll(&pfd, 1, wait_ms);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    while (n > 0) {
        ssize_t w = write(fd, text, n);
        if (w <= 0) break;  // EAGAIN (nobody reads), or an error progress has no one to tell
        text += w, n -= (size_t)w;
    }
    fcntl(fd, F_SETFL, flags);
}

void gan_progress_never_block(gan_progress *p) { p->never_block = true; }

static void format_eta(char *buf, size_t n, double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) {
        snprintf(buf, n, "--:--");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
}

void gan_progress_update(gan_progress *p, int64_t step, double steps_per_sec, double ips, const gan_stats *st) {
    char eta[32];
    bool last = step >= p->total;
    if (p->live) {
        double now = gan_now();
        if (!last && p->last_draw >= 0 && now - p->last_draw < 0.1) return;
        p->last_draw = now;
    } else if (step % p->every != 0 && !last) {
        return;
    }
    format_eta(eta, sizeof eta, steps_per_sec > 0 ? (double)(p->total - step) / steps_per_sec : -1.0);
    char line[512];
    int n = snprintf(line, sizeof line, "step %lld/%lld | %.0f img/s | ETA %s |", (long long)step,
                     (long long)p->total, ips, eta);
    if (p->extra[0] && n < (int)sizeof line) n += snprintf(line + n, sizeof line - (size_t)n, " %s |", p->extra);
    for (int i = 0; i < st->n && n < (int)sizeof line; i++)
        if (!isnan(st->values[i])) n += snprintf(line + n, sizeof line - (size_t)n, " %s %.4f", st->names[i], st->values[i]);
    // A live line longer than the terminal would wrap, and \r would then redraw only its last
    // row: it is cut to the width instead (a log keeps every value).
    struct winsize ws;
    if (p->live && ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && (size_t)ws.ws_col - 1 < sizeof line)
        line[ws.ws_col - 1] = '\0';
    char text[sizeof line + 8];
    snprintf(text, sizeof text, "%s%s%s", p->live ? "\r" : "", line, p->live ? "\033[K" : "\n");
    emit(p, text, 0);
    p->line_open = p->live;
}

void gan_progress_set_extra(gan_progress *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->extra, sizeof p->extra, fmt, ap);
    va_end(ap);
}

void gan_progress_note(gan_progress *p, const char *fmt, ...) {
    // Formatted whole, so that it goes out in one write (emit), however long.
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    const int lead = p->line_open ? 1 : 0;
    char *text = gan_xmalloc((size_t)(len > 0 ? len : 0) + 3, "a progress note");
    text[0] = '\n';
    vsnprintf(text + lead, (size_t)(len > 0 ? len : 0) + 1, fmt, again);
    va_end(again);
    strcat(text, "\n");
    p->line_open = false;
    emit(p, text, 200);
    free(text);
}

void gan_progress_finish(gan_progress *p) {
    if (p->line_open) emit(p, "\n", 200);
    p->line_open = false;
}
