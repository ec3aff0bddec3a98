#!/usr/bin/python3
"""The PyTorch twin of gan.c's FID Inception (src/gan/features/inception.c), and its fixture.

The network is pytorch-fid's FID InceptionV3 (mseitzer/pytorch-fid, src/pytorch_fid/inception.py):
torchvision's Inception3 with 1008 classes and no aux head, in which four kinds of block are
replaced by the TensorFlow graph's variants, written out here:
    FIDInceptionA   (Mixed_5b, 5c, 5d)       3x3 average pool that does not count the padding
    FIDInceptionC   (Mixed_6b, 6c, 6d, 6e)   the same
    FIDInceptionE_1 (Mixed_7b)               the same
    FIDInceptionE_2 (Mixed_7c)               a 3x3 *max* pool, stride 1, padding 1, in its place
Mixed_6a and Mixed_7a (InceptionB, InceptionD) and the stem are torchvision's; every BasicConv2d
is conv (no bias) + BatchNorm (eps 0.001) + ReLU. The features are pytorch-fid's default block:
the 2048-d output of the final adaptive average pool ("pool3").

Input pipeline (pytorch-fid's InceptionV3 with resize_input and normalize_input): images in
[0, 1], F.interpolate to 299x299 (bilinear, align_corners=False), then 2x - 1. gan.c's images
are in [-1, 1]; the twin maps them to [0, 1] first, so it runs exactly pytorch-fid's steps.

Synthetic weights, scheme version 1 (also in tests/test_inception.c): the real weights
(pt_inception-2015-12-05-6726825d.pth, 95 MB) cannot be downloaded here, so the C network is
checked against this twin with weights that both sides compute bit for bit from a tensor's
state_dict name. For element j (flat index) of tensor `name`:
    salt = FNV-1a 32-bit hash of the name's bytes
    h    = fmix32(j * 2654435761 + salt)     uint32 arithmetic (wrapping); fmix32 is MurmurHash3's
                                             finaliser: h ^= h >> 16; h *= 0x85ebca6b;
                                             h ^= h >> 13; h *= 0xc2b2ae35; h ^= h >> 16
    u    = (h >> 8) * 2^-24 - 0.5            exact in float32, in [-0.5, 0.5)
    v    = base + u * scale                  float32: the product rounded, then the sum
with (base, scale) by the name's ending:
    conv.weight (O, I, kh, kw)   0, sqrt(24 / (I kh kw)) as float32 (He: variance 2 / fan-in,
                                 so activations stay O(1) through ~100 layers)
    bn.weight                    1, 0.5
    bn.bias, bn.running_mean     0, 0.2
    bn.running_var               1, 0.5     (positive: [0.75, 1.25))
    bn.num_batches_tracked       0 (not drawn; eval mode ignores it)
    input.<case>                 0, 2       (synthetic images in [-1, 1))

`python3 tools/fid_inception_twin.py` writes tests/fixtures/inception.h5 (about 150 KB):
    attrs weights_scheme (= 1), size (= 299)
    /scheme/<name>           the first 64 values of a few tensors under the scheme (the C test
                             compares its own values with these exactly)
    /inputs/small (2, 3, 32, 32), /inputs/rect (1, 3, 48, 64)    images in [-1, 1] (torch.rand)
    /features/<case> (n, 2048)   the twin's pool3 features, with the scheme's weights, for the
                             cases small, rect, x299 and down; x299 (1, 3, 299, 299) and down
                             (1, 3, 341, 320) are not stored: they are the scheme's input.x299
                             and input.down
    /resize/rect_21x97 (1, 3, 21, 97)  F.interpolate(rect, (21, 97), bilinear,
                             align_corners=False): the resize on its own, down in H and up in W

`python3 tools/fid_inception_twin.py --roundtrip BUILD_DIR` checks the converter instead: it saves
the twin's state_dict (scheme weights) as a .pth, converts it with tools/convert_fid_inception.py
and runs BUILD_DIR/tests/test_inception with GAN_INCEPTION_TEST_WEIGHTS naming the converted
file, so the C loader reads the converter's output and must reproduce the fixture's features.

Runs with Debian's python3-torch, python3-torchvision, python3-h5py and python3-numpy.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.inception as tvi

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "inception.h5")
SCHEME_VERSION = 1
SIZE = 299


# --- the network ------------------------------------------------------------------------------

def avg_pool_valid(x):
    """TensorFlow's 3x3 average pool (stride 1, padding 1): padded zeros are not counted."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(tvi.InceptionA):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(avg_pool_valid(x))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDInceptionC(tvi.InceptionC):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = conv(bd)
        bp = self.branch_pool(avg_pool_valid(x))
        return torch.cat([b1, b7, bd, bp], 1)


class FIDInceptionE(tvi.InceptionE):
    """Both E variants: the first pools by average (padding not counted), the second by max."""

    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else avg_pool_valid(x)
        bp = self.branch_pool(pooled)
        return torch.cat([b1, b3, bd, bp], 1)


def fid_inception_v3():
    """pytorch-fid's fid_inception_v3() without the download: its state_dict names and shapes
    are those of pt_inception-2015-12-05-6726825d.pth."""
    net = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, max_pool=False)
    net.Mixed_7c = FIDInceptionE(2048, max_pool=True)
    return net.eval()


TRUNK = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
         "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
         "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]


@torch.no_grad()
def pool3(net, images):
    """pytorch-fid's features of gan.c images (N, 3, H, W) in [-1, 1]: (N, 2048)."""
    x = (images + 1) / 2
    x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    x = 2 * x - 1
    for name in TRUNK:
        x = getattr(net, name)(x)
    return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


