#!/usr/bin/env bash
# Configs and command lines an adversary writes (issue 12, rows 11-14, 17, 20-22, 24): integers
# that overflow, non-finite latents, keys longer than a message, unknown options wherever they
# stand, NUL bytes, YAML tags and merge keys, checkpoint attributes edited by hand, absurd
# thread counts. Each is one line naming the file, key or option, with exit 2 for usage and
# config errors and 1 for bad data.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
PY=${PYTHON:-/usr/bin/python3}
tiny_config ok.yaml
"$GAN" train ok.yaml --run-dir run > /dev/null || fail "the tiny run does not train"
I64_MAX=9223372036854775807

# Row 11: integers beyond their range, int64 included, are refused, never clamped.
expect_exit 2 "--seed: expected an integer in \[0, $I64_MAX\], got '99999999999999999999999'" \
  "$GAN" sample run --seed 99999999999999999999999 --out big.npy
check "no images from an overflowing seed" test ! -e big.npy
expect_exit 2 "--n: expected an integer in \[1, 65536\], got '18446744073709551617'" \
  "$GAN" sample run --n 18446744073709551617 --out big.npy
expect_exit 2 "--interpolate.*expected an integer in \[0, $I64_MAX\], got '99999999999999999999'" \
  "$GAN" sample run --interpolate 1,99999999999999999999 --out big.png
expect_exit 2 "--n: expected an integer in \[2, [0-9]+\], got '99999999999999999999'" \
  "$GAN" eval run --n 99999999999999999999
expect_exit 2 "--seed: expected an integer in \[0, $I64_MAX\], got '-1'" "$GAN" eval run --seed -1
expect_exit 2 "--steps: expected an integer in \[1, [0-9]+\], got '99999999999999999999'" \
  "$GAN" bench ok.yaml --steps 99999999999999999999
expect_exit 2 "override 'seed=9223372036854775808': seed: expected an integer in \[0, $I64_MAX\], got '9223372036854775808'" \
  "$GAN" train ok.yaml seed=9223372036854775808 --run-dir r11
expect_exit 2 "train.threads: expected an integer in \[0, 2147483647\], got '99999999999'" \
  "$GAN" train ok.yaml train.threads=99999999999 --run-dir r11
check "no run directory from an overflowing key" test ! -e r11

# Row 12: non-finite latents are refused naming the file and the first bad row (exit 1, as for
# every other --z file whose contents are wrong).
"$PY" - <<'PY' || fail "writing the latents with numpy"
import numpy as np
z = np.zeros((4, 8), np.float32)
z[2, 5] = np.nan
np.save("nan.npy", z)
z[2, 5] = 0
z[3, 0] = -np.inf
np.save("inf.npy", z.reshape(4, 8, 1, 1))
np.save("wide.npy", np.zeros((4, 3), np.float32))
np.save("flat.npy", np.zeros(8, np.float32))
np.save("none.npy", np.zeros((0, 8), np.float32))
PY
expect_exit 1 "nan.npy: latent row 2 .*not finite \(nan\)" "$GAN" sample run --z nan.npy --out nan.png
expect_exit 1 "inf.npy: latent row 3 .*not finite \(-inf\)" "$GAN" sample run --z inf.npy --out inf-images.npy
check "no images from non-finite latents" test ! -e nan.png -a ! -e inf-images.npy
# Row 19: a --z of the wrong shape names the shape it has.
expect_exit 1 "^gan sample: error: wide.npy: latents of shape \(N, 8\) or \(N, 8, 1, 1\) with N >= 1 expected for this generator \(nz = 8\), got shape \(4, 3\)$" \
  "$GAN" sample run --z wide.npy --out wide.png
expect_exit 1 "flat.npy: .*got shape \(8,\)$" "$GAN" sample run --z flat.npy --out flat.png
expect_exit 1 "none.npy: .*got shape \(0, 8\)$" "$GAN" sample run --z none.npy --out none.png

# Row 13: a key longer than the message buffer is cut with "...", and the reason still shows.
long=$(printf 'k%.0s' $(seq 1000))
out=$("$GAN" train ok.yaml "train.$long=1" --run-dir r13 2>&1); rc=$?
check "a 1000-byte key: exit 2, got $rc" test "$rc" = 2
check "a 1000-byte key: the key is cut with '...' and the reason is whole: $out" \
  grep -Eq "unknown key 'train\.k+\.\.\.'; (did you mean|keys are section\.key paths as in docs/config\.md)" <<<"$out"
check "a 1000-byte key: one line" test "$(wc -l <<<"$out")" = 1
{ echo "seed: 3"; echo "$long: 1"; sed -n '2,$p' ok.yaml; } > longkey.yaml
expect_exit 2 "longkey.yaml:2:1: unknown top-level key 'k+\.\.\.'; valid keys: name, seed" "$GAN" train longkey.yaml --run-dir r13
expect_exit 2 "unknown option --k+\.\.\. \(see gan sample --help\)$" "$GAN" sample run "--$long"

