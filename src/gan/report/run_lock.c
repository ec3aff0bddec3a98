// The run lock probe (run_lock.h).
#define _DEFAULT_SOURCE  // major(), minor()
#include "run_lock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fsutil.h"

// Whether /proc/locks lists an active flock on (major:minor, inode). -1 when it cannot be read.
static int proc_locks_has(unsigned maj, unsigned min, uintmax_t ino) {
    FILE *f = fopen("/proc/locks", "r");
    if (!f) return -1;
    char line[512];
    int found = 0;
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's line has "->" after the
    // number and is no holder.
    while (!found && fgets(line, sizeof line, f)) {
        char kind[16], arrow[4];
        unsigned a, b;
        uintmax_t i;
        if (sscanf(line, "%*d: %3s", arrow) == 1 && !strcmp(arrow, "->")) continue;
        if (sscanf(line, "%*d: %15s %*s %*s %*d %x:%x:%ju", kind, &a, &b, &i) == 4 && !strcmp(kind, "FLOCK") &&
            a == maj && b == min && i == ino)
            found = 1;
    }
    fclose(f);
    return found;
}

static void read_holder(const char *path, char *holder, size_t size) {
    if (!size) return;
    holder[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(holder, (int)size, f)) holder[0] = '\0';
    fclose(f);
    holder[strcspn(holder, "\n")] = '\0';
}

bool gan_run_lock_held(const char *run_dir, char *holder, size_t size) {
    char path[GAN_PATH_MAX];
    struct stat st;
    if (size) holder[0] = '\0';
    if (gan_fs_join(path, sizeof path, run_dir, GAN_FS_LOCK_NAME, NULL) != 0 || stat(path, &st) != 0) return false;
    if (proc_locks_has(major(st.st_dev), minor(st.st_dev), (uintmax_t)st.st_ino) == 1) {
        read_holder(path, holder, size);
        return true;
    }
    return gan_fs_dir_locked(run_dir, holder, size);
}
