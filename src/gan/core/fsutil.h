// Files that never end up half-written: write to a temporary name in the same directory, fsync,
// rename over the final name, fsync the directory. A crash at any point leaves either the old
// file or the new one, never a mix.
#pragma once
#include <stddef.h>
#include <stdio.h>

#include "error.h"

#define GAN_PATH_MAX 4096

// "<path>.tmp.<pid>": where a file is written before gan_fs_commit moves it into place.
void gan_fs_tmp_path(const char *path, char *tmp, size_t size);
// fsyncs tmp, renames it to path, fsyncs the directory. On failure removes tmp.
int gan_fs_commit(const char *tmp, const char *path, gan_err *err);
// Writes `n` bytes to `path` atomically.
int gan_fs_write_atomic(const char *path, const void *data, size_t n, gan_err *err);
// mkdir -p. Existing directories are fine; an existing non-directory is an error.
int gan_fs_mkdir_p(const char *path, gan_err *err);
int gan_fs_exists(const char *path);
int gan_fs_is_dir(const char *path);
// Whole file into a NUL-terminated malloc'd buffer (*size without the NUL).
int gan_fs_read_all(const char *path, char **data, size_t *size, gan_err *err);
// The directory part of path ("." when it has none, "/" for files in the root).
void gan_fs_dirname(const char *path, char *dir, size_t size);
// dst = a "/" b, with a single slash. Errors when it does not fit.
int gan_fs_join(char *dst, size_t size, const char *a, const char *b, gan_err *err);
