#include "meminfo.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void consider(gan_mem_room *room, uint64_t bytes, const char *what) {
    if (!room->known || bytes < room->bytes) {
        room->bytes = bytes;
        snprintf(room->what, sizeof room->what, "%s", what);
    }
    room->known = true;
}

// MemAvailable: what the kernel can hand out without swapping (free memory plus the page cache
// and the like it can drop).
static bool mem_available(uint64_t *bytes) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return false;
    char line[256];
    bool ok = false;
    unsigned long long kib;
    while (!ok && fgets(line, sizeof line, f)) ok = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    fclose(f);
    if (ok) *bytes = (uint64_t)kib * 1024;
    return ok;
}

// The process's current virtual size and data segment (statm's fields 1 and 6, in pages).
static bool process_sizes(uint64_t *vm, uint64_t *data) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return false;
    unsigned long long size, resident, shared, text, lib, dat;
    bool ok = fscanf(f, "%llu %llu %llu %llu %llu %llu", &size, &resident, &shared, &text, &lib, &dat) == 6;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (!ok || page <= 0) return false;
    *vm = (uint64_t)size * (uint64_t)page;
    *data = (uint64_t)dat * (uint64_t)page;
    return true;
}

static void consider_rlimit(gan_mem_room *room, int resource, uint64_t used, const char *what) {
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    uint64_t limit = (uint64_t)rl.rlim_cur;
    consider(room, limit > used ? limit - used : 0, what);
}

static bool read_u64_file(const char *path, uint64_t *v) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    unsigned long long x;
    bool ok = fscanf(f, "%llu", &x) == 1;  // "max" (no limit) does not parse
    fclose(f);
    if (ok) *v = (uint64_t)x;
    return ok;
}

// cgroup v2: the process's group ("0::/path" in /proc/self/cgroup) and each group above it may
// cap memory (memory.max); what is left is the cap less the group's use (memory.current).
static void consider_cgroup(gan_mem_room *room) {
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return;
    char line[4096], group[4096] = "";
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            snprintf(group, sizeof group, "%s", line + 3);
            group[strcspn(group, "\n")] = '\0';
        }
    fclose(f);
    if (!group[0]) return;
    for (;;) {
        char max_path[4200], cur_path[4200];
        snprintf(max_path, sizeof max_path, "/sys/fs/cgroup%s/memory.max", group);
        snprintf(cur_path, sizeof cur_path, "/sys/fs/cgroup%s/memory.current", group);
        uint64_t max, cur;
        if (read_u64_file(max_path, &max) && read_u64_file(cur_path, &cur))
            consider(room, max > cur ? max - cur : 0, "the cgroup's memory limit (memory.max)");
        char *slash = strrchr(group, '/');
        if (!slash || slash == group) break;
        *slash = '\0';
    }
}

gan_mem_rooms gan_mem_rooms_now(void) {
    gan_mem_rooms r = {0};
    uint64_t avail, vm, data;
    if (mem_available(&avail)) consider(&r.touched, avail, "the machine's available memory (MemAvailable)");
    consider_cgroup(&r.touched);
    if (process_sizes(&vm, &data)) {
        consider_rlimit(&r.reserved, RLIMIT_AS, vm, "the address-space limit (ulimit -v)");
        consider_rlimit(&r.reserved, RLIMIT_DATA, data, "the data-segment limit (ulimit -d)");
    }
    return r;
}

void gan_format_bytes(char *dst, int size, double bytes) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (bytes >= 1024 && u < 5) bytes /= 1024, u++;
    if (u == 0) snprintf(dst, (size_t)size, "%.0f bytes", bytes);
    else snprintf(dst, (size_t)size, "%.*f %s", bytes < 10 ? 2 : 1, bytes, units[u]);
}
