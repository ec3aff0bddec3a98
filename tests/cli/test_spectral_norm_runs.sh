#!/usr/bin/env bash
# model.spectral_norm (DCGAN): a tiny run trains with every conv of D spectrally normalised,
# checkpoints D under PyTorch's names (main.N.weight_orig, main.N.weight_u, main.N.weight_v),
# resumes byte-identically (u and v are part of D's state), samples, and its generator still
# loads into PyTorch; the key is stored with the run, cannot change on resume, and is refused
# for StyleGAN2.
. "$(dirname "$0")/lib.sh"
need_dataset
TOOLS=$(cd "$(dirname "$0")/../../tools" && pwd)
cd "$SCRATCH"
tiny_config exp.yaml

check "the default run (no spectral norm)" "$GAN" train exp.yaml --run-dir plain >/dev/null
# bce (the default loss, D with batchnorm), hinge, and wgan-gp (its penalty's double backward
# through weight_orig / sigma, two D steps per G step).
for loss in bce hinge wgan-gp; do
  opts=(model.spectral_norm=true train.loss=$loss)
  [ "$loss" = wgan-gp ] && opts+=(train.d_steps=2)
  check "$loss: unbroken run" "$GAN" train exp.yaml --run-dir "full-$loss" "${opts[@]}" >/dev/null
  check "$loss: first half" "$GAN" train exp.yaml --run-dir "half-$loss" train.steps=3 "${opts[@]}" >/dev/null
  check "$loss: resumed" "$GAN" train --resume "half-$loss" train.steps=6 >/dev/null
  a=full-$loss/checkpoints/ckpt-00000006.h5 b=half-$loss/checkpoints/ckpt-00000006.h5
  for obj in /G /D /optim; do
    check "$loss: $obj identical after resume" same_datasets "$a" "$b" "$obj"
  done
  check "$loss: rng identical after resume" same_attr "$a" "$b" rng
  check "$loss: the key is stored" grep -q "spectral_norm: true" "half-$loss/config.yaml"
  check "$loss: metrics are finite" bash -c "! grep -Eiq 'nan|inf' full-$loss/metrics.jsonl"
  check "$loss: a sample grid" "$GAN" sample "full-$loss" --n 4 --out "$loss.png" >/dev/null
done
check "spectral norm changes the run" different_datasets full-bce/checkpoints/latest.h5 plain/checkpoints/latest.h5 /G
check "the default stores spectral_norm: false" grep -q "spectral_norm: false" plain/config.yaml

# D's state under torch.nn.utils.spectral_norm's names and shapes (32x32, ndf 4, nc 1), and no
# main.N.weight; G as before.
ck=full-bce/checkpoints/latest.h5
names=$(h5ls -r "$ck/D" | tr -s ' ')
for want in "main.0.weight_orig Dataset {4, 1, 4, 4}" "main.0.weight_u Dataset {4}" "main.0.weight_v Dataset {16}" \
            "main.2.weight_orig Dataset {8, 4, 4, 4}" "main.2.weight_u Dataset {8}" "main.2.weight_v Dataset {64}" \
            "main.5.weight_orig Dataset {16, 8, 4, 4}" "main.5.weight_u Dataset {16}" "main.5.weight_v Dataset {128}" \
            "main.8.weight_orig Dataset {1, 16, 4, 4}" "main.8.weight_u Dataset {1}" "main.8.weight_v Dataset {256}" \
            "main.3.running_mean Dataset {8}"; do
  check "/D holds $want" grep -Fxq "/$want" <<<"$names"
done
check "/D has no plain conv weight" bash -c "! grep -Eq '^/main\\.(0|2|5|8)\\.weight ' <<<'$names'"
check "/D has 12 convolution tensors" test "$(grep -Ec '^/main\.(0|2|5|8)\.' <<<"$names")" = 12
check "Adam moments of weight_orig" bash -c "h5ls -r $ck/optim/D | grep -q 'main.0.weight_orig'"
check "the wgan-gp critic keeps u and v, no batchnorm" bash -c \
  "h5ls -r full-wgan-gp/checkpoints/latest.h5/D | grep -q weight_u && ! h5ls -r full-wgan-gp/checkpoints/latest.h5/D | grep -q running_mean"
check "gan info names the variant" bash -c "'$GAN' info full-bce | grep -q 'spectral normalisation'"
if /usr/bin/python3 -c "import torch, h5py, numpy" 2>/dev/null; then
  check "the generator of a spectral-norm run matches PyTorch" /usr/bin/python3 "$TOOLS/torch_interop.py" "$ck" --gan "$GAN"
  # /D as a state_dict: strict loading into the reference D with spectral_norm on each conv.
  check "/D loads strictly into PyTorch's D with spectral_norm" /usr/bin/python3 -c "
import sys; sys.path.insert(0, '$TOOLS')
import h5py, numpy as np, torch, torch.nn as nn
from dcgan_reference import Discriminator
d = Discriminator(32, 4, 1)
for i, m in enumerate(d.main):
    if isinstance(m, nn.Conv2d): d.main[i] = nn.utils.spectral_norm(m)
with h5py.File('$ck', 'r') as f:
    d.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in f['D'].items()}, strict=True)
"
fi

expect_exit 2 "model.spectral_norm cannot change when resuming" \
  "$GAN" train --resume half-hinge model.spectral_norm=false train.steps=8
expect_exit 2 "model.spectral_norm: expected true or false" \
  "$GAN" train exp.yaml --run-dir bad1 model.spectral_norm=yes-please
tiny_sg2_config sg2.yaml
expect_exit 2 "model.spectral_norm applies only when model.type is dcgan, but model.type is stylegan2" \
  "$GAN" train sg2.yaml --run-dir bad2 model.spectral_norm=true
check "refused runs leave no directory" bash -c "! ls -d bad1 bad2 2>/dev/null"
finish
