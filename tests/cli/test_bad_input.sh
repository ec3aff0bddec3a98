#!/usr/bin/env bash
# Every bad input is one clear line naming the file (and line or key), with exit status 2 for
# usage and config errors and 1 for runtime failures, and nothing on disk is lost.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"

# Usage.
expect_exit 2 "usage: gan" "$GAN"
expect_exit 2 "unknown command 'trian'" "$GAN" trian
expect_exit 0 "usage: gan train" "$GAN" train --help
expect_exit 0 "train.batch_size" "$GAN" train --help-config
expect_exit 2 "no config file given" "$GAN" train
expect_exit 2 "unknown option --frobnicate" "$GAN" train x.yaml --frobnicate
expect_exit 2 "not both" "$GAN" train x.yaml --resume somewhere

# Configs.
expect_exit 2 "nope.yaml: cannot open" "$GAN" train nope.yaml
printf 'seed: 1\nmodel:\n  type: dcgan\n   resolution: 32\n' > syntax.yaml
expect_exit 2 "syntax.yaml:4" "$GAN" train syntax.yaml
tiny_config typo.yaml "extra: 1"
sed -i 's/batch_size/batch_sise/' typo.yaml
expect_exit 2 "typo.yaml:4:[0-9]+: unknown key 'batch_sise'.*did you mean 'batch_size'" "$GAN" train typo.yaml
tiny_config range.yaml
sed -i 's/steps: 6/steps: -5/' range.yaml
expect_exit 2 "range.yaml:4:[0-9]+: train.steps: expected an integer >= 1, got '-5'" "$GAN" train range.yaml
tiny_config model.yaml
sed -i 's/type: dcgan/type: dcgna/' model.yaml
expect_exit 2 "model.type: expected one of .*dcgan.*did you mean 'dcgan'" "$GAN" train model.yaml
printf 'seed: 1\nmodel: {type: dcgan}\n' > missing.yaml
expect_exit 2 "missing required key" "$GAN" train missing.yaml
tiny_config ok.yaml
expect_exit 2 "override 'train.steps=abc'.*expected an integer" "$GAN" train ok.yaml train.steps=abc
check "no run directory left by config errors" test ! -e runs

# Data.
tiny_config nodata.yaml
sed -i "s|path: [^,]*,|path: $SCRATCH/missing.idx,|" nodata.yaml
expect_exit 1 "missing.idx" "$GAN" train nodata.yaml --run-dir r1
check "no run directory left by a data error" test ! -e r1
head -c 1000 /dev/urandom > junk.idx
tiny_config junk.yaml
sed -i "s|path: [^,]*,|path: $SCRATCH/junk.idx, format: idx,|" junk.yaml
expect_exit 1 "junk.idx.*magic" "$GAN" train junk.yaml --run-dir r2
gzip -dc "$FMNIST" | head -c 100000 > short.idx
tiny_config short.yaml
sed -i "s|path: [^,]*, limit: 200|path: $SCRATCH/short.idx|" short.yaml
expect_exit 1 "short.idx.*(truncated|expected)" "$GAN" train short.yaml --run-dir r3
mkdir -p imgs && echo "not a png" > imgs/a.png
tiny_config folder.yaml
sed -i "s|path: [^,]*, limit: 200|path: $SCRATCH/imgs|" folder.yaml
expect_exit 1 "a.png" "$GAN" train folder.yaml --run-dir r4

# An existing run is never overwritten by a new one.
check "a run to keep" "$GAN" train ok.yaml --run-dir kept >/dev/null
before=$(md5sum kept/checkpoints/latest.h5 kept/config.yaml kept/metrics.jsonl)
expect_exit 2 "already exists" "$GAN" train ok.yaml --run-dir kept
check "the old run is untouched" unchanged "$before" kept/checkpoints/latest.h5 kept/config.yaml kept/metrics.jsonl

# Sample and info arguments.
expect_exit 2 "no checkpoint given" "$GAN" sample
expect_exit 2 "--out x.jpg: expected a .png or .npy" "$GAN" sample kept --out x.jpg
expect_exit 2 "--n: expected an integer" "$GAN" sample kept --n zero
expect_exit 2 "no such run directory or checkpoint" "$GAN" info nowhere.h5
printf '\x93NUMPY\x01\x00\x46\x00{'"'"'descr'"'"': '"'"'<f8'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (1, 8), }' > z64.npy
expect_exit 1 "z64.npy" "$GAN" sample kept --z z64.npy --out s.png
finish
