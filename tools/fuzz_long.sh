#!/usr/bin/env bash
# A long run of one fuzz harness, to a budget of executions or seconds, whichever comes first:
#   tools/fuzz_long.sh HARNESS [RUNS] [SECONDS]
#     HARNESS   config, override, idx, cifar, image, npy, npz or checkpoint (tests/fuzz/fuzz_*.c)
#     RUNS      executions (default 10000000)
#     SECONDS   wall-clock seconds (default 7200)
# needs build-fuzz/ (tools/setup.sh --fuzz; GAN_FUZZ_BUILD names another). One process on one
# core. The corpus it grows is kept in build-fuzz/fuzz-long/HARNESS/corpus/ and taken up again by
# the next run; every input that failed is in build-fuzz/fuzz-long/HARNESS/crashes/ (for
# fuzz_checkpoint each is triaged: libhdf5's or gan.c's). The log is build-fuzz/fuzz-long/HARNESS/log.
# Ends with one line of figures, the row tests/fuzz/README.md's table takes:
#   | HARNESS | executions | seconds | exec/s | cov | ft | corpus | crashes |
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${1:?usage: tools/fuzz_long.sh HARNESS [RUNS] [SECONDS]}
runs=${2:-10000000}
seconds=${3:-7200}
build=${GAN_FUZZ_BUILD:-build-fuzz}
exe=$build/tests/fuzz/fuzz_$harness
[ -x "$exe" ] || { echo "fuzz_long: no $exe; build it with tools/setup.sh --fuzz" >&2; exit 2; }
work=$build/fuzz-long/$harness
mkdir -p "$work/corpus" "$work/crashes"
log=$work/log

start=$(date +%s)
rc=0
GAN_FUZZ_CORPUS=$work/corpus GAN_FUZZ_KEEP_ALL=1 \
  tests/fuzz/run_fuzz.sh "$exe" "$work/crashes" "$seconds" -runs="$runs" > "$log" 2>&1 || rc=$?
wall=$(( $(date +%s) - start ))

# The last status line: "#N ... cov: C ft: F corp: K/..." (fork mode: "#N: cov: C ft: F corp: K").
status=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -1 || true)
execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$status")
stat_execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
execs=${stat_execs:-$execs}
cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$status")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")
corpus=$(find "$work/corpus" -type f | wc -l)
crashes=$(find "$work/crashes" -type f -newermt "@$start" | wc -l)
triage=$(grep -m1 '^triage:' "$log" || true)
echo "fuzz_$harness: exit status $rc after ${wall} s; log $log"
[ -n "$triage" ] && echo "fuzz_$harness: $triage"
printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$harness" "${execs:-?}" "$wall" \
  "$(( ${execs:-0} / (wall > 0 ? wall : 1) ))" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes"
exit "$rc"
