#!/usr/bin/env bash
# Stops and failures: SIGINT/SIGTERM checkpoint and exit 0; a killed process leaves the previous
# checkpoint loadable; corrupted and truncated checkpoints are reported as such and never
# half-loaded; a diverging run stops naming the step and the tensor, writes no checkpoint of a
# diverged state and names its real last good checkpoint.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config long.yaml
sed -i 's/steps: 6/steps: 100000/; s/every: 3, keep/every: 1000, keep/; s/sample: {every: 3/sample: {every: 1000/' long.yaml

# wait_for FILE SECONDS: until FILE exists.
wait_for() { for _ in $(seq 1 $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

declare -A stopped_at
for sig in INT TERM; do
  "$GAN" train long.yaml --run-dir sig$sig > sig$sig.log 2>&1 &
  pid=$!
  wait_for sig$sig/metrics.jsonl 60
  sleep 0.5
  kill -$sig $pid
  wait $pid; rc=$?
  check "SIG$sig: exit status $rc, expected 0" test "$rc" = 0
  check "SIG$sig: message" grep -q "stopped by signal.*checkpoint written" sig$sig.log
  step=$(sed -n 's/.*stopped by signal [0-9]* at step \([0-9]*\).*/\1/p' sig$sig.log)
  stopped_at[$sig]=$step
  check "SIG$sig: checkpoint of step $step" test -n "$step" -a -f "sig$sig/checkpoints/ckpt-$(printf %08d "$step").h5"
  check "SIG$sig: info reads it" "$GAN" info sig$sig >/dev/null
done
# train.steps at or below the checkpoint's step would exit 0 without training: the step is the one
# sigINT stopped at, and an unread one (empty) gives an empty train.steps, which is refused.
step=${stopped_at[INT]}
check "a stopped run resumes" "$GAN" train --resume sigINT train.steps=${step:+$((step + 2))} >/dev/null

# kill -9 at random moments of a run that checkpoints every step: latest.h5 always loads.
tiny_config every.yaml
sed -i 's/steps: 6/steps: 100000/; s/every: 3, keep: 2/every: 1, keep: 2/; s/sample: {every: 3/sample: {every: 1000/' every.yaml
"$GAN" train every.yaml --run-dir crash > /dev/null 2>&1 &
pid=$!
wait_for crash/checkpoints/latest.h5 60
for delay in 0.13 0.31 0.07; do
  sleep $delay
  kill -9 $pid; wait $pid 2>/dev/null
  check "after kill -9: latest checkpoint loads" "$GAN" info crash > /dev/null
  "$GAN" train --resume crash train.steps=100000 > /dev/null 2>&1 &
  pid=$!
  sleep 0.3
done
kill -9 $pid; wait $pid 2>/dev/null
step=$("$GAN" info crash | sed -n 's/^step *\([0-9]*\).*/\1/p')
check "after the last kill -9: resumable" "$GAN" train --resume crash train.steps=${step:+$((step + 1))} > /dev/null

# Corrupted and truncated checkpoints.
tiny_config ok.yaml
"$GAN" train ok.yaml --run-dir ok > /dev/null
good=ok/checkpoints/ckpt-00000006.h5
cp "$good" trunc.h5 && truncate -s $(( $(stat -c %s "$good") / 2 )) trunc.h5
expect_exit 1 "trunc.h5.*(truncated|corrupt)" "$GAN" info trunc.h5
expect_exit 1 "trunc.h5.*(truncated|corrupt)" "$GAN" sample trunc.h5 --out t.png
check "no output from a failed sample" test ! -e t.png
# Flip bytes inside a checksummed tensor (the first chunk of the largest dataset, found with
# h5py): resuming reads every tensor and must report the damage.
cp "$good" flip.h5
at=$("${PYTHON:-/usr/bin/python3}" - flip.h5 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
sets = []
f.visititems(lambda name, o: sets.append(o) if isinstance(o, h5py.Dataset) and o.chunks else None)
big = max(sets, key=lambda d: d.size)
print(big.id.get_chunk_info(0).byte_offset + 16)
PY
)
check "found a tensor's bytes to damage ($at)" test -n "$at"
printf '\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8' | dd of=flip.h5 bs=1 seek="${at:-0}" conv=notrunc status=none
cp -r ok resumed && cp flip.h5 resumed/checkpoints/ckpt-00000006.h5
before=$(md5sum resumed/checkpoints/* resumed/metrics.jsonl resumed/config.yaml)
expect_exit 1 "(checksum|corrupt)" "$GAN" train --resume resumed train.steps=9
check "a failed resume changes nothing on disk" unchanged "$before" resumed/checkpoints/* resumed/metrics.jsonl resumed/config.yaml
echo "not hdf5 at all" > text.h5
expect_exit 1 "text.h5.*not .*HDF5" "$GAN" info text.h5
# A file found by fuzz_checkpoint that makes libhdf5 1.10.8 itself crash (a segmentation fault
# inside it): read first by a child process, it is one line and exit 1 from every command that
# takes a checkpoint, never a crash of gan; a resume of a run holding it changes nothing.
cp "$(dirname "$0")/../fixtures/libhdf5_crash.h5" evil.h5
for cmd in "info evil.h5" "sample evil.h5 --out e.png" "eval evil.h5 --n 10"; do
  out=$("$GAN" $cmd 2>&1); rc=$?
  check "gan $cmd: exit 1 (got $rc)" test "$rc" = 1
  check "gan $cmd: one line: $out" bash -c '[ "$(wc -l <<<"$0")" = 1 ] && grep -q "evil.h5: libhdf5 crashed reading this file (.*): it is damaged or crafted, and nothing of it was loaded" <<<"$0"' "$out"
done
check "no output from it" test ! -e e.png
cp -r ok evilrun && cp evil.h5 evilrun/checkpoints/ckpt-00000006.h5
before=$(md5sum evilrun/checkpoints/* evilrun/metrics.jsonl evilrun/config.yaml)
expect_exit 1 "evilrun/checkpoints/(latest|ckpt-00000006).h5: libhdf5 crashed reading this file" "$GAN" train --resume evilrun train.steps=9
check "a refused resume changes nothing on disk" unchanged "$before" evilrun/checkpoints/* evilrun/metrics.jsonl evilrun/config.yaml

# Divergence (issue 12 rows 7, 8). An absurd learning rate makes the losses non-finite in the
# first step, before any checkpoint: the message says there is none (it used to offer "the last
# good checkpoint (step 0)" in an empty folder).
tiny_config nan.yaml
sed -i 's/steps: 6/steps: 50/; s/batch_size: 8/batch_size: 8, lr_d: 1.0e+30, lr_g: 1.0e+30/' nan.yaml
expect_exit 1 "^gan train: error: step [0-9]+: loss_[dg] = -?nan \(not finite\): training diverged; it has no checkpoint yet \(the first is due at step 3\); train again with a lower learning rate$" \
  "$GAN" train nan.yaml --run-dir nan
check "no checkpoint written" test -z "$(ls nan/checkpoints)"
# A merely huge one keeps the losses finite (BCE saturates) while a running variance overflows:
# the state is checked before every checkpoint, none holding inf is written, and the message
# names the tensor and the real last good checkpoint.
sed 's/1.0e+30/1.0e+9/g' nan.yaml > inf.yaml
out=$("$GAN" train inf.yaml --run-dir inf checkpoint.every=1 checkpoint.keep=50 2>&1 >/dev/null); rc=$?
check "diverged state: exit 1 (got $rc)" test "$rc" = 1
check "names the tensor, the unwritten checkpoint and the last good one: $out" grep -Eq \
  "^gan train: error: step ([0-9]+): /(G|D|optim/[GD] exp_avg(_sq)?) [^ ]+ element [0-9]+ = -?(inf|nan) is not finite, so ckpt-0*[0-9]+\.h5 was not written: training diverged; the last good checkpoint is inf/checkpoints/ckpt-0*[0-9]+\.h5 \(step [0-9]+\); train again with a lower learning rate$" <<<"$out"
bad_step=$(sed -n 's/^gan train: error: step \([0-9]*\):.*/\1/p' <<<"$out")
good=$(printf 'ckpt-%08d.h5' $((bad_step - 1)))
check "the last good checkpoint named is the one before ($good)" grep -q "is inf/checkpoints/$good (step $((bad_step - 1)))" <<<"$out"
check "no checkpoint of the diverged step" test ! -e "inf/checkpoints/$(printf 'ckpt-%08d.h5' "$bad_step")"
if /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
  check "every dataset of every checkpoint left is finite" /usr/bin/python3 - inf/checkpoints/ckpt-*.h5 <<'PY'
import sys, h5py, numpy as np
bad = []
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: bad.append(f"{path}:{name}") if isinstance(obj, h5py.Dataset)
                     and obj.dtype.kind == "f" and not np.isfinite(obj[()]).all() else None)
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad or not sys.argv[1:] else 0)
PY
fi
finish
