#!/usr/bin/python3
"""PyTorch reference for class-conditional StyleGAN2 (src/gan/models/stylegan2/stylegan2.h,
docs/variants.md "Conditioning"): `python3 tools/make_fixtures_sg2_conditional.py` rewrites
tests/fixtures/sg2_conditional.h5, read by tests/test_sg2_conditional.c.

Runs with Debian's python3-torch (1.13), python3-h5py and python3-numpy, on one CPU thread, in
float32, from fixed seeds, with the helpers of tools/make_fixtures.py and the networks of
tools/stylegan2_reference.py made conditional here as NVlabs/stylegan2-ada-pytorch's
training/networks.py does with c_dim = K > 0 (c one-hot):
  G mapping  embed = FullyConnectedLayer(K, w_dim) (lr_mul 1, linear, bias 0) registered before
             the layers; x = cat([normalize_2nd_moment(z), normalize_2nd_moment(embed(c))], 1),
             so mapping.fc0 has z_dim + w_dim inputs; w_avg tracks the conditional ws.
  D          mapping = MappingNetwork(z_dim=0, c_dim=K, w_dim=cmap_dim, num_ws=None,
             w_avg_beta=None) with ADA's defaults (8 layers, lr_mul 0.01, leaky ReLU), registered
             between the blocks and b4: cmap = fc7(...fc0(normalize_2nd_moment(embed(c))));
             cmap_dim = the channels at 4x4; b4.out has cmap_dim outputs and the logit is
             (out * cmap).sum(1) / sqrt(cmap_dim).

The file's root attributes are the configuration (as tests/fixtures/stylegan2_*.h5, plus
num_classes and d_mapping_layers): 16x16, one image channel, channels 4 at 16x16 and 8 below,
z = w = 8, two G mapping layers, mbstd group 2, K = 3, batch 4. Weights are ADA's initialisation
perturbed as tools/make_fixtures_stylegan2.py does (random biases, noise strengths and w_avg).

    /G/<name>, /D/<name>        every parameter and buffer by its state_dict name
    /labels (4) int64           the classes of /z and of /x
    /z (4, 8), /ws = broadcast(mapping(z, c)), /img (4, 1, 16, 16) with const noise
    /gy, /grad_G/<name>, /grad_z       d<img, gy>/d(params, z)
    /ws_trunc, /img_trunc       psi 0.7 (attribute psi on /img_trunc), toward the one w_avg
    /z2, /img_mix               ws[:, cutoff:] from mapping(z2, c), the same c; attribute cutoff
    /w_avg_after                w_avg after mapping(z, c) in training mode
    /x (4, 1, 16, 16), /logits (4) = D(x, c), /gy_d (4), /grad_D/<name>, /grad_x
    /r1/penalty (4), /r1/grad_D/<name>   R1 with D judging x with its labels, computed in float64
                                (see write_nets)

/train -- two iterations of the training loop (stylegan2_train.h's phases) on the same
configuration, options as attributes of /train/opts (as stylegan2_train.h5's /opts); it 0 runs
Gmain, Greg, Dmain, Dreg; it 1 Gmain and Dmain:
    /train/G/<name>, /train/D/<name>     the initial state (unperturbed ADA initialisation)
    /train/it<k>/real, /train/it<k>/real_labels (4) int64
    /train/it<k>/<phase>/z, z2, cutoff, noise (as stylegan2_train.h5) and labels (n) int64: the
                       phase's fake classes (gmain, greg (2), dmain)
    /train/it<k>/pl_noise; attributes loss_g, loss_d, scores_real, scores_fake, ema_beta,
                       pl_penalty, pl_mean, r1_penalty (the last three when they ran)
    /train/after/G/<name>, /train/after/G_ema/<name>, /train/after/D/<name>
"""
import copy
import math
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stylegan2_reference as ref  # noqa: E402
from make_fixtures import new_group, put, put_state  # noqa: E402
import make_fixtures  # noqa: E402
from make_fixtures_stylegan2 import perturb, put_grads, zero_grads  # noqa: E402

B = 4


def seed_for(name):
    torch.manual_seed(zlib.crc32(("sg2_conditional/" + name).encode()))


