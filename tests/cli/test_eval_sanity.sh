#!/usr/bin/env bash
# The metrics behave as metrics should, on real images with the Fashion-MNIST feature net:
# held-out real images score near the floor against the training set; FID rises steadily with
# Gaussian blur and with additive noise; samples of only three classes lose much more recall and
# coverage than precision; a trained DCGAN scores far better than an untrained one.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
export GAN_CACHE_DIR=$SCRATCH/cache
PY=${PYTHON:-/usr/bin/python3}
TEST=${FMNIST_TEST:-$(dirname "$FMNIST")/t10k-images-idx3-ubyte.gz}
LABELS=$(dirname "$TEST")/t10k-labels-idx1-ubyte.gz
"$PY" -c 'import numpy, scipy' 2>/dev/null || { echo "numpy and scipy not installed: skipped"; exit 77; }

# 2000 held-out images, clean, blurred, noisy, and of three classes only, as .npy in [-1, 1].
"$PY" - "$TEST" "$LABELS" <<'PY' || fail "could not make the image sets"
import gzip, sys
import numpy as np
from scipy.ndimage import gaussian_filter
images, labels = sys.argv[1], sys.argv[2]
x = np.frombuffer(gzip.open(images).read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
y = np.frombuffer(gzip.open(labels).read(), np.uint8, offset=8)
x = x.astype(np.float32) / 127.5 - 1
save = lambda name, a: np.save(name, np.ascontiguousarray(a, dtype=np.float32))
save("clean.npy", x[:2000])
for s in (0.5, 1.0, 2.0):
    save("blur%g.npy" % s, gaussian_filter(x[:2000], sigma=(0, 0, s, s)))
rng = np.random.default_rng(0)
for s in (0.1, 0.2, 0.4):
    save("noise%g.npy" % s, np.clip(x[:2000] + s * rng.standard_normal(x[:2000].shape), -1, 1))
save("three.npy", x[np.isin(y, [0, 1, 2])][:2000])
PY

score() {  # score SAMPLES OUT: gan eval of .npy images against 3000 training images
  "$GAN" eval --samples "$1" --ref "$FMNIST" --ref-n 3000 --out "$2" >/dev/null
}
json() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# less A B [C ...]: the numbers increase strictly from left to right.
increasing() { "$PY" -c 'import sys; v = list(map(float, sys.argv[1:])); sys.exit(not all(a < b for a, b in zip(v, v[1:])))' "$@"; }
below() { "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(not a < b)' "$@"; }

for s in clean blur0.5 blur1 blur2 noise0.1 noise0.2 noise0.4 three; do
  check "score $s" score "$s.npy" "$s.json"
done
fid() { json "$1.json" fid; }
for s in clean three; do echo "$s: precision $(json $s.json precision) recall $(json $s.json recall) density $(json $s.json density) coverage $(json $s.json coverage)"; done
echo "FID: clean $(fid clean), blur $(fid blur0.5) $(fid blur1) $(fid blur2), noise $(fid noise0.1) $(fid noise0.2) $(fid noise0.4), three classes $(fid three)"
# The floor at 2000 against 3000 images is not 0 (an estimate's own spread): here about 6, where
# the mildest damage (blur of sigma 0.5, noise of 0.1) scores above 15.
check "held-out real images score near the floor (FID $(fid clean) < 10)" below "$(fid clean)" 10
check "FID rises with blur" increasing "$(fid clean)" "$(fid blur0.5)" "$(fid blur1)" "$(fid blur2)"
check "FID rises with noise" increasing "$(fid clean)" "$(fid noise0.1)" "$(fid noise0.2)" "$(fid noise0.4)"
# k-NN manifolds of 2000 points (k = 3) cover about 85% of held-out real images, both ways.
check "held-out images: precision, recall and coverage above 0.8" \
  "$PY" -c 'import sys; sys.exit(not min(map(float, sys.argv[1:])) > 0.8)' \
  "$(json clean.json precision)" "$(json clean.json recall)" "$(json clean.json coverage)"
# Three classes of ten: what is there is still real-looking (precision stays), but most of the
# data is missed (recall and coverage fall).
drop() { "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); print(a - b)' "$(json clean.json "$1")" "$(json three.json "$1")"; }
check "three classes: precision stays within 0.05 ($(drop precision))" below "$(drop precision)" 0.05
check "three classes: recall falls by more than 0.2 ($(drop recall))" below 0.2 "$(drop recall)"
check "three classes: coverage falls by more than 0.3 ($(drop coverage))" below 0.3 "$(drop coverage)"

# A DCGAN trained for a few hundred steps against the same network untrained.
{
  echo "seed: 4"
  echo "model: {type: dcgan, resolution: 32, nz: 32, ngf: 16, ndf: 16, channels: 1}"
  echo "data: {path: $FMNIST, limit: 6000}"
  echo "train: {steps: 300, batch_size: 32}"
  echo "checkpoint: {every: 300}"
  echo "sample: {every: 300}"
} > small.yaml
check "train a small DCGAN" "$GAN" train small.yaml --run-dir trained >/dev/null
check "the untrained one" "$GAN" train small.yaml --run-dir untrained train.steps=1 >/dev/null
check "score the trained" "$GAN" eval trained --n 2000 --ref-n 3000 --out trained.json >/dev/null
check "score the untrained" "$GAN" eval untrained --n 2000 --ref-n 3000 --out untrained.json >/dev/null
echo "DCGAN: trained FID $(json trained.json fid), untrained FID $(json untrained.json fid)"
check "trained scores far better (at most half the FID)" \
  "$PY" -c 'import sys; t, u = map(float, sys.argv[1:]); sys.exit(not t < 0.5 * u)' "$(json trained.json fid)" "$(json untrained.json fid)"
finish
