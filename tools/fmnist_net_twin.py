#!/usr/bin/python3
"""The PyTorch twin of the "fmnist" feature net (src/gan/features/fmnist_net.h) and its fixture:
`python3 tools/fmnist_net_twin.py` rewrites tests/fixtures/fmnist_net.h5, which
tests/test_fmnist_net.c compares the C net with.

Same layers, same parameter names, same order: conv1..conv4 (leaky ReLU 0.2 after each), the
flattened 32 x 4 x 4 map into fc (leaky ReLU: the 128-d features), head (the 10 logits). Random
weights (PyTorch's default initialisation times 2.5, near He's scale, so that the features and
logits are of order one; seed fixed), rounded to multiples of 2^-12 so that
their low mantissa bytes are zero and the file compresses to a fraction of the 0.74 MB the raw
floats take; the rounded values are the weights, in both nets. Runs on one CPU thread with
Debian's python3-torch, python3-h5py and python3-numpy; a rerun writes the same bytes.

tests/fixtures/fmnist_net.h5:
    /                attrs format_version = 1 (so gan.c opens it as a weights file), generator
    /net/<name>      conv1.weight (32, 1, 3, 3), conv1.bias (32), ..., head.bias (10)
    /x28 (5, 1, 28, 28)        inputs, uniform in [-1, 1]
    /features28 (5, 128), /logits28 (5, 10)
    /x32 (3, 1, 32, 32)        inputs of gan.c's padded size
    /features32 (3, 128)       the features of their centers x32[:, :, 2:30, 2:30]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402
from make_fixtures import new_group, put  # noqa: E402


class FmnistNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1, 1)
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.conv3 = nn.Conv2d(64, 64, 4, 2, 1)
        self.conv4 = nn.Conv2d(64, 32, 3, 2, 1)
        self.fc = nn.Linear(32 * 4 * 4, 128)
        self.head = nn.Linear(128, 10)

    def features(self, x):
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = F.leaky_relu(conv(x), 0.2)
        return F.leaky_relu(self.fc(x.flatten(1)), 0.2)

    def forward(self, x):
        return self.head(self.features(x))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(20241130)
    net = FmnistNet()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.round(p * 2.5 * 4096) / 4096)
    x28 = torch.rand(5, 1, 28, 28) * 2 - 1
    x32 = torch.rand(3, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        f28 = net.features(x28)
        l28 = net.head(f28)
        f32 = net.features(x32[:, :, 2:30, 2:30])

    f = make_fixtures.open_out("fmnist_net.h5")
    f.attrs["generator"] = "tools/fmnist_net_twin.py, torch " + torch.__version__
    f.attrs["format_version"] = np.int64(1)
    g = new_group(f, "net")
    for name, p in net.named_parameters():
        put(g, name, p)
    for name, v in (("x28", x28), ("features28", f28), ("logits28", l28), ("x32", x32), ("features32", f32)):
        put(f, name, v)
    f.close()
    path = os.path.join(make_fixtures.FIXTURES, "fmnist_net.h5")
    print("%s: %d bytes" % (os.path.normpath(path), os.path.getsize(path)))


if __name__ == "__main__":
    main()
