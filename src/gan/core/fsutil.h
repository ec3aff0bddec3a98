// Files that never end up half-written: write to a temporary name in the same directory, fsync,
// rename over the final name, fsync the directory. A crash at any point leaves either the old
// file or the new one, never a mix.
//
// A directory is owned by one writer at a time through a lock file in it (gan_fs_lock_dir).
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

#define GAN_PATH_MAX 4096

// "<path>.tmp.<pid>": where a file is written before gan_fs_commit moves it into place.
void gan_fs_tmp_path(const char *path, char *tmp, size_t size);
// The pid in a name gan_fs_tmp_path made ("x.h5.tmp.123" -> 123), or -1 for any other name.
long gan_fs_tmp_pid(const char *name);
// Whether a temporary's writer is gone: its pid is no live process on this machine.
bool gan_fs_tmp_is_stale(const char *name);
// Deletes the stale temporaries (files and links, gan_fs_tmp_is_stale) directly in dir: what
// killed writers left. A missing dir is fine. Only the directory's owner may call it.
int gan_fs_remove_stale_tmp(const char *dir, gan_err *err);
// fsyncs tmp, renames it to path, fsyncs the directory. On failure removes tmp, and err names
// path, the system's reason and what is at path now ("...: cannot write: No space left on
// device (syncing the new file to disk); the file already there is unchanged"); errno is that
// reason.
int gan_fs_commit(const char *tmp, const char *path, gan_err *err);
// Writes `n` bytes to `path` atomically (the temporary gan_fs_tmp_path names, written with
// write(2), fsynced, renamed over path). On failure nothing but the temporary was touched and
// it is removed; err and errno as for gan_fs_commit.
int gan_fs_write_atomic(const char *path, const void *data, size_t n, gan_err *err);
// The same without the fsyncs: whole or absent if the process dies, but a crash of the machine
// may leave it empty. For files derived from others (report.html, status.json) that are
// rewritten often: a sync costs milliseconds on a disk, many times a run.
int gan_fs_write_atomic_unsynced(const char *path, const void *data, size_t n, gan_err *err);
// Appends n bytes (a whole line, say) to the file open on fd, which has O_APPEND, as one piece:
// when the write fails or falls short (a full disk), the file is cut back to the size it had,
// so no torn line is left for the next append to be glued to. err names path and the reason
// ("runs/a/metrics.jsonl: cannot append: No space left on device; its earlier contents are
// intact"); errno is the reason.
int gan_fs_append(int fd, const char *path, const void *data, size_t n, gan_err *err);
// A relative path that exists becomes absolute (symbolic links resolved), so that what stores
// it names the same file from any working directory; an absolute path, one that does not exist
// or one whose absolute form does not fit in size is left as it is.
void gan_fs_make_absolute(char *path, size_t size);
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

// The lock file of a directory, "<dir>/.lock".
#define GAN_FS_LOCK_NAME ".lock"
// Takes the exclusive flock(2) on "<dir>/.lock" (created if needed) without waiting, and writes
// "pid N host H" into it. The kernel releases it when the process dies, so a killed writer never
// leaves the directory locked. Held by another process: exit 1, naming its pid and host.
// *fd is the lock's descriptor, for gan_fs_unlock_dir.
int gan_fs_lock_dir(const char *dir, int *fd, gan_err *err);
void gan_fs_unlock_dir(int fd);
// Whether another process holds dir's lock now; `holder` gets "pid N on host H". Creates
// nothing (a directory without a lock file is not locked).
bool gan_fs_dir_locked(const char *dir, char *holder, size_t size);
