#!/usr/bin/python3
"""PyTorch reference for spectral normalisation of DCGAN's D (src/layers/spectral_norm.h,
model.spectral_norm): `python3 tools/make_fixtures_spectral_norm.py` rewrites
tests/fixtures/spectral_norm.h5, read by tests/test_spectral_norm.c.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy, on one CPU thread, in
float32, from fixed seeds, with the helpers of tools/make_fixtures.py (same conventions: a float
scalar is stored with shape (1), no HDF5 timestamps, so a rerun writes the same bytes).

Every D here is DCGAN's 32x32 D (tools/dcgan_reference.py, ndf=4, nc=1) initialised with the
reference's weights_init, then each Conv2d wrapped in torch.nn.utils.spectral_norm (defaults:
dim 0, one power iteration, eps 1e-12), which draws u and v and names the state
main.N.weight_orig, main.N.weight_u (out), main.N.weight_v (in*4*4). Batchnorm is kept (the
WGAN-GP critic has nn.Identity in its place, as in make_fixtures_losses.py).

/forward -- D with raw scores (the Sigmoid replaced by nn.Identity), batchnorm, B=4:
    D/<name>                   the state_dict before (weight_orig, u, v, batchnorm)
    x<k> (B, 1, 32, 32)        k = 0, 1, 2: three inputs, uniform in [-1, 1]
    r<k> (B)                   N(0, 1) weights of the loss
    out<k> (B)                 D(x<k>) in training mode: each call runs one power iteration
                               per conv and updates that conv's u and v
    state<k>/<name>            D's state_dict after call k (u, v, running statistics)
    sigma<k>/main.N            sigma = u . (W_mat v) of call k, per conv (1)
    grad/<name>                d (sum_k r<k> . out<k>) / d parameter: one backward through
                               the three calls, each with its own u, v and sigma
    out_eval (B)               D(x0) in eval mode after the three calls: no iteration (u, v
                               stay as state2), batchnorm's running statistics

/step_<loss>/ for loss in bce, hinge, wgan-gp -- `iters` iterations (attribute; 2 for hinge, 1
otherwise) of gan.c's DCGAN loop (dcgan_train.h) at 32x32, nz=8, ngf=4, ndf=4, nc=1, B=4,
d_steps=1, Adam lr 2e-4 betas (0.5, 0.999), both networks in training mode, D spectrally
normalised (bce: the reference D with its Sigmoid; hinge: raw scores; wgan-gp: the critic
without batchnorm, lambda 10). Per iteration D is called three times (real, fake, G step) and
four with wgan-gp (the penalty's pass, whose double backward goes through weight_orig / sigma):
        netD.zero_grad(); out = netD(real); errD_real = loss_real(out); errD_real.backward()
        fake = netG(noise); out = netD(fake.detach()); errD_fake = loss_fake(out); errD_fake.backward()
        [wgan-gp: penalty on x_hat of real and fake.detach(); (lambda * mean).backward()]
        optimizerD.step()
        netG.zero_grad(); out = netD(fake); errG = loss_g(out); errG.backward(); optimizerG.step()
    G/<name>, D/<name>         state_dicts before
    noise (iters, B, 8, 1, 1), real (iters, B, 1, 32, 32), eps (iters, B, 1, 1, 1) (wgan-gp)
    loss_d, loss_g, d_x, d_g_z1, d_g_z2 (1)   of the last iteration, as gan.c logs them
    grad_D/<name>, grad_G/<name>   the last iteration's gradients when the optimizers step
    D_after/<name>, G_after/<name>   state_dicts after the iterations (u and v included)
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcgan_reference import Discriminator, Generator, weights_init  # noqa: E402
from make_fixtures import FIXTURES, new_group, open_out, put, put_state, seed_for  # noqa: E402
from make_fixtures_losses import (LAMBDA, critic, d_fake_term, d_real_term, g_term,  # noqa: E402
                                  gradient_penalty)

B, NZ, NGF, NDF, NC, RES = 4, 8, 4, 4, 1, 32


def with_spectral_norm(d):
    """Every Conv2d of d.main wrapped as torch.nn.utils.spectral_norm does (u, v drawn now)."""
    for i, m in enumerate(d.main):
        if isinstance(m, nn.Conv2d):
            d.main[i] = nn.utils.spectral_norm(m)
    return d


def sigma_of(conv):
    w = conv.weight_orig.detach()
    return torch.dot(conv.weight_u, w.view(w.shape[0], -1) @ conv.weight_v)


def write_forward(f):
    seed_for("spectral_norm.h5/forward")
    d = critic(RES, NDF, NC, batchnorm=True)
    d.apply(weights_init)
    d = with_spectral_norm(d)
    g = new_group(f, "forward")
    put_state(g, "D", d)
    xs = [torch.rand(B, NC, RES, RES) * 2 - 1 for _ in range(3)]
    rs = [torch.randn(B) for _ in range(3)]
    d.train()
    loss = 0
    for k in range(3):
        put(g, "x%d" % k, xs[k])
        put(g, "r%d" % k, rs[k])
        out = d(xs[k]).view(-1)
        put(g, "out%d" % k, out)
        put_state(g, "state%d" % k, d)
        gs = new_group(g, "sigma%d" % k)
        for i, m in enumerate(d.main):
            if isinstance(m, nn.Conv2d):
                put(gs, "main.%d" % i, sigma_of(m))
        loss = loss + (rs[k] * out).sum()
    loss.backward()
    gg = new_group(g, "grad")
    for n, p in d.named_parameters():
        put(gg, n, p.grad)
    d.eval()
    with torch.no_grad():
        put(g, "out_eval", d(xs[0]).view(-1))


def scores(d, x):
    return d(x).view(-1)


def write_step(f, loss, iters):
    seed_for("spectral_norm.h5/step_" + loss)
    wgan = loss == "wgan-gp"
    netG = Generator(RES, NZ, NGF, NC)
    netD = Discriminator(RES, NDF, NC) if loss == "bce" else critic(RES, NDF, NC, batchnorm=not wgan)
    netG.apply(weights_init)
    netD.apply(weights_init)
    netD = with_spectral_norm(netD)
    noise = torch.randn(iters, B, NZ, 1, 1)
    real = torch.rand(iters, B, NC, RES, RES) * 2 - 1
    eps = torch.rand(iters, B, 1, 1, 1)
    g = new_group(f, "step_" + loss)
    g.attrs["iters"] = iters
    put_state(g, "G", netG)
    put_state(g, "D", netD)
    put(g, "noise", noise)
    put(g, "real", real)
    if wgan:
        put(g, "eps", eps)

    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for it in range(iters):
        netD.zero_grad()
        out = scores(netD, real[it])
        err_real = d_real_term(loss, out, 1.0)
        err_real.backward()
        d_x = out.mean()
        fake = netG(noise[it])
        out = scores(netD, fake.detach())
        err_fake = d_fake_term(loss, out)
        err_fake.backward()
        d_g_z1 = out.mean()
        loss_d = err_real + err_fake
        if wgan:
            pen = gradient_penalty(netD, real[it], fake.detach(), eps[it])[3]
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
    f = open_out("spectral_norm.h5")
    f.attrs["generator"] = "tools/make_fixtures_spectral_norm.py, torch " + torch.__version__
    write_forward(f)
    write_step(f, "bce", 1)
    write_step(f, "hinge", 2)
    write_step(f, "wgan-gp", 1)
    f.close()
    path = os.path.join(FIXTURES, "spectral_norm.h5")
    print("%-18s %8d bytes" % ("spectral_norm.h5", os.path.getsize(path)))


if __name__ == "__main__":
    main()
