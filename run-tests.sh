#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds, runs every test,
# then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, the fuzz
# harnesses briefly, and one test binary under valgrind's leak checker.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup.sh --tests --asan --fuzz

echo "== tests (release build)"
meson test -C build --print-errorlogs

# The unit tests again on every other backend this build has (a test whose backend has no device
# here exits 77 and is reported as skipped).
backends=$(build/src/gan/gan --version | head -1 | sed 's/.*backends: //; s/,//g')
for be in $backends; do
  [ "$be" = cpu ] && continue
  echo "== unit tests on the $be backend"
  meson test -C build --setup "$be" --suite unit --print-errorlogs
done

echo "== unit tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --suite unit --print-errorlogs --timeout-multiplier 4

# Each reader of outside bytes under libFuzzer with ASan+UBSan: its seed corpus (with every
# input that once failed), then a few seconds of fuzzing (tests/fuzz/README.md).
echo "== fuzz harnesses (libFuzzer, AddressSanitizer + UndefinedBehaviorSanitizer)"
meson test -C build-fuzz --suite fuzz --print-errorlogs

echo "== leak check (valgrind)"
OMP_NUM_THREADS=2 valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
  --suppressions=tests/valgrind.supp --error-exitcode=1 build/tests/test_autograd

echo "== all tests passed"
