#!/usr/bin/env bash
# gan bench: one JSON line with the fields docs/performance.md reads; the FLOPs it counts are
# exactly the DCGAN step's convolutions, worked out here from the architecture; sampling,
# real data, thread counts; usage errors.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config tiny.yaml

# field JSON NAME: the value of "NAME" in a one-line JSON object (numbers and plain strings).
field() { sed -nE "s/.*\"$2\": \"?([^\",}]*)\"?.*/\1/p" <<<"$1"; }

out=$("$GAN" bench tiny.yaml --steps 3 --warmup 1 --threads 1 2>&1); rc=$?
check "gan bench exits 0 (got $rc): $out" test "$rc" = 0
check "one line of output: $out" test -n "$out" -a "$(wc -l <<<"$out")" = 1
for f in workload threads steps median_ms mean_ms min_ms cpu_ms images_per_sec flops_per_step gflops \
         peak_rss_mb blas_core; do
  check "field $f in: $out" test -n "$(field "$out" "$f")"
done
check "workload name: $out" test "$(field "$out" workload)" = dcgan32_gray_b8
check "threads: $out" test "$(field "$out" threads)" = 1

# The tiny DCGAN (nz 8, ngf = ndf = 4, 1 channel, 32x32, batch 8), multiply-adds per sample of
# each layer: G 1x1->4 8->16, 4->8 16->8, 8->16 8->4, 16->32 4->1; D 32->16 1->4, 16->8 4->8,
# 8->4 8->16, 4->1 16->1 (a 4x4 kernel: 16 taps per input pixel of a transposed conv, per
# output pixel of a conv).
g0=$((8 * 16 * 16)); g1=$((16 * 16 * 8 * 16)); g2=$((8 * 64 * 4 * 16)); g3=$((4 * 256 * 1 * 16))
d0=$((256 * 4 * 1 * 16)); d1=$((64 * 8 * 4 * 16)); d2=$((16 * 16 * 8 * 16)); d3=$((16 * 16))
G=$((g0 + g1 + g2 + g3)); D=$((d0 + d1 + d2 + d3))
# The step: D on the real batch (forward, weight gradients, input gradients but the first
# layer's), G forward, D on the detached fakes (the same), then D forward on the fakes with
# every input gradient (D frozen: no weight gradients), G's weight gradients and its input
# gradients but the first layer's (z needs none). Two FLOPs per multiply-add.
d_pass=$((2 * D + D - d0))
want=$(( 2 * 8 * (2 * d_pass + G + 2 * D + G + G - g0) ))
check "flops_per_step $(field "$out" flops_per_step), the architecture gives $want" \
  test "$(field "$out" flops_per_step)" = "$want"

# Sampling: the generator's forward pass only, at the batch asked for.
out=$("$GAN" bench tiny.yaml --sample --batch 5 --steps 2 --warmup 0 --threads 2 2>&1); rc=$?
check "gan bench --sample exits 0 (got $rc): $out" test "$rc" = 0
check "sample workload name: $out" test "$(field "$out" workload)" = dcgan32_gray_b5_sample
check "sample threads: $out" test "$(field "$out" threads)" = 2
check "sample flops_per_step $(field "$out" flops_per_step), want $((2 * 5 * G))" \
  test "$(field "$out" flops_per_step)" = "$((2 * 5 * G))"

# Real batches from the config's data, an override, a name.
out=$("$GAN" bench tiny.yaml train.batch_size=4 --real --steps 2 --warmup 0 --name mine 2>&1); rc=$?
check "gan bench --real exits 0 (got $rc): $out" test "$rc" = 0
check "named workload: $out" test "$(field "$out" workload)" = mine
check "override batch 4: $out" test "$(field "$out" flops_per_step)" = "$(( want / 2 ))"

# Usage errors.
expect_exit 0 "usage: gan bench" "$GAN" bench --help
expect_exit 2 "expected a config file" "$GAN" bench
expect_exit 2 "--steps expects an integer >= 1, got '0'" "$GAN" bench tiny.yaml --steps 0
expect_exit 2 "unknown option '--frobnicate'" "$GAN" bench tiny.yaml --frobnicate
expect_exit 2 "nope.yaml" "$GAN" bench nope.yaml
expect_exit 2 "unknown key" "$GAN" bench tiny.yaml train.nope=3
finish
