#!/usr/bin/python3
"""Converts pytorch-fid's Inception weights to the HDF5 file gan.c's "inception" feature net loads.

    python3 tools/convert_fid_inception.py pt_inception-2015-12-05-6726825d.pth data/fid_inception.h5

The input is the state_dict pytorch-fid downloads on first use
(https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth,
kept by torch.hub under ~/.cache/torch/hub/checkpoints/). The file's SHA-256 must begin with
6726825d, the prefix in its name (torch.hub's convention), so that the features are those every
published pytorch-fid score was computed with; --any-weights accepts other weights of the same
architecture (the test of this converter uses synthetic ones).

The state_dict is loaded, strictly, into the PyTorch twin of gan.c's network
(tools/fid_inception_twin.py), so a file of another architecture is refused with PyTorch's list
of missing and unexpected keys. The output is a gan.c checkpoint file (docs/checkpoints.md):
attribute format_version = 1 on "/", and one dataset per state_dict tensor under /inception with
PyTorch's name (/inception/Mixed_5b.branch1x1.conv.weight, ...), float32 arrays with Fletcher32
checksums, num_batches_tracked as int64 scalars (0 when the file has none). The classifier
(fc.weight, fc.bias) is left out: gan.c uses the 2048-d pool3 features, which come before it.
Attributes on /inception record the source file's name and SHA-256. The file is written under a
temporary name and renamed into place, so an interrupted run leaves no half-written output.

Needs python3-torch, python3-torchvision (for the twin's Inception3 skeleton), python3-h5py and
python3-numpy (Debian's packages, or pip's).
"""
import argparse
import hashlib
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fid_inception_twin import fid_inception_v3  # noqa: E402

EXPECTED_SHA256_PREFIX = "6726825d"
GROUP = "inception"
SKIPPED = ("fc.weight", "fc.bias")
CHUNK_MAX_BYTES = 4 << 20


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_state_dict(path):
    sd = torch.load(path, map_location="cpu")
    if not isinstance(sd, dict):
        sys.exit("%s: not a state_dict (a %s)" % (path, type(sd).__name__))
    net = fid_inception_v3()
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        sys.exit("%s: not pytorch-fid's FID Inception weights: %s" % (path, e))
    # The net's own state_dict: every tensor in its order, num_batches_tracked filled in when the
    # file has none (BatchNorm's loader adds them).
    return net.state_dict()


def chunks_of(shape):
    """One chunk per tensor, or equal slices along the first axis of at most CHUNK_MAX_BYTES each
    (as gan.c lays out its own files, src/gan/io/h5io.h; h5py's automatic chunks waste space in
    padded partial chunks)."""
    per_row = 4 * int(np.prod(shape[1:]))
    n = -(-shape[0] * per_row // CHUNK_MAX_BYTES)
    return (-(-shape[0] // n),) + tuple(shape[1:])


def write(out, sd, source, digest):
    tmp = "%s.tmp.%d" % (out, os.getpid())
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["format_version"] = np.int64(1)
            g = f.create_group(GROUP, track_order=True)
            g.attrs["source"] = os.path.basename(source)
            g.attrs["source_sha256"] = digest
            for name, t in sd.items():
                if name in SKIPPED:
                    continue
                if name.endswith("num_batches_tracked"):
                    g.create_dataset(name, data=np.int64(t.item()))
                else:
                    a = t.detach().to(torch.float32).numpy()
                    g.create_dataset(name, data=a, chunks=chunks_of(a.shape), fletcher32=True)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pth", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
    ap.add_argument("out", help="the HDF5 file to write (gan.c looks for data/fid_inception.h5)")
    ap.add_argument("--any-weights", action="store_true",
                    help="accept a file whose SHA-256 is not pytorch-fid's (features then differ from published ones)")
    args = ap.parse_args()
    digest = sha256_of(args.pth)
    if not digest.startswith(EXPECTED_SHA256_PREFIX) and not args.any_weights:
        sys.exit("%s: SHA-256 %s... is not pytorch-fid's weights file (%s...); pass --any-weights to convert it anyway"
                 % (args.pth, digest[:16], EXPECTED_SHA256_PREFIX))
    sd = load_state_dict(args.pth)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    write(args.out, sd, args.pth, digest)
    n = sum(1 for k in sd if k not in SKIPPED)
    print("wrote %s: %d tensors under /%s (%.1f MB)" % (args.out, n, GROUP, os.path.getsize(args.out) / 1e6))


if __name__ == "__main__":
    main()
