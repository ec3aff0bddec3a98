#!/usr/bin/python3
"""A small StyleGAN2 in plain PyTorch: the reference gan.c's C StyleGAN2 is tested against.

It follows the semantics of NVlabs/stylegan2-ada-pytorch (training/networks.py, loss.py,
training_loop.py) -- the architecture ('skip' generator, 'resnet' discriminator), the state_dict
names, the equalized-learning-rate gains, the initialisation, the losses and the training phases
-- but it is written independently and computes the resampling the long way round, so that it
checks the C code's shortcuts instead of repeating them:

  * upfirdn() upsamples by inserting zeros, pads, convolves every channel with the flipped
    [1,3,3,1] x [1,3,3,1] / 64 filter and keeps every down-th pixel, literally;
  * the upsampling modulated convolution is zero insertion + FIR, then a true convolution
    (flipped kernel) with the per-sample weights (the C code: a transposed convolution, then FIR);
  * a downsampling convolution is a padded convolution, then FIR + decimation (the C code: FIR
    first, then a stride-2 convolution);
  * the modulated convolution always builds the per-sample weights (the C code's default is the
    unfused form: x * s, one convolution, * demodulation coefficients).

No conditioning labels, no fp16, no conv clamping, no augmentation. Randomness is passed in
explicitly (z, style-mixing cutoffs, noise images, path-length noise), so a fixture can store it
and the C code can replay it.

Runs with Debian's python3-torch (1.13).
"""
import copy
import math

import torch
import torch.nn.functional as F

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)


# --- resampling ---------------------------------------------------------------------------------

def fir_kernel(gain=1.0):
    """outer([1,3,3,1], [1,3,3,1]) normalised to unit DC gain, times gain: (4, 4)."""
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = taps[:, None] * taps[None, :]
    return k / k.sum() * gain


def upfirdn(x, up=1, down=1, pad=(0, 0), gain=1.0):
    """x (N, C, H, W): insert up-1 zeros after every pixel, pad pad[0] before and pad[1] after on
    both axes (negative crops), convolve every channel with the FIR kernel times gain, keep every
    down-th pixel."""
    n, c, h, w = x.shape
    if up > 1:
        z = x.new_zeros(n, c, h * up, w * up)
        z[:, :, ::up, ::up] = x
        x = z
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0):x.shape[2] - max(-p1, 0), max(-p0, 0):x.shape[3] - max(-p1, 0)]
    k = fir_kernel(gain).flip([0, 1])  # F.conv2d correlates; flipping makes it a convolution
    x = F.conv2d(x, k[None, None].repeat(c, 1, 1, 1), groups=c)
    return x[:, :, ::down, ::down]


def upsample2x(x):
    """upfirdn2d.upsample2d: twice the size, the zero-stuffed image filtered at gain 4."""
    return upfirdn(x, up=2, pad=(2, 1), gain=4.0)


def downsample2x(x):
    """upfirdn2d.downsample2d: half the size."""
    return upfirdn(x, down=2, pad=(1, 1))


# --- layers -------------------------------------------------------------------------------------

def bias_act(x, b, act, gain):
    if b is not None:
        x = x + (b.reshape(1, -1, 1, 1) if x.ndim == 4 else b)
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
    return x * gain if gain != 1 else x


def act_gain(act):
    return LRELU_GAIN if act == "lrelu" else 1.0


def dense(x, weight, bias, act="linear", lr_mul=1.0):
    """Equalized-lr fully connected layer (FullyConnectedLayer): the weight is used times
    lr_mul / sqrt(in), the bias times lr_mul."""
    b = bias * lr_mul if lr_mul != 1 else bias
    return bias_act(x.matmul((weight * (lr_mul / math.sqrt(weight.shape[1]))).t()), b, act, act_gain(act))


