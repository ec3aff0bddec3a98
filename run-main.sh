#!/usr/bin/env bash
# The main job from a fresh clone: installs what is missing, builds, trains the default DCGAN
# experiment on Fashion-MNIST (experiments/dcgan_fmnist.yaml, about ten minutes on two cores)
# and writes a sample grid from the trained generator.
#   ./run-main.sh [key.path=value ...]     e.g. ./run-main.sh train.steps=500
set -euo pipefail
cd "$(dirname "$0")"
tools/setup.sh

run="runs/dcgan_fmnist-$(date +%Y%m%d-%H%M%S)"
build/src/gan/gan train experiments/dcgan_fmnist.yaml --run-dir "$run" "$@"
build/src/gan/gan sample "$run" --n 64 --seed 0 --out "$run/sample.png"
echo
echo "run directory:  $run"
echo "sample grid:    $run/sample.png"
echo "training grids: $run/samples/   losses: $run/metrics.jsonl"
echo "continue it:    build/src/gan/gan train --resume $run train.steps=4000"
