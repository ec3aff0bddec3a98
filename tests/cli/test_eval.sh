#!/usr/bin/env bash
# gan eval: one line and a JSON file of metrics, the same numbers on a second run, reference
# statistics cached by a hash of the data, --samples and --ref, StyleGAN2's --noise, errors; evaluation during
# training: metrics.jsonl lines, checkpoints/best.h5, and a resumed run still byte-identical.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
export GAN_CACHE_DIR=$SCRATCH/cache
PY=${PYTHON:-/usr/bin/python3}
tiny_config exp.yaml

# json FILE KEY: the number KEY holds in a one-object JSON file.
json() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# close A B TOL / far A B TOL: |A - B| within / beyond TOL relative to |B|.
close() { "$PY" -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(not abs(a - b) <= t * abs(b))' "$@"; }
far() { "$PY" -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(not abs(a - b) > t * abs(b))' "$@"; }
# in_range VALUE LO HI: LO <= VALUE <= HI (numbers).
in_range() { "$PY" -c 'import sys; v, lo, hi = map(float, sys.argv[1:]); sys.exit(not (lo <= v <= hi))' "$@"; }

check "a tiny run" "$GAN" train exp.yaml --run-dir run >/dev/null
out=$("$GAN" eval run --n 300 --ref-n 150 2>&1); rc=$?
check "gan eval exits 0 (got $rc): $out" test "$rc" = 0
check "one line of metrics: $out" grep -Eq '^FID [0-9.]+ \| KID -?[0-9.]+ \+- [0-9.]+ \| precision [0-9.]+ recall [0-9.]+ \| density [0-9.]+ coverage [0-9.]+$' <<<"$out"
j=run/eval-step-00000006-fmnist.json
check "the JSON is next to the run" test -s "$j"
for k in fid kid kid_std precision recall density coverage; do
  check "$k is a number" in_range "$(json "$j" "$k")" -1 1e6
done
for k in precision recall coverage; do
  check "$k is a fraction" in_range "$(json "$j" "$k")" 0 1
done
check "n" same_text "$(json "$j" eval_n)" 300
check "reference size" same_text "$(json "$j" eval_ref_n)" 150
check "feature net" same_text "$(json "$j" feature_net)" fmnist
check "step" same_text "$(json "$j" step)" 6
check "one cached statistics file" test "$(ls cache/refstats-fmnist-*.h5 | wc -l)" = 1

# The same command gives the same numbers, from the cache.
before=$(md5sum cache/refstats-fmnist-*.h5)
check "second evaluation" "$GAN" eval run --n 300 --ref-n 150 --out again.json >/dev/null
for k in fid kid precision recall density coverage; do
  check "$k again" same_text "$(json again.json "$k")" "$(json "$j" "$k")"
done
check "the cache was read, not rewritten" unchanged "$before" cache/refstats-fmnist-*.h5
check "another reference size is another cache file" "$GAN" eval run --n 300 --ref-n 180 --out other.json >/dev/null
check "two cached statistics files" test "$(ls cache/refstats-fmnist-*.h5 | wc -l)" = 2

# --save-ref writes statistics that --ref reads back; --samples scores given images.
check "save the reference" "$GAN" eval run --n 300 --ref-n 150 --save-ref ref.h5 --out saved.json >/dev/null
check "--ref a statistics file" "$GAN" eval run --n 300 --ref ref.h5 --out fromfile.json >/dev/null
check "the same FID from the file" same_text "$(json fromfile.json fid)" "$(json "$j" fid)"
check "gan sample's images" "$GAN" sample run --n 300 --seed 0 --out s.npy >/dev/null
check "--samples" "$GAN" eval --samples s.npy --ref ref.h5 --out samples.json >/dev/null
# The same images up to rounding (one batch of 300 there, batches of 250 here).
check "gan sample --seed 0 gives the images gan eval scored" \
  "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(not abs(a - b) <= 1e-6 * abs(b))' \
  "$(json samples.json fid)" "$(json "$j" fid)"

# pytorch-fid's statistics (.npz of mu and sigma, as its save_fid_stats writes them: mu float32,
# sigma float64): FID only, the same as from the full statistics.
"$PY" - <<'PY' || fail "could not write the .npz statistics"
import h5py, numpy as np
x = h5py.File("ref.h5", "r")["features"][:]
np.savez_compressed("pfid.npz", mu=np.mean(x, axis=0), sigma=np.cov(x, rowvar=False))
np.savez("nosigma.npz", mu=np.mean(x, axis=0))
PY
out=$("$GAN" eval run --n 300 --ref pfid.npz --out pfid.json 2>&1)
check "--ref pytorch-fid statistics: $out" grep -q "^FID [0-9.]* (KID, precision/recall and density/coverage need" <<<"$out"
check "the same FID from pytorch-fid's statistics" \
  "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(not abs(a - b) <= 1e-5 * abs(b))' \
  "$(json pfid.json fid)" "$(json "$j" fid)"
check "KID is null without the features" same_text "$(json pfid.json kid)" None
expect_exit 2 "nosigma.npz: no array 'sigma.npy'" "$GAN" eval run --n 10 --ref nosigma.npz
head -c 300 pfid.npz > cut.npz
expect_exit 2 "cut.npz: not an .npz" "$GAN" eval run --n 10 --ref cut.npz

# StyleGAN2's noise inputs: --noise random gives each image its own noise, so the score does not
# depend on how the images are batched, and differs from the stored noise's; the JSON says which.
tiny_sg2_config sg2.yaml
check "a tiny StyleGAN2 run" "$GAN" train sg2.yaml --run-dir sg >/dev/null
check "--noise random, batch 7" "$GAN" eval sg --n 60 --ref-n 100 --noise random --batch 7 --out r7.json >/dev/null
check "--noise random, batch 32" "$GAN" eval sg --n 60 --ref-n 100 --noise random --batch 32 --out r32.json >/dev/null
# (the same images up to the rounding of other batch shapes, as gan sample's below)
check "the same images whatever the batch" close "$(json r7.json fid)" "$(json r32.json fid)" 1e-6
check "the JSON says random" same_text "$(json r7.json noise)" random
check "--noise const" "$GAN" eval sg --n 60 --ref-n 100 --out c.json >/dev/null
# (a 6-step network has learnt little noise strength: 1e-4 apart here, 1e-8 across batches)
check "the stored noise scores otherwise" far "$(json c.json fid)" "$(json r7.json fid)" 1e-5
check "the JSON says const" same_text "$(json c.json noise)" const
check "another seed, other noise" "$GAN" eval sg --n 60 --ref-n 100 --noise random --seed 1 --out r1.json >/dev/null
check "... another score" far "$(json r1.json fid)" "$(json r7.json fid)" 1e-3
# eval.noise: evaluation during training scores as gan eval --noise does.
check "train with eval.noise random" "$GAN" train sg2.yaml --run-dir sgev eval.every=6 eval.n=60 eval.ref_n=100 \
  eval.noise=random >/dev/null
during=$("$PY" -c 'import json, sys; print([json.loads(l) for l in open(sys.argv[1]) if "fid" in l][-1]["fid"])' \
  sgev/metrics.jsonl)
check "gan eval of that run" "$GAN" eval sgev --n 60 --ref-n 100 --noise random --out ev-random.json >/dev/null
check "eval.noise random scores as gan eval --noise random" close "$during" "$(json ev-random.json fid)" 1e-6
expect_exit 2 "eval.noise" "$GAN" train exp.yaml --run-dir dcnoise eval.noise=random
expect_exit 2 "--noise: expected const or random, got 'fresh'" "$GAN" eval sg --noise fresh
expect_exit 2 "--noise applies to StyleGAN2 generators, not dcgan" "$GAN" eval run --noise random --n 10
expect_exit 2 "--noise applies to a generator" "$GAN" eval --samples s.npy --ref ref.h5 --noise random

# Errors: each one line with the exit status.
expect_exit 2 "no run or checkpoint given" "$GAN" eval
expect_exit 2 "--samples without a run needs --ref" "$GAN" eval --samples s.npy
expect_exit 2 "--features: expected auto, fmnist or inception" "$GAN" eval run --features vgg
expect_exit 1 "nowhere.idx" "$GAN" eval run --ref nowhere.idx --n 10
expect_exit 2 "(convert_fid_inception|fid_inception.h5)" "$GAN" eval run --features inception --n 10

# Evaluation during training: every 3 steps, a metrics line each time, the best checkpoint kept,
# and a resumed run byte-identical to an unbroken one.
ev=(eval.every=3 eval.n=200 eval.ref_n=300)
check "train with evaluation" "$GAN" train exp.yaml --run-dir ev "${ev[@]}" >/dev/null
check "two evaluation lines" test "$(grep -c '"fid"' ev/metrics.jsonl)" = 2
check "best.h5 kept" test -s ev/checkpoints/best.h5
best=$(h5_attr ev/checkpoints/best.h5 best_step | grep -o '(0): [0-9]*' | grep -o '[0-9]*$')
check "best.h5 is the best evaluation's step ($best)" test "$best" = 3 -o "$best" = 6
check "first half" "$GAN" train exp.yaml --run-dir evh train.steps=3 "${ev[@]}" >/dev/null
check "resumed" "$GAN" train --resume evh train.steps=6 >/dev/null
check "identical after resume with evaluation" same_datasets ev/checkpoints/latest.h5 evh/checkpoints/latest.h5 \
  /G /D /optim
check "the best FID carries over" same_attr ev/checkpoints/latest.h5 evh/checkpoints/latest.h5 best_fid
check "evaluation changes no weight" same_datasets run/checkpoints/latest.h5 ev/checkpoints/latest.h5 /G /D
finish
