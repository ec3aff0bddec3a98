#!/usr/bin/env bash
# Augmentation (augment.diffaugment, augment.ada): tiny DCGAN and StyleGAN2 runs with each mode
# train, checkpoint and resume byte-identically (ADA's p and its half-gathered signs included),
# ADA logs aug_p and moves it, the keys are stored with the run and cannot change on resume, and
# DiffAugment with ADA, an unknown policy or an ADA key without ADA are config errors naming the
# keys.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml
tiny_sg2_config sg2.yaml

check "dcgan: a run without augmentation" "$GAN" train exp.yaml --run-dir dc-none >/dev/null
check "stylegan2: a run without augmentation" "$GAN" train sg2.yaml --run-dir sg-none >/dev/null

# ADA adjusts p every 2 steps by 8 * 2 / 200 = 0.08 (dcgan) from 0.5, so the checkpoint at step
# 3 holds the signs of half an interval; DiffAugment with the whole policy.
modes=(diff ada)
opts_diff=(augment.diffaugment=color,translation,cutout)
opts_ada=(augment.ada=true augment.ada_p=0.5 augment.ada_interval=2 augment.ada_kimg=0.2)
for fam in dc sg; do
  cfg=exp.yaml groups="/G /D /optim"
  [ $fam = sg ] && cfg=sg2.yaml groups="/G /G_ema /D /optim"
  for mode in "${modes[@]}"; do
    if [ $mode = diff ]; then opts=("${opts_diff[@]}"); else opts=("${opts_ada[@]}"); fi
    run=$fam-$mode
    check "$run: unbroken run" "$GAN" train $cfg --run-dir "full-$run" "${opts[@]}" >/dev/null
    check "$run: first half" "$GAN" train $cfg --run-dir "half-$run" train.steps=3 "${opts[@]}" >/dev/null
    check "$run: resumed" "$GAN" train --resume "half-$run" train.steps=6 >/dev/null
    a=full-$run/checkpoints/ckpt-00000006.h5 b=half-$run/checkpoints/ckpt-00000006.h5
    for obj in $groups; do
      check "$run: $obj identical after resume" same_datasets "$a" "$b" "$obj"
    done
    check "$run: rng identical after resume" same_attr "$a" "$b" rng
    check "$run: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full-$run/metrics.jsonl"
    check "$run: a different run than without augmentation" \
      different_datasets "$a" $fam-none/checkpoints/ckpt-00000006.h5 /G
    change=augment.ada=false key=augment.ada
    [ $mode = diff ] && change=augment.diffaugment=color key=augment.diffaugment
    expect_exit 2 "$key cannot change when resuming" "$GAN" train --resume "half-$run" $change train.steps=8
  done
  a=full-$fam-ada/checkpoints/ckpt-00000006.h5 b=half-$fam-ada/checkpoints/ckpt-00000006.h5
  for attr in aug_p aug_sign_sum aug_sign_count aug_steps; do
    check "$fam-ada: $attr identical after resume" same_attr "$a" "$b" $attr
  done
  check "$fam-ada: p restored at step 3 (metrics of the resumed run continue the unbroken one)" \
    bash -c "diff <(grep -o '\"aug_p\": [^,}]*' full-$fam-ada/metrics.jsonl) <(grep -o '\"aug_p\": [^,}]*' half-$fam-ada/metrics.jsonl)"
  check "$fam-ada: logs aug_p" grep -q '"aug_p": 0.5' full-$fam-ada/metrics.jsonl
  check "$fam-ada: p moved" bash -c "grep -o '\"aug_p\": [^,}]*' full-$fam-ada/metrics.jsonl | grep -vq '0.5$'"
  check "$fam-ada: stores its keys" grep -q "ada_kimg: 0.2" half-$fam-ada/config.yaml
  check "$fam-diff: stores its policy" grep -q "diffaugment: .*color,translation,cutout" half-$fam-diff/config.yaml
  check "$fam: runs without augmentation log no aug_p" bash -c "! grep -q aug_p $fam-none/metrics.jsonl"
  check "$fam: runs without augmentation store no ADA state" bash -c "! h5dump -a /aug_p $fam-none/checkpoints/latest.h5 >/dev/null 2>&1"
  check "$fam-diff: DiffAugment logs no aug_p" bash -c "! grep -q aug_p full-$fam-diff/metrics.jsonl"
done
check "a single DiffAugment part trains" "$GAN" train exp.yaml --run-dir dc-cut augment.diffaugment=cutout train.steps=2 >/dev/null

expect_exit 2 "augment.ada and augment.diffaugment 'color' are both set: choose one" \
  "$GAN" train exp.yaml --run-dir bad1 augment.ada=true augment.diffaugment=color
expect_exit 2 "augment.diffaugment 'color,zoom': 'zoom' is no DiffAugment policy" \
  "$GAN" train exp.yaml --run-dir bad2 augment.diffaugment=color,zoom
expect_exit 2 "augment.diffaugment 'cutout,cutout': 'cutout' is given twice" \
  "$GAN" train sg2.yaml --run-dir bad3 augment.diffaugment=cutout,cutout
expect_exit 2 "augment.ada_target applies only when augment.ada is true" \
  "$GAN" train exp.yaml --run-dir bad4 augment.ada_target=0.5
check "refused runs leave no directory" bash -c "! ls -d bad1 bad2 bad3 bad4 2>/dev/null"
finish
