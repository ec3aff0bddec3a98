#define _DEFAULT_SOURCE  // flock(2): not in POSIX
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

void gan_fs_tmp_path(const char *path, char *tmp, size_t size) {
    snprintf(tmp, size, "%s.tmp.%ld", path, (long)getpid());
}

long gan_fs_tmp_pid(const char *name) {
    const char *p = NULL;
    for (const char *q = strstr(name, ".tmp."); q; q = strstr(q + 1, ".tmp.")) p = q + 5;
    if (!p || !*p || strlen(p) > 9) return -1;  // pids have at most 7 digits on Linux
    long pid = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        pid = pid * 10 + (*p - '0');
    }
    return pid > 0 ? pid : -1;
}

bool gan_fs_tmp_is_stale(const char *name) {
    long pid = gan_fs_tmp_pid(name);
    if (pid <= 0 || pid == (long)getpid()) return false;
    // EPERM: the process exists but is someone else's; only ESRCH says it is gone.
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int gan_fs_remove_stale_tmp(const char *dir, gan_err *err) {
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return gan_errf(err, GAN_EXIT_RUNTIME, "cannot list %s: %s", dir, strerror(errno));
    }
    int rc = 0;
    char path[GAN_PATH_MAX];
    struct stat st;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!gan_fs_tmp_is_stale(e->d_name)) continue;
        if (gan_fs_join(path, sizeof path, dir, e->d_name, err) != 0) rc = -1;
        else if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode)) continue;
        else if (unlink(path) != 0 && errno != ENOENT)
            rc = gan_errf(err, GAN_EXIT_RUNTIME, "cannot remove %s (left by a killed writer): %s", path,
                          strerror(errno));
    }
    closedir(d);
    return rc;
}

static int fsync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

// The end of a message about a file not written: what is at `path` now.
static const char *left_as_it_was(bool existed) {
    return existed ? "the file already there is unchanged" : "no partial file was left";
}

int gan_fs_commit(const char *tmp, const char *path, gan_err *err) {
    struct stat st;
    const bool existed = lstat(path, &st) == 0;
    if (fsync_path(tmp, O_RDONLY) != 0) {
        int e = errno;
        unlink(tmp);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write: %s (syncing the new file to disk); %s", path,
                 strerror(e), left_as_it_was(existed));
        errno = e;
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot move the new file into place: %s; %s", path, strerror(e),
                 left_as_it_was(existed));
        errno = e;
        return -1;
    }
    // The rename itself is durable only once the directory is synced.
    char dir[GAN_PATH_MAX];
    gan_fs_dirname(path, dir, sizeof dir);
    fsync_path(dir, O_RDONLY | O_DIRECTORY);  // best effort: some filesystems refuse
    return 0;
}

void gan_fs_dirname(const char *path, char *dir, size_t size) {
    snprintf(dir, size, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, size, ".");
}

// All n bytes of data to fd, through short writes; -1 with errno on failure.
static int write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;  // no progress and no reason: not expected of a file
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_atomic(const char *path, const void *data, size_t n, bool sync, gan_err *err);

int gan_fs_write_atomic(const char *path, const void *data, size_t n, gan_err *err) {
    return write_atomic(path, data, n, true, err);
}

int gan_fs_write_atomic_unsynced(const char *path, const void *data, size_t n, gan_err *err) {
    return write_atomic(path, data, n, false, err);
}

static int write_atomic(const char *path, const void *data, size_t n, bool sync, gan_err *err) {
    char tmp[GAN_PATH_MAX];
    gan_fs_tmp_path(path, tmp, sizeof tmp);
    struct stat st;
    const bool existed = lstat(path, &st) == 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int e = errno;
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write: %s (creating the temporary file %s); %s", path,
                 strerror(e), tmp, left_as_it_was(existed));
        errno = e;
        return -1;
    }
    // Synced here, on the descriptor that wrote: an error the file system reports only at
    // fsync (delayed allocation, NFS) is caught before the rename.
    const char *stage = write_all(fd, data, n) != 0         ? ""
                        : sync && fsync(fd) != 0             ? " (syncing the new file to disk)"
                                                             : NULL;
    int e = errno;
    if (close(fd) != 0 && !stage) {
        stage = " (closing the new file)";
        e = errno;
    }
    if (stage) {
        unlink(tmp);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write: %s%s; %s", path, strerror(e), stage,
                 left_as_it_was(existed));
        errno = e;
        return -1;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot move the new file into place: %s; %s", path, strerror(e),
                 left_as_it_was(existed));
        errno = e;
        return -1;
    }
    if (sync) {
        char dir[GAN_PATH_MAX];
        gan_fs_dirname(path, dir, sizeof dir);
        fsync_path(dir, O_RDONLY | O_DIRECTORY);  // best effort, as in gan_fs_commit
    }
    return 0;
}

