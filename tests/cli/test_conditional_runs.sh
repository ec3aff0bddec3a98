#!/usr/bin/env bash
# model.num_classes (class-conditional DCGAN, docs/variants.md "Conditioning"): a tiny run on
# Fashion-MNIST with its labels trains, checkpoints G's conditional batchnorm tables and D's
# projection under their PyTorch names, resumes byte-identically, and samples one class with
# `gan sample --class K`; an unconditional run is unchanged by the new keys; and each wrong use
# (no labels, labels out of range, --class on an unconditional checkpoint or out of range, a
# change on resume) is an error naming what is wrong.
. "$(dirname "$0")/lib.sh"
need_dataset
TOOLS=$(cd "$(dirname "$0")/../../tools" && pwd)
cd "$SCRATCH"
tiny_config plain.yaml
tiny_config cond.yaml
sed -i -e 's/channels: 1}/channels: 1, num_classes: 10}/' -e 's/^sample: .*/sample: {every: 3, n: 20, nrow: 5}/' cond.yaml

# Unconditional: the default and an explicit num_classes 0 are the same run.
check "unconditional run" "$GAN" train plain.yaml --run-dir plain >/dev/null
check "num_classes 0 given" "$GAN" train plain.yaml --run-dir plain0 model.num_classes=0 >/dev/null
check "num_classes 0 is the unconditional run" same_datasets plain/checkpoints/latest.h5 plain0/checkpoints/latest.h5 /G /D /optim
check "the default stores num_classes: 0" grep -q "num_classes: 0" plain/config.yaml

# Conditional: unbroken, and interrupted then resumed.
check "conditional: unbroken run" "$GAN" train cond.yaml --run-dir full >/dev/null
check "conditional: first half" "$GAN" train cond.yaml --run-dir half train.steps=3 >/dev/null
check "conditional: resumed" "$GAN" train --resume half train.steps=6 >/dev/null
a=full/checkpoints/ckpt-00000006.h5 b=half/checkpoints/ckpt-00000006.h5
for obj in /G /D /optim; do
  check "conditional: $obj identical after resume" same_datasets "$a" "$b" "$obj"
done
check "conditional: rng identical after resume" same_attr "$a" "$b" rng
check "conditional: the key is stored" grep -q "num_classes: 10" half/config.yaml
check "conditional: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full/metrics.jsonl"
check "conditional: a sample grid during training" nonempty_files full/samples/step-00000006.png
check "conditional differs from unconditional" different_datasets "$a" plain/checkpoints/latest.h5 /G/main.0.weight
# The other losses through the projection: hinge's raw scores, and WGAN-GP's penalty (its double
# backward through the projection, with the real batch's labels, two D steps per G step).
for loss in hinge wgan-gp; do
  opts=(train.loss=$loss)
  [ "$loss" = wgan-gp ] && opts+=(train.d_steps=2)
  check "conditional $loss: unbroken run" "$GAN" train cond.yaml --run-dir "full-$loss" "${opts[@]}" >/dev/null
  check "conditional $loss: first half" "$GAN" train cond.yaml --run-dir "half-$loss" train.steps=3 "${opts[@]}" >/dev/null
  check "conditional $loss: resumed" "$GAN" train --resume "half-$loss" train.steps=6 >/dev/null
  check "conditional $loss: identical after resume" same_datasets "full-$loss/checkpoints/ckpt-00000006.h5" \
    "half-$loss/checkpoints/ckpt-00000006.h5" /G /D /optim
  check "conditional $loss: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full-$loss/metrics.jsonl"
done
names=$(h5ls -r "$a" | tr -s ' ')
for want in "/G/main.1.gain.weight Dataset {10, 16}" "/G/main.1.bias.weight Dataset {10, 16}" \
            "/G/main.7.gain.weight Dataset {10, 4}" "/G/main.1.running_mean Dataset {16}" \
            "/D/embed.weight Dataset {10, 256}" "/D/main.8.weight Dataset {1, 16, 4, 4}"; do
  check "checkpoint holds $want" grep -qF "$want" <<<"$names"
done
check "no unconditional BN weight in G" bash -c "! grep -q '/G/main.1.weight ' <<<'$names'"
check "gan info says conditional" bash -c "'$GAN' info full | grep -q 'class-conditional over 10 classes'"

