// A test-only LD_PRELOAD shim that makes writes to chosen files fail, as a full disk would:
// tests/cli/test_faults.sh uses it where it cannot mount a small tmpfs, and for faults a real
// file system does not make on demand (fsync failing after the writes succeeded, a link that
// cannot be created). Nothing in gan.c knows about it.
//
//   GAN_FAULT_PATH   a substring of the path of the files to fail (matched against
//                    /proc/self/fd/N at each call, so "ckpt-00000006.h5" also catches its
//                    temporary "ckpt-00000006.h5.tmp.PID"); unset: the shim does nothing
//   GAN_FAULT_OP     write (default): write, pwrite, pwrite64, writev and stdio streams opened
//                    with fopen fail once GAN_FAULT_AFTER bytes went to matching files (the
//                    write that crosses the budget is short, as on a full disk);
//                    fsync: writes succeed, fsync and fdatasync of a matching file fail;
//                    symlink: creating a symbolic link whose path matches fails
//   GAN_FAULT_AFTER  bytes matching files may take before writes fail (default 0)
//   GAN_FAULT_ERRNO  ENOSPC (default), EDQUOT, EIO, EROFS, EFBIG, or a number
//   GAN_FAULT_LOG    a file that gets one line per injected failure ("write PATH: errno 28")
//
// HDF5's sec2 driver writes with pwrite (write where pwrite is missing); gan.c's own files go
// through stdio (fopen + fwrite) or pwrite64. glibc's stdio calls its internal write, which
// LD_PRELOAD cannot reach, so fopen of a matching file returns an fopencookie stream whose
// writes come through here.
#define _GNU_SOURCE
// Plain names: with 64-bit file offsets glibc's headers would turn pwrite and fopen into
// pwrite64 and fopen64, and this file defines both.
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*fsync_fn)(int);
typedef FILE *(*fopen_fn)(const char *, const char *);
typedef int (*symlink_fn)(const char *, const char *);

enum fault_op { OP_WRITE, OP_FSYNC, OP_SYMLINK };

static struct {
    const char *pattern;  // NULL: inactive
    enum fault_op op;
    int64_t budget;       // bytes still allowed (OP_WRITE)
    int err;
    const char *log;
    write_fn write;
    pwrite_fn pwrite;
    pwrite64_fn pwrite64;
    writev_fn writev;
    fsync_fn fsync, fdatasync;
    fopen_fn fopen, fopen64;
    symlink_fn symlink;
} S;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *next(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) abort();  // a libc without write or fopen: nothing sensible to do
    return f;
}

