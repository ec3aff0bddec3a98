#include "fuzz_common.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static char scratch[GAN_PATH_MAX];

_Noreturn void fuzz_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

// Removes what the harnesses wrote: files and one level of sub-folders, nothing deeper.
static void remove_tree(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[GAN_PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0) remove_tree(p, depth - 1);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void remove_scratch(void) {
    if (scratch[0]) remove_tree(scratch, 2);
}

const char *fuzz_dir(void) {
    if (scratch[0]) return scratch;
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base) base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/gan-fuzz.XXXXXX", base);
    if (!mkdtemp(scratch)) fuzz_fail("cannot make a scratch folder under %s", base);
    atexit(remove_scratch);
    return scratch;
}

void fuzz_write(const char *name, const uint8_t *data, size_t size, char *path) {
    snprintf(path, GAN_PATH_MAX, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) fuzz_fail("cannot write %s", path);
}

void fuzz_mkdir(const char *name, char *path) {
    snprintf(path, GAN_PATH_MAX, "%s/%s", fuzz_dir(), name);
    if (mkdir(path, 0700) != 0 && !gan_fs_is_dir(path)) fuzz_fail("cannot make %s", path);
}