int gan_fs_append(int fd, const char *path, const void *data, size_t n, gan_err *err) {
    off_t before = lseek(fd, 0, SEEK_END);
    if (before >= 0 && write_all(fd, data, n) == 0) return 0;
    int e = errno;
    // Another writer may not be appending (the run's lock), so the size before is still the end.
    const bool cut = before >= 0 && ftruncate(fd, before) == 0;
    gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot append: %s; %s", path, strerror(e),
             cut ? "its earlier contents are intact" : "its last line may be cut short");
    errno = e;
    return -1;
}

void gan_fs_make_absolute(char *path, size_t size) {
    if (path[0] == '/') return;
    char *abs = realpath(path, NULL);
    if (abs && strlen(abs) < size) memcpy(path, abs, strlen(abs) + 1);
    free(abs);
}

int gan_fs_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int gan_fs_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int gan_fs_mkdir_p(const char *path, gan_err *err) {
    char buf[GAN_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return gan_errf(err, GAN_EXIT_RUNTIME, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gan_errf(err, GAN_EXIT_RUNTIME, "cannot create directory %s: %s", buf, strerror(errno));
        if (!gan_fs_is_dir(buf))
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s exists and is not a directory", buf);
        *p = saved;
        if (saved == '\0') break;
    }
    return 0;
}

int gan_fs_read_all(const char *path, char **data, size_t *size, gan_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = gan_xmalloc(cap, "a file's contents");
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        cap *= 2;
        buf = gan_xrealloc(buf, cap, "a file's contents");
    }
    int bad = ferror(f), e = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot read: %s", path, strerror(e));
    }
    buf[n] = '\0';
    *data = buf;
    if (size) *size = n;
    return 0;
}

int gan_fs_join(char *dst, size_t size, const char *a, const char *b, gan_err *err) {
    size_t la = strlen(a);
    const char *sep = (la > 0 && a[la - 1] == '/') ? "" : "/";
    if (snprintf(dst, size, "%s%s%s", a, sep, b) >= (int)size)
        return gan_errf(err, GAN_EXIT_RUNTIME, "path too long: %s/%s", a, b);
    return 0;
}

// "pid N on host H" from a lock file's "pid N host H" (what the holder wrote), or a note that it
// has not written it yet (it took the lock a moment ago).
// The holder writes its pid just after it takes the lock, so a reader that lost the race by a
// moment may find the file empty or half-written: it reads again for up to 0.2 s.
static void read_holder(int fd, char *holder, size_t size) {
    for (int i = 0; i < 20; i++) {
        char text[300] = "";
        ssize_t n = pread(fd, text, sizeof text - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        long pid = 0;
        char host[256] = "";
        if (strchr(text, '\n') && sscanf(text, "pid %ld host %255s", &pid, host) == 2) {
            snprintf(holder, size, "pid %ld on host %s", pid, host);
            return;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    snprintf(holder, size, "a process that has not written its pid yet");
}

int gan_fs_lock_dir(const char *dir, int *fd_out, gan_err *err) {
    char path[GAN_PATH_MAX];
    if (gan_fs_join(path, sizeof path, dir, GAN_FS_LOCK_NAME, err) != 0) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open the run's lock: %s", path, strerror(errno));
    // A few tries over 0.2 s: gan_fs_dir_locked's check holds the lock for a moment, and a real
    // writer holds it for its whole run.
    int rc, e = 0;
    for (int i = 0; (rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && (e = errno) == EWOULDBLOCK && i < 20; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    if (rc != 0) {
        char holder[320];
        read_holder(fd, holder, sizeof holder);
        close(fd);
        if (e == EWOULDBLOCK)
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s is being written by another gan process (%s, holding %s); "
                            "wait for it to finish or stop it", dir, holder, path);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot lock: %s", path, strerror(e));
    }
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char text[320];
    int n = snprintf(text, sizeof text, "pid %ld host %s\n", (long)getpid(), host);
    // Through short writes, so that a full disk reports its errno (a short pwrite sets none).
    bool written = ftruncate(fd, 0) == 0;
    for (ssize_t done = 0; written && done < n;) {
        ssize_t w = pwrite(fd, text + done, (size_t)(n - done), done);
        if (w > 0) done += w;
        else if (w == 0) written = false, errno = EIO;  // no progress and no reason
        else if (errno != EINTR) written = false;
    }
    if (!written) {
        e = errno;
        close(fd);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot write the lock's holder: %s", path, strerror(e));
    }
    *fd_out = fd;
    return 0;
}

void gan_fs_unlock_dir(int fd) { close(fd); }  // closing the descriptor releases the flock

bool gan_fs_dir_locked(const char *dir, char *holder, size_t size) {
    char path[GAN_PATH_MAX];
    if (gan_fs_join(path, sizeof path, dir, GAN_FS_LOCK_NAME, NULL) != 0) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (locked) read_holder(fd, holder, size);
    close(fd);  // also drops the shared lock taken when it was free
    return locked;
}
