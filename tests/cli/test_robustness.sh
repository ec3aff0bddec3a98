#!/usr/bin/env bash
# Stops and failures: SIGINT/SIGTERM checkpoint and exit 0; a killed process leaves the previous
# checkpoint loadable; corrupted and truncated checkpoints are reported as such and never
# half-loaded; a diverging run stops naming the step and keeps its last good checkpoint.
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

# Divergence: an absurd learning rate makes the losses non-finite within a few steps.
tiny_config nan.yaml
sed -i 's/steps: 6/steps: 50/; s/batch_size: 8/batch_size: 8, lr_d: 1.0e+30, lr_g: 1.0e+30/' nan.yaml
expect_exit 1 "step [0-9]+: .*not finite.*last good checkpoint" "$GAN" train nan.yaml --run-dir nan
finish
