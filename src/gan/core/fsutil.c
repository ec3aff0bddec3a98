#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

void gan_fs_tmp_path(const char *path, char *tmp, size_t size) {
    snprintf(tmp, size, "%s.tmp.%ld", path, (long)getpid());
}

static int fsync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int gan_fs_commit(const char *tmp, const char *path, gan_err *err) {
    if (fsync_path(tmp, O_RDONLY) != 0) {
        int e = errno;
        unlink(tmp);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot sync the new file: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot move the new file into place: %s", path, strerror(e));
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

int gan_fs_write_atomic(const char *path, const void *data, size_t n, gan_err *err) {
    char tmp[GAN_PATH_MAX];
    gan_fs_tmp_path(path, tmp, sizeof tmp);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot create: %s", tmp, strerror(errno));
    size_t w = fwrite(data, 1, n, f);
    int bad = w != n || fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: write failed: %s", path, strerror(e));
    }
    return gan_fs_commit(tmp, path, err);
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
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: read error", path);
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
