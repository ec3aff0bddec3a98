#!/usr/bin/env bash
# gan bench: one JSON line with the fields docs/performance.md reads; the FLOPs it counts are
# exactly the DCGAN step's convolutions, worked out here from the architecture; sampling,
# real data, thread counts; a feature net's forward pass (fmnist only: one Inception batch takes
# seconds); usage errors.
. "$(dirname "$0")/lib.sh"
need_dataset
ROOT=$(realpath "$(dirname "$0")/../..")
cd "$SCRATCH"
tiny_config tiny.yaml

# field JSON NAME: the value of "NAME" in a one-line JSON object (numbers and plain strings).
field() { sed -nE "s/.*\"$2\": \"?([^\",}]*)\"?.*/\1/p" <<<"$1"; }

out=$("$GAN" bench tiny.yaml --steps 3 --warmup 1 --threads 1 2>&1); rc=$?
first=$out
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

# --profile: each op's ms and calls per step, costliest first, summing to profile_ms, which on
# the CPU (ops run in the call) cannot exceed the step itself; a DCGAN step runs all three
# convolution passes.
out=$("$GAN" bench tiny.yaml --steps 2 --warmup 1 --threads 1 --profile 2>&1); rc=$?
check "gan bench --profile exits 0 (got $rc): $out" test "$rc" = 0
check "the profile is consistent: $out" python3 -c '
import json, sys
j = json.loads(sys.argv[1])
p, ops = j["profile"], {e["op"]: e for e in j["profile"]}
assert [e["ms"] for e in p] == sorted((e["ms"] for e in p), reverse=True), "not costliest first"
assert abs(sum(e["ms"] for e in p) - j["profile_ms"]) <= 0.001 * len(p) + 1e-9, "entries do not sum to profile_ms"
assert 0 < j["profile_ms"] <= j["mean_ms"] * 1.01, "profile_ms %s vs mean_ms %s" % (j["profile_ms"], j["mean_ms"])
for op in ("conv2d", "conv_transpose2d", "conv2d_weight_grad"):
    assert ops[op]["calls"] >= 1 and ops[op]["ms"] > 0, op
assert all(e["calls"] > 0 for e in p), "an op that did not run is listed"
' "$out"
check "without --profile there is no profile: $first" test -z "$(grep -o '"profile' <<<"$first")"

# A feature net: gan_feature_net_run on batches of synthetic images, synthetic weights by default.
# The fmnist net's multiply-adds per image (fmnist_net.h): conv1 28x28 out x 32 x 1 x 3x3, conv2
# 14x14 x 64 x 32 x 4x4, conv3 7x7 x 64 x 64 x 4x4, conv4 4x4 x 32 x 64 x 3x3, fc 512 x 128.
fmnist_macs=$((28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 16 + 7 * 7 * 64 * 64 * 16 + 4 * 4 * 32 * 64 * 9 + 512 * 128))
out=$("$GAN" bench --features fmnist --steps 2 --warmup 0 --threads 1 2>&1); rc=$?
check "gan bench --features fmnist exits 0 (got $rc): $out" test "$rc" = 0
check "one line of output: $out" test -n "$out" -a "$(wc -l <<<"$out")" = 1
for f in workload threads steps median_ms mean_ms min_ms cpu_ms images_per_sec flops_per_step gflops \
         peak_rss_mb arena_peak_mb blas_core backend; do
  check "field $f in: $out" test -n "$(field "$out" "$f")"
done
check "features workload name: $out" test "$(field "$out" workload)" = features_fmnist_b256
check "images_per_sec > 0: $out" awk -v v="$(field "$out" images_per_sec)" 'BEGIN { exit !(v > 0) }'
check "features flops_per_step $(field "$out" flops_per_step), want $((2 * 256 * fmnist_macs))" \
  test "$(field "$out" flops_per_step)" = "$((2 * 256 * fmnist_macs))"
out=$("$GAN" bench --features fmnist --features-weights "$ROOT/data/fmnist_classifier.h5" --batch 3 --steps 1 \
      --warmup 0 --threads 1 2>&1); rc=$?
check "gan bench --features with weights and --batch 3 exits 0 (got $rc): $out" test "$rc" = 0
check "batch 3 workload name: $out" test "$(field "$out" workload)" = features_fmnist_b3
check "batch 3 flops_per_step: $out" test "$(field "$out" flops_per_step)" = "$((2 * 3 * fmnist_macs))"

# Usage errors.
expect_exit 0 "usage: gan bench" "$GAN" bench --help
expect_exit 2 "expected a config file" "$GAN" bench
expect_exit 2 "--steps: expected an integer in \[1, 1048576\], got '0'" "$GAN" bench tiny.yaml --steps 0
expect_exit 2 "unknown option '--frobnicate'" "$GAN" bench tiny.yaml --frobnicate
expect_exit 2 "nope.yaml" "$GAN" bench nope.yaml
expect_exit 2 "unknown key" "$GAN" bench tiny.yaml train.nope=3
expect_exit 2 "feature net 'nope': unknown \\(known: fmnist, inception\\)" "$GAN" bench --features nope
expect_exit 2 "--features takes no config" "$GAN" bench tiny.yaml --features fmnist
expect_exit 2 "--sample does not apply" "$GAN" bench --features fmnist --sample
expect_exit 2 "--features-weights needs --features" "$GAN" bench tiny.yaml --features-weights w.h5
expect_exit 1 "--features-weights: .*nope.h5" "$GAN" bench --features fmnist --features-weights nope.h5
finish