# The generator in PyTorch (tools/dcgan_cond_reference.py's CondGenerator, the fixtures' net):
# load_state_dict(strict=True) of /G, and the same latents and classes give the same images.
if /usr/bin/python3 -c "import torch, h5py" 2>/dev/null; then
  check "the conditional generator matches PyTorch" /usr/bin/python3 "$TOOLS/torch_interop.py" \
    full/checkpoints/latest.h5 --gan "$GAN"
fi

# Sampling: one class, one class per row, the same class twice is the same image set.
check "sample --class 3" "$GAN" sample full --class 3 --n 6 --out c3.npy >/dev/null
check "sample --class 3 again" "$GAN" sample full --class 3 --n 6 --out c3b.npy >/dev/null
check "sample --class 4" "$GAN" sample full --class 4 --n 6 --out c4.npy >/dev/null
check "--class is deterministic" same_files c3.npy c3b.npy
check "--class picks the class" different_files c3.npy c4.npy
check "a grid with one class per row" "$GAN" sample full --n 20 --nrow 5 --out grid.png >/dev/null
check "a conditional interpolation" "$GAN" sample full --interpolate 1,2 --steps 4 --out interp.png >/dev/null

# Errors.
expect_exit 2 "--class 10: .* has 10 classes \(model.num_classes\), so --class is 0 to 9" \
  "$GAN" sample full --class 10 --out x.png
expect_exit 2 "--class 3: .* is unconditional \(model.num_classes 0\)" "$GAN" sample plain --class 3 --out x.png
expect_exit 1 "train-labels-idx1-ubyte.gz: label [0-9]+ is [0-9]+, expected a class in \[0, 3\)" \
  "$GAN" train cond.yaml --run-dir few model.num_classes=3
expect_exit 1 "data.labels: $SCRATCH/none-labels: " \
  "$GAN" train cond.yaml --run-dir nolabels data.labels="$SCRATCH/none-labels"
mkdir -p flat && cp plain/samples/real.png flat/a.png && cp plain/samples/real.png flat/b.png
expect_exit 2 "flat/a.png: model.num_classes 10 needs class labels, .* one subfolder per class" \
  "$GAN" train cond.yaml --run-dir flatrun data.path="$SCRATCH/flat" data.limit=0 train.batch_size=2
expect_exit 2 "model.num_classes cannot change when resuming" "$GAN" train --resume half model.num_classes=5 train.steps=8
# (class-conditional StyleGAN2: tests/cli/test_sg2_conditional_runs.sh)

# gan eval --per-class: one row per class, each class's generated images against the reference
# images of that class only (the first 200 training images here: their labels decide how many).
export GAN_CACHE_DIR=$SCRATCH/cache
check "eval --per-class" bash -c "'$GAN' eval full --n 40 --ref-n 0 --per-class --out pc.json > pc.txt"
check "eval --per-class prints a row per class" bash -c "[ \$(grep -c '^class [0-9]: FID' pc.txt) = 10 ]"
check "eval --per-class: each class against its own images" /usr/bin/python3 - "$FMNIST" pc.json <<'PY'
import gzip, json, sys
labels = gzip.open(sys.argv[1].replace("images-idx3", "labels-idx1")).read()[8:8 + 200]
r = json.load(open(sys.argv[2]))
rows = r["per_class"]
assert [x["class"] for x in rows] == list(range(10)), rows
for k, x in enumerate(rows):
    assert x["eval_n"] == 4, x
    assert x["eval_ref_n"] == labels.count(bytes([k])), (k, x["eval_ref_n"], labels.count(bytes([k])))
    assert "class %d" % k in x["reference"], x["reference"]
assert r["eval_n"] == 40 and r["eval_ref_n"] == 200
PY
expect_exit 2 "--per-class: .* is unconditional" "$GAN" eval plain --n 20 --per-class
expect_exit 2 "--per-class needs --ref to be a dataset with labels" "$GAN" eval full --n 20 --per-class --ref x.h5
expect_exit 2 "--per-class scores a conditional generator's classes" "$GAN" eval --samples c3.npy --ref data --per-class
finish
