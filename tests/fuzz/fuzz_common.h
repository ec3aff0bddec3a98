// What the libFuzzer harnesses share. The readers under test take paths, as they do in gan, so
// each input is written to a file in a private scratch folder (under $TMPDIR, else /dev/shm,
// else /tmp) and read back from there; the folder goes away when the process exits normally.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "fsutil.h"  // GAN_PATH_MAX, the size of every path buffer

// The scratch folder, created on first use; aborts when it cannot be made.
const char *fuzz_dir(void);
// Writes data to fuzz_dir()/name (sub-folders of fuzz_dir() must exist) and puts its path in
// path (GAN_PATH_MAX bytes). Aborts on a write error: the harness, not the reader, failed.
void fuzz_write(const char *name, const uint8_t *data, size_t size, char *path);
// Makes fuzz_dir()/name a folder (an existing one is fine) and puts its path in path.
void fuzz_mkdir(const char *name, char *path);
// The harness found a real bug that no sanitizer sees (a broken round trip): says what and
// aborts, which libFuzzer reports as a crash and saves the input.
_Noreturn void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
