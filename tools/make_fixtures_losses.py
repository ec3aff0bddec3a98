#!/usr/bin/python3
"""PyTorch reference for the GAN losses (src/gan/models/losses.h): `python3
tools/make_fixtures_losses.py` rewrites tests/fixtures/losses.h5, read by tests/test_losses.c.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy, on one CPU thread, in
float32, from fixed seeds, with the helpers of tools/make_fixtures.py (same conventions: a float
scalar is stored with shape (1), no HDF5 timestamps, so a rerun writes the same bytes).

The losses, as gan.c implements them (means over the batch; s = label smoothing):
    bce       D(x) = sigmoid(score)  BCE(p_real, 1 - s) + BCE(p_fake, 0);  G: BCE(p_fake, 1)
    logits    raw scores             the same through BCE with logits
    logistic  raw scores             softplus(-real) + softplus(fake);      G: softplus(-fake)
    hinge     raw scores             relu(1 - real) + relu(1 + fake);       G: -fake
    lsgan     raw scores             (real - 1)^2 / 2 + fake^2 / 2;         G: (fake - 1)^2 / 2
    wgan-gp   raw scores             -real + fake (+ lambda * penalty);     G: -fake

/scores/real, /scores/fake (B=6)   raw D scores, N(0, 1.5), none within 0.05 of a hinge kink
/<loss>/ for loss in bce, logits, logistic, hinge, lsgan, wgan-gp:
    d_real, d_fake, g          the three loss terms (1)
    grad_real, grad_fake       d d_real / d real-scores, d d_fake / d fake-scores (B)
    grad_g                     d g / d fake-scores (B)
  For bce the terms are taken on sigmoid(scores) (attribute real_label = 0.9, the label with
  smoothing 0.1) and the gradients are with respect to the probabilities p = sigmoid(scores);
  every other loss uses real_label 1 (ignored by all but logits).

/penalty -- WGAN-GP's gradient penalty through DCGAN's 32x32 critic (dcgan_reference's
Discriminator with ndf=4, nc=1, each BatchNorm2d and the final Sigmoid replaced by nn.Identity,
so the parameter names are gan.c's main.0.weight, main.2.weight, main.5.weight, main.8.weight),
PyTorch's default initialisation scaled by 2.35 (DCGAN's N(0, 0.02) or the default alone give
gradient norms of 0.03, where the penalty is nearly constant; these are near 1, on both sides),
batch B=4:
    D/<name>                   the critic's parameters
    real, fake (B, 1, 32, 32)  uniform in [-1, 1]
    eps (B, 1, 1, 1)           uniform in [0, 1)
    x_hat                      eps * real + (1 - eps) * fake
    grad_x                     grad(D(x_hat).sum(), x_hat, create_graph=True)
    norms (B)                  |grad_x| per sample (L2 over C, H, W)
    penalty (B)                (norms - 1)^2
    d_real, d_fake (B)         D(real), D(fake)
    loss_d (1)                 mean(d_fake) - mean(d_real) + lambda * mean(penalty)
    grad_gp/<name>             d mean(penalty) / d parameter (a gradient of a gradient)
    grad_D/<name>              d loss_d / d parameter
    attribute lambda           10

/step_<loss>/ for loss in hinge, lsgan, wgan-gp -- one iteration of gan.c's DCGAN loop
(dcgan_train.h) at 32x32, nz=8, ngf=4, ndf=4, nc=1, B=4, d_steps=1, Adam lr 2e-4 betas
(0.5, 0.999), DCGAN's initialisation, both networks in training mode:
        netD.zero_grad(); out = netD(real); errD_real = loss_real(out); errD_real.backward()
        fake = netG(noise); out = netD(fake.detach()); errD_fake = loss_fake(out); errD_fake.backward()
        [wgan-gp: penalty on x_hat of real and fake.detach(); (lambda * mean).backward()]
        optimizerD.step()
        netG.zero_grad(); out = netD(fake); errG = loss_g(out); errG.backward(); optimizerG.step()
    G/<name>, D/<name>         state_dicts before (the wgan-gp critic has no BN entries)
    noise (B, 8, 1, 1), real (B, 1, 32, 32), eps (B, 1, 1, 1) (wgan-gp only)
    loss_d (1)                 errD_real + errD_fake (+ lambda * penalty)
    loss_g (1), d_x (1), d_g_z1 (1), d_g_z2 (1)   mean raw scores, as gan.c logs them
    gp (1)                     wgan-gp: mean(penalty) (unweighted)
    grad_D/<name>, grad_G/<name>   the gradients when optimizerD.step() and optimizerG.step() run
    D_after/<name>, G_after/<name>   state_dicts after the iteration
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcgan_reference import Discriminator, Generator, weights_init  # noqa: E402
from make_fixtures import FIXTURES, new_group, open_out, put, put_state, seed_for  # noqa: E402

LAMBDA = 10.0
LOSSES = ["bce", "logits", "logistic", "hinge", "lsgan", "wgan-gp"]


def d_real_term(loss, out, real_label):
    if loss == "bce":
        return F.binary_cross_entropy(out, torch.full_like(out, real_label))
    if loss == "logits":
        return F.binary_cross_entropy_with_logits(out, torch.full_like(out, real_label))
    if loss == "logistic":
        return F.softplus(-out).mean()
    if loss == "hinge":
        return F.relu(1 - out).mean()
    if loss == "lsgan":
        return 0.5 * ((out - 1) ** 2).mean()
    return -out.mean()


def d_fake_term(loss, out):
    if loss == "bce":
        return F.binary_cross_entropy(out, torch.zeros_like(out))
    if loss == "logits":
        return F.binary_cross_entropy_with_logits(out, torch.zeros_like(out))
    if loss == "logistic":
        return F.softplus(out).mean()
    if loss == "hinge":
        return F.relu(1 + out).mean()
    if loss == "lsgan":
        return 0.5 * (out ** 2).mean()
    return out.mean()


def g_term(loss, out):
    if loss == "bce":
        return F.binary_cross_entropy(out, torch.ones_like(out))
    if loss == "logits":
        return F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    if loss == "logistic":
        return F.softplus(-out).mean()
    if loss == "lsgan":
        return 0.5 * ((out - 1) ** 2).mean()
    return -out.mean()  # hinge, wgan-gp


def critic(res, ndf, nc, batchnorm):
    """DCGAN's D with raw scores (N): the Sigmoid, and without batchnorm each BatchNorm2d,
    replaced by nn.Identity so that the remaining parameters keep their Sequential indices."""
    d = Discriminator(res, ndf, nc)
    for i, m in enumerate(d.main):
        if isinstance(m, nn.Sigmoid) or (not batchnorm and isinstance(m, nn.BatchNorm2d)):
            d.main[i] = nn.Identity()
    return d


def scores(d, x):
    return d(x).view(-1)


def gradient_penalty(d, real, fake, eps):
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    g = torch.autograd.grad(scores(d, x_hat).sum(), x_hat, create_graph=True)[0]
    norms = g.flatten(1).norm(2, dim=1)
    return x_hat, g, norms, (norms - 1) ** 2


def write_scores(f):
    seed_for("losses.h5/scores")
    b = 6
    real, fake = torch.randn(b) * 1.5, torch.randn(b) * 1.5
    for t in (real, fake):  # keep every hinge term away from its kink at +-1
        near = (t.abs() - 1).abs() < 0.05
        t[near] += 0.2
    g = new_group(f, "scores")
    put(g, "real", real)
    put(g, "fake", fake)
    for loss in LOSSES:
        grp = new_group(f, loss)
        real_label = 0.9 if loss == "bce" else 1.0
        grp.attrs["real_label"] = real_label
        xr = (torch.sigmoid(real) if loss == "bce" else real).detach().requires_grad_(True)
        xf = (torch.sigmoid(fake) if loss == "bce" else fake).detach().requires_grad_(True)
        terms = [("d_real", d_real_term(loss, xr, real_label), xr, "grad_real"),
                 ("d_fake", d_fake_term(loss, xf), xf, "grad_fake"),
                 ("g", g_term(loss, xf), xf, "grad_g")]
        for name, value, x, gname in terms:
            put(grp, name, value)
            put(grp, gname, torch.autograd.grad(value, x)[0])


def write_penalty(f):
    seed_for("losses.h5/penalty")
    d = critic(32, 4, 1, batchnorm=False)
    with torch.no_grad():
        for p in d.parameters():
            p.mul_(2.35)
    b = 4
    real = torch.rand(b, 1, 32, 32) * 2 - 1
    fake = torch.rand(b, 1, 32, 32) * 2 - 1
    eps = torch.rand(b, 1, 1, 1)
    g = new_group(f, "penalty")
    g.attrs["lambda"] = LAMBDA
    put_state(g, "D", d)
    for name, t in [("real", real), ("fake", fake), ("eps", eps)]:
        put(g, name, t)

    x_hat, grad_x, norms, pen = gradient_penalty(d, real, fake, eps)
    for name, t in [("x_hat", x_hat), ("grad_x", grad_x), ("norms", norms), ("penalty", pen)]:
        put(g, name, t)
    params = dict(d.named_parameters())
    gp_grads = torch.autograd.grad(pen.mean(), list(params.values()), retain_graph=True)
    gg = new_group(g, "grad_gp")
    for n, t in zip(params, gp_grads):
        put(gg, n, t)

    d.zero_grad()
    d_real, d_fake = scores(d, real), scores(d, fake)
    loss_d = d_fake.mean() - d_real.mean() + LAMBDA * pen.mean()
    loss_d.backward()
    put(g, "d_real", d_real)
    put(g, "d_fake", d_fake)
    put(g, "loss_d", loss_d)
    gd = new_group(g, "grad_D")
    for n, p in params.items():
        put(gd, n, p.grad)


def write_step(f, loss):
    seed_for("losses.h5/step_" + loss)
    b, nz, ngf, ndf, nc, res = 4, 8, 4, 4, 1, 32
    wgan = loss == "wgan-gp"
    netG, netD = Generator(res, nz, ngf, nc), critic(res, ndf, nc, batchnorm=not wgan)
    netG.apply(weights_init)
    netD.apply(weights_init)
    noise = torch.randn(b, nz, 1, 1)
    real = torch.rand(b, nc, res, res) * 2 - 1
    eps = torch.rand(b, 1, 1, 1)
    g = new_group(f, "step_" + loss)
    put_state(g, "G", netG)
    put_state(g, "D", netD)
    put(g, "noise", noise)
    put(g, "real", real)
    if wgan:
        put(g, "eps", eps)

    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    netD.zero_grad()
    out = scores(netD, real)
    err_real = d_real_term(loss, out, 1.0)
    err_real.backward()
    d_x = out.mean()
    fake = netG(noise)
    out = scores(netD, fake.detach())
    err_fake = d_fake_term(loss, out)
    err_fake.backward()
    d_g_z1 = out.mean()
    loss_d = err_real + err_fake
    if wgan:
        pen = gradient_penalty(netD, real, fake.detach(), eps)[3]
        err_gp = LAMBDA * pen.mean()
        err_gp.backward()
        loss_d = loss_d + err_gp
        put(g, "gp", pen.mean())
    grad_D = {n: p.grad.clone() for n, p in netD.named_parameters()}
    optD.step()
    netG.zero_grad()
    out = scores(netD, fake)
    err_g = g_term(loss, out)
    err_g.backward()
    grad_G = {n: p.grad.clone() for n, p in netG.named_parameters()}
    optG.step()
    for name, t in [("loss_d", loss_d), ("loss_g", err_g), ("d_x", d_x), ("d_g_z1", d_g_z1),
                    ("d_g_z2", out.mean())]:
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
    f = open_out("losses.h5")
    f.attrs["generator"] = "tools/make_fixtures_losses.py, torch " + torch.__version__
    write_scores(f)
    write_penalty(f)
    for loss in ["hinge", "lsgan", "wgan-gp"]:
        write_step(f, loss)
    f.close()
    path = os.path.join(FIXTURES, "losses.h5")
    print("%-12s %8d bytes" % ("losses.h5", os.path.getsize(path)))


if __name__ == "__main__":
    main()
