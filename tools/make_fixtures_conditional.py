#!/usr/bin/python3
"""PyTorch reference for class-conditional DCGAN (src/gan/models/dcgan/dcgan.h, "Conditioning"):
`python3 tools/make_fixtures_conditional.py` rewrites tests/fixtures/conditional.h5, read by
tests/test_conditional.c.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy, on one CPU thread, in
float32, from fixed seeds, with the helpers of tools/make_fixtures.py.

The networks are dcgan_cond_reference's (dcgan_reference's made conditional) at 32x32 (nz=8,
ngf=4, ndf=4, nc=1) with K=3 classes:
  G  every BatchNorm2d replaced by CondBN: BatchNorm2d(affine=False) (its buffers keep the
     names main.<i>.running_mean, ...) with two nn.Embedding(K, C): main.<i>.gain.weight and
     main.<i>.bias.weight; y = relu(bn(x) * gain[label] + bias[label]).
  D  a projection discriminator (Miyato & Koyama 2018): phi = the feature map entering the last
     conv (N, 4*ndf, 4, 4), out = conv(phi).view(-1) + sum(embed(label) * phi.flatten(1), 1),
     embed.weight (K, 4*ndf*16); the Sigmoid (bce) is applied to that sum.

/forward -- B=5 samples, labels [0, 2, 1, 2, 0], DCGAN's initialisation then perturbed
(gain N(1, 0.3), bias N(0, 0.3), embed N(0, 0.05)) so every class's row matters:
    G/<name>, D/<name>      state_dicts
    labels (B) int64, z (B, 8, 1, 1), x (B, 1, 32, 32) uniform in [-1, 1]
    g_out                   G(z, labels), training mode (batch statistics)
    G_after/<buffer>        G's running statistics after that forward
    g_eval                  G(z, labels) in eval mode after it (the running statistics)
    r_g (B, 1, 32, 32)      weights of G's loss: loss_g = sum(g_out * r_g)
    grad_G/<name>           d loss_g / d parameter, every parameter of G
    d_out (B)               D(x, labels) before the sigmoid, training mode
    r_d (B)                 loss_d = sum(d_out * r_d)
    grad_D/<name>           d loss_d / d parameter, every parameter of D (embed.weight included)
    grad_x                  d loss_d / d x

/step -- one iteration of gan.c's DCGAN loop (dcgan_train.h) with bce (the reference's
sigmoid + BCE), B=4, Adam lr 2e-4 betas (0.5, 0.999), DCGAN's initialisation (embed N(0, 0.02)):
        netD.zero_grad(); out = D(real, real_labels); errD_real = BCE(out, 1); backward
        fake = G(noise, fake_labels); out = D(fake.detach(), fake_labels); errD_fake = BCE(out, 0)
        backward; optimizerD.step()
        netG.zero_grad(); out = D(fake, fake_labels); errG = BCE(out, 1); backward; optimizerG.step()
    G/<name>, D/<name>, noise, real, real_labels (B) int64, fake_labels (B) int64
    loss_d, loss_g, d_x, d_g_z1, d_g_z2 (1)
    grad_D/<name>, grad_G/<name>, D_after/<name>, G_after/<name>
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcgan_cond_reference import CondGenerator, ProjDiscriminator  # noqa: E402
from make_fixtures import FIXTURES, new_group, open_out, put, put_state, seed_for  # noqa: E402

K = 3
NZ, NGF, NDF, NC, RES = 8, 4, 4, 1, 32


def CondG():
    return CondGenerator(RES, NZ, NGF, NC, K)


def ProjD():
    return ProjDiscriminator(RES, NDF, NC, K)


def write_forward(f):
    seed_for("conditional.h5/forward")
    b = 5
    netG, netD = CondG(), ProjD()
    with torch.no_grad():
        for name, p in netG.named_parameters():
            if name.endswith("gain.weight"):
                p.normal_(1.0, 0.3)
            elif name.endswith("bias.weight"):
                p.normal_(0.0, 0.3)
        netD.embed.weight.normal_(0.0, 0.05)
    labels = torch.tensor([0, 2, 1, 2, 0])
    z = torch.randn(b, NZ, 1, 1)
    x = torch.rand(b, NC, RES, RES) * 2 - 1
    g = new_group(f, "forward")
    put_state(g, "G", netG)
    put_state(g, "D", netD)
    put(g, "labels", labels)
    put(g, "z", z)
    put(g, "x", x)

    g_out = netG(z, labels)
    r_g = torch.randn(g_out.shape)
    params = dict(netG.named_parameters())
    grads = torch.autograd.grad((g_out * r_g).sum(), list(params.values()))
    put(g, "g_out", g_out)
    put(g, "r_g", r_g)
    gg = new_group(g, "grad_G")
    for n, t in zip(params, grads):
        put(gg, n, t)
    put_state(g, "G_after", netG)
    netG.eval()
    with torch.no_grad():
        put(g, "g_eval", netG(z, labels))

    xg = x.clone().requires_grad_(True)
    d_out = netD(xg, labels)
    r_d = torch.randn(b)
    params = dict(netD.named_parameters())
    grads = torch.autograd.grad((d_out * r_d).sum(), list(params.values()) + [xg])
    put(g, "d_out", d_out)
    put(g, "r_d", r_d)
    gd = new_group(g, "grad_D")
    for n, t in zip(params, grads):
        put(gd, n, t)
    put(g, "grad_x", grads[-1])


def write_step(f):
    seed_for("conditional.h5/step")
    b = 4
    netG, netD = CondG(), ProjD()
    noise = torch.randn(b, NZ, 1, 1)
    real = torch.rand(b, NC, RES, RES) * 2 - 1
    real_labels = torch.tensor([1, 0, 2, 1])
    fake_labels = torch.tensor([2, 2, 0, 1])
    g = new_group(f, "step")
    put_state(g, "G", netG)
    put_state(g, "D", netD)
    for name, t in [("noise", noise), ("real", real), ("real_labels", real_labels), ("fake_labels", fake_labels)]:
        put(g, name, t)

    def bce(out, target):
        p = torch.sigmoid(out)
        return F.binary_cross_entropy(p, torch.full_like(p, target)), p.mean()

    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    netD.zero_grad()
    err_real, d_x = bce(netD(real, real_labels), 1.0)
    err_real.backward()
    fake = netG(noise, fake_labels)
    err_fake, d_g_z1 = bce(netD(fake.detach(), fake_labels), 0.0)
    err_fake.backward()
    grad_D = {n: p.grad.clone() for n, p in netD.named_parameters()}
    optD.step()
    netG.zero_grad()
    err_g, d_g_z2 = bce(netD(fake, fake_labels), 1.0)
    err_g.backward()
    grad_G = {n: p.grad.clone() for n, p in netG.named_parameters()}
    optG.step()
    for name, t in [("loss_d", err_real + err_fake), ("loss_g", err_g), ("d_x", d_x), ("d_g_z1", d_g_z1),
                    ("d_g_z2", d_g_z2)]:
        put(g, name, t)
    for prefix, grads in [("grad_D", grad_D), ("grad_G", grad_G)]:
        gg = new_group(g, prefix)
        for n, t in grads.items():
            put(gg, n, t)
    put_state(g, "D_after", netD)
    put_state(g, "G_after", netG)


def main():
    torch.set_num_threads(1)  # one summation order on every machine
    torch.set_default_dtype(torch.float32)
    f = open_out("conditional.h5")
    f.attrs["generator"] = "tools/make_fixtures_conditional.py, torch " + torch.__version__
    write_forward(f)
    write_step(f)
    f.close()
    path = os.path.join(FIXTURES, "conditional.h5")
    print("%-16s %8d bytes" % ("conditional.h5", os.path.getsize(path)))


if __name__ == "__main__":
    main()
