#!/usr/bin/python3
"""StyleGAN2 reference fixtures for the C tests: `python3 tools/make_fixtures_stylegan2.py`
rewrites tests/fixtures/stylegan2_*.h5 from tools/stylegan2_reference.py (same conventions as
tools/make_fixtures.py: float32, one CPU thread, a fixed seed per file and case, reproducible
bytes; a float scalar is stored with shape (1)).

Network configurations (cfg attributes on each file's root, ints unless noted):
    resolution, img_channels, z_dim, w_dim, mapping_layers, mapping_lr_mul (float),
    channel_base, channel_max, mbstd_group_size, mbstd_channels
Weights are initialised as the official code does and then perturbed where the official init
would hide a path from the test: biases, noise strengths, the const input and w_avg get random
values.

tests/fixtures/stylegan2_layers.h5 -- building blocks, one group per case:
    x0, x1, ...  inputs;  y  output;  gy  a random upstream gradient;  gx<i>  d<y, gy>/d x<i>
    modconv_up1, modconv_up2, modconv_rgb
                 modulated_conv(x0, weight=x1, styles=x2); attrs up, demodulate
    upsample2x, downsample2x      upfirdn2d.upsample2d / downsample2d of x0
    conv_down3, conv_skip         an equalized conv (x1 weight, x2 bias when present) with
                 down=2; attrs kernel, lrelu (0/1), gain (float)
    dense_lrelu  an equalized dense layer with leaky ReLU, x1 weight (out, in), x2 bias; attr
                 lr_mul (float)
    mbstd_g2c2, mbstd_g4c1        minibatch stddev of x0; attrs group, channels
    pixelnorm    x0 * rsqrt(mean(x0^2, dim 1) + 1e-8)

tests/fixtures/stylegan2_g32.h5 -- G at 32x32, nc 1, 8 channels everywhere, z = w = 32, two
mapping layers, batch 2, noise mode const:
    /G/<name>        every parameter and buffer (noise_const, mapping.w_avg)
    /z (2, 32), /ws (2, 8, 32) = broadcast(mapping(z)), /img (2, 1, 32, 32)
    /gy, /grad_G/<name>, /grad_z       d<img, gy>/d(params, z)
    /ws_trunc, /img_trunc              psi = 0.7 (attribute psi on /img_trunc)
    /z2, /img_mix                      ws[:, cutoff:] from z2; attribute cutoff on /img_mix
    /w_avg_after                       w_avg after mapping(z) in training mode (beta 0.995)
    /pl/noise (2, 1, 32, 32)           N(0, 1); path-length regularisation on ws = /ws with
                                       pl_mean_before, decay (attributes of /pl, floats):
    /pl/lengths (2), /pl/penalty (2), /pl/mean_after (1)
    /pl/grad_G/<name>                  d mean(penalty) / d params
tests/fixtures/stylegan2_d32.h5 -- D at 32x32, nc 1, 8 channels, mbstd group 2, batch 4:
    /D/<name>, /x (4, 1, 32, 32), /logits (4), /gy (4), /grad_D/<name>, /grad_x
    /r1/grad_x       dD(x).sum()/dx (the first-order gradient, kept with create_graph)
    /r1/penalty (4)  |grad_x|^2 per sample
    /r1/grad_D/<name>  d mean(penalty) / d params (b4.out.bias: zeros)
tests/fixtures/stylegan2_64.h5 -- G and D at 64x64, nc 3, channel_base 256, channel_max 8, z =
w = 16, batch 2 (mbstd group min(4, 2) = 2), noise mode none:
    /G/<name> (no noise_const), /D/<name>, /z, /img = G(z), /logits = D(img)
    /grad_G/<name>   d(|img|^2 / 2)/d params  (upstream gradient img: no stored gy)
    /grad_D/<name>   d(|logits|^2 / 2)/d params, with img detached
tests/fixtures/stylegan2_train.h5 -- three iterations (it = 0, 1, 2) of the training loop on a
16x16, nc 1, 8-channel G and D, batch 4 (tools/stylegan2_reference.py Trainer), options as
attributes of /opts: lr, beta1, beta2, eps, r1_gamma, r1_interval, pl_weight, pl_interval,
pl_batch_shrink, pl_decay, ema_kimg, ema_rampup. it 0 runs every phase, it 1 only Gmain and
Dmain, it 2 also Greg.
    /G/<name>, /D/<name>                the initial state (G_ema starts as a copy of G)
    /it<k>/real (4, 1, 16, 16)
    /it<k>/<phase>/z, /it<k>/<phase>/z2 (B, w_dim), attribute cutoff (num_ws: no mixing),
    /it<k>/<phase>/noise  the noise images (B, 1, r, r) of the synthesis layers, flattened and
                          concatenated in layer order; phase gmain, greg (B/2), dmain
    /it<k>/pl_noise (2, 1, 16, 16)
    /it<k> attributes (floats): loss_g, loss_d, scores_real, scores_fake, ema_beta, and
                             pl_penalty, pl_mean (when Greg ran), r1_penalty (when Dreg ran)
    /after/G/<name>, /after/G_ema/<name>, /after/D/<name>   parameters and buffers after it 2
"""
import math
import os
import sys
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stylegan2_reference as ref  # noqa: E402
from make_fixtures import FIXTURES, new_group, put, put_state  # noqa: E402
import make_fixtures  # noqa: E402