def cfg():
    return dict(resolution=16, img_channels=1, z_dim=8, w_dim=8, mapping_layers=2, mapping_lr_mul=0.01,
                channel_base=64, channel_max=8, mbstd_group_size=2, mbstd_channels=1, num_classes=3,
                d_mapping_layers=8)


def norm2(x):
    """normalize_2nd_moment."""
    return x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()


def one_hot(labels, k):
    return F.one_hot(labels, k).to(torch.float32)


# --- the conditional networks ---------------------------------------------------------------------

class CondMapping(ref.Mapping):
    def __init__(self, cfg, num_ws):
        torch.nn.Module.__init__(self)
        self.embed = ref.Dense(cfg["num_classes"], cfg["w_dim"])  # registered first, as in ADA
        self.layers = cfg["mapping_layers"]
        for i in range(self.layers):
            fin = cfg["z_dim"] + cfg["w_dim"] if i == 0 else cfg["w_dim"]
            setattr(self, "fc%d" % i, ref.Dense(fin, cfg["w_dim"], act="lrelu", lr_mul=cfg["mapping_lr_mul"]))
        self.register_buffer("w_avg", torch.zeros(cfg["w_dim"]))
        self.num_ws, self.w_avg_beta = num_ws, 0.995

    def forward(self, z, c, update_w_avg=False):
        x = torch.cat([norm2(z), norm2(self.embed(c))], dim=1)
        for i in range(self.layers):
            x = getattr(self, "fc%d" % i)(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return x


class CondGenerator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.synthesis = ref.Synthesis(cfg)
        self.mapping = CondMapping(cfg, self.synthesis.num_ws)
        self.num_ws = self.synthesis.num_ws


class LabelMapping(torch.nn.Module):
    """ADA's MappingNetwork(z_dim=0, c_dim=K, w_dim=cmap_dim, num_ws=None, w_avg_beta=None)."""

    def __init__(self, k, cmap_dim, layers):
        super().__init__()
        self.embed = ref.Dense(k, cmap_dim)
        self.layers = layers
        for i in range(layers):
            setattr(self, "fc%d" % i, ref.Dense(cmap_dim, cmap_dim, act="lrelu", lr_mul=0.01))

    def forward(self, c):
        x = norm2(self.embed(c))
        for i in range(self.layers):
            x = getattr(self, "fc%d" % i)(x)
        return x


class CondDiscriminator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.resolutions = [2 ** i for i in range(int(math.log2(cfg["resolution"])), 2, -1)]
        for res in self.resolutions:
            cin = 0 if res == cfg["resolution"] else ref.channels(cfg, res)
            setattr(self, "b%d" % res, ref.DiscriminatorBlock(cin, ref.channels(cfg, res), ref.channels(cfg, res // 2),
                                                             cfg["img_channels"]))
        self.cmap_dim = ref.channels(cfg, 4)
        self.mapping = LabelMapping(cfg["num_classes"], self.cmap_dim, cfg["d_mapping_layers"])
        self.b4 = ref.Epilogue(ref.channels(cfg, 4), cfg["mbstd_group_size"], cfg["mbstd_channels"])
        self.b4.out = ref.Dense(ref.channels(cfg, 4), self.cmap_dim)

    def forward(self, img, c):
        x = img
        for res in self.resolutions:
            x = getattr(self, "b%d" % res)(x)
        x = self.b4(x)
        return (x * self.mapping(c)).sum(dim=1) * (1 / math.sqrt(self.cmap_dim))


def broadcast(G, z, c, psi=1.0, update_w_avg=False):
    return G.mapping.broadcast(G.mapping(z, c, update_w_avg), psi)


def mixed_ws(G, lat, update_w_avg):
    ws = broadcast(G, lat["z"], lat["c"], update_w_avg=update_w_avg)
    if lat["cutoff"] < G.num_ws:
        ws2 = broadcast(G, lat["z2"], lat["c"])
        ws = torch.cat([ws[:, :lat["cutoff"]], ws2[:, lat["cutoff"]:]], dim=1)
    return ws


def open_out(name, c):
    f = make_fixtures.open_out(name)
    f.attrs["generator"] = "tools/make_fixtures_sg2_conditional.py, torch " + torch.__version__
    for k, v in c.items():
        f.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    return f


# --- networks -------------------------------------------------------------------------------------

def write_nets(f, c):
    K = c["num_classes"]
    seed_for("nets")
    G, D = CondGenerator(c), CondDiscriminator(c)
    perturb(G)
    perturb(D)
    put_state(f, "G", G)
    put_state(f, "D", D)
    labels = torch.tensor([0, 2, 1, 2])
    y = one_hot(labels, K)
    put(f, "labels", labels)

    z = torch.randn(B, c["z_dim"], requires_grad=True)
    ws = broadcast(G, z, y)
    img = G.synthesis(ws, "const")
    gy = torch.randn(img.shape)
    img.backward(gy)
    for n, t in [("z", z), ("ws", ws), ("img", img), ("gy", gy), ("grad_z", z.grad)]:
        put(f, n, t)
    put_grads(f, "grad_G", G)
    zero_grads(G)
    with torch.no_grad():
        ws_t = broadcast(G, z, y, 0.7)
        put(f, "ws_trunc", ws_t)
        put(f, "img_trunc", G.synthesis(ws_t, "const"))
        f["img_trunc"].attrs["psi"] = 0.7
        z2 = torch.randn(B, c["z_dim"])
        cutoff = 3
        put(f, "z2", z2)
        put(f, "img_mix", G.synthesis(mixed_ws(G, dict(z=z, z2=z2, c=y, cutoff=cutoff), False), "const"))
        f["img_mix"].attrs["cutoff"] = np.int64(cutoff)
        G.mapping(z, y, update_w_avg=True)
    put(f, "w_avg_after", G.mapping.w_avg)

    x = torch.rand(B, 1, 16, 16) * 2 - 1
    xg = x.clone().requires_grad_(True)
    logits = D(xg, y)
    gy_d = torch.randn(logits.shape)
    logits.backward(gy_d)
    for n, t in [("x", x), ("logits", logits), ("gy_d", gy_d), ("grad_x", xg.grad)]:
        put(f, n, t)
    put_grads(f, "grad_D", D)
    zero_grads(D)
    # R1 in float64: its parameter gradients come from the second derivative, and those of the
    # biases only through the minibatch stddev, small differences of large terms; float32's own
    # rounding there is 3e-5 of the largest gradient, twenty times the C code's distance from the
    # float64 values (measured), so the reference is the float64 result, stored as float32.
    r1 = new_group(f, "r1")
    D64 = copy.deepcopy(D).double()
    xr = x.double().requires_grad_(True)
    torch.set_default_dtype(torch.float64)  # the resampling filters are made on the fly
    (g,) = torch.autograd.grad(D64(xr, y.double()).sum(), xr, create_graph=True)
    pen = g.square().sum(dim=[1, 2, 3])
    pen.mean().backward()
    torch.set_default_dtype(torch.float32)
    put(r1, "penalty", pen.float())
    grads = new_group(r1, "grad_D")
    for n, p in D64.named_parameters():
        put(grads, n, (p.grad if p.grad is not None else torch.zeros_like(p)).float())


# --- training -------------------------------------------------------------------------------------

def write_train(f, c):
    K = c["num_classes"]
    opts = dict(lr=0.0025, beta1=0.0, beta2=0.99, eps=1e-8, r1_gamma=1.0, r1_interval=4, pl_weight=2.0,
                pl_interval=2, pl_batch_shrink=2, pl_decay=0.01, ema_kimg=0.01, ema_rampup=0.0)
    seed_for("train")
    G, D = CondGenerator(c), CondDiscriminator(c)
    t = new_group(f, "train")
    o = new_group(t, "opts")
    for k, v in opts.items():
        o.attrs[k] = np.asarray(v, dtype=np.float64 if isinstance(v, float) else np.int64)
    put_state(t, "G", G)
    put_state(t, "D", D)
    # ref.Trainer's phases, with the classes: the fakes' in every G pass and D's fake pass, the
    # reals' in D's real pass and R1.
    tr = ref.Trainer(G, D, dict(opts, betas=[opts["beta1"], opts["beta2"]]))
    res = G.synthesis.layer_resolutions()
    pl_n = B // opts["pl_batch_shrink"]
    for it in range(2):
        g = new_group(t, "it%d" % it)
        real = torch.rand(B, 1, 16, 16) * 2 - 1
        real_labels = torch.randint(0, K, [B])
        put(g, "real", real)
        put(g, "real_labels", real_labels)
        rc = one_hot(real_labels, K)
        draws = {}
        for phase, n in [("gmain", B), ("greg", pl_n), ("dmain", B)]:
            p = new_group(g, phase)
            mix = torch.rand([]) < 0.9
            cutoff = int(torch.randint(1, G.num_ws, [])) if mix else G.num_ws
            labels = torch.randint(0, K, [n])
            lat = dict(z=torch.randn(n, c["z_dim"]), z2=torch.randn(n, c["z_dim"]), cutoff=cutoff,
                       noise=[torch.randn(n, 1, r, r) for r in res], c=one_hot(labels, K))
            put(p, "z", lat["z"])
            put(p, "z2", lat["z2"])
            put(p, "labels", labels)
            p.attrs["cutoff"] = np.int64(cutoff)
            put(p, "noise", torch.cat([x.reshape(-1) for x in lat["noise"]]))
            draws[phase] = lat
        pl_noise = torch.randn(pl_n, 1, 16, 16)
        put(g, "pl_noise", pl_noise)
        stats = {}

        def gmain():
            lat = draws["gmain"]
            img = G.synthesis(mixed_ws(G, lat, True), "random", lat["noise"])
            loss = F.softplus(-D(img, lat["c"])).mean()
            loss.backward()
            return loss.detach()
        stats["loss_g"] = tr._phase(G, tr.opt_g, gmain)

        if it % opts["pl_interval"] == 0:
            def greg():
                lat = draws["greg"]
                ws = mixed_ws(G, lat, True)
                pen, _, mean = ref.path_length(G, ws, pl_noise, tr.pl_mean, opts["pl_decay"], "random", lat["noise"])
                tr.pl_mean = mean.detach()
                (pen * opts["pl_weight"]).mean().mul(opts["pl_interval"]).backward()
                return pen.mean().detach()
            stats["pl_penalty"] = tr._phase(G, tr.opt_g, greg)
            stats["pl_mean"] = tr.pl_mean

        def dmain():
            lat = draws["dmain"]
            with torch.no_grad():
                img = G.synthesis(mixed_ws(G, lat, True), "random", lat["noise"])
            fake = D(img, lat["c"])
            loss_fake = F.softplus(fake).mean()
            loss_fake.backward()
            logits = D(real, rc)
            loss_real = F.softplus(-logits).mean()
            loss_real.backward()
            stats["scores_fake"], stats["scores_real"] = fake.mean().detach(), logits.mean().detach()
            return (loss_fake + loss_real).detach()
        stats["loss_d"] = tr._phase(D, tr.opt_d, dmain)

        if it % opts["r1_interval"] == 0:
            def dreg():
                x = real.detach().requires_grad_(True)
                (gx,) = torch.autograd.grad(D(x, rc).sum(), x, create_graph=True)
                pen = gx.square().sum(dim=[1, 2, 3])
                (pen * (opts["r1_gamma"] / 2)).mean().mul(opts["r1_interval"]).backward()
                return pen.mean().detach()
            stats["r1_penalty"] = tr._phase(D, tr.opt_d, dreg)

        beta = 0.5 ** (B / max(opts["ema_kimg"] * 1000, 1e-8))
        with torch.no_grad():
            for pe, p in zip(tr.G_ema.parameters(), G.parameters()):
                pe.copy_(p.lerp(pe, beta))
            for be, b in zip(tr.G_ema.buffers(), G.buffers()):
                be.copy_(b)
        stats["ema_beta"] = beta
        for k, v in stats.items():
            g.attrs[k] = np.float64(v)
    a = new_group(t, "after")
    put_state(a, "G", G)
    put_state(a, "G_ema", tr.G_ema)
    put_state(a, "D", D)


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    c = cfg()
    f = open_out("sg2_conditional.h5", c)
    write_nets(f, c)
    write_train(f, c)
    f.close()
    path = os.path.join(make_fixtures.FIXTURES, "sg2_conditional.h5")
    print("%-22s %8d bytes" % ("sg2_conditional.h5", os.path.getsize(path)))


if __name__ == "__main__":
    main()
