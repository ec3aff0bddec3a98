#!/usr/bin/python3
"""gan.c against PyTorch on the same machine, side by side.

    /usr/bin/python3 tools/bench/compare.py [--rounds 3] [--steps 10] [--threads 1,2]
        [--workloads dcgan64,dcgan32,sample64,stylegan2_32] [--gan build/src/gan/gan] [--json out.jsonl]
    /usr/bin/python3 tools/bench/compare.py --workloads inception299,fmnist28 --rounds 3

For every workload and thread count, each round runs `gan bench` and the same step in PyTorch
(tools/bench/torch_dcgan.py, torch_stylegan2.py) one after the other, alternating which goes first, so both see
the same machine load. Prints the median over rounds of each engine's median ms/step, the
ratio PyTorch / gan.c (> 1: gan.c is faster), GFLOP/s (gan.c's count of the step's FLOPs,
ctx.flops, over each engine's time) and peak resident memory.

Stray rounds: a round in which either engine's time is more than --stray (default 15%) away
from that engine's median over the rounds so far was taken under another load (other tenants
of the host). Such a point gets up to --extra-rounds (default 2) more rounds, and the table
lists the rounds that still stray (engine, round, and how far) in its last column, so a reader
sees which figures are shaky. The medians use every round.

--peak compiles tools/bench/fma_peak.c (gcc -O2 -fopenmp, into a temporary folder), measures the
FMA peak at each thread count before the workloads, and adds each workload's share of it (gan.c's
GFLOP/s over the peak of that many threads: AVX-512 where the CPU has it, else AVX2).

The feature-net workloads (not in the default list) time `gan eval`'s feature extraction: a step
is one forward pass of a batch of synthetic images, `gan bench --features NET` against
tools/bench/torch_fid_inception.py: inception299 is the FID InceptionV3 at 299x299 RGB, batch 16,
against pytorch-fid's network (tools/fid_inception_twin.py); fmnist28 the "fmnist" net at 28x28
grey, batch 256, against its twin (tools/fmnist_net_twin.py). Both sides use random weights.
They get a table of their own, in images/s. Inception runs 4 timed steps after 2 warm-ups unless
--steps / --warmup say otherwise (one batch takes 1-3 s on a core).

Environment of the benchmark commands (only theirs: tests and CI keep theirs):
  - OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed: a user's machine has neither, and they
    hold OpenBLAS to its AVX2 kernels. The kernel OpenBLAS picks is reported (blas_core).
  - PyTorch runs in its fastest setting found on this machine: torch.set_num_threads(T) with
    OPENBLAS_NUM_THREADS=1 (its transposed convolutions call OpenBLAS inside its own OpenMP
    pool; two pools on the same cores fight), and glibc's malloc told to keep freed memory
    (TORCH_MALLOC below): PyTorch frees and allocates its large tensors every step, and where
    the first touch of a fresh page is slow (a VM whose host takes freed pages back) that
    costs it more than its arithmetic. gan.c keeps its memory in arenas either way (the same
    setting changes nothing there). --torch-env adds or overrides variables (e.g.
    OMP_WAIT_POLICY=passive, or GLIBC_TUNABLES= for glibc's defaults) to try other settings.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# glibc malloc settings for PyTorch: large blocks from the heap, never trimmed back to the system.
TORCH_MALLOC = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# name: gan bench arguments, the PyTorch script and its arguments, the statistic compared
# (median ms; the mean for StyleGAN2, whose lazy R1 phase makes one step in 16 longer), and a
# fixed number of timed steps where it matters (16: one R1 phase on each side).
WORKLOADS = {
    "dcgan64": {"gan": ["tools/bench/dcgan64_rgb.yaml"], "torch": "tools/bench/torch_dcgan.py",
                "torch_args": ["--resolution", "64", "--channels", "3", "--batch", "64"], "stat": "median_ms"},
    "dcgan32": {"gan": ["tools/bench/dcgan32_gray.yaml"], "torch": "tools/bench/torch_dcgan.py",
                "torch_args": ["--resolution", "32", "--channels", "1", "--batch", "128"], "stat": "median_ms"},
    "sample64": {"gan": ["tools/bench/dcgan64_rgb.yaml", "--sample", "--batch", "256"],
                 "torch": "tools/bench/torch_dcgan.py",
                 "torch_args": ["--resolution", "64", "--channels", "3", "--batch", "256", "--sample"],
                 "stat": "median_ms"},
    "stylegan2_32": {"gan": ["tools/bench/stylegan2_32_gray.yaml"], "torch": "tools/bench/torch_stylegan2.py",
                     "torch_args": ["--resolution", "32", "--channels", "1", "--batch", "32"], "stat": "mean_ms",
                     "steps": 16},
    "inception299": {"gan": ["--features", "inception", "--batch", "16"],
                     "torch": "tools/bench/torch_fid_inception.py", "torch_args": ["--net", "inception", "--batch", "16"], "stat": "median_ms", "batch": 16,
                     "default_steps": 4, "default_warmup": 2},
    "fmnist28": {"gan": ["--features", "fmnist", "--batch", "256"], "torch": "tools/bench/torch_fid_inception.py",
                 "torch_args": ["--net", "fmnist", "--batch", "256"], "stat": "median_ms", "batch": 256},
}


def bench_env(extra):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(extra)
    return env


def run_json(cmd, env):
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    if out.returncode != 0:
        sys.exit("compare: %s failed (exit %d):\n%s" % (" ".join(cmd), out.returncode, out.stderr))
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit("compare: %s printed no JSON line:\n%s" % (" ".join(cmd), out.stdout))
    return json.loads(lines[-1])


def strays(runs, stat, limit):
    """[(engine, round, relative deviation)] of the rounds more than `limit` from their engine's median."""
    out = []
    for engine, js in runs.items():
        med = statistics.median(x[stat] for x in js)
        out += [(engine, x["round"], x[stat] / med - 1) for x in js if abs(x[stat] / med - 1) > limit]
    return out


