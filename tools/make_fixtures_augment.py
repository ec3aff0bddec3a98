#!/usr/bin/python3
"""PyTorch reference for the augmentations (src/gan/models/augment/augment.h): `python3
tools/make_fixtures_augment.py` rewrites tests/fixtures/augment.h5, read by tests/test_augment.c.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy, on one CPU thread, in
float32, with the helpers of tools/make_fixtures.py. The random parameters are drawn here and
stored, so the C test passes them explicitly and compares each transform's output and the
gradient of sum(out * r) with respect to its input (r a fixed random weight).

DiffAugment's transforms are the official DiffAugment_pytorch.py (mit-han-lab/data-efficient-gans)
with its torch.rand / torch.randint draws replaced by the stored parameters. ADA's are
stylegan2-ada-pytorch's training/augment.py: the matrix helpers and the construction of G_inv and
C are its code; the blit is done exactly (round G_inv's source pixel, reflect at the border,
gather) where augment.py goes through reflect padding, 2x upsampling, grid_sample and
downsampling, which for these integer moves gives the same pixels up to its filters' ripple.

/x3 (4, 3, 16, 16), /x1 (4, 1, 16, 16)   images, uniform in [-1, 1)
/r3, /r1                                  the upstream weights, N(0, 1)
/diff/<case>_c<C>/ for case in brightness, saturation, contrast, translation, cutout, all
    (all: the policy color,translation,cutout); C in 1, 3:
    b, s, k, tx, ty, ox, oy (4)   the parameters the case uses
    out, grad                     the transform's output and d sum(out * r) / dx
/ada/<case>_c<C>/ for case in xflip, rot90, xint, geom (all three), brightness, contrast,
    lumaflip, hue, saturation (RGB only), color (all five):
    flip, rot, tx, ty, b, k, lumaflip, hue, sat (4)   gated parameters (identity where unused)
    out, grad
/ada_p/  target (0.5), interval, batch, kimg, p0 (attributes); r (T) a sequence of mean signs; p (T)
    p after each adjustment, by the training loop's rule, clamped to [0, 1]
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import FIXTURES, new_group, open_out, put, seed_for  # noqa: E402

N, R = 4, 16


# --- DiffAugment_pytorch.py, the draws passed in ----------------------------------------------

def rand_brightness(x, b):
    x = x + b.view(-1, 1, 1, 1)  # official: x + (torch.rand(...) - 0.5), b = that draw - 0.5
    return x


def rand_saturation(x, s):
    x_mean = x.mean(dim=1, keepdim=True)
    x = (x - x_mean) * s.view(-1, 1, 1, 1) + x_mean  # official: torch.rand(...) * 2
    return x


def rand_contrast(x, k):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - x_mean) * k.view(-1, 1, 1, 1) + x_mean  # official: torch.rand(...) + 0.5
    return x


def rand_translation(x, tx, ty, ratio=0.125):
    shift_x, shift_y = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    assert (tx.abs() <= shift_x).all() and (ty.abs() <= shift_y).all()
    translation_x = tx.long().view(-1, 1, 1)  # official: torch.randint(-shift_x, shift_x + 1, ...)
    translation_y = ty.long().view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(x.size(2), dtype=torch.long),
        torch.arange(x.size(3), dtype=torch.long),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = torch.nn.functional.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    x = x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)
    return x


def rand_cutout(x, ox, oy, ratio=0.5):
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    offset_x = ox.long().view(-1, 1, 1)  # official: torch.randint(0, x.size(2) + (1 - cutout_size[0] % 2), ...)
    offset_y = oy.long().view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(cutout_size[0], dtype=torch.long),
        torch.arange(cutout_size[1], dtype=torch.long),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype)
    mask[grid_batch, grid_x, grid_y] = 0
    x = x * mask.unsqueeze(1)
    return x


def diff_params():
    ch = int(R * 0.5 + 0.5)
    return {
        "b": torch.rand(N) - 0.5,
        "s": torch.rand(N) * 2,
        "k": torch.rand(N) + 0.5,
        "tx": torch.randint(-2, 3, [N]).float(),
        "ty": torch.randint(-2, 3, [N]).float(),
        "ox": torch.randint(0, R + (1 - ch % 2), [N]).float(),
        "oy": torch.randint(0, R + (1 - ch % 2), [N]).float(),
    }


DIFF_CASES = {
    "brightness": lambda x, p: rand_brightness(x, p["b"]),
    "saturation": lambda x, p: rand_saturation(x, p["s"]),
    "contrast": lambda x, p: rand_contrast(x, p["k"]),
    "translation": lambda x, p: rand_translation(x, p["tx"], p["ty"]),
    "cutout": lambda x, p: rand_cutout(x, p["ox"], p["oy"]),
    "all": lambda x, p: rand_cutout(rand_translation(rand_contrast(rand_saturation(rand_brightness(
        x, p["b"]), p["s"]), p["k"]), p["tx"], p["ty"]), p["ox"], p["oy"]),
}


# --- augment.py's matrices --------------------------------------------------------------------

def matrix(*rows):
    assert all(len(row) == len(rows[0]) for row in rows)
    elems = [x for row in rows for x in row]
    ref = [x for x in elems if isinstance(x, torch.Tensor)]
    if len(ref) == 0:
        return torch.as_tensor(np.asarray(rows), dtype=torch.float32)
    elems = [x if isinstance(x, torch.Tensor) else torch.full(ref[0].shape, float(x)) for x in elems]
    return torch.stack(elems, dim=-1).reshape(ref[0].shape + (len(rows), -1))


def translate2d(tx, ty):
    return matrix([1, 0, tx], [0, 1, ty], [0, 0, 1])


def translate3d(tx, ty, tz):
    return matrix([1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1])


def scale2d(sx, sy):
    return matrix([sx, 0, 0], [0, sy, 0], [0, 0, 1])


def scale3d(sx, sy, sz):
    return matrix([sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1])


def rotate2d(theta):
    return matrix([torch.cos(theta), torch.sin(-theta), 0], [torch.sin(theta), torch.cos(theta), 0], [0, 0, 1])


def rotate3d(v, theta):
    vx = v[..., 0]; vy = v[..., 1]; vz = v[..., 2]  # noqa: E702
    s = torch.sin(theta); c = torch.cos(theta); cc = 1 - c  # noqa: E702
    return matrix(
        [vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, 0],
        [vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, 0],
        [vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, 0],
        [0, 0, 0, 1])


def translate2d_inv(tx, ty):
    return translate2d(-tx, -ty)


def scale2d_inv(sx, sy):
    return scale2d(1 / sx, 1 / sy)


def rotate2d_inv(theta):
    return rotate2d(-theta)


def ada_geometric(images, flip, rot, tx, ty):
    """augment.py's G_inv for xflip, rotate90 and xint (tx, ty already round(t * size)), then the
    exact blit: each output pixel reads the input pixel G_inv maps it to, reflected at the border."""
    batch_size, num_channels, height, width = images.shape
    I_3 = torch.eye(3)
    G_inv = I_3
    G_inv = G_inv @ scale2d_inv(1 - 2 * flip, torch.ones_like(flip))
    G_inv = G_inv @ rotate2d_inv(-np.pi / 2 * rot)
    G_inv = G_inv @ translate2d_inv(tx, ty)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")
    p_out = torch.stack([xs - cx, ys - cy, torch.ones_like(xs)]).reshape(3, -1)  # [xyz, pixel]
    p_in = G_inv @ p_out  # [batch, xyz, pixel]
    src_x = torch.round(p_in[:, 0] + cx).long()
    src_y = torch.round(p_in[:, 1] + cy).long()

    def reflect(v, n):
        v = v.abs()
        return torch.where(v >= n, 2 * (n - 1) - v, v)

    src = reflect(src_y, height) * width + reflect(src_x, width)  # [batch, pixel]
    flat = images.reshape(batch_size, num_channels, height * width)
    out = torch.gather(flat, 2, src.unsqueeze(1).expand(-1, num_channels, -1))
    return out.reshape(images.shape)


def ada_color(images, b, c, lumaflip, hue, sat):
    batch_size, num_channels, height, width = images.shape
    I_4 = torch.eye(4)
    C = I_4
    C = translate3d(b, b, b) @ C
    C = scale3d(c, c, c) @ C
    v = torch.as_tensor(np.asarray([1, 1, 1, 0]) / np.sqrt(3), dtype=torch.float32)  # Luma axis.
    i = lumaflip.view(-1, 1, 1)
    C = (I_4 - 2 * v.ger(v) * i) @ C  # Householder reflection.
    if num_channels > 1:
        C = rotate3d(v, hue) @ C  # Rotate around v.
        s = sat.view(-1, 1, 1)
        C = (v.ger(v) + (I_4 - v.ger(v)) * s) @ C
    images = images.reshape([batch_size, num_channels, height * width])
    if num_channels == 3:
        images = C[:, :3, :3] @ images + C[:, :3, 3:]
    elif num_channels == 1:
        C = C[:, :3, :].mean(dim=1, keepdims=True)
        images = images * C[:, :, :3].sum(dim=2, keepdims=True) + C[:, :, 3:]
    return images.reshape([batch_size, num_channels, height, width])


def ada_params(p):
    """augment.py's draws for the 'bgc' transforms at probability p (gated)."""
    def gate(v, off):
        return torch.where(torch.rand([N]) < p, v, torch.full_like(v, off))
    flip = gate(torch.floor(torch.rand([N]) * 2), 0)
    rot = gate(torch.floor(torch.rand([N]) * 4), 0)
    t = (torch.rand([N, 2]) * 2 - 1) * 0.125
    keep = torch.rand([N, 1]) < p
    t = torch.where(keep, t, torch.zeros_like(t))
    return {
        "flip": flip, "rot": rot, "tx": torch.round(t[:, 0] * R), "ty": torch.round(t[:, 1] * R),
        "b": gate(torch.randn([N]) * 0.2, 0),
        "k": gate(torch.exp2(torch.randn([N]) * 0.5), 1),
        "lumaflip": gate(torch.floor(torch.rand([N]) * 2), 0),
        "hue": gate((torch.rand([N]) * 2 - 1) * np.pi, 0),
        "sat": gate(torch.exp2(torch.randn([N]) * 1.0), 1),
    }


