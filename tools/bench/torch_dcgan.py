#!/usr/bin/python3
"""The PyTorch side of `gan bench`: the same DCGAN training step (or G-forward sampling) on
synthetic data, timed the same way, printed as the same one-line JSON. The networks are
tools/dcgan_reference.py's.

    /usr/bin/python3 tools/bench/torch_dcgan.py --resolution 64 --channels 3 --batch 64 \
        --threads 1 [--steps 20] [--warmup 3] [--sample] [--device cuda]

The step is pytorch/examples/dcgan's loop (sigmoid + BCELoss, Adam 2e-4, betas (0.5, 0.999)):
D on a real batch, D on detach(G(z)), D step, then G through D with label 1. D's parameters are
frozen during the G step, as gan.c does, so neither side computes D weight gradients that the
reference would throw away: both run the same arithmetic. Threads: torch.set_num_threads(T);
run it with OPENBLAS_NUM_THREADS=1 (torch's transposed convs call OpenBLAS from inside its own
OpenMP pool, and two pools on the same cores fight); tools/bench/compare.py does.

--device cuda (tools/gpu_check.sh): the same step on the GPU, eager, with cuDNN's benchmark mode
on and TF32 off for matmuls and convolutions, so that FP32 is compared with gan.c's FP32; the
JSON line then says so (fp32, cudnn_benchmark) and adds the GPU, cuDNN and peak GPU memory. The
weights are initialised on the CPU as before and moved; each step's latents are drawn on the
GPU. Each timed step runs between two torch.cuda.synchronize() calls (wall time), so it is the
GPU's time for the step, not the time to queue it. Sampling copies the images to the host, as
`gan bench --sample` does.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dcgan_reference import Discriminator, Generator, weights_init  # noqa: E402
from torch_gpu import cuda_fp32_setup  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", type=int, default=64)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--nz", type=int, default=100)
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--sample", action="store_true", help="G forward only (eval, no grad)")
    ap.add_argument("--workload", default=None)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    a = ap.parse_args()

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    gpu_fields = cuda_fp32_setup(dev) if cuda else {}
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    R, B, nc = a.resolution, a.batch, a.channels
    G, D = Generator(R, a.nz, a.ngf, nc), Discriminator(R, a.ndf, nc)
    G.apply(weights_init)
    D.apply(weights_init)
    G, D = G.to(dev), D.to(dev)
    crit = nn.BCELoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.full((B,), 1.0, device=dev), torch.full((B,), 0.0, device=dev)
    real = (torch.rand(B, nc, R, R) * 2 - 1).to(dev)

    def train_step():
        noise = torch.randn(B, a.nz, 1, 1, device=dev)
        D.zero_grad()
        err_real = crit(D(real).view(-1), ones)
        err_real.backward()
        fake = G(noise)
        err_fake = crit(D(fake.detach()).view(-1), zeros)
        err_fake.backward()
        opt_d.step()
        G.zero_grad()
        D.requires_grad_(False)
        err_g = crit(D(fake).view(-1), ones)
        err_g.backward()
        D.requires_grad_(True)
        opt_g.step()
        return err_g.item()

    def sample_step():
        with torch.no_grad():
            if cuda:
                return G(torch.randn(B, a.nz, 1, 1, device=dev)).cpu()
            return G(torch.randn(B, a.nz, 1, 1)).sum().item()

    if a.sample:
        G.eval()
    step = sample_step if a.sample else train_step
    for _ in range(a.warmup):
        step()
    sync()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    median = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
    name = a.workload or ("dcgan%d_%s_b%d%s" % (R, "rgb" if nc == 3 else "gray", B, "_sample" if a.sample else ""))
    out = {
        "engine": "pytorch " + torch.__version__,
        "workload": name,
        "threads": a.threads,
        "steps": a.steps,
        "median_ms": round(median, 3),
        "min_ms": round(times[0], 3),
        "images_per_sec": round(B * 1e3 / median, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if cuda:
        out.update(device=str(dev), mean_ms=round(sum(times) / len(times), 3),
                   peak_gpu_mb=round(torch.cuda.max_memory_allocated(dev) / 1048576, 1), **gpu_fields)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
