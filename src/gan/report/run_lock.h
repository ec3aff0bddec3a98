// Whether a process is writing a run now: the writer holds flock(2) on RUN/.lock for its whole
// life (gan_fs_lock_dir), and the kernel drops it when the writer dies, so the lock, not the
// files' ages, tells a live run from a dead one.
#pragma once
#include <stdbool.h>
#include <stddef.h>

// True when RUN/.lock is locked by some process; holder gets the lock file's "pid N host H".
//
// It looks first in /proc/locks, which lists every flock with the device and inode of its file:
// reading it takes no lock, so it cannot disturb a writer that takes the lock at that instant.
// When /proc/locks is unreadable, or does not list the file (it cannot be matched on some
// stacked file systems, where stat(2) and the kernel's lock list may show different devices), it falls back to
// gan_fs_dir_locked's probe: a shared non-blocking flock released at once. That probe can
// collide with a writer's LOCK_EX|LOCK_NB in the same microseconds; gan_fs_lock_dir retries for
// 0.2 s, so the writer still gets its lock.
bool gan_run_lock_held(const char *run_dir, char *holder, size_t size);
