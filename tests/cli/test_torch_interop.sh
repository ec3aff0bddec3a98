#!/usr/bin/env bash
# A checkpoint's generator in PyTorch (tools/torch_interop.py): the same latents give the same
# images as `gan sample --z`. Skipped where Debian's python3-torch is not installed.
. "$(dirname "$0")/lib.sh"
need_dataset
PY=/usr/bin/python3
if ! "$PY" -c "import torch, h5py, numpy" 2>/dev/null; then
  echo "python3-torch, python3-h5py or python3-numpy missing: skipped"; exit 77
fi
TOOLS=$(cd "$(dirname "$0")/../../tools" && pwd)
cd "$SCRATCH"
tiny_config g32.yaml
check "train 32x32" "$GAN" train g32.yaml --run-dir r32 > /dev/null
check "32x32 generator matches PyTorch" "$PY" "$TOOLS/torch_interop.py" r32/checkpoints/latest.h5 --gan "$GAN"
tiny_config g64.yaml
sed -i 's/resolution: 32, nz: 8, ngf: 4, ndf: 4, channels: 1/resolution: 64, nz: 8, ngf: 4, ndf: 4, channels: 3/; s/steps: 6/steps: 2/' g64.yaml
check "train 64x64 RGB" "$GAN" train g64.yaml --run-dir r64 > /dev/null
check "64x64 generator matches PyTorch" "$PY" "$TOOLS/torch_interop.py" r64/checkpoints/latest.h5 --gan "$GAN"
# Anything but a DCGAN checkpoint: one line naming the file and what it is, exit 2, no traceback.
cat > sg2.yaml <<EOF2
seed: 5
model: {type: stylegan2, resolution: 32, channels: 1, z_dim: 8, w_dim: 8, mapping_layers: 1,
        channel_base: 64, channel_max: 4}
data: {path: $FMNIST, limit: 20}
train: {steps: 1, batch_size: 4, threads: 2}
checkpoint: {every: 1}
sample: {every: 1, n: 4}
EOF2
check "train a tiny StyleGAN2" "$GAN" train sg2.yaml --run-dir sg2 > /dev/null
expect_exit 2 "^torch_interop.py: error: sg2/checkpoints/latest.h5 is a stylegan2 checkpoint; this tool checks DCGAN" \
  "$PY" "$TOOLS/torch_interop.py" sg2/checkpoints/latest.h5 --gan "$GAN"
echo "not hdf5" > text.h5
expect_exit 2 "^torch_interop.py: error: text.h5: not a readable HDF5 file" "$PY" "$TOOLS/torch_interop.py" text.h5 --gan "$GAN"
finish
