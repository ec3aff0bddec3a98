#!/usr/bin/env bash
# Trains each config for the same number of steps and scores it with `gan eval`, one row of
# docs/variants.md's comparison table per config:
#   tools/compare_variants.sh STEPS CONFIG.yaml...
# Every run is scored against the Fashion-MNIST test images (10000 images the runs never saw,
# so a run on a subset is not rewarded for copying it), with eval's defaults: 10000 samples,
# the fmnist feature net. Runs go to $GAN_COMPARE_DIR/NAME (default runs/compare/NAME); a run
# directory that already holds a run is continued to STEPS (a finished one is only scored
# again), never deleted.
# $GAN names the binary (default build/src/gan/gan). Prints the table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:?usage: tools/compare_variants.sh STEPS CONFIG.yaml...}
shift
gan=${GAN:-build/src/gan/gan}
out=${GAN_COMPARE_DIR:-runs/compare}
ref=${GAN_COMPARE_REF:-/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz}
mkdir -p "$out"

# A number from eval's JSON ("fid": 43.21, ...).
field() { sed -nE "s/.*\"$1\": *(-?[0-9.eE+-]+).*/\1/p" "$2" | head -1; }

printf '| config | steps | training wall-clock | FID | KID | precision | recall | density | coverage |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for cfg in "$@"; do
  name=$(basename "$cfg" .yaml)
  run=$out/$name
  log=$out/$name.train.log
  if [ -e "$run/checkpoints/latest.h5" ]; then
    # A run stopped early (Ctrl-C writes a checkpoint) continues; a finished one says so at once.
    "$gan" train --resume "$run" train.steps="$steps" >> "$log" 2>&1 ||
      { echo "compare_variants: resuming $run failed, see $log" >&2; exit 1; }
  elif [ -e "$run" ]; then
    echo "compare_variants: $run exists without a checkpoint; remove it to train $cfg again" >&2
    exit 1
  else
    "$gan" train "$cfg" --run-dir "$run" train.steps="$steps" checkpoint.every="$steps" > "$log" 2>&1 ||
      { echo "compare_variants: training $cfg failed, see $log" >&2; exit 1; }
  fi
  secs=$(sed -nE "s/^done: $steps steps in ([0-9.]+) s.*/\1/p" "$log" | tail -1)
  json=$out/$name.eval.json
  "$gan" eval "$run" --ref "$ref" --out "$json" > "$out/$name.eval.log" 2>&1 ||
    { echo "compare_variants: evaluating $run failed, see $out/$name.eval.log" >&2; exit 1; }
  kid=$(field kid "$json")
  # The step scored, from eval's JSON: a run stopped early (Ctrl-C) is scored where it stopped.
  awk -v n="$name" -v st="$(field step "$json")" -v t="${secs:-0}" -v f="$(field fid "$json")" -v k="$kid" \
      -v p="$(field precision "$json")" -v r="$(field recall "$json")" -v d="$(field density "$json")" \
      -v c="$(field coverage "$json")" \
      'BEGIN { printf "| `%s` | %s | %.1f min | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", n, st, t / 60, f, k, p, r, d, c }' 
done
