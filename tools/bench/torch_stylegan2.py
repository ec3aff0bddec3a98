#!/usr/bin/python3
"""The PyTorch side of `gan bench` for StyleGAN2: the training iteration of
tools/stylegan2_reference.py (the networks, losses, phases and lazy regularisation gan.c is
tested against), timed the way `gan bench` times it, printed as the same one-line JSON.

    /usr/bin/python3 tools/bench/torch_stylegan2.py --resolution 32 --channels 1 --batch 32 \
        --threads 1 [--steps 16] [--warmup 3] [--sample] [--device cuda]

The reference computes its resampling "the long way round" on purpose (per-sample weights for
every modulated convolution, zero insertion before every transposed convolution), to check the C
code's shortcuts; timing that would handicap PyTorch. Here the layers compute as the official
StyleGAN2-ADA code does in training on a CPU (training/networks.py, torch_utils/ops): the
modulated convolution in its non-fused form (x * styles, one convolution, * demodulation
coefficients), upsampling as conv_transpose2d at stride 2 followed by the [1,3,3,1] FIR,
downsampling as the FIR followed by a stride-2 convolution (a 1x1 skip: FIR with decimation,
then the 1x1), the FIR itself as upfirdn2d's reference implementation (a depthwise conv2d).
That is also how gan.c computes them.

Iterations are numbered from 0 as in `gan bench`, so the lazy R1 phase (every r1_interval
iterations) lands on the same iterations on both sides; with --steps a multiple of r1_interval
the timed iterations hold the same number of R1 phases. mean_ms is the figure to compare (the
median hides the R1 iterations). Threads: torch.set_num_threads(T) with OPENBLAS_NUM_THREADS=1
(tools/bench/compare.py sets it).

--sample times G_ema's inference pass instead, as `gan bench --sample` does: latents z, psi 1,
the layers' stored (const) noise, no gradients (G_ema equals G at initialisation).

--device cuda (tools/gpu_check.sh): the same iteration on the GPU, eager, with cuDNN's
benchmark mode on and TF32 off for matmuls and convolutions, so that FP32 is compared with
gan.c's FP32; the JSON line then says so (fp32, cudnn_benchmark) and adds the GPU, cuDNN and
peak GPU memory. The networks are initialised on the CPU as before and moved; latents, noise
images and the path-length noise are drawn on the GPU (the style-mixing decisions still on the
host), and the FIR filters are kept there, as the official code keeps them as buffers. Each
timed step runs between two torch.cuda.synchronize() calls (wall time). Sampling copies the
images to the host, as `gan bench --sample` does.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import stylegan2_reference as ref  # noqa: E402
from torch_gpu import cuda_fp32_setup  # noqa: E402


_fir_on_device = {}


def fir_weight(x, c, gain):
    """The depthwise FIR weight for x: built each call on the CPU (as before), kept per device
    otherwise."""
    if x.device.type == "cpu":
        return ref.fir_kernel(gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1).to(x.dtype)
    key = (x.device, x.dtype, c, gain)
    if key not in _fir_on_device:
        _fir_on_device[key] = ref.fir_kernel(gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1).to(x.device, x.dtype)
    return _fir_on_device[key]


def fir2d(x, up=1, down=1, pad=(0, 0), gain=1.0):
    """torch_utils/ops/upfirdn2d._upfirdn2d_ref for a 4x4 [1,3,3,1] filter: zero insertion by
    reshape and pad, padding, one depthwise conv2d with the flipped filter, decimation."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0):x.shape[2] - max(-p1, 0), max(-p0, 0):x.shape[3] - max(-p1, 0)]
    x = F.conv2d(x, fir_weight(x, c, gain), groups=c)
    return x[:, :, ::down, ::down]


def upsample2x(x):
    return fir2d(x, up=2, pad=(2, 1), gain=4.0)