def seed_for(name):
    torch.manual_seed(zlib.crc32(("stylegan2/" + name).encode()))


def open_out(name, cfg=None):
    f = make_fixtures.open_out(name)
    f.attrs["generator"] = "tools/make_fixtures_stylegan2.py, torch " + torch.__version__
    for k, v in (cfg or {}).items():
        f.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    return f


def put_grads(f, group, module):
    g = new_group(f, group)
    for n, p in module.named_parameters():
        put(g, n, p.grad if p.grad is not None else torch.zeros_like(p))


def perturb(module):
    """Random values where the official initialisation has constants that would hide a path."""
    with torch.no_grad():
        for n, t in list(module.named_parameters()) + list(module.named_buffers()):
            leaf = n.rsplit(".", 1)[-1]
            if leaf == "bias":
                t.add_(0.1 * torch.randn_like(t))
            elif leaf == "noise_strength":
                t.copy_(0.5 * torch.randn([]))
            elif leaf == "w_avg":
                t.copy_(0.3 * torch.randn_like(t))


def zero_grads(module):
    for p in module.parameters():
        p.grad = None


def g32_cfg():
    return dict(resolution=32, img_channels=1, z_dim=32, w_dim=32, mapping_layers=2, mapping_lr_mul=0.01,
                channel_base=256, channel_max=8, mbstd_group_size=2, mbstd_channels=1)


# --- layers ---------------------------------------------------------------------------------------

def case(f, name, fn, inputs, attrs=None):
    xs = [x.detach().clone().requires_grad_(True) for x in inputs]
    y = fn(*xs)
    gy = torch.randn(y.shape)
    grads = torch.autograd.grad(y, xs, gy, allow_unused=True)
    g = new_group(f, name)
    for k, v in (attrs or {}).items():
        g.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    for i, (x, gx) in enumerate(zip(xs, grads)):
        put(g, "x%d" % i, x)
        put(g, "gx%d" % i, gx if gx is not None else torch.zeros_like(x))
    put(g, "y", y)
    put(g, "gy", gy)