def conv(x, weight, bias, act="linear", down=1, gain=1.0):
    """Equalized-lr convolution (Conv2dLayer) with 'same' padding, optionally downsampling by 2."""
    cout, cin, k, _ = weight.shape
    w = weight * (1 / math.sqrt(cin * k * k))
    if down == 1:
        x = F.conv2d(x, w, padding=k // 2)
    else:  # the filter's own padding (1 on each side) joins the kernel's
        x = F.conv2d(F.pad(x, [k // 2 + 1] * 4), w)
        x = upfirdn(x, down=2)
    return bias_act(x, bias, act, act_gain(act) * gain)


class Dense(torch.nn.Module):
    """Weight stored N(0,1)/lr_mul, bias initialised to bias_init."""

    def __init__(self, fin, fout, act="linear", lr_mul=1.0, bias_init=0.0):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(fout, fin) / lr_mul)
        self.bias = torch.nn.Parameter(torch.full([fout], float(bias_init)))
        self.act, self.lr_mul = act, lr_mul

    def forward(self, x):
        return dense(x, self.weight, self.bias, self.act, self.lr_mul)


class Conv(torch.nn.Module):
    """Weight stored N(0,1), bias 0."""

    def __init__(self, cin, cout, k, act="linear", down=1, bias=True):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = torch.nn.Parameter(torch.zeros(cout)) if bias else None
        self.act, self.down = act, down

    def forward(self, x, gain=1.0):
        return conv(x, self.weight, self.bias, self.act, self.down, gain)


def modulated_conv(x, weight, styles, up=1, demodulate=True):
    """x (N, I, H, W), weight (O, I, k, k), styles (N, I): per-sample weights, as one grouped
    convolution. up=2: zero insertion + FIR at gain 4, then a true convolution."""
    n, cin, h, wd = x.shape
    cout, _, k, _ = weight.shape
    w = weight[None] * styles[:, None, :, None, None]  # (N, O, I, k, k)
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    w = w.reshape(n * cout, cin, k, k)
    x = x.reshape(1, n * cin, h, wd)
    if up == 1:
        y = F.conv2d(x, w, padding=k // 2, groups=n)
    else:
        x = upfirdn(x, up=2, pad=(k // 2 + 2, k // 2 + 1), gain=4.0)
        y = F.conv2d(x, w.flip([2, 3]), groups=n)
    return y.reshape(n, cout, y.shape[2], y.shape[3])


def minibatch_std(x, group_size, channels):
    """Groups of G = min(group_size, N) samples, sample n in group position n // (N / G)."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, n // g, channels, c // channels, h, w)
    std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # (M, F, c, H, W)
    s = std.mean(dim=[2, 3, 4])  # (M, F)
    s = s[None, :, :, None, None].expand(g, n // g, channels, h, w).reshape(n, channels, h, w)
    return torch.cat([x, s], dim=1)


# --- generator ----------------------------------------------------------------------------------

def channels(cfg, res):
    return min(cfg["channel_base"] // res, cfg["channel_max"])


class SynthesisLayer(torch.nn.Module):
    def __init__(self, cin, cout, w_dim, res, up):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.bias = torch.nn.Parameter(torch.zeros(cout))
        self.register_buffer("noise_const", torch.randn(res, res))
        self.affine = Dense(w_dim, cin, bias_init=1.0)
        self.up, self.res = up, res

    def forward(self, x, w, noise_mode, noise=None):
        x = modulated_conv(x, self.weight, self.affine(w), up=self.up)
        if noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        elif noise_mode == "random":
            x = x + noise * self.noise_strength
        return bias_act(x, self.bias, "lrelu", LRELU_GAIN)


class ToRGB(torch.nn.Module):
    def __init__(self, cin, img_channels, w_dim):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(img_channels, cin, 1, 1))
        self.bias = torch.nn.Parameter(torch.zeros(img_channels))
        self.affine = Dense(w_dim, cin, bias_init=1.0)
        self.style_gain = 1 / math.sqrt(cin)

    def forward(self, x, w):
        x = modulated_conv(x, self.weight, self.affine(w) * self.style_gain, demodulate=False)
        return bias_act(x, self.bias, "linear", 1.0)


class SynthesisBlock(torch.nn.Module):
    def __init__(self, cin, cout, w_dim, res, img_channels):
        super().__init__()
        if cin == 0:
            self.const = torch.nn.Parameter(torch.randn(cout, res, res))
        else:
            self.conv0 = SynthesisLayer(cin, cout, w_dim, res, up=2)
        self.conv1 = SynthesisLayer(cout, cout, w_dim, res, up=1)
        self.torgb = ToRGB(cout, img_channels, w_dim)
        self.first = cin == 0

    def layers(self):
        return [self.conv1] if self.first else [self.conv0, self.conv1]


class Synthesis(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.resolutions = [2 ** i for i in range(2, int(math.log2(cfg["resolution"])) + 1)]
        for res in self.resolutions:
            cin = channels(cfg, res // 2) if res > 4 else 0
            setattr(self, "b%d" % res, SynthesisBlock(cin, channels(cfg, res), cfg["w_dim"], res, cfg["img_channels"]))
        self.num_layers = 2 * len(self.resolutions) - 1
        self.num_ws = self.num_layers + 1

    def blocks(self):
        return [getattr(self, "b%d" % r) for r in self.resolutions]

    def layer_resolutions(self):
        return [l.res for b in self.blocks() for l in b.layers()]

    def forward(self, ws, noise_mode="const", noise=None):
        """ws (N, num_ws, w_dim); noise: one (N, 1, r, r) image per layer for 'random'."""
        x = img = None
        i = 0  # layer index; ws[:, i] is its w, and ToRGB takes the w after its block's last layer
        for b in self.blocks():
            if b.first:
                x = b.const[None].expand(ws.shape[0], -1, -1, -1)
            for layer in b.layers():
                x = layer(x, ws[:, i], noise_mode, noise[i] if noise is not None else None)
                i += 1
            y = b.torgb(x, ws[:, i])
            img = y if img is None else upsample2x(img) + y
        return img


class Mapping(torch.nn.Module):
    def __init__(self, cfg, num_ws):
        super().__init__()
        self.layers = cfg["mapping_layers"]
        for i in range(self.layers):
            fin = cfg["z_dim"] if i == 0 else cfg["w_dim"]
            setattr(self, "fc%d" % i, Dense(fin, cfg["w_dim"], act="lrelu", lr_mul=cfg["mapping_lr_mul"]))
        self.register_buffer("w_avg", torch.zeros(cfg["w_dim"]))
        self.num_ws, self.w_avg_beta = num_ws, 0.995

    def forward(self, z, update_w_avg=False):
        """z (N, z_dim) -> w (N, w_dim); update_w_avg: the training-mode tracking of the mean w."""
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.layers):
            x = getattr(self, "fc%d" % i)(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        return x

    def broadcast(self, w, psi=1.0):
        ws = w[:, None, :].expand(-1, self.num_ws, -1)
        return ws if psi == 1 else self.w_avg.lerp(ws, psi)


class Generator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.synthesis = Synthesis(cfg)  # registered first, as in the official state_dict
        self.mapping = Mapping(cfg, self.synthesis.num_ws)
        self.num_ws = self.synthesis.num_ws

    def forward(self, z, psi=1.0, noise_mode="const", noise=None, update_w_avg=False):
        return self.synthesis(self.mapping.broadcast(self.mapping(z, update_w_avg), psi), noise_mode, noise)


# --- discriminator ------------------------------------------------------------------------------

class DiscriminatorBlock(torch.nn.Module):
    def __init__(self, cin, tmp, cout, img_channels):
        super().__init__()
        if cin == 0:
            self.fromrgb = Conv(img_channels, tmp, 1, act="lrelu")
        self.conv0 = Conv(tmp, tmp, 3, act="lrelu")
        self.conv1 = Conv(tmp, cout, 3, act="lrelu", down=2)
        self.skip = Conv(tmp, cout, 1, down=2, bias=False)
        self.first = cin == 0

    def forward(self, x):
        if self.first:
            x = self.fromrgb(x)
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
        return y + x


class Epilogue(torch.nn.Module):
    def __init__(self, c, mbstd_group, mbstd_channels):
        super().__init__()
        self.conv = Conv(c + mbstd_channels, c, 3, act="lrelu")
        self.fc = Dense(c * 16, c, act="lrelu")
        self.out = Dense(c, 1)
        self.mbstd_group, self.mbstd_channels = mbstd_group, mbstd_channels

    def forward(self, x):
        if self.mbstd_channels:
            x = minibatch_std(x, self.mbstd_group, self.mbstd_channels)
        return self.out(self.fc(self.conv(x).flatten(1)))


class Discriminator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.resolutions = [2 ** i for i in range(int(math.log2(cfg["resolution"])), 2, -1)]
        for res in self.resolutions:
            cin = 0 if res == cfg["resolution"] else channels(cfg, res)
            setattr(self, "b%d" % res, DiscriminatorBlock(cin, channels(cfg, res), channels(cfg, res // 2),
                                                         cfg["img_channels"]))
        self.b4 = Epilogue(channels(cfg, 4), cfg["mbstd_group_size"], cfg["mbstd_channels"])

    def forward(self, img):
        x = img
        for res in self.resolutions:
            x = getattr(self, "b%d" % res)(x)
        return self.b4(x).reshape(-1)


# --- losses -------------------------------------------------------------------------------------

def r1_penalty(D, real):
    """Per sample |dD(x)/dx|^2 with the graph kept (R1), and the logits."""
    x = real.detach().requires_grad_(True)
    logits = D(x)
    (g,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return g.square().sum(dim=[1, 2, 3]), logits


def path_length(G, ws, pl_noise, pl_mean, decay, noise_mode="const", noise=None):
    """Path-length regularisation: lengths |J_w^T y| with y = pl_noise / sqrt(H W) (pl_noise is
    N(0,1)), averaged over the ws; the running mean moves by `decay` (with its graph, as the
    official lerp does); returns (per-sample penalty, lengths, new mean)."""
    img = G.synthesis(ws, noise_mode, noise)
    y = pl_noise / math.sqrt(img.shape[2] * img.shape[3])
    (g,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
    lengths = g.square().sum(dim=2).mean(dim=1).sqrt()
    mean = pl_mean.lerp(lengths.mean(), decay)
    return (lengths - mean).square(), lengths, mean


# --- training -----------------------------------------------------------------------------------

def lazy_adam(params, lr, betas, eps, interval):
    """Adam with the lazy-regularisation correction (interval 0: none)."""
    if interval:
        r = interval / (interval + 1)
        lr, betas = lr * r, [b ** r for b in betas]
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps)


def mixed_ws(G, lat, update_w_avg):
    """lat: {'z', 'z2', 'cutoff'}: ws of z, with layers [cutoff, num_ws) from z2 (no w_avg update
    for z2), as the official style mixing."""
    ws = G.mapping.broadcast(G.mapping(lat["z"], update_w_avg))
    if lat["cutoff"] < G.num_ws:
        ws2 = G.mapping.broadcast(G.mapping(lat["z2"], False))
        ws = torch.cat([ws[:, :lat["cutoff"]], ws2[:, lat["cutoff"]:]], dim=1)
    return ws


def step_param_grads(params):
    """Our Adam steps every parameter, treating a missing gradient as zero (PyTorch's skips a
    parameter whose .grad is None, e.g. b4.out.bias in the R1 phase: its second moment does not
    decay that step). With beta1 = 0 the parameter's value is unchanged either way."""
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)


class Trainer:
    """One StyleGAN2 training iteration in the phases of the official training loop:
    Gmain, Greg (every pl_interval), Dmain, Dreg (every r1_interval), then the G_ema update."""

    def __init__(self, G, D, opts):
        self.G, self.D, self.o = G, D, opts
        self.G_ema = copy.deepcopy(G)
        self.opt_g = lazy_adam(G.parameters(), opts["lr"], opts["betas"], opts["eps"],
                               opts["pl_interval"] if opts["pl_weight"] > 0 else 0)
        self.opt_d = lazy_adam(D.parameters(), opts["lr"], opts["betas"], opts["eps"],
                               opts["r1_interval"] if opts["r1_gamma"] > 0 else 0)
        self.pl_mean = torch.zeros([])

    def _phase(self, net, opt, loss_fn):
        for p in self.G.parameters():
            p.requires_grad_(net is self.G)
        for p in self.D.parameters():
            p.requires_grad_(net is self.D)
        opt.zero_grad(set_to_none=True)
        out = loss_fn()
        step_param_grads(net.parameters())
        opt.step()
        return out

    def step(self, it, real, draws):
        """it: the iteration index (batch_idx); real (B, C, R, R); draws: {'gmain', 'greg',
        'dmain'}: {'z', 'z2', 'cutoff', 'noise' (list per layer)}, plus 'pl_noise'."""
        o, G, D, stats = self.o, self.G, self.D, {}

        def gmain():
            lat = draws["gmain"]
            img = G.synthesis(mixed_ws(G, lat, True), "random", lat["noise"])
            loss = F.softplus(-D(img)).mean()
            loss.backward()
            return loss.detach()
        stats["loss_g"] = self._phase(G, self.opt_g, gmain)

        if o["pl_weight"] > 0 and it % o["pl_interval"] == 0:
            def greg():
                lat = draws["greg"]
                ws = mixed_ws(G, lat, True)
                pen, _, mean = path_length(G, ws, draws["pl_noise"], self.pl_mean, o["pl_decay"], "random", lat["noise"])
                self.pl_mean = mean.detach()
                (pen * o["pl_weight"]).mean().mul(o["pl_interval"]).backward()
                return pen.mean().detach()
            stats["pl_penalty"] = self._phase(G, self.opt_g, greg)

        def dmain():
            lat = draws["dmain"]
            with torch.no_grad():
                img = G.synthesis(mixed_ws(G, lat, True), "random", lat["noise"])
            fake = D(img)
            loss_fake = F.softplus(fake).mean()
            loss_fake.backward()
            logits = D(real)
            loss_real = F.softplus(-logits).mean()
            loss_real.backward()
            stats["scores_fake"], stats["scores_real"] = fake.mean().detach(), logits.mean().detach()
            return (loss_fake + loss_real).detach()
        stats["loss_d"] = self._phase(D, self.opt_d, dmain)

        if o["r1_gamma"] > 0 and it % o["r1_interval"] == 0:
            def dreg():
                pen, _ = r1_penalty(D, real)
                (pen * (o["r1_gamma"] / 2)).mean().mul(o["r1_interval"]).backward()
                return pen.mean().detach()
            stats["r1_penalty"] = self._phase(D, self.opt_d, dreg)

        batch = real.shape[0]
        ema_nimg = o["ema_kimg"] * 1000
        if o["ema_rampup"] > 0:
            ema_nimg = min(ema_nimg, it * batch * o["ema_rampup"])
        beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
        with torch.no_grad():
            for pe, p in zip(self.G_ema.parameters(), G.parameters()):
                pe.copy_(p.lerp(pe, beta))
            for be, b in zip(self.G_ema.buffers(), G.buffers()):
                be.copy_(b)
        stats["ema_beta"] = beta
        return stats
