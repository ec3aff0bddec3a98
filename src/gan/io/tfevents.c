#include "tfevents.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"
#include "gan_check.h"
#include "pbwire.h"

struct gan_tfevents {
    int fd;
    char path[GAN_PATH_MAX];
};

// Bit by bit: a sample grid of a few hundred kilobytes takes milliseconds, and no table means
// no shared state to initialise.
uint32_t gan_crc32c(const void *data, size_t n) {
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

uint32_t gan_crc32c_masked(const void *data, size_t n) {
    uint32_t c = gan_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void put_le(unsigned char *out, uint64_t v, int nbytes) {
    for (int i = 0; i < nbytes; i++) out[i] = (unsigned char)(v >> (8 * i));
}

void gan_tfrecord_frame(const void *data, size_t n, unsigned char head[12], unsigned char tail[4]) {
    put_le(head, (uint64_t)n, 8);
    put_le(head + 8, gan_crc32c_masked(head, 8), 4);
    put_le(tail, gan_crc32c_masked(data, n), 4);
}

const char *gan_tfevents_path(const gan_tfevents *ev) { return ev->path; }

// Seconds since the epoch, as TensorBoard shows a point's wall time (the trainer's own clock is
// monotonic, which means nothing across processes).
static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Frames the serialized Event and appends it as one piece (gan_fs_append: all of it or none).
static int append_record(gan_tfevents *ev, const gan_pb *event, gan_err *err) {
    size_t n = 12 + event->len + 4;
    unsigned char *rec = gan_xmalloc(n, "a TensorBoard event record");
    gan_tfrecord_frame(event->data, event->len, rec, rec + 12 + event->len);
    if (event->len) memcpy(rec + 12, event->data, event->len);
    int rc = gan_fs_append(ev->fd, ev->path, rec, n, err);
    free(rec);
    return rc;
}

// The Event's header fields; the caller adds one of its `what` fields.
static void event_begin(gan_pb *e, int64_t step) {
    *e = (gan_pb){0};
    gan_pb_double(e, 1, wall_now());
    gan_pb_int(e, 2, step);
}

// Appends the Event e with `summary` as its field 5, and frees both.
static int append_summary(gan_tfevents *ev, int64_t step, gan_pb *summary, gan_err *err) {
    gan_pb e;
    event_begin(&e, step);
    gan_pb_message(&e, 5, summary);
    int rc = append_record(ev, &e, err);
    gan_pb_free(&e);
    gan_pb_free(summary);
    return rc;
}

// A host name that is safe in a file name.
static void host_name(char *dst, size_t size) {
    if (gethostname(dst, size) != 0 || !dst[0]) snprintf(dst, size, "localhost");
    dst[size - 1] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '/') *p = '_';
}

#define EVENTS_PREFIX "events.out.tfevents."

// The seconds of a file's name: now, or one more than the latest already in dir. TensorBoard
// reads a directory's files in name order, so a resume within the same second as the session
// before it must still sort after it (its pid may be a smaller number).
static long long name_seconds(const char *dir) {
    long long secs = (long long)time(NULL);
    DIR *d = opendir(dir);
    if (!d) return secs;
    const size_t np = strlen(EVENTS_PREFIX);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, EVENTS_PREFIX, np)) continue;
        char *end;
        long long s = strtoll(e->d_name + np, &end, 10);
        if (end != e->d_name + np && s >= secs) secs = s + 1;
    }
    closedir(d);
    return secs;
}

gan_tfevents *gan_tfevents_open(const char *dir, gan_err *err) {
    char host[256], name[384];
    host_name(host, sizeof host);
    snprintf(name, sizeof name, EVENTS_PREFIX "%010lld.%s.%ld", name_seconds(dir), host, (long)getpid());
    gan_tfevents *ev = gan_xmalloc(sizeof *ev, "an event file writer");
    if (gan_fs_join(ev->path, sizeof ev->path, dir, name, err) != 0) {
        free(ev);
        return NULL;
    }
    ev->fd = open(ev->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (ev->fd < 0) {
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot create: %s", ev->path, strerror(errno));
        free(ev);
        return NULL;
    }
    gan_pb e;
    event_begin(&e, 0);
    gan_pb_string(&e, 3, "brain.Event:2");
    int rc = append_record(ev, &e, err);
    gan_pb_free(&e);
    if (rc != 0) {  // an empty file would only be clutter
        unlink(ev->path);
        gan_tfevents_close(ev);
        return NULL;
    }
    return ev;
}

void gan_tfevents_close(gan_tfevents *ev) {
    if (!ev) return;
    close(ev->fd);
    free(ev);
}

int gan_tfevents_session_start(gan_tfevents *ev, int64_t step, gan_err *err) {
    gan_pb log = {0}, e;
    gan_pb_uint(&log, 1, 1);  // status START
    event_begin(&e, step);
    gan_pb_message(&e, 7, &log);
    int rc = append_record(ev, &e, err);
    gan_pb_free(&e);
    gan_pb_free(&log);
    return rc;
}

int gan_tfevents_scalars(gan_tfevents *ev, int64_t step, int n, const char *const *tags, const float *values,
                         gan_err *err) {
    gan_pb summary = {0};
    for (int i = 0; i < n; i++) {
        gan_pb v = {0};
        gan_pb_string(&v, 1, tags[i]);
        gan_pb_float(&v, 2, values[i]);
        gan_pb_message(&summary, 1, &v);
        gan_pb_free(&v);
    }
    return append_summary(ev, step, &summary, err);
}

int gan_tfevents_image(gan_tfevents *ev, int64_t step, const char *tag, const void *png, size_t size,
                       int height, int width, int channels, gan_err *err) {
    GAN_CHECK(channels == 1 || channels == 3, "gan_tfevents_image: channels must be 1 or 3, got %d", channels);
    gan_pb img = {0}, v = {0}, summary = {0};
    gan_pb_int(&img, 1, height);
    gan_pb_int(&img, 2, width);
    gan_pb_int(&img, 3, channels);  // the colorspace numbers are the channel counts: 1 grey, 3 RGB
    gan_pb_bytes(&img, 4, png, size);
    gan_pb_string(&v, 1, tag);
    gan_pb_message(&v, 4, &img);
    gan_pb_message(&summary, 1, &v);
    gan_pb_free(&img);
    gan_pb_free(&v);
    return append_summary(ev, step, &summary, err);
}

int gan_tfevents_text(gan_tfevents *ev, int64_t step, const char *tag, const char *text, gan_err *err) {
    gan_pb plugin = {0}, meta = {0}, shape = {0}, tensor = {0}, v = {0}, summary = {0};
    gan_pb_string(&plugin, 1, "text");
    gan_pb_message(&meta, 1, &plugin);
    gan_pb_uint(&meta, 4, 2);  // data_class TENSOR: the class TensorBoard files text under
    gan_pb_uint(&tensor, 1, 7);  // dtype DT_STRING
    gan_pb_message(&tensor, 2, &shape);  // no dims: a scalar
    gan_pb_string(&tensor, 8, text);
    gan_pb_string(&v, 1, tag);
    gan_pb_message(&v, 8, &tensor);
    gan_pb_message(&v, 9, &meta);
    gan_pb_message(&summary, 1, &v);
    gan_pb_free(&plugin);
    gan_pb_free(&meta);
    gan_pb_free(&tensor);
    gan_pb_free(&v);
    return append_summary(ev, step, &summary, err);
}