def modulated_conv(x, weight, styles, up=1, demodulate=True):
    """networks.modulated_conv2d with fused_modconv=False (the training path)."""
    n = x.shape[0]
    cout, cin, k, _ = weight.shape
    if demodulate:
        w = weight[None] * styles[:, None, :, None, None]
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # (N, O)
    x = x * styles.reshape(n, -1, 1, 1)
    if up == 1:
        x = F.conv2d(x, weight, padding=k // 2)
    else:
        # conv2d_resample(up=2): a stride-2 transposed convolution, then the FIR at gain 4.
        x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        x = fir2d(x, pad=(1, 1), gain=4.0)
    if demodulate:
        x = x * dcoefs.reshape(n, -1, 1, 1)
    return x


def conv(x, weight, bias, act="linear", down=1, gain=1.0):
    """networks.Conv2dLayer: equalized lr, 'same' padding; down=2 through conv2d_resample."""
    cout, cin, k, _ = weight.shape
    w = weight * (1 / math.sqrt(cin * k * k))
    if down == 1:
        x = F.conv2d(x, w, padding=k // 2)
    elif k == 1:
        x = F.conv2d(fir2d(x, down=2, pad=(1, 1)), w)
    else:
        x = F.conv2d(fir2d(x, pad=(2, 2)), w, stride=2)
    return ref.bias_act(x, bias, act, ref.act_gain(act) * gain)


# The official algorithms in place of the reference's long way round.
ref.modulated_conv = modulated_conv
ref.conv = conv
ref.upsample2x = upsample2x


def draw_latents(G, n, mixing_prob, gen):
    lat = {"z": torch.randn(n, G.mapping.fc0.weight.shape[1], generator=gen), "cutoff": G.num_ws, "z2": None}
    if torch.rand([], generator=gen).item() < mixing_prob:
        lat["cutoff"] = int(torch.randint(1, G.num_ws, [], generator=gen))
        lat["z2"] = torch.randn_like(lat["z"])
    lat["noise"] = [torch.randn(n, 1, r, r, generator=gen) for r in G.synthesis.layer_resolutions()]
    return lat


def draw_latents_on(dev, dgen, G, n, mixing_prob, gen):
    """draw_latents with the tensors drawn on the GPU by dgen (no host-to-device copy inside the
    step); the style-mixing decisions still come from the host generator gen."""
    zdim = G.mapping.fc0.weight.shape[1]
    lat = {"z": torch.randn(n, zdim, generator=dgen, device=dev), "cutoff": G.num_ws, "z2": None}
    if torch.rand([], generator=gen).item() < mixing_prob:
        lat["cutoff"] = int(torch.randint(1, G.num_ws, [], generator=gen))
        lat["z2"] = torch.randn(n, zdim, generator=dgen, device=dev)
    lat["noise"] = [torch.randn(n, 1, r, r, generator=dgen, device=dev) for r in G.synthesis.layer_resolutions()]
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--z-dim", type=int, default=128)
    ap.add_argument("--w-dim", type=int, default=128)
    ap.add_argument("--mapping-layers", type=int, default=4)
    ap.add_argument("--channel-base", type=int, default=2048)
    ap.add_argument("--channel-max", type=int, default=64)
    ap.add_argument("--mbstd-group", type=int, default=4)
    ap.add_argument("--r1-gamma", type=float, default=0.1)
    ap.add_argument("--r1-interval", type=int, default=16)
    ap.add_argument("--pl-weight", type=float, default=0.0)
    ap.add_argument("--mixing-prob", type=float, default=0.9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--workload", default=None)
    ap.add_argument("--ema-kimg", type=float, default=2.0)
    ap.add_argument("--sample", action="store_true", help="G_ema's inference pass instead (const noise, no grad)")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    a = ap.parse_args()

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    gpu_fields = cuda_fp32_setup(dev) if cuda else {}
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    cfg = {"resolution": a.resolution, "img_channels": a.channels, "z_dim": a.z_dim, "w_dim": a.w_dim,
           "mapping_layers": a.mapping_layers, "mapping_lr_mul": 0.01, "channel_base": a.channel_base,
           "channel_max": a.channel_max, "mbstd_group_size": a.mbstd_group, "mbstd_channels": 1}
    G, D = ref.Generator(cfg).to(dev), ref.Discriminator(cfg).to(dev)
    opts = {"lr": 0.0025, "betas": (0.0, 0.99), "eps": 1e-8, "r1_gamma": a.r1_gamma, "r1_interval": a.r1_interval,
            "pl_weight": a.pl_weight, "pl_interval": 4, "pl_batch_shrink": 2, "pl_decay": 0.01,
            "ema_kimg": a.ema_kimg, "ema_rampup": 0.05}
    trainer = ref.Trainer(G, D, opts)
    gen = torch.Generator().manual_seed(2)
    real = (torch.rand(a.batch, a.channels, a.resolution, a.resolution) * 2 - 1).to(dev)
    if cuda:
        trainer.pl_mean = trainer.pl_mean.to(dev)
        dgen = torch.Generator(device=dev).manual_seed(2)

        def draw(n):
            return draw_latents_on(dev, dgen, G, n, a.mixing_prob, gen)

        def pl_noise():
            return torch.randn(a.batch // 2, a.channels, a.resolution, a.resolution, generator=dgen, device=dev)
    else:
        def draw(n):
            return draw_latents(G, n, a.mixing_prob, gen)

        def pl_noise():
            return torch.randn(a.batch // 2, a.channels, a.resolution, a.resolution, generator=gen)

    def step(it):
        draws = {"gmain": draw(a.batch), "dmain": draw(a.batch)}
        if a.pl_weight > 0 and it % 4 == 0:
            draws["greg"] = draw(a.batch // 2)
            draws["pl_noise"] = pl_noise()
        trainer.step(it, real, draws)

    def sample_step(it):
        with torch.no_grad():
            z = torch.randn(a.batch, a.z_dim, generator=dgen, device=dev) if cuda else \
                torch.randn(a.batch, a.z_dim, generator=gen)
            return trainer.G_ema(z, psi=1.0, noise_mode="const").cpu()

    timed = sample_step if a.sample else step
    for it in range(a.warmup):
        timed(it)
    sync()
    times = []
    for it in range(a.warmup, a.warmup + a.steps):
        t0 = time.perf_counter()
        timed(it)
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    mean = sum(times) / len(times)
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
    name = a.workload or "stylegan2%d_%s_b%d%s" % (a.resolution, "rgb" if a.channels == 3 else "gray", a.batch,
                                                   "_sample" if a.sample else "")
    out = {
        "engine": "pytorch " + torch.__version__,
        "workload": name,
        "threads": a.threads,
        "steps": a.steps,
        "median_ms": round(median, 3),
        "mean_ms": round(mean, 3),
        "min_ms": round(times[0], 3),
        "images_per_sec": round(a.batch * 1e3 / mean, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if cuda:
        out.update(device=str(dev), peak_gpu_mb=round(torch.cuda.max_memory_allocated(dev) / 1048576, 1), **gpu_fields)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
