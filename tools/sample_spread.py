#!/usr/bin/python3
"""How spread out a generator's samples are, next to real images: whether low recall comes from
missing classes or from samples that crowd together within them.

For each set (the first N Fashion-MNIST test images, then every .npy given, each a float32
array (N, 1, 28, 28) in [-1, 1] as `gan sample --n N --out FILE.npy` writes), prints:
  - the class histogram from gan.c's Fashion-MNIST classifier (data/fmnist_classifier.h5);
  - quantiles of each image's distance to its nearest other image of the same set, in the
    classifier's 128 features (the space `gan eval`'s fmnist metrics use) and in pixels (RMS);
  - the median distance to the 3rd neighbour, the radius precision and recall use (k = 3).
Samples closer to each other than real images are to each other, with every class present,
mean near-duplicates: partial mode collapse within classes.

    tools/sample_spread.py [--n N] A.npy [B.npy ...]      (N: test images, default 2000)

Needs Debian's python3-torch, python3-h5py and python3-numpy.
"""
import argparse
import gzip
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conditional_accuracy import classifier  # noqa: E402

TEST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def test_images(n):
    with gzip.open(TEST) as f:
        raw = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 1, 28, 28)[:n]
    return raw.astype(np.float32) / 127.5 - 1.0


def nearest(v, k):
    """Distance of each row to its k nearest other rows (ascending), exact, in blocks."""
    sq = (v * v).sum(1)
    out = np.empty((len(v), k))
    for a in range(0, len(v), 500):
        d = sq[a:a + 500, None] + sq[None, :] - 2.0 * v[a:a + 500] @ v.T
        d[np.arange(d.shape[0]), a + np.arange(d.shape[0])] = np.inf
        out[a:a + 500] = np.sqrt(np.maximum(np.sort(d, 1)[:, :k], 0.0))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("samples", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = classifier()
    sets = [("real (test images)", test_images(args.n))]
    for path in args.samples:
        x = np.load(path)
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            sys.exit("%s: expected a float32 array (N, 1, 28, 28), got shape %s" % (path, x.shape))
        sets.append((path, x.astype(np.float32)))
    print("%-28s %6s  %-40s  %-26s %-8s %s" % ("set", "n", "classes 0-9", "feature 1-NN q10/q50/q90",
                                              "3-NN q50", "pixel RMS 1-NN q10/q50"))
    for name, x in sets:
        with torch.no_grad():
            t = torch.from_numpy(np.ascontiguousarray(x))
            f = net.features(t).numpy().astype(np.float64)
            cls = net.head(torch.from_numpy(f.astype(np.float32))).argmax(1).numpy()
        fn = nearest(f, 3)
        pn = nearest(x.reshape(len(x), -1).astype(np.float64), 1)[:, 0] / np.sqrt(28 * 28)
        hist = " ".join("%3d" % c for c in np.bincount(cls, minlength=10))
        print("%-28s %6d  %-40s  %6.2f %6.2f %6.2f      %6.2f   %.3f %.3f" % (
            os.path.basename(name)[:28], len(x), hist, *np.quantile(fn[:, 0], [0.1, 0.5, 0.9]),
            np.median(fn[:, 2]), *np.quantile(pn, [0.1, 0.5])))


if __name__ == "__main__":
    main()
