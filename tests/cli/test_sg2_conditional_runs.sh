#!/usr/bin/env bash
# model.num_classes with model.type stylegan2 (class-conditional StyleGAN2 as stylegan2-ada's,
# docs/variants.md "Conditioning"): a tiny run on Fashion-MNIST with its labels (R1, path length,
# mixing, EMA) trains, checkpoints G's label embedding and D's label mapping under ADA's names,
# resumes byte-identically (also with WGAN-GP and two D steps), samples one class with
# `gan sample --class K`, one class per grid row, interpolation and mixing rows, and is scored
# per class by `gan eval --per-class`; an unconditional StyleGAN2 run is unchanged by
# num_classes 0; wrong uses are errors naming what is wrong.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_sg2_config plain.yaml
tiny_sg2_config cond.yaml
sed -i -e 's/channel_max: 16}/channel_max: 16, num_classes: 10}/' \
  -e 's/^sample: .*/sample: {every: 3, n: 20, nrow: 5}/' cond.yaml
check "the config is conditional" grep -q "num_classes: 10" cond.yaml

# Unconditional: the default and an explicit num_classes 0 are the same run.
check "unconditional run" "$GAN" train plain.yaml --run-dir plain >/dev/null
check "num_classes 0 given" "$GAN" train plain.yaml --run-dir plain0 model.num_classes=0 >/dev/null
check "num_classes 0 is the unconditional run" same_datasets plain/checkpoints/latest.h5 plain0/checkpoints/latest.h5 \
  /G /G_ema /D /optim

# Conditional: unbroken, and interrupted then resumed (the checkpoint at 3 falls between R1 and
# path-length steps' pairs; the fake classes come from the restored rng).
check "conditional: unbroken run" "$GAN" train cond.yaml --run-dir full >/dev/null
check "conditional: first half" "$GAN" train cond.yaml --run-dir half train.steps=3 >/dev/null
check "conditional: resumed" "$GAN" train --resume half train.steps=6 >/dev/null
a=full/checkpoints/ckpt-00000006.h5 b=half/checkpoints/ckpt-00000006.h5
for obj in /G /G_ema /D /optim; do
  check "conditional: $obj identical after resume" same_datasets "$a" "$b" "$obj"
done
check "conditional: rng identical after resume" same_attr "$a" "$b" rng
check "conditional: pl_mean identical after resume" same_attr "$a" "$b" pl_mean
check "conditional: the key is stored" grep -q "num_classes: 10" half/config.yaml
check "conditional: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full/metrics.jsonl"
check "conditional: R1 ran" grep -q '"r1_penalty": [0-9]' full/metrics.jsonl
check "conditional: a sample grid during training" nonempty_files full/samples/step-00000006.png
check "conditional differs from unconditional" different_datasets "$a" plain/checkpoints/latest.h5 /G/synthesis.b4.const
names=$(h5ls -r "$a" | tr -s ' ')
for want in "/G/mapping.embed.weight Dataset {16, 10}" "/G/mapping.embed.bias Dataset {16}" \
            "/G/mapping.fc0.weight Dataset {16, 32}" "/G_ema/mapping.embed.weight Dataset {16, 10}" \
            "/D/mapping.embed.weight Dataset {16, 10}" "/D/mapping.fc0.weight Dataset {16, 16}" \
            "/D/mapping.fc7.bias Dataset {16}" "/D/b4.out.weight Dataset {16, 16}" \
            "/optim/D/exp_avg/mapping.fc7.weight Dataset {16, 16}"; do
  check "checkpoint holds $want" grep -qF "$want" <<<"$names"
done
check "no ninth D mapping layer" bash -c "! grep -q '/D/mapping.fc8' <<<'$names'"
check "gan info says conditional" bash -c "'$GAN' info full | grep -q 'class-conditional over 10 classes'"

# WGAN-GP through the projection: its penalty judged with the real labels, two D steps.
opts=(stylegan2.r1_gamma=0 stylegan2.loss=wgan-gp stylegan2.d_steps=2)
check "conditional wgan-gp: unbroken run" "$GAN" train cond.yaml --run-dir full-gp "${opts[@]}" >/dev/null
check "conditional wgan-gp: first half" "$GAN" train cond.yaml --run-dir half-gp train.steps=3 "${opts[@]}" >/dev/null
check "conditional wgan-gp: resumed" "$GAN" train --resume half-gp train.steps=6 >/dev/null
check "conditional wgan-gp: identical after resume" same_datasets full-gp/checkpoints/ckpt-00000006.h5 \
  half-gp/checkpoints/ckpt-00000006.h5 /G /G_ema /D /optim
check "conditional wgan-gp: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full-gp/metrics.jsonl"

# Sampling: one class, the same class twice is the same image set, another class differs; a
# grid with one class per row, interpolation rows, a mixing grid, all with --class or without.
check "sample --class 3" "$GAN" sample full --class 3 --n 6 --out c3.npy >/dev/null
check "sample --class 3 again" "$GAN" sample full --class 3 --n 6 --out c3b.npy >/dev/null
check "sample --class 4" "$GAN" sample full --class 4 --n 6 --out c4.npy >/dev/null
check "--class is deterministic" same_files c3.npy c3b.npy
check "--class picks the class" different_files c3.npy c4.npy
check "--class with truncation" "$GAN" sample full --class 3 --n 6 --truncation 0.5 --out c3t.npy >/dev/null
check "truncation changes the images" different_files c3.npy c3t.npy
expect_exit 0 "wrote 20 images" "$GAN" sample full --n 20 --nrow 5 --out grid.png
expect_exit 0 "wrote 8 images" "$GAN" sample full --interpolate 1,2,3 --steps 4 --out interp.png
expect_exit 0 "wrote 4 images" "$GAN" sample full --interpolate 1,2 --steps 4 --class 7 --out interp7.npy
expect_exit 0 "wrote 12 images" "$GAN" sample full --mix 1,2:3,4,5 --out mix.png
expect_exit 0 "wrote 12 images" "$GAN" sample full --mix 1,2:3,4,5 --class 2 --out mix2.npy

# gan eval --per-class: one row per class (the generated images of class k against the training
# images labelled k).
export GAN_CACHE_DIR=$SCRATCH/cache
check "eval --per-class" bash -c "'$GAN' eval full --n 40 --ref-n 0 --per-class --out pc.json > pc.txt"
check "eval --per-class prints a row per class" bash -c "[ \$(grep -c '^class [0-9]: FID' pc.txt) = 10 ]"

# Errors.
expect_exit 2 "--class 10: .* has 10 classes \(model.num_classes\), so --class is 0 to 9" \
  "$GAN" sample full --class 10 --out x.png
expect_exit 2 "--class 3: .* is unconditional \(model.num_classes 0\)" "$GAN" sample plain --class 3 --out x.png
expect_exit 1 "train-labels-idx1-ubyte.gz: label [0-9]+ is [0-9]+, expected a class in \[0, 3\)" \
  "$GAN" train cond.yaml --run-dir few model.num_classes=3
expect_exit 2 "model.num_classes cannot change when resuming" \
  "$GAN" train --resume half model.num_classes=5 train.steps=8
expect_exit 2 "model.num_classes cannot change when resuming" \
  "$GAN" train --resume plain model.num_classes=10 train.steps=8
finish
