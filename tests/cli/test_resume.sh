#!/usr/bin/env bash
# A run of N steps and a run of N/2 steps resumed for N/2 more end with byte-identical weights,
# optimizer state and random streams; the metrics read as one run; resume refuses changes that
# would not continue the same run.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml

check "unbroken run" "$GAN" train exp.yaml --run-dir full >/dev/null
check "first half" "$GAN" train exp.yaml --run-dir half train.steps=3 >/dev/null
check "second half" "$GAN" train --resume half train.steps=6 >/dev/null

a=full/checkpoints/ckpt-00000006.h5 b=half/checkpoints/ckpt-00000006.h5
for obj in /G /D /optim /fixed_noise; do
  check "$obj identical after resume" same_datasets "$a" "$b" "$obj"
done
for attr in step rng data_epoch data_position; do
  check "attribute $attr identical" same_attr "$a" "$b" "$attr"
done
check "same samples" same_files full/samples/step-00000006.png half/samples/step-00000006.png
check "metrics continue without duplicates" \
  same_text "$(grep -o '"step": [0-9]*' half/metrics.jsonl | tr -d '\n')" "$(grep -o '"step": [0-9]*' full/metrics.jsonl | tr -d '\n')"
check "keep: 2 checkpoints kept" test "$(ls half/checkpoints/ckpt-*.h5 | wc -l)" = 2
check "latest.h5 points at the newest" test "$(readlink half/checkpoints/latest.h5)" = ckpt-00000006.h5

# Resuming from a given older checkpoint file also works, and continues from it.
check "resume from an explicit file" "$GAN" train --resume half/checkpoints/ckpt-00000003.h5 train.steps=4 >/dev/null
check "metrics truncated to the resumed step" test "$(tail -1 half/metrics.jsonl | grep -o '"step": [0-9]*')" = '"step": 4'

# The loop's options (BCE on logits, two D steps per G step, one-sided label smoothing) resume
# exactly too.
opts=(train.loss=logits train.d_steps=2 train.label_smoothing=0.1)
check "options: unbroken" "$GAN" train exp.yaml --run-dir ofull "${opts[@]}" >/dev/null
check "options: first half" "$GAN" train exp.yaml --run-dir ohalf train.steps=3 "${opts[@]}" >/dev/null
check "options: resumed" "$GAN" train --resume ohalf train.steps=6 >/dev/null
check "options: identical after resume" same_datasets ofull/checkpoints/latest.h5 ohalf/checkpoints/latest.h5 /G
check "options change the run" different_datasets full/checkpoints/latest.h5 ofull/checkpoints/latest.h5 /G
check "options are stored" grep -q "loss: logits" ohalf/config.yaml

expect_exit 2 "model.ngf cannot change when resuming" "$GAN" train --resume full model.ngf=8 train.steps=8
expect_exit 2 "train.lr_g cannot change" "$GAN" train --resume full train.lr_g=0.1
expect_exit 2 "unknown key 'train.stpes'.*did you mean 'train.steps'" "$GAN" train --resume full train.stpes=9
expect_exit 2 "no such run directory or checkpoint" "$GAN" train --resume nowhere
expect_exit 2 "already exists.*--resume" "$GAN" train exp.yaml --run-dir full
finish
