#!/usr/bin/python3
"""How well a class-conditional Fashion-MNIST run follows its labels: for each class k,
`gan sample RUN --class k --n N` images are classified by gan.c's Fashion-MNIST classifier
(data/fmnist_classifier.h5, the "fmnist" feature net with its head; tools/fmnist_net_twin.py is
the same net in PyTorch), and the share classified as k is printed, per class and overall. The
classifier's own accuracy on the first N test images of each class is printed beside it, as
the ceiling.

    tools/conditional_accuracy.py GAN RUN_DIR [N]      (GAN: the gan executable; N default 200)

Needs Debian's python3-torch, python3-h5py and python3-numpy.
"""
import gzip
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmnist_net_twin import FmnistNet  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEST = "/usr/share/datasets/fashion-mnist/t10k-%s-idx%d-ubyte.gz"


def classifier():
    net = FmnistNet()
    with h5py.File(os.path.join(ROOT, "data", "fmnist_classifier.h5"), "r") as f:
        net.load_state_dict({k: torch.from_numpy(v[()]) for k, v in f["net"].items()})
    return net.eval()


def predict(net, x):
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).argmax(1).numpy()


def main():
    gan, run = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    torch.set_num_threads(2)
    net = classifier()
    images = np.frombuffer(gzip.open(TEST % ("images", 3)).read()[16:], np.uint8).reshape(-1, 1, 28, 28)
    labels = np.frombuffer(gzip.open(TEST % ("labels", 1)).read()[8:], np.uint8)
    total_gen = total_real = 0
    print("class  generated  real (test set)")
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(10):
            out = os.path.join(tmp, "c%d.npy" % k)
            subprocess.run([gan, "sample", run, "--class", str(k), "--n", str(n), "--out", out], check=True,
                           stdout=subprocess.DEVNULL)
            gen = float((predict(net, np.load(out)) == k).mean())
            real_x = images[labels == k][:n].astype(np.float32) / 127.5 - 1
            real = float((predict(net, real_x) == k).mean())
            total_gen += gen
            total_real += real
            print("%5d  %9.3f  %5.3f" % (k, gen, real))
    print("  all  %9.3f  %5.3f" % (total_gen / 10, total_real / 10))


if __name__ == "__main__":
    main()