# --- the synthetic weights (scheme version 1, see the docstring) --------------------------------

def fnv1a(name):
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def scheme_values(name, n, base, scale):
    """n float32 values of tensor `name`."""
    u32 = np.uint32
    h = np.arange(n, dtype=u32) * u32(2654435761) + u32(fnv1a(name))
    h ^= h >> u32(16)
    h *= u32(0x85EBCA6B)
    h ^= h >> u32(13)
    h *= u32(0xC2B2AE35)
    h ^= h >> u32(16)
    u = (h >> u32(8)).astype(np.float32) * np.float32(2.0 ** -24) - np.float32(0.5)
    return np.float32(base) + u * np.float32(scale)


def scheme_base_scale(name, shape):
    if name.endswith("conv.weight"):
        return 0.0, np.float32(math.sqrt(24.0 / (shape[1] * shape[2] * shape[3])))
    for ending, base, scale in (("bn.weight", 1.0, 0.5), ("bn.bias", 0.0, 0.2), ("bn.running_mean", 0.0, 0.2),
                                ("bn.running_var", 1.0, 0.5)):
        if name.endswith(ending):
            return base, scale
    raise ValueError("no synthetic scheme for " + name)


def scheme_tensor(name, shape):
    base, scale = scheme_base_scale(name, shape)
    return torch.from_numpy(scheme_values(name, int(np.prod(shape)), base, scale).reshape(shape))


def fill_with_scheme(net):
    """Every tensor of the state_dict by the scheme; fc (not part of the features) and the
    batch counters get zeros."""
    sd = net.state_dict()
    for name, t in sd.items():
        if name.startswith("fc.") or name.endswith("num_batches_tracked"):
            t.zero_()
        else:
            t.copy_(scheme_tensor(name, tuple(t.shape)))


def scheme_input(case, shape):
    return torch.from_numpy(scheme_values("input." + case, int(np.prod(shape)), 0.0, 2.0).reshape(shape))


# --- the fixture --------------------------------------------------------------------------------

GENERATED = {"x299": (1, 3, SIZE, SIZE), "down": (1, 3, 341, 320)}
SCHEME_SHOWN = ["Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.conv.weight", "Mixed_6e.branch7x7dbl_5.bn.weight",
                "Mixed_5b.branch1x1.bn.bias", "Conv2d_4a_3x3.bn.running_mean", "Mixed_7b.branch3x3_2b.bn.running_var"]


def put(f, name, value):
    value = np.ascontiguousarray(value, dtype=np.float32)
    assert np.isfinite(value).all(), name
    packed = dict(shuffle=True, compression="gzip", compression_opts=9) if value.size >= 1024 else {}
    f.create_dataset(name, data=value, track_times=False, **packed)


def write_fixture():
    torch.set_num_threads(1)
    net = fid_inception_v3()
    fill_with_scheme(net)
    torch.manual_seed(11)
    inputs = {"small": torch.rand(2, 3, 32, 32) * 2 - 1, "rect": torch.rand(1, 3, 48, 64) * 2 - 1}
    cases = dict(inputs)
    cases.update({k: scheme_input(k, s) for k, s in GENERATED.items()})
    net64 = fid_inception_v3().double()
    net64.load_state_dict(net.state_dict())
    sd = net.state_dict()

    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with h5py.File(FIXTURE, "w", track_order=True) as f:
        f.attrs["weights_scheme"] = SCHEME_VERSION
        f.attrs["size"] = SIZE
        f.attrs["generator"] = "tools/fid_inception_twin.py, torch " + torch.__version__
        for name in SCHEME_SHOWN:
            put(f, "scheme/" + name, sd[name].flatten()[:64].numpy())
        for k, x in inputs.items():
            put(f, "inputs/" + k, x.numpy())
        for k, x in cases.items():
            y = pool3(net, x)
            y64 = pool3(net64, x.double())
            err = ((y.double() - y64).abs().max() / y64.abs().max()).item()
            print("%-6s %-18s pool3 max %.3f, float32 vs float64: %.2e of max" %
                  (k, tuple(x.shape), y64.abs().max().item(), err))
            put(f, "features/" + k, y.numpy())
        r = F.interpolate(inputs["rect"], size=(21, 97), mode="bilinear", align_corners=False)
        put(f, "resize/rect_21x97", r.numpy())
    print("wrote", os.path.normpath(FIXTURE), os.path.getsize(FIXTURE), "bytes")


def roundtrip(build_dir):
    """Twin state_dict -> convert_fid_inception.py -> HDF5 -> the C test's loader."""
    net = fid_inception_v3()
    fill_with_scheme(net)
    test = os.path.join(build_dir, "tests", "test_inception")
    with tempfile.TemporaryDirectory() as tmp:
        pth, h5 = os.path.join(tmp, "twin.pth"), os.path.join(tmp, "twin.h5")
        torch.save(net.state_dict(), pth)
        subprocess.run([sys.executable, os.path.join(HERE, "convert_fid_inception.py"), "--any-weights", pth, h5],
                       check=True)
        env = dict(os.environ, GAN_INCEPTION_TEST_WEIGHTS=h5)
        rc = subprocess.run([test], env=env).returncode
    print("roundtrip:", "passed" if rc == 0 else "FAILED (exit %d)" % rc)
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--roundtrip", metavar="BUILD_DIR",
                    help="check the converter and the C loader instead of writing the fixture")
    args = ap.parse_args()
    if args.roundtrip:
        sys.exit(1 if roundtrip(args.roundtrip) else 0)
    write_fixture()


if __name__ == "__main__":
    main()
