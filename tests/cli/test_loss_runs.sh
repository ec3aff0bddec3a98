#!/usr/bin/env bash
# Every loss (DCGAN's train.loss, StyleGAN2's stylegan2.loss) trains, checkpoints and resumes byte-identically; the loss and its
# keys are stored with the run and a resume cannot change them; combinations that make no sense
# are config errors naming both keys.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml

check "bce: the default run" "$GAN" train exp.yaml --run-dir full-bce >/dev/null

# WGAN-GP with its n_critic schedule (two D steps per G step, each with its own interpolation
# weights) and a non-default lambda; the others with one D step.
for loss in hinge lsgan wgan-gp; do
  opts=(train.loss=$loss)
  [ "$loss" = wgan-gp ] && opts+=(train.d_steps=2 train.gp_lambda=5)
  check "$loss: unbroken run" "$GAN" train exp.yaml --run-dir "full-$loss" "${opts[@]}" >/dev/null
  check "$loss: first half" "$GAN" train exp.yaml --run-dir "half-$loss" train.steps=3 "${opts[@]}" >/dev/null
  check "$loss: resumed" "$GAN" train --resume "half-$loss" train.steps=6 >/dev/null
  a=full-$loss/checkpoints/ckpt-00000006.h5 b=half-$loss/checkpoints/ckpt-00000006.h5
  for obj in /G /D /optim; do
    check "$loss: $obj identical after resume" same_datasets "$a" "$b" "$obj"
  done
  check "$loss: rng identical after resume" same_attr "$a" "$b" rng
  check "$loss: the loss is stored" grep -q "loss: $loss" "half-$loss/config.yaml"
  check "$loss: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full-$loss/metrics.jsonl"
  check "$loss: a different run than bce" different_datasets "$a" full-bce/checkpoints/ckpt-00000006.h5 /G
done
check "hinge and lsgan differ" different_datasets full-hinge/checkpoints/latest.h5 full-lsgan/checkpoints/latest.h5 /G
check "wgan-gp stores its lambda" grep -Eq "gp_lambda: 5" half-wgan-gp/config.yaml
check "wgan-gp logs the penalty" grep -q '"gp": ' full-wgan-gp/metrics.jsonl
check "only wgan-gp logs the penalty" bash -c "! grep -q '\"gp\": ' full-hinge/metrics.jsonl"
# The critic has no batchnorm: /D holds the four conv weights only.
check "the wgan-gp critic has no batchnorm" bash -c \
  "! h5ls -r full-wgan-gp/checkpoints/latest.h5/D | grep -q running_mean && h5ls -r full-hinge/checkpoints/latest.h5/D | grep -q running_mean"
check "a wgan-gp run samples" "$GAN" sample full-wgan-gp --n 4 --out wgan.png >/dev/null

# StyleGAN2: the same with stylegan2.loss (WGAN-GP without R1, two Dmain phases per iteration).
tiny_sg2_config sg2.yaml
check "stylegan2 logistic: the default run" "$GAN" train sg2.yaml --run-dir sg2-logistic >/dev/null
for loss in hinge lsgan wgan-gp; do
  opts=(stylegan2.loss=$loss)
  [ "$loss" = wgan-gp ] && opts+=(stylegan2.r1_gamma=0 stylegan2.d_steps=2 stylegan2.gp_lambda=5)
  check "stylegan2 $loss: unbroken run" "$GAN" train sg2.yaml --run-dir "sg2full-$loss" "${opts[@]}" >/dev/null
  check "stylegan2 $loss: first half" "$GAN" train sg2.yaml --run-dir "sg2half-$loss" train.steps=3 "${opts[@]}" >/dev/null
  check "stylegan2 $loss: resumed" "$GAN" train --resume "sg2half-$loss" train.steps=6 >/dev/null
  a=sg2full-$loss/checkpoints/ckpt-00000006.h5 b=sg2half-$loss/checkpoints/ckpt-00000006.h5
  for obj in /G /G_ema /D /optim; do
    check "stylegan2 $loss: $obj identical after resume" same_datasets "$a" "$b" "$obj"
  done
  check "stylegan2 $loss: rng identical after resume" same_attr "$a" "$b" rng
  check "stylegan2 $loss: the loss is stored" grep -q "loss: $loss" "sg2half-$loss/config.yaml"
  check "stylegan2 $loss: metrics are finite" bash -c "! grep -Eiq 'nan|inf' sg2full-$loss/metrics.jsonl"
  check "stylegan2 $loss: a different run than logistic" \
    different_datasets "$a" sg2-logistic/checkpoints/ckpt-00000006.h5 /G
done
check "stylegan2 wgan-gp logs the penalty" grep -q '"gp": ' sg2full-wgan-gp/metrics.jsonl
expect_exit 2 "stylegan2.loss cannot change when resuming" \
  "$GAN" train --resume sg2half-hinge stylegan2.loss=lsgan train.steps=8
expect_exit 2 "stylegan2.loss wgan-gp has its own gradient penalty, but stylegan2.r1_gamma is 0.5" \
  "$GAN" train sg2.yaml --run-dir bad4 stylegan2.loss=wgan-gp

expect_exit 2 "train.loss cannot change when resuming" "$GAN" train --resume half-hinge train.loss=lsgan train.steps=8
expect_exit 2 "train.gp_lambda applies only when train.loss is wgan-gp, but train.loss is hinge" \
  "$GAN" train --resume half-hinge train.gp_lambda=1 train.steps=8
expect_exit 2 "train.gp_lambda cannot change when resuming" "$GAN" train --resume half-wgan-gp train.gp_lambda=1 train.steps=8
expect_exit 2 "train.label_smoothing 0.1 applies only when train.loss is bce or logits, but train.loss is wgan-gp" \
  "$GAN" train exp.yaml --run-dir bad1 train.loss=wgan-gp train.label_smoothing=0.1
expect_exit 2 "train.gp_lambda applies only when train.loss is wgan-gp, but train.loss is bce" \
  "$GAN" train exp.yaml --run-dir bad2 train.gp_lambda=5
expect_exit 2 "train.loss: expected one of bce, logits, hinge, lsgan, wgan-gp, got 'wgan'; did you mean 'wgan-gp'" \
  "$GAN" train exp.yaml --run-dir bad3 train.loss=wgan
check "refused runs leave no directory" bash -c "! ls -d bad1 bad2 bad3 bad4 2>/dev/null"
finish