IDENTITY = {"flip": 0, "rot": 0, "tx": 0, "ty": 0, "b": 0, "k": 1, "lumaflip": 0, "hue": 0, "sat": 1}
ADA_CASES = {
    "xflip": ["flip"], "rot90": ["rot"], "xint": ["tx", "ty"], "geom": ["flip", "rot", "tx", "ty"],
    "brightness": ["b"], "contrast": ["k"], "lumaflip": ["lumaflip"], "hue": ["hue"], "saturation": ["sat"],
    "color": ["b", "k", "lumaflip", "hue", "sat"],
}


def ada_apply(x, p):
    x = ada_geometric(x, p["flip"], p["rot"], p["tx"], p["ty"])
    return ada_color(x, p["b"], p["k"], p["lumaflip"], p["hue"], p["sat"])


def write_case(g, fn, x, r, params):
    for k, v in params.items():
        put(g, k, v)
    x = x.clone().requires_grad_(True)
    out = fn(x)
    (grad,) = torch.autograd.grad((out * r).sum(), x)
    put(g, "out", out)
    put(g, "grad", grad)


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    f = open_out("augment.h5")
    f.attrs["generator"] = "tools/make_fixtures_augment.py, torch " + torch.__version__
    seed_for("augment")
    xs = {c: torch.rand(N, c, R, R) * 2 - 1 for c in (1, 3)}
    rs = {c: torch.randn(N, c, R, R) for c in (1, 3)}
    for c in (1, 3):
        put(f, "x%d" % c, xs[c])
        put(f, "r%d" % c, rs[c])
    diff = new_group(f, "diff")
    for name, fn in DIFF_CASES.items():
        for c in (1, 3):
            seed_for("diff/" + name + str(c))
            p = diff_params()
            write_case(new_group(diff, "%s_c%d" % (name, c)), lambda x: fn(x, p), xs[c], rs[c], p)
    ada = new_group(f, "ada")
    for name, keys in ADA_CASES.items():
        for c in (1, 3):
            if c == 1 and name in ("hue", "saturation"):
                continue
            seed_for("ada/" + name + str(c))
            drawn = ada_params(1.0)
            p = {k: (drawn[k] if k in keys else torch.full([N], float(v))) for k, v in IDENTITY.items()}
            if c == 1:
                p["hue"], p["sat"] = torch.zeros(N), torch.ones(N)
            write_case(new_group(ada, "%s_c%d" % (name, c)), lambda x: ada_apply(x, p), xs[c], rs[c], p)

    # The training loop's adjustment (training_loop.py), clamped to [0, 1] as gan.c does.
    g = new_group(f, "ada_p")
    # Target and signs exact in float32 (multiples of 1/8), so r == target reads alike here and
    # in C; r * batch is a whole number of signs.
    target, interval, batch, kimg, p0 = 0.5, 4, 8, 0.1, 0.05
    for k, v in dict(target=target, interval=interval, batch=batch, kimg=kimg, p0=p0).items():
        g.attrs[k] = v
    r = np.array([0.875, 1.0, 0.75, 0.5, 0.25, -0.5, 0.0, 0.875, 0.875, 0.875, 0.875, 0.875, 0.875, 0.875,
                  0.875, 0.875, 0.875, 0.875, 0.875, 0.875, 0.875, 0.875, 0.875, 0.125, 0.375, 0.5])
    ps, p = [], p0
    for rt in r:
        p = p + np.sign(rt - target) * (batch * interval) / (kimg * 1000)
        p = min(max(p, 0.0), 1.0)
        ps.append(p)
    put(g, "r", r)
    put(g, "p", np.array(ps))
    f.close()
    path = os.path.join(FIXTURES, "augment.h5")
    print("%-12s %8d bytes" % ("augment.h5", os.path.getsize(path)))


if __name__ == "__main__":
    main()
