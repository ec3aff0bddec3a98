// CIFAR-10 binary batches: back-to-back records of 1 label byte and 3072 pixel bytes, already
// planar (1024 R, 1024 G, 1024 B of a 32 x 32 image), which is our (C, H, W) layout. Labels are
// read only for conditional runs (gan_cifar10_labels), in a pass of their own.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "sources.h"

#define CIFAR_PIXELS 3072

static bool is_train_batch(const char *name) {
    size_t n = strlen(name);
    return strncmp(name, "data_batch_", 11) == 0 && n > 15 && strcmp(name + n - 4, ".bin") == 0;
}

bool gan_cifar10_dir_sniff(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) found = is_train_batch(e->d_name);
    closedir(d);
    return found;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

// The batch files to read: the path itself, or the directory's data_batch_*.bin by name.
static int list_files(const char *path, char ***files, int *nfiles, gan_err *err) {
    *files = NULL;
    *nfiles = 0;
    if (!gan_fs_is_dir(path)) {
        *files = gan_xmalloc(sizeof(char *), "the list of CIFAR-10 files");
        (*files)[0] = gan_xstrdup(path, "a CIFAR-10 file name");
        *nfiles = 1;
        return 0;
    }
    DIR *d = opendir(path);
    if (!d) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open directory: %s", path, strerror(errno));
    char **list = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_train_batch(e->d_name)) continue;
        char full[GAN_PATH_MAX];
        if (gan_fs_join(full, sizeof full, path, e->d_name, err) != 0) {
            closedir(d);
            free_list(list, n);
            return -1;
        }
        list = gan_xrealloc(list, sizeof(char *) * (size_t)(n + 1), "the list of CIFAR-10 files");
        list[n++] = gan_xstrdup(full, "a CIFAR-10 file name");
    }
    closedir(d);
    if (n == 0)
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: no CIFAR-10 training batches (data_batch_*.bin) in this directory", path);
    qsort(list, (size_t)n, sizeof(char *), cmp_str);
    *files = list;
    *nfiles = n;
    return 0;
}

static int record_count(const char *file, int64_t *count, gan_err *err) {
    struct stat st;
    if (stat(file, &st) != 0) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s", file, strerror(errno));
    int64_t size = (int64_t)st.st_size;
    if (size == 0) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: empty file, expected CIFAR-10 records", file);
    if (size % GAN_CIFAR10_RECORD != 0) {
        int64_t whole = size / GAN_CIFAR10_RECORD;
        return gan_errf(err, GAN_EXIT_RUNTIME,
                        "%s: truncated: expected %lld bytes (%lld CIFAR-10 records of %d bytes), got %lld",
                        file, (long long)((whole + 1) * GAN_CIFAR10_RECORD), (long long)(whole + 1),
                        GAN_CIFAR10_RECORD, (long long)size);
    }
    *count = size / GAN_CIFAR10_RECORD;
    return 0;
}

// Reads `count` records of `file` into dst (count x 3072 pixels).
static int read_records(const char *file, int64_t count, uint8_t *dst, gan_err *err) {
    FILE *f = fopen(file, "rb");
    if (!f) return gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", file, strerror(errno));
    uint8_t rec[GAN_CIFAR10_RECORD];
    for (int64_t i = 0; i < count; i++) {
        size_t got = fread(rec, 1, sizeof rec, f);
        if (got != sizeof rec) {
            int io = ferror(f);
            fclose(f);
            return gan_errf(err, GAN_EXIT_RUNTIME, "%s: %s at record %lld", file,
                            io ? "read error" : "file shrank while reading", (long long)i);
        }
        memcpy(dst + i * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
    }
    fclose(f);
    return 0;
}

int gan_cifar10_load(const char *path, int64_t limit, gan_dataset *ds, gan_err *err) {
    char **files;
    int nfiles;
    if (list_files(path, &files, &nfiles, err) != 0) return -1;
    int64_t *counts = gan_xmalloc(sizeof(int64_t) * (size_t)nfiles, "the CIFAR-10 image counts"), total = 0;
    int rc = 0;
    for (int i = 0; i < nfiles && rc == 0; i++) {
        rc = record_count(files[i], &counts[i], err);
        total += rc == 0 ? counts[i] : 0;
    }
    if (rc == 0) {
        int64_t n = limit > 0 && limit < total ? limit : total;
        uint8_t *px = gan_dataset_alloc_pixels(path, n, 3, 32, 32, err);
        rc = px ? 0 : -1;
        int64_t done = 0;
        for (int i = 0; i < nfiles && done < n && rc == 0; i++) {
            int64_t take = counts[i] < n - done ? counts[i] : n - done;
            rc = read_records(files[i], take, px + done * CIFAR_PIXELS, err);
            done += take;
        }
        if (rc == 0) {
            ds->pixels = px;
            ds->n = n;
            ds->c = ds->src_channels = 3;
            ds->h = ds->w = 32;
        } else {
            free(px);
        }
    }
    free(counts);
    free_list(files, nfiles);
    return rc;
}

// Reads the label byte of each of the first n records, file by file as gan_cifar10_load reads
// the pixels (1 byte per 3073: a second pass over the files, only for conditional runs).
int gan_cifar10_labels(const char *path, int64_t n, uint8_t *labels, gan_err *err) {
    char **files;
    int nfiles;
    if (list_files(path, &files, &nfiles, err) != 0) return -1;
    int64_t done = 0;
    int rc = 0;
    for (int i = 0; i < nfiles && done < n && rc == 0; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            rc = gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot open: %s", files[i], strerror(errno));
            break;
        }
        for (; done < n; done++) {
            int ch = fgetc(f);
            if (ch == EOF) break;  // this file's records are all read
            labels[done] = (uint8_t)ch;
            if (fseek(f, CIFAR_PIXELS, SEEK_CUR) != 0) {
                rc = gan_errf(err, GAN_EXIT_RUNTIME, "%s: cannot seek: %s", files[i], strerror(errno));
                break;
            }
        }
        fclose(f);
    }
    if (rc == 0 && done < n)
        rc = gan_errf(err, GAN_EXIT_RUNTIME, "%s: %lld labels for %lld images (the files shrank while reading?)", path,
                      (long long)done, (long long)n);
    free_list(files, nfiles);
    return rc;
}