def write_layers():
    f = open_out("stylegan2_layers.h5")

    def modconv(name, x_shape, w_shape, up, demod):
        seed_for(name)
        x, w = torch.randn(x_shape), torch.randn(w_shape)
        s = 1.0 + 0.5 * torch.randn(x_shape[0], x_shape[1])
        case(f, name, lambda x, w, s: ref.modulated_conv(x, w, s, up=up, demodulate=demod), [x, w, s],
             dict(up=up, demodulate=int(demod)))

    modconv("modconv_up1", (2, 6, 5, 5), (4, 6, 3, 3), 1, True)
    modconv("modconv_up2", (2, 6, 4, 4), (4, 6, 3, 3), 2, True)
    modconv("modconv_rgb", (2, 6, 5, 5), (3, 6, 1, 1), 1, False)

    seed_for("upsample2x")
    case(f, "upsample2x", ref.upsample2x, [torch.randn(2, 3, 5, 5)])
    seed_for("downsample2x")
    case(f, "downsample2x", ref.downsample2x, [torch.randn(2, 3, 6, 6)])

    def conv(name, k, cin, cout, act, bias, gain):
        seed_for(name)
        inputs = [torch.randn(2, cin, 8, 8), torch.randn(cout, cin, k, k)] + ([0.1 * torch.randn(cout)] if bias else [])
        case(f, name, lambda x, w, *b: ref.conv(x, w, b[0] if b else None, act, 2, gain), inputs,
             dict(kernel=k, lrelu=int(act == "lrelu"), gain=float(gain)))

    conv("conv_down3", 3, 4, 5, "lrelu", True, math.sqrt(0.5))
    conv("conv_skip", 1, 4, 5, "linear", False, math.sqrt(0.5))

    seed_for("dense_lrelu")
    case(f, "dense_lrelu", lambda x, w, b: ref.dense(x, w, b, "lrelu", 0.01),
         [torch.randn(3, 8), torch.randn(5, 8) / 0.01, 1.0 + 0.1 * torch.randn(5)], dict(lr_mul=0.01))

    for name, group, ch in [("mbstd_g2c2", 2, 2), ("mbstd_g4c1", 4, 1)]:
        seed_for(name)
        case(f, name, lambda x: ref.minibatch_std(x, group, ch), [torch.randn(4, 6, 3, 3)],
             dict(group=group, channels=ch))
    seed_for("pixelnorm")
    case(f, "pixelnorm", lambda x: x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt(), [torch.randn(3, 8)])
    f.close()


# --- G and D --------------------------------------------------------------------------------------

def write_g32():
    cfg = g32_cfg()
    seed_for("g32")
    G = ref.Generator(cfg)
    perturb(G)
    f = open_out("stylegan2_g32.h5", cfg)
    put_state(f, "G", G)
    z = torch.randn(2, cfg["z_dim"], requires_grad=True)
    ws = G.mapping.broadcast(G.mapping(z))
    img = G.synthesis(ws, "const")
    gy = torch.randn(img.shape)
    img.backward(gy)
    for n, t in [("z", z), ("ws", ws), ("img", img), ("gy", gy), ("grad_z", z.grad)]:
        put(f, n, t)
    put_grads(f, "grad_G", G)
    zero_grads(G)
    with torch.no_grad():
        ws_t = G.mapping.broadcast(G.mapping(z), 0.7)
        put(f, "ws_trunc", ws_t)
        put(f, "img_trunc", G.synthesis(ws_t, "const"))
        f["img_trunc"].attrs["psi"] = 0.7
        z2 = torch.randn(2, cfg["z_dim"])
        cutoff = 3
        ws_m = ref.mixed_ws(G, dict(z=z, z2=z2, cutoff=cutoff), False)
        put(f, "z2", z2)
        put(f, "img_mix", G.synthesis(ws_m, "const"))
        f["img_mix"].attrs["cutoff"] = np.int64(cutoff)
    pl = new_group(f, "pl")
    pl_noise = torch.randn(img.shape)
    pl_mean, decay = torch.tensor(0.5), 0.01
    ws_pl = G.mapping.broadcast(G.mapping(z.detach()))
    pen, lengths, mean = ref.path_length(G, ws_pl, pl_noise, pl_mean, decay)
    pen.mean().backward()
    pl.attrs["pl_mean_before"], pl.attrs["decay"] = 0.5, decay
    for n, t in [("noise", pl_noise), ("lengths", lengths), ("penalty", pen), ("mean_after", mean)]:
        put(pl, n, t)
    put_grads(pl, "grad_G", G)
    with torch.no_grad():
        G.mapping(z, update_w_avg=True)
    put(f, "w_avg_after", G.mapping.w_avg)
    f.close()


def write_d32():
    cfg = g32_cfg()
    seed_for("d32")
    D = ref.Discriminator(cfg)
    perturb(D)
    f = open_out("stylegan2_d32.h5", cfg)
    put_state(f, "D", D)
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    xg = x.clone().requires_grad_(True)
    logits = D(xg)
    gy = torch.randn(logits.shape)
    logits.backward(gy)
    for n, t in [("x", x), ("logits", logits), ("gy", gy), ("grad_x", xg.grad)]:
        put(f, n, t)
    put_grads(f, "grad_D", D)
    zero_grads(D)
    r1 = new_group(f, "r1")
    pen, logits = ref.r1_penalty(D, x)
    xr = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(D(xr).sum(), xr)
    pen.mean().backward()
    put(r1, "grad_x", gx)
    put(r1, "penalty", pen)
    put_grads(r1, "grad_D", D)
    f.close()


