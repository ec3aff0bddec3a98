#!/usr/bin/python3
"""Load a gan.c DCGAN checkpoint's generator into the Generator of pytorch/examples/dcgan and
check that the same latents give the same images as `gan sample --z`.

    /usr/bin/python3 tools/torch_interop.py CKPT.h5 --gan build/src/gan/gan [--n 16]

Checkpoints hold one HDF5 dataset per state_dict entry under /G (docs/checkpoints.md), so the
transfer is load_state_dict(strict=True) over h5py: nothing is renamed or reshaped. The
architecture (32x32 or 64x64, nz, ngf, nc) is read off the stored shapes. Exit status 0 when
every pixel agrees within 1e-4, 1 otherwise.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn as nn


def generator(nz, widths, nc):
    """pytorch/examples/dcgan's Generator: ConvT(4,1,0) BN ReLU, then ConvT(4,2,1) BN ReLU
    blocks, and ConvT(4,2,1) Tanh; widths are the block outputs (ngf*8, ngf*4, ... at 64x64)."""
    layers, cin = [], nz
    for i, w in enumerate(widths):
        layers += [nn.ConvTranspose2d(cin, w, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False),
                   nn.BatchNorm2d(w), nn.ReLU(True)]
        cin = w
    layers += [nn.ConvTranspose2d(cin, nc, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    def __init__(self, nz, widths, nc):
        super().__init__()
        self.main = generator(nz, widths, nc)

    def forward(self, z):
        return self.main(z)


def load_generator(path):
    with h5py.File(path, "r") as f:
        state = {name: torch.from_numpy(np.array(f["G"][name])) for name in f["G"]}
    convs = sorted((int(k.split(".")[1]), v.shape) for k, v in state.items()
                   if k.endswith(".weight") and v.dim() == 4)
    nz = convs[0][1][0]
    widths = [shape[1] for _, shape in convs[:-1]]
    nc = convs[-1][1][1]
    g = Generator(nz, widths, nc)
    g.load_state_dict(state, strict=True)
    return g.eval(), nz


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--gan", required=True, help="the gan executable")
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()

    g, nz = load_generator(args.checkpoint)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((args.n, nz)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        zpath, out = os.path.join(tmp, "z.npy"), os.path.join(tmp, "images.npy")
        np.save(zpath, z)
        subprocess.run([args.gan, "sample", args.checkpoint, "--z", zpath, "--no-crop", "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        ours = np.load(out)
    with torch.no_grad():
        theirs = g(torch.from_numpy(z).view(args.n, nz, 1, 1)).numpy()
    err = float(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else float("inf")
    print(f"{args.n} images {theirs.shape[1:]}: max |gan.c - PyTorch| = {err:.3g}")
    return 0 if err <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
