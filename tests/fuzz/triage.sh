#!/usr/bin/env bash
# Says whose bug a saved fuzz input shows, by running it again and reading the stack:
#   triage.sh BUILD/tests/fuzz/fuzz_NAME ARTIFACT
# prints "ARTIFACT: libhdf5: <report>" and exits 0 when the first frame outside the sanitizer
# and fuzzer runtimes and the C library is in libhdf5 (HDF5 does not promise to survive crafted
# files: recorded, not fixed; tests/fuzz/README.md), "ARTIFACT: gan.c: <report>" and exits 1
# when it is in gan.c's code (or no frame says), and exits 2 when the input no longer fails.
# The environment (ASAN_OPTIONS, ...) is the caller's: run_fuzz.sh and tools/fuzz_long.sh set it.
set -uo pipefail
exe=$1 artifact=$2
report=$("$exe" -timeout=4 -rss_limit_mb=2560 "$artifact" 2>&1)
summary=$(grep -m1 -E '^SUMMARY|ERROR: libFuzzer|runtime error' <<<"$report" | cut -c1-200)
# Frames look like "#3 0x7f.. in H5G__dense_iterate (/lib/x86_64-linux-gnu/libhdf5_serial.so.103+0x..)"
# (a shared library; the name may be missing), "#1 0x55.. in free (/path/fuzz_x+0x..)" (the
# sanitizer and fuzzer runtimes: no source line) or "#4 0x55.. in gan_h5_list
# /path/src/gan/io/h5io.c:252:17" (gan.c's code; the C library may show source lines too).
owner=$(grep -E '^ *#[0-9]+ 0x[0-9a-f]+ ' <<<"$report" | while IFS= read -r frame; do
  case "$frame" in
    *libhdf5*) echo libhdf5; break ;;
    */src/*.[ch]:[0-9]*|*/tests/fuzz/*.c:[0-9]*) echo gan.c; break ;;
  esac
done)
# No report when run alone: nothing to blame. libFuzzer's fork mode saves such inputs (empty ones)
# when LeakSanitizer's check at a child's exit finds memory lost by some earlier input.
if [ -z "$summary" ]; then
  echo "$artifact: not reproducible alone (exit-time leak check of a fork-mode child?)"
  exit 2
fi
owner=${owner:-gan.c}
echo "$artifact: $owner: $summary"
[ "$owner" = libhdf5 ]