def fma_peak(threads_list):
    """{threads: GFLOP/s} of independent FMA chains on every thread (tools/bench/fma_peak.c)."""
    exe = os.path.join(tempfile.mkdtemp(prefix="fma_peak"), "fma_peak")
    subprocess.run(["gcc", "-O2", "-fopenmp", os.path.join(HERE, "fma_peak.c"), "-o", exe], check=True)
    peaks = {}
    for t in threads_list:
        j = run_json([exe, str(t)], dict(os.environ))
        peaks[t] = j.get("avx512_gflops_wall", j.get("avx2_gflops_wall"))
        print("  FMA peak, %d thread(s): %.1f GFLOP/s" % (t, peaks[t]), file=sys.stderr)
    return peaks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 10, inception299 4)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3, inception299 2)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--workloads", default="dcgan64,dcgan32,sample64,stylegan2_32")
    ap.add_argument("--gan", default="build/src/gan/gan", help="the gan executable (relative to the repository)")
    ap.add_argument("--torch-env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--gan-env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--json", help="append every run's JSON line to this file")
    ap.add_argument("--stray", type=float, default=0.15, help="a round this far from its engine's median strays")
    ap.add_argument("--extra-rounds", type=int, default=2, help="more rounds for a point with a stray round")
    ap.add_argument("--peak", action="store_true", help="measure the FMA peak and print each workload's share")
    a = ap.parse_args()

    torch_env = bench_env(dict([("OPENBLAS_NUM_THREADS", "1"), ("GLIBC_TUNABLES", TORCH_MALLOC)] +
                               [kv.split("=", 1) for kv in a.torch_env]))
    gan_env = bench_env(dict(kv.split("=", 1) for kv in a.gan_env))
    log = open(a.json, "a") if a.json else None
    peaks = fma_peak([int(t) for t in a.threads.split(",")]) if a.peak else {}
    rows = []
    for name in a.workloads.split(","):
        if name not in WORKLOADS:
            sys.exit("compare: unknown workload %s (known: %s)" % (name, ", ".join(WORKLOADS)))
        w = WORKLOADS[name]
        stat = w["stat"]
        for threads in [int(t) for t in a.threads.split(",")]:
            steps = w.get("steps", a.steps or w.get("default_steps", 10))
            warmup = a.warmup if a.warmup is not None else w.get("default_warmup", 3)
            common = ["--steps", str(steps), "--warmup", str(warmup), "--threads", str(threads)]
            gan_cmd = [a.gan, "bench"] + w["gan"] + common + ["--name", name]
            torch_cmd = ["/usr/bin/python3", w["torch"]] + w["torch_args"] + common + ["--workload", name]
            runs = {"gan": [], "torch": []}
            r = 0
            while r < a.rounds or (strays(runs, stat, a.stray) and r < a.rounds + a.extra_rounds):
                order = [("gan", gan_cmd, gan_env), ("torch", torch_cmd, torch_env)]
                if r % 2:
                    order.reverse()
                for engine, cmd, env in order:
                    j = run_json(cmd, env)
                    j["round"] = r
                    runs[engine].append(j)
                    if log:
                        log.write(json.dumps(j) + "\n")
                        log.flush()
                    print("  %-12s T=%d round %d %-6s %8.1f ms" % (name, threads, r, engine, j[stat]),
                          file=sys.stderr)
                r += 1
            stray = strays(runs, stat, a.stray)
            for engine, rr, dev in stray:
                print("  %-12s T=%d round %d %-6s strays %+.0f%% from its median" % (name, threads, rr, engine, 100 * dev),
                      file=sys.stderr)
            g = statistics.median(x[stat] for x in runs["gan"])
            t = statistics.median(x[stat] for x in runs["torch"])
            gflop = statistics.median(x["gflop_per_step"] for x in runs["gan"])
            rows.append({
                "workload": name, "stat": stat.split("_")[0], "threads": threads, "gan_ms": g, "torch_ms": t, "speedup": t / g,
                "gan_gflops": gflop / g * 1e3, "torch_gflops": gflop / t * 1e3,
                "gan_rss_mb": max(x["peak_rss_mb"] for x in runs["gan"]),
                "torch_rss_mb": max(x["peak_rss_mb"] for x in runs["torch"]),
                "blas_core": runs["gan"][0]["blas_core"], "batch": w.get("batch"), "steps": steps,
                "rounds": r, "strays": stray, "peak": peaks.get(threads),
            })

    def stray_cell(r):
        return ", ".join("%s r%d %+.0f%%" % ("gan.c" if e == "gan" else "PyTorch", rr, 100 * d)
                         for e, rr, d in r["strays"]) or "none"

    def peak_cell(r):
        return " %.0f%% |" % (100 * r["gan_gflops"] / r["peak"]) if r["peak"] else ""

    gan_rows = [r for r in rows if not r["batch"]]
    if gan_rows:
        print("| workload | threads | ms/step | gan.c | PyTorch | PyTorch/gan.c | gan.c GFLOP/s | PyTorch GFLOP/s "
              "|%s gan.c peak MB | PyTorch peak MB | rounds | stray rounds |" % (" gan.c % of FMA peak |" if peaks else ""))
        print("|---|---|---|---|---|---|---|---|%s---|---|---|---|" % ("---|" if peaks else ""))
        for r in gan_rows:
            print("| %s | %d | %s | %.1f | %.1f | %.2fx | %.1f | %.1f |%s %.0f | %.0f | %d | %s |" % (
                r["workload"], r["threads"], r["stat"], r["gan_ms"], r["torch_ms"], r["speedup"], r["gan_gflops"],
                r["torch_gflops"], peak_cell(r), r["gan_rss_mb"], r["torch_rss_mb"], r["rounds"], stray_cell(r)))
    feature_rows = [r for r in rows if r["batch"]]
    if feature_rows:
        print("| feature net | threads | batch | gan.c images/s | PyTorch images/s | PyTorch/gan.c (time) "
              "| gan.c GFLOP/s | PyTorch GFLOP/s | gan.c peak MB | PyTorch peak MB | rounds | stray rounds |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in feature_rows:
            print("| %s | %d | %d | %.1f | %.1f | %.2fx | %.1f | %.1f | %.0f | %.0f | %d | %s |" % (
                r["workload"], r["threads"], r["batch"], r["batch"] * 1e3 / r["gan_ms"], r["batch"] * 1e3 / r["torch_ms"],
                r["speedup"], r["gan_gflops"], r["torch_gflops"], r["gan_rss_mb"], r["torch_rss_mb"], r["rounds"],
                stray_cell(r)))
    if peaks:
        print("FMA peak: %s" % ", ".join("%.1f GFLOP/s on %d thread(s)" % (v, t) for t, v in sorted(peaks.items())))
    print("medians of %d rounds or more (stray rounds > %.0f%% from the median: up to %d more); timed steps per run: %s; "
          "OpenBLAS kernel: %s" % (a.rounds, 100 * a.stray, a.extra_rounds, ", ".join(sorted({"%s %d" % (r["workload"], r["steps"]) for r in rows})), rows[0]["blas_core"]))


if __name__ == "__main__":
    main()
