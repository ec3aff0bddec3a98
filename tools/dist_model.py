#!/usr/bin/env python3
"""Step time of data-parallel training against the number of ranks, on paper (docs/distributed.md).

    python3 tools/dist_model.py

Each rank computes its share of the global batch; then the gradients of every parameter are
summed across ranks with a ring allreduce (what MPI libraries and NCCL use for large buffers):
2 (N - 1) / N of the gradient bytes cross each link, in 2 (N - 1) messages of latency alpha.
Without overlap a step is compute + allreduce; with the allreduce fully hidden behind the
backward pass it is max(compute, allreduce). Inputs are the figures measured on the 2-core
development machine (one "node" below is such a machine) and the models' parameter counts.
"""

ALPHA = 20e-6  # seconds per message (TCP over Ethernet; InfiniBand is ~2 us)

MODELS = {
    # name: (parameters of G + D, seconds of compute per image on one 2-core node, global batch,
    #        smallest per-rank batch)
    # DCGAN 64x64 RGB: 428 ms per batch of 64 on 2 threads (docs/performance.md, issue 16).
    "DCGAN 64x64": (3_576_704 + 2_765_568, 0.428 / 64, 64, 1),
    # StyleGAN2 256x256 RGB (channel_base 16384, max 512, mapping 8): gan bench's first step of
    # batch 2 counted 1283 GFLOP (both lazy regularisers included: an upper bound per image),
    # at the 150 GFLOP/s StyleGAN2 reaches on 2 threads here. Per-rank batch >= 4: the
    # minibatch standard deviation groups.
    "StyleGAN2 256x256": (24_767_458 + 24_001_089, 641.5 / 150.0, 64, 4),
    # The same on GPU nodes, at an ASSUMED 100 TFLOP/s achieved per GPU (TF32 on an H100/H200
    # class GPU): not measured, there to show where the allreduce starts to matter.
    "StyleGAN2 256x256 on GPUs (assumed)": (24_767_458 + 24_001_089, 641.5 / 100_000.0, 64, 4),
}
WEAK_BATCH = {"DCGAN 64x64": 64, "StyleGAN2 256x256": 16, "StyleGAN2 256x256 on GPUs (assumed)": 16}

LINKS = {"10 Gb/s": 10e9 / 8, "25 Gb/s": 25e9 / 8, "100 Gb/s": 100e9 / 8}
RANKS = [1, 2, 4, 8, 16, 32, 64]


def allreduce_s(nbytes, n, bw):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * ALPHA


def table(name, weak):
    params, per_image, batch, min_local = MODELS[name]
    grad_bytes = 4 * params
    if weak:
        mode = f"weak scaling: every rank keeps a batch of {WEAK_BATCH[name]}"
    else:
        mode = f"strong scaling: a global batch of {batch} split over the ranks"
    print(f"\n**{name}**, {grad_bytes / 1e6:.1f} MB of gradients per iteration; {mode}. "
          "Efficiency = compute / step time, without / with the allreduce overlapped.\n")
    print("| ranks | per-rank batch | compute per step | " + " | ".join(LINKS) + " |")
    print("|---|---|---|" + "---|" * len(LINKS))
    for n in RANKS:
        local = WEAK_BATCH[name] if weak else batch / n
        if local < min_local:
            print(f"| {n} | {local:g} | below {min_local}: not possible |" + " |" * len(LINKS))
            continue
        compute = local * per_image
        cells = []
        for bw in LINKS.values():
            comm = allreduce_s(grad_bytes, n, bw)
            cells.append(f"{compute / (compute + comm):.0%} / {compute / max(compute, comm):.0%}")
        print(f"| {n} | {local:g} | {compute * 1e3:,.0f} ms | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    for m in MODELS:
        table(m, weak=False)
        table(m, weak=True)
