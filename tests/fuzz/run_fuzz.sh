#!/usr/bin/env bash
# Runs one fuzz harness over its seed corpus, then fuzzes:
#   run_fuzz.sh BUILD/tests/fuzz/fuzz_NAME ARTIFACTS_DIR [SECONDS [LIBFUZZER_FLAGS...]]
# `meson test --suite fuzz` runs it briefly (SECONDS: $GAN_FUZZ_SECONDS, else 6);
# tools/fuzz_long.sh runs it for hours. The seeds (tests/fuzz/corpus/NAME/) are only read: new
# inputs go to $GAN_FUZZ_CORPUS when set (a long run's growing corpus), else to a scratch folder
# removed afterwards. The harness's own flags are in tests/fuzz/fuzz_NAME.options; flags given
# here come after them and win. A crash, leak, sanitizer report, timeout or out-of-memory exits
# non-zero and leaves the input in ARTIFACTS_DIR (reproduce: fuzz_NAME ARTIFACTS_DIR/crash-...).
set -euo pipefail
exe=$(realpath "$1")
artifacts=$2
seconds=${3:-${GAN_FUZZ_SECONDS:-6}}
shift $(($# < 3 ? $# : 3))
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$exe")

# The harness's libFuzzer flags, dictionaries named relative to this folder.
flags=()
if [ -f "$here/$name.options" ]; then
  while read -r flag; do
    [ -n "$flag" ] && [ "${flag:0:1}" != "#" ] && flags+=("${flag/#-dict=/-dict=$here/}")
  done < "$here/$name.options"
fi
flags+=("$@")

base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
scratch=$(mktemp -d "$base/gan-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
corpus=${GAN_FUZZ_CORPUS:-$scratch/new}
mkdir -p "$corpus" "$artifacts"

# libFuzzer exits 77 on a crash by default, which meson reads as a skipped test: -error_exitcode=1.
# The libraries are built with -fno-sanitize-recover; the options make a hand-built or older
# tree stop on the first report as well. Harnesses write their files under TMPDIR.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
export OMP_NUM_THREADS=1 TMPDIR=$scratch
touch "$scratch/start"
rc=0
"$exe" -max_total_time="$seconds" -error_exitcode=1 -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
  -artifact_prefix="$(realpath "$artifacts")/" "${flags[@]}" "$corpus" "$here/corpus/${name#fuzz_}" || rc=$?
fork=0
for flag in "${flags[@]}"; do [[ "$flag" = -fork=* ]] && fork=1; done
[ "$fork" = 1 ] || exit "$rc"

# A harness over a library that may crash on crafted files (fuzz_checkpoint: libhdf5) runs
# with -fork=1 -ignore_crashes=1, so fuzzing goes on past them; each input it saved is then
# triaged (triage.sh), and only a failure in gan.c's own code fails the run. A short run keeps
# only those; GAN_FUZZ_KEEP_ALL=1 (fuzz_long.sh) keeps every input for the record.
ours=0 theirs=0 gone=0
while IFS= read -r -d '' artifact; do
  rc=0
  "$here/triage.sh" "$exe" "$artifact" || rc=$?
  case $rc in
    0) theirs=$((theirs + 1)) ;;
    2) gone=$((gone + 1)) ;;
    *) ours=$((ours + 1)); continue ;;
  esac
  [ "${GAN_FUZZ_KEEP_ALL:-0}" = 1 ] || rm -f "$artifact"
done < <(find "$artifacts" -maxdepth 1 -type f -newer "$scratch/start" -print0)
echo "triage: $ours in gan.c, $theirs in libhdf5, $gone not reproducible alone"
[ "$theirs" = 0 ] || echo "$name: $theirs input(s) crash inside libhdf5 (expected on crafted files; see tests/fuzz/README.md)"
[ "$gone" = 0 ] || echo "$name: $gone saved input(s) do not fail when run alone"
[ "$ours" = 0 ] || { echo "$name: $ours input(s) fail in gan.c's code: see above" >&2; exit 1; }
exit 0
