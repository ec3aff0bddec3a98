// gan_fs_append and gan_fs_write_atomic on a full disk: run with the fail_write shim loaded
// (tests/fault/meson.build: GAN_FAULT_PATH=appended, GAN_FAULT_AFTER=20), so that writes to
// files named "appended*" fail once 20 bytes went to them. A failed append leaves no torn line;
// a failed atomic write leaves the file that was there.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "test.h"

static char *contents(const char *path) {
    char *text = NULL;
    if (gan_fs_read_all(path, &text, NULL, NULL) != 0) return NULL;
    return text;
}

int main(void) {
    const char *pattern = getenv("GAN_FAULT_PATH");
    if (!pattern || strcmp(pattern, "appended") || !getenv("LD_PRELOAD")) {
        printf("needs the fail_write shim with GAN_FAULT_PATH=appended: skipped\n");
        return 77;
    }
    char dir[] = "/tmp/gan-fs-append.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[GAN_PATH_MAX], other[GAN_PATH_MAX];
    snprintf(path, sizeof path, "%s/appended.jsonl", dir);
    snprintf(other, sizeof other, "%s/appended.txt", dir);
    gan_err err = {0};

    // 14 bytes fit in the 20 the shim allows; the third line gets 6 of its 17, then the disk is full.
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    TEST_CHECK(fd >= 0, "open: %s", strerror(errno));
    TEST_CHECK(gan_fs_append(fd, path, "line 1\n", 7, &err) == 0, "append 1: %s", err.msg);
    TEST_CHECK(gan_fs_append(fd, path, "line 2\n", 7, &err) == 0, "append 2: %s", err.msg);
    TEST_CHECK(gan_fs_append(fd, path, "line 3 is longer\n", 17, &err) != 0, "an append past a full disk succeeded");
    TEST_CHECK(errno == ENOSPC, "errno %d, expected ENOSPC", errno);
    TEST_CHECK(strstr(err.msg, "appended.jsonl: cannot append: No space left on device; its earlier contents are intact"),
               "message: %s", err.msg);
    close(fd);
    char *text = contents(path);
    TEST_CHECK(text && !strcmp(text, "line 1\nline 2\n"), "the file holds '%s', expected the two whole lines", text);
    free(text);

    // An atomic write over an existing file: the file stays, no temporary is left.
    FILE *f = fopen(other, "w");  // through the shim's stream: refused once the disk is full
    TEST_CHECK(f && fputs("x", f) >= 0 && fclose(f) != 0, "writing through a full disk's stream succeeded");
    unlink(other);
    int fd2 = open(other, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // the old file, by hand
    TEST_CHECK(fd2 >= 0, "create: %s", strerror(errno));
    close(fd2);
    TEST_CHECK(gan_fs_write_atomic(other, "new contents", 12, &err) != 0, "an atomic write to a full disk succeeded");
    TEST_CHECK(strstr(err.msg, "appended.txt: cannot write: No space left on device; the file already there is unchanged"),
               "message: %s", err.msg);
    text = contents(other);
    TEST_CHECK(text && !strcmp(text, ""), "the file changed: '%s'", text);
    free(text);
    char tmp[GAN_PATH_MAX];
    gan_fs_tmp_path(other, tmp, sizeof tmp);
    TEST_CHECK(!gan_fs_exists(tmp), "the temporary %s was left", tmp);

    unlink(path);
    unlink(other);
    rmdir(dir);
    return test_finish();
}