static int errno_from(const char *s) {
    static const struct { const char *name; int value; } names[] = {
        {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EIO", EIO}, {"EROFS", EROFS}, {"EFBIG", EFBIG}};
    if (!s || !*s) return ENOSPC;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(s, names[i].name)) return names[i].value;
    int v = atoi(s);
    return v > 0 ? v : ENOSPC;
}

static void init(void) {
    S.write = (write_fn)next("write");
    S.pwrite = (pwrite_fn)next("pwrite");
    S.pwrite64 = (pwrite64_fn)next("pwrite64");
    S.writev = (writev_fn)next("writev");
    S.fsync = (fsync_fn)next("fsync");
    S.fdatasync = (fsync_fn)next("fdatasync");
    S.fopen = (fopen_fn)next("fopen");
    S.fopen64 = (fopen_fn)next("fopen64");
    S.symlink = (symlink_fn)next("symlink");
    const char *p = getenv("GAN_FAULT_PATH");
    S.pattern = p && *p ? p : NULL;
    const char *op = getenv("GAN_FAULT_OP");
    S.op = !op || !*op || !strcmp(op, "write") ? OP_WRITE
           : !strcmp(op, "fsync")              ? OP_FSYNC
           : !strcmp(op, "symlink")            ? OP_SYMLINK
                                               : (abort(), OP_WRITE);
    const char *after = getenv("GAN_FAULT_AFTER");
    S.budget = after ? strtoll(after, NULL, 10) : 0;
    S.err = errno_from(getenv("GAN_FAULT_ERRNO"));
    S.log = getenv("GAN_FAULT_LOG");
}

static void setup(void) { pthread_once(&once, init); }

// The path an open descriptor names, or "" when /proc cannot say.
static void fd_path(int fd, char *buf, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static bool fd_matches(int fd, char *path, size_t size) {
    if (!S.pattern) return false;
    fd_path(fd, path, size);
    return strstr(path, S.pattern) != NULL;
}

static void log_fault(const char *what, const char *path) {
    if (!S.log) return;
    int saved = errno;
    int fd = open(S.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd >= 0) {
        char line[4200];
        int n = snprintf(line, sizeof line, "%s %s: errno %d\n", what, path, S.err);
        if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
        ssize_t w = S.write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
    errno = saved;
}

// How many of n bytes a write to fd may write: n for files that do not match, the rest of the
// budget for those that do; -1 (errno set) once it is spent.
static ssize_t allowed(int fd, size_t n, const char *what) {
    char path[4096];
    if (S.op != OP_WRITE || !fd_matches(fd, path, sizeof path)) return (ssize_t)n;
    pthread_mutex_lock(&lock);
    int64_t left = S.budget;
    int64_t take = left <= 0 ? 0 : (int64_t)n < left ? (int64_t)n : left;
    S.budget -= take;
    pthread_mutex_unlock(&lock);
    if (take > 0 || n == 0) return (ssize_t)take;
    log_fault(what, path);
    errno = S.err;
    return -1;
}

ssize_t write(int fd, const void *buf, size_t n) {
    setup();
    ssize_t k = allowed(fd, n, "write");
    return k < 0 ? -1 : S.write(fd, buf, (size_t)k);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    setup();
    ssize_t k = allowed(fd, n, "pwrite");
    return k < 0 ? -1 : S.pwrite(fd, buf, (size_t)k, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    setup();
    ssize_t k = allowed(fd, n, "pwrite64");
    return k < 0 ? -1 : S.pwrite64(fd, buf, (size_t)k, off);
}

ssize_t writev(int fd, const struct iovec *iov, int count) {
    setup();
    size_t n = 0;
    for (int i = 0; i < count; i++) n += iov[i].iov_len;
    ssize_t k = allowed(fd, n, "writev");
    if (k < 0) return -1;
    if ((size_t)k == n) return S.writev(fd, iov, count);
    // A short write: the first k bytes, through plain write.
    ssize_t done = 0;
    for (int i = 0; i < count && done < k; i++) {
        size_t part = iov[i].iov_len < (size_t)(k - done) ? iov[i].iov_len : (size_t)(k - done);
        ssize_t w = S.write(fd, iov[i].iov_base, part);
        if (w < 0) return done ? done : -1;
        done += w;
        if ((size_t)w < part) break;
    }
    return done;
}

static int sync_fault(int fd, fsync_fn real, const char *what) {
    setup();
    char path[4096];
    if (S.op != OP_FSYNC || !fd_matches(fd, path, sizeof path)) return real(fd);
    log_fault(what, path);
    errno = S.err;
    return -1;
}

int fsync(int fd) {
    setup();
    return sync_fault(fd, S.fsync, "fsync");
}

int fdatasync(int fd) {
    setup();
    return sync_fault(fd, S.fdatasync, "fdatasync");
}

int symlink(const char *target, const char *linkpath) {
    setup();
    if (S.op == OP_SYMLINK && S.pattern && strstr(linkpath, S.pattern)) {
        log_fault("symlink", linkpath);
        errno = S.err;
        return -1;
    }
    return S.symlink(target, linkpath);
}

// --- stdio streams of matching files --------------------------------------------------------

static ssize_t cookie_read(void *c, char *buf, size_t n) { return read((int)(intptr_t)c, buf, n); }

static ssize_t cookie_write(void *c, const char *buf, size_t n) {
    ssize_t w = write((int)(intptr_t)c, buf, n);  // the wrapper above
    return w < 0 ? -1 : w;
}

static int cookie_seek(void *c, off64_t *off, int whence) {
    off_t r = lseek((int)(intptr_t)c, (off_t)*off, whence);
    if (r < 0) return -1;
    *off = r;
    return 0;
}

static int cookie_close(void *c) { return close((int)(intptr_t)c); }

// fopen's mode as open(2) flags; -1 for a mode it does not know.
static int mode_flags(const char *mode) {
    int flags;
    switch (mode[0]) {
    case 'r': flags = 0; break;
    case 'w': flags = O_CREAT | O_TRUNC; break;
    case 'a': flags = O_CREAT | O_APPEND; break;
    default: return -1;
    }
    bool plus = strchr(mode, '+') != NULL;
    flags |= plus ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
    if (strchr(mode, 'x')) flags |= O_EXCL;
    if (strchr(mode, 'e')) flags |= O_CLOEXEC;
    return flags;
}

static FILE *open_stream(const char *path, const char *mode, fopen_fn real) {
    int flags = mode_flags(mode);
    if (S.op != OP_WRITE || !S.pattern || !strstr(path, S.pattern) || flags < 0 ||
        (flags & O_ACCMODE) == O_RDONLY)
        return real(path, mode);
    int fd = open(path, flags, 0666);
    if (fd < 0) return NULL;
    cookie_io_functions_t io = {.read = cookie_read, .write = cookie_write, .seek = cookie_seek,
                                .close = cookie_close};
    FILE *f = fopencookie((void *)(intptr_t)fd, mode, io);
    if (!f) close(fd);
    return f;
}

FILE *fopen(const char *path, const char *mode) {
    setup();
    return open_stream(path, mode, S.fopen);
}

FILE *fopen64(const char *path, const char *mode) {
    setup();
    return open_stream(path, mode, S.fopen64);
}
