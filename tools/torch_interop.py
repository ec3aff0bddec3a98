#!/usr/bin/python3
"""Load a gan.c DCGAN checkpoint's generator into the Generator of pytorch/examples/dcgan
(tools/dcgan_reference.py) and check that the same latents give the same images as
`gan sample --z`.

    /usr/bin/python3 tools/torch_interop.py CKPT.h5 --gan build/src/gan/gan [--n 16]

Checkpoints hold one HDF5 dataset per state_dict entry under /G (docs/checkpoints.md), so the
transfer is load_state_dict(strict=True) over h5py: nothing is renamed or reshaped. The
architecture (32x32 or 64x64, nz, ngf, nc) is read off the stored shapes. Exit status 0 when
every pixel agrees within 1e-4, 1 otherwise; 2, with one line naming the file, for a file that
is not a DCGAN checkpoint (a StyleGAN2 generator is checked against tools/stylegan2_reference.py
by the fixtures of tests/test_stylegan2_nets.c instead).

A class-conditional checkpoint (model.num_classes K > 0: main.<i>.gain.weight tables in /G) loads
into tools/dcgan_cond_reference.py's CondGenerator the same way; image i is then of class i mod K
(`gan sample --z --nrow 1`: one image per row, one class per row).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

from dcgan_cond_reference import CondGenerator
from dcgan_reference import Generator


class NotADcganCheckpoint(Exception):
    pass


def load_generator(path):
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise NotADcganCheckpoint(f"{path}: not a readable HDF5 file ({e})") from None
    with f:
        model = f.attrs.get("model")
        model = model.decode() if isinstance(model, bytes) else model
        if model != "dcgan":
            kind = f"a {model} checkpoint" if model else "not a gan.c checkpoint (no model attribute)"
            raise NotADcganCheckpoint(f"{path} is {kind}; this tool checks DCGAN generators against "
                                      "pytorch/examples/dcgan only")
        if "G" not in f:
            raise NotADcganCheckpoint(f"{path}: no /G group (a damaged checkpoint?)")
        state = {name: torch.from_numpy(np.array(f["G"][name])) for name in f["G"]}
    # The transposed convolutions' weights, (in, out, 4, 4) in layer order: nz in first, ngf in
    # and nc out last, one per doubling of the 4x4 of the first.
    convs = [shape for _, shape in sorted((int(k.split(".")[1]), v.shape) for k, v in state.items()
                                          if k.endswith(".weight") and v.dim() == 4)]
    nz, ngf, nc = convs[0][0], convs[-1][0], convs[-1][1]
    gains = [v.shape[0] for k, v in state.items() if k.endswith(".gain.weight")]
    classes = gains[0] if gains else 0
    g = CondGenerator(4 << (len(convs) - 1), nz, ngf, nc, classes) if classes else Generator(4 << (len(convs) - 1),
                                                                                         nz, ngf, nc)
    g.load_state_dict(state, strict=True)
    return g.eval(), nz, classes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--gan", required=True, help="the gan executable")
    ap.add_argument("--n", type=int, default=16)
    args = ap.parse_args()

    try:
        g, nz, classes = load_generator(args.checkpoint)
    except NotADcganCheckpoint as e:
        print(f"torch_interop.py: error: {e}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(0)
    z = rng.standard_normal((args.n, nz)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        zpath, out = os.path.join(tmp, "z.npy"), os.path.join(tmp, "images.npy")
        np.save(zpath, z)
        subprocess.run([args.gan, "sample", args.checkpoint, "--z", zpath, "--no-crop", "--nrow", "1", "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        ours = np.load(out)
    with torch.no_grad():
        zt = torch.from_numpy(z).view(args.n, nz, 1, 1)
        theirs = (g(zt, torch.arange(args.n) % classes) if classes else g(zt)).numpy()
    err = float(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else float("inf")
    what = f", classes i mod {classes}" if classes else ""
    print(f"{args.n} images {theirs.shape[1:]}{what}: max |gan.c - PyTorch| = {err:.3g}")
    return 0 if err <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