# Row 14: an unknown option is unknown wherever it stands, the last place included, and an
# option's value is never another option.
expect_exit 2 "gan sample: error: unknown option --bogus" "$GAN" sample run --bogus
expect_exit 2 "gan sample: error: unknown option --bogus" "$GAN" sample run --bogus 3
expect_exit 2 "gan sample: error: --out needs a value" "$GAN" sample run --out --n 3
expect_exit 2 "gan sample: error: --out needs a value" "$GAN" sample run --out
expect_exit 2 "gan eval: error: unknown option --bogus" "$GAN" eval run --bogus
expect_exit 2 "gan eval: error: --ref needs a value" "$GAN" eval run --ref --n 5
expect_exit 2 "gan bench: error: unknown option '--bogus'" "$GAN" bench ok.yaml --bogus
expect_exit 2 "gan bench: error: --name needs a value" "$GAN" bench ok.yaml --name --real
expect_exit 2 "gan info: error: unknown option --bogus" "$GAN" info run --bogus
expect_exit 2 "gan info: error: --device needs a value" "$GAN" info run --device
expect_exit 2 "gan train: error: unknown option --bogus" "$GAN" train ok.yaml --bogus

# Row 17: a NUL byte does not silently end a config.
{ head -3 ok.yaml; printf 'train: {steps: 6, batch_size: 8}\0 junk\n'; sed -n '5,$p' ok.yaml; } > nul.yaml
expect_exit 2 "nul.yaml:4: a NUL byte" "$GAN" train nul.yaml --run-dir r17
check "no run directory from a config with a NUL" test ! -e r17

# Row 20: YAML tags are refused, naming the key; row 21: so are merge keys.
sed 's/steps: 6/steps: !!str 6/' ok.yaml > tag.yaml
expect_exit 2 "tag.yaml:4:[0-9]+: train.steps: YAML tags are not supported \(got !!str\)" "$GAN" train tag.yaml --run-dir r20
sed 's/steps: 6/steps: !!int 6/' ok.yaml > int.yaml
expect_exit 2 "int.yaml:4:[0-9]+: train.steps: YAML tags are not supported \(got !!int\)" "$GAN" train int.yaml --run-dir r20
check "no run directory from a tagged value" test ! -e r20
{ cat ok.yaml; echo "eval: {<<: {every: 0}}"; } > merge.yaml
expect_exit 2 "merge.yaml:8:[0-9]+: merge keys \(<<\) are not supported" "$GAN" train merge.yaml --run-dir r21
check "no run directory from a merge key" test ! -e r21

# Row 22: checkpoint attributes edited out of their range are refused naming file and attribute.
edit_attr() {  # edit_attr SRC DST ATTR VALUE
  cp "$1" "$2" && "$PY" - "$2" "$3" "$4" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs[sys.argv[2]] = np.int64(sys.argv[3])
PY
}
ckpt=run/checkpoints/ckpt-00000006.h5
if "$PY" -c 'import h5py, numpy' 2>/dev/null; then
  check "editing step" edit_attr $ckpt neg.h5 step -5
  expect_exit 1 "neg.h5: attribute step is -5; expected an integer in \[0, $I64_MAX\]" "$GAN" info neg.h5
  check "editing data_position" edit_attr $ckpt pos.h5 data_position 200
  expect_exit 1 "pos.h5: attribute data_position is 200; expected an integer in \[0, 199\]" "$GAN" info pos.h5
  check "editing threads" edit_attr $ckpt thr.h5 threads 0
  expect_exit 1 "thr.h5: attribute threads is 0; expected an integer in \[1, " "$GAN" info thr.h5
  expect_exit 0 "step +6 of 6" "$GAN" info $ckpt
else
  echo "h5py or numpy not installed: the checkpoint attribute checks are skipped"
fi

# Row 24: a thread count far beyond the machine's cores is refused where the user gives it.
expect_exit 2 "train.threads: 100000 is more than 4 times this machine's [0-9]+ cores" \
  "$GAN" train ok.yaml train.threads=100000 --run-dir r24
expect_exit 2 "--threads: 100000 is more than 4 times this machine's [0-9]+ cores" \
  "$GAN" bench ok.yaml --threads 100000
check "no run directory from too many threads" test ! -e r24
# train: a forgotten value is not taken from the next option, and a one-dash option is an
# option, not a config path.
expect_exit 2 "--run-dir needs a value" "$GAN" train ok.yaml --run-dir --bogus
check "no run directory named --bogus" test ! -e ./--bogus
expect_exit 2 "unknown option -x" "$GAN" train -x
# --opt=value is --opt value, for every command; a key.path=value override stays one.
check "sample --n=3 --seed=5 --out=eq.png" "$GAN" sample run --n=3 --seed=5 --out=eq.png
check "sample --n 3 --seed 5 --out sp.png" "$GAN" sample run --n 3 --seed 5 --out sp.png
check "both spellings give the same grid" same_files eq.png sp.png
check "train --run-dir=eqrun sample.n=2" "$GAN" train ok.yaml --run-dir=eqrun sample.n=2 train.steps=1
check "into eqrun" test -f eqrun/config.yaml
expect_exit 2 "--n: expected an integer in \[1, 65536\], got ''" "$GAN" sample run --n=
expect_exit 2 "unknown option --bogus" "$GAN" sample run --bogus=1
# The attribute checks guard resume and sample too, not only info.
if [ -f neg.h5 ]; then
  mkdir -p negrun/checkpoints && cp neg.h5 negrun/checkpoints/ckpt-00000006.h5
  expect_exit 1 "attribute step is -5" "$GAN" train --resume negrun/checkpoints/ckpt-00000006.h5
  expect_exit 1 "attribute step is -5" "$GAN" sample negrun/checkpoints/ckpt-00000006.h5 --out neg.png
fi
finish
