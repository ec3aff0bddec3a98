#!/usr/bin/env bash
# StyleGAN2 through the gan command: a tiny run with R1, path length, mixing and EMA resumes
# bit-identically; gan sample's StyleGAN2 modes (truncation, noise, mixing grid, W
# interpolation) write what they should; StyleGAN2 keys are refused for DCGAN and vice versa.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_sg2_config sg2.yaml
check "unbroken run" "$GAN" train sg2.yaml --run-dir full > /dev/null
check "first half" "$GAN" train sg2.yaml --run-dir half train.steps=3 > /dev/null
check "resumed" "$GAN" train --resume half train.steps=6 > /dev/null
for obj in /G /G_ema /D /optim; do
  check "$obj identical after resume" same_datasets full/checkpoints/latest.h5 half/checkpoints/latest.h5 "$obj"
done
check "pl_mean identical" same_attr full/checkpoints/latest.h5 half/checkpoints/latest.h5 pl_mean
check "metrics carry the regularisers" grep -q '"r1_penalty": [0-9]' full/metrics.jsonl
check "a lazy regulariser that did not run is null" grep -q '"pl_penalty": null' full/metrics.jsonl

# IDX images are never resized: a model smaller than the data is a clear error.
expect_exit 1 "28x28, larger than model.resolution 16" "$GAN" train sg2.yaml --run-dir small model.resolution=16

expect_exit 0 "wrote 4 images" "$GAN" sample full --n 4 --truncation 0.7 --out t.png
expect_exit 0 "wrote 4 images" "$GAN" sample full --n 4 --noise random --out r.npy
expect_exit 0 "wrote 12 images" "$GAN" sample full --mix 1,2:3,4,5 --out mix.png
expect_exit 0 "wrote 10 images" "$GAN" sample full --interpolate 1,2,3 --steps 5 --out ip.npy
# Sampling is deterministic, and truncation 0 collapses every image onto the average one.
"$GAN" sample full --n 3 --truncation 0 --out t0.npy > /dev/null
"$GAN" sample full --n 3 --truncation 0 --out t0b.npy > /dev/null
check "sampling is deterministic" same_files t0.npy t0b.npy
# (equal up to float rounding: the images sit at different batch positions in the GEMMs)
check "psi 0 gives one image" python3 -c "
import array, struct, sys
d = open('t0.npy', 'rb').read(); h = struct.unpack('<H', d[8:10])[0]
v = array.array('f', d[10 + h:]); n = len(v) // 3
sys.exit(0 if max(abs(v[i] - v[i + k * n]) for k in (1, 2) for i in range(n)) < 1e-4 else 1)"
expect_exit 2 "--mix-layers 0:99: expected LO:HI" "$GAN" sample full --mix 1:2 --mix-layers 0:99
tiny_config dcgan.yaml
expect_exit 2 "stylegan2.r1_gamma applies only when model.type is stylegan2" "$GAN" train dcgan.yaml stylegan2.r1_gamma=1
expect_exit 2 "train.lr_g applies only when model.type is dcgan" "$GAN" train sg2.yaml train.lr_g=0.1
expect_exit 2 "minibatch-stddev group" "$GAN" train sg2.yaml --run-dir bad train.batch_size=6
finish
