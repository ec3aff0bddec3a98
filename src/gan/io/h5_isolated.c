#include "h5_isolated.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// A dataset larger than this is not read by the child: its shape cannot match a model, so the
// caller refuses it from its header before reading (and a crafted size must not exhaust memory).
#define READ_MAX_BYTES ((hsize_t)1 << 32)

static herr_t read_attr(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)info, (void)data;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    if (a >= 0 && (t = H5Aget_type(a)) >= 0 && (s = H5Aget_space(a)) >= 0) {
        hssize_t n = H5Sget_simple_extent_npoints(s);
        size_t size = H5Tget_size(t);
        if (n >= 0 && size > 0 && (hsize_t)n * size <= READ_MAX_BYTES) {
            void *buf = calloc((size_t)n + 1, size);
            if (buf && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
                if (H5Aread(a, t, buf) >= 0) H5Dvlen_reclaim(t, s, H5P_DEFAULT, buf);
            } else if (buf && H5Tget_class(t) != H5T_VLEN) {
                H5Aread(a, t, buf);
            }
            free(buf);
        }
    }
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return 0;  // go on whatever failed: errors are the caller's reads' to report
}

static void read_dataset(hid_t file, const char *name) {
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl >= 0) H5Pset_edc_check(dxpl, H5Z_ENABLE_EDC);  // as the caller reads: checksums on
    if (d >= 0 && (t = H5Dget_type(d)) >= 0 && (s = H5Dget_space(d)) >= 0) {
        hssize_t n = H5Sget_simple_extent_npoints(s);
        size_t size = H5Tget_size(t);
        H5T_class_t cls = H5Tget_class(t);
        if (n >= 0 && size > 0 && (hsize_t)n * size <= READ_MAX_BYTES && cls != H5T_VLEN && cls != H5T_REFERENCE &&
            !(cls == H5T_STRING && H5Tis_variable_str(t) > 0)) {
            void *buf = malloc((size_t)n * size + 1);
            if (buf) H5Dread(d, t, H5S_ALL, H5S_ALL, dxpl, buf);
            free(buf);
        }
    }
    if (dxpl >= 0) H5Pclose(dxpl);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
}

static herr_t visit(hid_t file, const char *name, const H5O_info_t *info, void *data) {
    (void)data;
    hid_t o = H5Oopen(file, name, H5P_DEFAULT);
    if (o >= 0) {
        hsize_t idx = 0;
        H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, read_attr, NULL);
        H5Oclose(o);
    }
    if (info->type == H5O_TYPE_DATASET) read_dataset(file, name);
    return 0;
}

// A crafted header can make libhdf5 ask for terabytes (fuzz_checkpoint saw it): the child may
// map what it holds now, twice the file and 1 GiB more, so such a file ends the child, not the
// machine's memory. Not under AddressSanitizer, whose shadow memory maps terabytes.
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
static void cap_address_space(const char *path) {
#ifndef UNDER_ASAN
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    struct stat st;
    struct rlimit lim;
    if (statm && fscanf(statm, "%llu", &pages) == 1 && stat(path, &st) == 0 && getrlimit(RLIMIT_AS, &lim) == 0) {
        const rlim_t cap = (rlim_t)(pages * (unsigned long long)sysconf(_SC_PAGESIZE) +
                                    2 * (unsigned long long)st.st_size + (1ull << 30));
        if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > cap) {
            lim.rlim_cur = cap;
            setrlimit(RLIMIT_AS, &lim);
        }
    }
    if (statm) fclose(statm);
#else
    (void)path;
#endif
}

// The child: everything of the file, once. Links that lead outside it are not followed (the
// caller refuses them); HDF5's error printing is off.
static _Noreturn void child_read(const char *path) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDERR_FILENO);  // libhdf5's (or a sanitizer's) last words: not the user's
    cap_address_space(path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f >= 0) {
        H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, visit, NULL, H5O_INFO_BASIC);
        H5Fclose(f);
    }
    _exit(0);
}

int gan_h5_read_isolated(const char *path, double seconds, gan_err *err) {
    fflush(NULL);  // nothing buffered is written twice
    pid_t pid = fork();
    if (pid < 0) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot start a process to read it: %s", path, strerror(errno));
    if (pid == 0) child_read(path);
    int status = 0;
    struct timespec t0, now, nap = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t r;
    for (;;) {
        if ((r = waitpid(pid, &status, WNOHANG)) != 0) break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec) > seconds) break;
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 32000000) nap.tv_nsec *= 2;  // 1, 2, 4, ... 64 ms: quick files answer quickly
    }
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return gan_errf(err, GAN_EXIT_RUNTIME, "%s: libhdf5 did not finish reading this file in %.0f s: it is damaged "
                        "or crafted, and nothing of it was loaded (checkpoints should come from sources you trust)",
                        path, seconds);
    }
    if (r < 0) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot wait for the process reading it: %s", path, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    char how[96];
    if (WIFSIGNALED(status)) snprintf(how, sizeof how, "%s", strsignal(WTERMSIG(status)));
    else snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    return gan_errf(err, GAN_EXIT_RUNTIME, "%s: libhdf5 crashed reading this file (%s): it is damaged or crafted, and "
                    "nothing of it was loaded (checkpoints should come from sources you trust)", path, how);
}
