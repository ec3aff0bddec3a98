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
finish