def write_64():
    cfg = dict(resolution=64, img_channels=3, z_dim=16, w_dim=16, mapping_layers=2, mapping_lr_mul=0.01,
               channel_base=256, channel_max=8, mbstd_group_size=4, mbstd_channels=1)
    seed_for("64")
    G, D = ref.Generator(cfg), ref.Discriminator(cfg)
    perturb(G)
    perturb(D)
    f = open_out("stylegan2_64.h5", cfg)
    put_state(f, "G", G, skip="noise_const")
    put_state(f, "D", D)
    z = torch.randn(2, cfg["z_dim"])
    img = G(z, noise_mode="none")
    (img.square().sum() / 2).backward()  # gy = img: the C test uses its own image
    put_grads(f, "grad_G", G)
    logits = D(img.detach())
    (logits.square().sum() / 2).backward()
    put_grads(f, "grad_D", D)
    for n, t in [("z", z), ("img", img), ("logits", logits)]:
        put(f, n, t)
    f.close()


# --- training iterations ------------------------------------------------------------------------

def write_train():
    cfg = dict(resolution=16, img_channels=1, z_dim=16, w_dim=16, mapping_layers=2, mapping_lr_mul=0.01,
               channel_base=128, channel_max=8, mbstd_group_size=4, mbstd_channels=1)
    opts = dict(lr=0.0025, beta1=0.0, beta2=0.99, eps=1e-8, r1_gamma=1.0, r1_interval=4, pl_weight=2.0,
                pl_interval=2, pl_batch_shrink=2, pl_decay=0.01, ema_kimg=0.01, ema_rampup=0.0)
    seed_for("train")
    G, D = ref.Generator(cfg), ref.Discriminator(cfg)
    f = open_out("stylegan2_train.h5", cfg)
    o = new_group(f, "opts")
    for k, v in opts.items():
        o.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    put_state(f, "G", G)
    put_state(f, "D", D)
    tr = ref.Trainer(G, D, dict(opts, betas=[opts["beta1"], opts["beta2"]]))
    B, res = 4, G.synthesis.layer_resolutions()
    for it in range(3):
        g = new_group(f, "it%d" % it)
        real = torch.rand(B, 1, 16, 16) * 2 - 1
        put(g, "real", real)
        draws = {}
        for phase, n in [("gmain", B), ("greg", B // opts["pl_batch_shrink"]), ("dmain", B)]:
            p = new_group(g, phase)
            mix = torch.rand([]) < 0.9
            cutoff = int(torch.randint(1, G.num_ws, [])) if mix else G.num_ws
            lat = dict(z=torch.randn(n, cfg["z_dim"]), z2=torch.randn(n, cfg["z_dim"]), cutoff=cutoff,
                       noise=[torch.randn(n, 1, r, r) for r in res])
            put(p, "z", lat["z"])
            put(p, "z2", lat["z2"])
            p.attrs["cutoff"] = np.int64(cutoff)
            put(p, "noise", torch.cat([t.reshape(-1) for t in lat["noise"]]))
            draws[phase] = lat
        draws["pl_noise"] = torch.randn(B // opts["pl_batch_shrink"], 1, 16, 16)
        put(g, "pl_noise", draws["pl_noise"])
        stats = tr.step(it, real, draws)
        if "pl_penalty" in stats:
            stats["pl_mean"] = tr.pl_mean
        for k, v in stats.items():
            g.attrs[k] = np.float64(v)
    a = new_group(f, "after")
    put_state(a, "G", G)
    put_state(a, "G_ema", tr.G_ema)
    put_state(a, "D", D)
    f.close()


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    write_layers()
    write_g32()
    write_d32()
    write_64()
    write_train()
    total = 0
    for name in sorted(os.listdir(FIXTURES)):
        if name.startswith("stylegan2_"):
            size = os.path.getsize(os.path.join(FIXTURES, name))
            total += size
            print("%-22s %8d bytes" % (name, size))
    print("%-22s %8d bytes" % ("total", total))


if __name__ == "__main__":
    main()
