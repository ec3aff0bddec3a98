#!/usr/bin/python3
"""The PyTorch side of `gan bench --features`: a feature network's forward pass on one batch of
synthetic images, timed the same way, printed as the same one-line JSON.

    /usr/bin/python3 tools/bench/torch_fid_inception.py --threads 1 [--batch 16] [--steps 5]
        [--warmup 1] [--net inception|fmnist] [--device cuda]

--net inception (the default): pytorch-fid's FID InceptionV3 as tools/fid_inception_twin.py
defines it, run through its pool3(): pytorch-fid's input pipeline (to [0, 1], F.interpolate to
299x299, which pytorch-fid runs even at 299x299, back to [-1, 1]) and the network up to the
2048-d pool features, in eval mode under torch.no_grad(). Images are 299x299 RGB in [-1, 1],
batch 16 as gan.c's. --net fmnist: the "fmnist" net's twin (tools/fmnist_net_twin.py's
FmnistNet.features) on 28x28 grey images, batch 256 as gan.c's.

Weights are random, as `gan bench --features` uses synthetic ones (speed does not depend on the
values): for Inception the same scales as gan.c's (convolutions uniform in +-sqrt(6 / fan-in),
batchnorms the identity), so that neither side's activations dwindle to denormals; for fmnist
PyTorch's default initialisation. Each step copies a batch from host memory to the device and
the features back, as gan.c's gan_feature_net_run does. Threads: torch.set_num_threads(T); run
it with OPENBLAS_NUM_THREADS=1 as tools/bench/compare.py does (see torch_dcgan.py).

--device cuda: the same on the GPU (tools/bench/torch_gpu.py's FP32 setup: cuDNN benchmark mode,
TF32 off); each timed step runs between two torch.cuda.synchronize() calls. Not run on the
development machine (no GPU there).

images_per_sec is the batch over the mean step time, as in `gan bench`.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from fid_inception_twin import SIZE, fid_inception_v3, pool3  # noqa: E402
from fmnist_net_twin import FmnistNet  # noqa: E402
from torch_gpu import cuda_fp32_setup  # noqa: E402

# net: (channels, size, batch) of gan.c's feature net (src/gan/features/features_*.c).
NETS = {"inception": (3, SIZE, 16), "fmnist": (1, 28, 256)}


def build(net):
    """The network in eval mode with random weights, and its forward pass (images -> features)."""
    if net == "inception":
        m = fid_inception_v3()
        for mod in m.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_uniform_(mod.weight, nonlinearity="relu")  # bound sqrt(6 / fan-in)
        return m, lambda x: pool3(m, x)
    m = FmnistNet().eval()
    return m, m.features


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--net", choices=sorted(NETS), default="inception")
    ap.add_argument("--batch", type=int, default=None, help="default: gan.c's (inception 16, fmnist 256)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--workload", default=None)
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    a = ap.parse_args()

    dev = torch.device(a.device)
    cuda = dev.type == "cuda"
    gpu_fields = cuda_fp32_setup(dev) if cuda else {}
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    C, S, default_batch = NETS[a.net]
    B = a.batch or default_batch
    model, features = build(a.net)
    model.to(dev)
    images = torch.rand(B, C, S, S) * 2 - 1

    @torch.no_grad()
    def step():
        return features(images.to(dev)).cpu()

    for _ in range(a.warmup):
        step()
    sync()
    times, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    mean = sum(times) / len(times)
    times.sort()
    cpu.sort()

    def median(v):
        n = len(v)
        return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])

    out = {
        "engine": "pytorch " + torch.__version__,
        "workload": a.workload or "features_%s_b%d" % (a.net, B),
        "threads": a.threads,
        "steps": a.steps,
        "median_ms": round(median(times), 3),
        "mean_ms": round(mean, 3),
        "min_ms": round(times[0], 3),
        "cpu_ms": round(median(cpu), 3),
        "images_per_sec": round(B * 1e3 / mean, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if cuda:
        out.update(device=str(dev), peak_gpu_mb=round(torch.cuda.max_memory_allocated(dev) / 1048576, 1),
                   **gpu_fields)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
