#!/usr/bin/env bash
# The backend is chosen by name: the config's device key and --device on train, sample, info and
# bench. A name this build does not have is a usage error (exit 2) that lists the built
# backends, and nothing is written.
. "$(dirname "$0")/lib.sh"
need_dataset
cd "$SCRATCH"
tiny_config exp.yaml

# gan --version: the version, the commit and the built backends (cpu is always one) on its
# first line, then each backend's math libraries and kernels (the CPU's: OpenBLAS's core, then
# the convolutions' kernel, which GAN_CONV_KERNEL chooses); the commit is this checkout's when
# built from one.
expect_exit 0 "^gan.c [0-9.]+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\), backends: cpu(, [a-z]+)*$" "$GAN" --version
expect_exit 0 "^cpu: OpenBLAS [0-9.]+.*; kernels [A-Za-z0-9]+, conv (blas|avx2|avx512); [0-9]+ logical cores$" "$GAN" --version
expect_exit 0 "; kernels [A-Za-z0-9]+, conv blas;" env GAN_CONV_KERNEL=blas "$GAN" --version
expect_exit 0 "GAN_CONV_KERNEL=avx9: expected blas, avx2, avx512 or auto; the convolutions use" \
  env GAN_CONV_KERNEL=avx9 "$GAN" --version
if head=$(git -C "$(dirname "$0")" rev-parse --short=12 HEAD 2>/dev/null); then
  check "--version names commit $head" bash -c "'$GAN' --version | head -1 | grep -q 'commit $head'"
fi

# A device this build does not have, in the config, as an override and as --device.
tiny_config bad.yaml "device: nonesuch"
expect_exit 2 "device nonesuch: no such backend in this build \(built: cpu" "$GAN" train bad.yaml --run-dir r1
check "no run directory left by a bad device" test ! -e r1
expect_exit 2 "device nonesuch: no such backend.*built: cpu" "$GAN" train exp.yaml device=nonesuch --run-dir r2
expect_exit 2 "device nonesuch: no such backend.*built: cpu" "$GAN" train exp.yaml --device nonesuch --run-dir r3
expect_exit 2 "cpu backend has no device numbers" "$GAN" train exp.yaml --device cpu:1 --run-dir r4
expect_exit 2 "device: expected a string" "$GAN" train exp.yaml device= --run-dir r5
check "no run directories left" test ! -e r2 -a ! -e r3 -a ! -e r4 -a ! -e r5
expect_exit 2 "--device needs a value" "$GAN" train exp.yaml --device
# cuda: without a CUDA build it is not built (exit 2); built but without a GPU here it cannot
# open (exit 1, saying why); with a GPU it trains.
out=$("$GAN" train exp.yaml --device cuda --run-dir r6 2>&1); rc=$?
if "$GAN" --version | grep -q cuda; then
  check "--device cuda trains or says why not (exit $rc): $out" \
    bash -c '[[ $0 == 0 || ( $0 == 1 && $1 == *"device cuda: "*"CUDA device"* ) ]]' "$rc" "$out"
else
  check "--device cuda is not built (exit $rc): $out" \
    bash -c '[[ $0 == 2 && $1 == *"device cuda: no such backend in this build (built: cpu"* ]]' "$rc" "$out"
fi

# --device cpu trains, and the run records its device.
check "--device cpu trains" "$GAN" train exp.yaml --device cpu --run-dir run >/dev/null
check "config.yaml records the device" grep -q "^device: cpu" run/config.yaml
check "the checkpoint's config records it" bash -c "h5dump -a /config run/checkpoints/latest.h5 | grep -q 'device: cpu'"
# A resume may name the device (it may change: the run continues on the new backend).
check "resume with --device cpu" "$GAN" train --resume run train.steps=8 --device cpu >/dev/null
expect_exit 2 "device nonesuch: no such backend" "$GAN" train --resume run train.steps=9 --device nonesuch
check "the failed resume left the run at step 8" bash -c "$GAN info run | grep -Eq 'step +8 of 8'"

# sample: the run's device by default, --device overrides.
check "sample on the run's device" "$GAN" sample run --n 4 --out a.npy >/dev/null
check "sample --device cpu" "$GAN" sample run --n 4 --out b.npy --device cpu >/dev/null
check "the same images" same_files a.npy b.npy
expect_exit 2 "--device nonesuch: no such backend.*built: cpu" "$GAN" sample run --n 4 --out c.npy --device nonesuch
check "no image written by a failed sample" test ! -e c.npy

# info: builds the model on --device (cpu by default) and prints the run's device.
expect_exit 0 "device +cpu" "$GAN" info run
expect_exit 0 "step +8 of 8" "$GAN" info run --device cpu
expect_exit 2 "--device nonesuch: no such backend" "$GAN" info run --device nonesuch

# bench: the config's device or --device; the JSON line names the backend.
out=$("$GAN" bench exp.yaml --steps 1 --warmup 0 --device cpu 2>&1)
check "bench --device cpu names its backend: $out" grep -q '"backend": "cpu"' <<<"$out"
expect_exit 2 "--device nonesuch: no such backend" "$GAN" bench exp.yaml --steps 1 --device nonesuch
expect_exit 2 "device nonesuch: no such backend" "$GAN" bench bad.yaml --steps 1
finish
