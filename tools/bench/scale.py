#!/usr/bin/python3
"""Cost as the work grows: gan.c's and PyTorch's training-step time and peak memory against image
size and batch, on the same cores, side by side.

    /usr/bin/python3 tools/bench/scale.py [--threads 2] [--points sg2:32,...,dcgan:64:256]
        [--steps 10] [--sg2-steps 16] [--warmup 3] [--rounds 1] [--gan build/src/gan/gan]
        [--json out.jsonl] [--svg [docs/images/cost_vs_resolution.svg]] [--dry-run]
    /usr/bin/python3 tools/bench/scale.py --plot-only out.jsonl [--svg PATH] [--plot-threads 2]

Points (--points, comma-separated; the default is every one of them):
  - sg2:RES[:BATCH]   StyleGAN2 RGB at RES x RES (32, 64, 128, 256), batch --sg2-batch (8): the
    one network family of tools/bench/scale_stylegan2.yaml, whose channels follow
    stylegan2-ada's rule min(channel_base / res, channel_max) with channel_base 4096 and
    channel_max 128 (128 channels up to 32x32, 16 at 256x256), z and w 128, 2 mapping layers,
    R1 every 16 iterations, style mixing, G_ema; against tools/bench/torch_stylegan2.py with the
    same arguments. Statistic: the mean step time (the lazy R1 phase makes one iteration in 16
    longer), over --sg2-steps timed steps (16 by default: exactly one R1 phase on each side;
    with fewer the window may hold none, and the output says how many it held: r1_steps).
  - dcgan:RES:BATCH   the reference DCGAN (tools/bench/dcgan64_rgb.yaml) in RGB at RES 32 or 64
    (the two gan.c supports), batch 16 to 256; against tools/bench/torch_dcgan.py. Statistic:
    the median step time over --steps timed steps.
Each point runs `gan bench` and the PyTorch script once per round and thread count (--threads,
default 2; 1,2 for both), one after the other, alternating which engine goes first from one run
to the next, so both see the same machine load. With --rounds > 1 the figures are the median over
rounds of each run's statistic (the peak memory: the largest).

What it reports, per point and engine: ms per step, ms per image (per step / batch), peak
resident memory (ru_maxrss: PyTorch's includes its ~225 MB of libraries), and GFLOP per image
(gan.c's count of the step's convolution and matmul FLOPs, gflop_per_step, over the batch; the
PyTorch scripts run the same arithmetic, so both engines' lines carry gan.c's count).
  - --json FILE appends one JSON line per point, thread count and engine (workload, resolution,
    batch, threads, ms_per_step, ms_per_image, peak_mb, gflop_per_image, the statistic, steps,
    warm-up, r1_steps, the engine's version and OpenBLAS kernel), written as each point ends.
  - stdout: a markdown table, time per image and peak MB of both engines and their ratio
    (PyTorch / gan.c > 1: gan.c is faster / smaller), with the steps used below it.
  - --svg [PATH] (PATH defaults to docs/images/cost_vs_resolution.svg; the SVG is only written
    when --svg or --plot-only is given, so a trial run cannot overwrite the documented plot):
    hand-made SVG (no matplotlib, as tools/plot_quality.py), four log-log panels: ms per image
    and peak MB against pixels per image (res^2) for StyleGAN2 at --sg2-batch and DCGAN at
    batch 64 (top row); DCGAN 64x64's ms per image and peak MB against batch (bottom row). One
    thread count is drawn (--plot-threads, default the largest measured).
  - --plot-only FILE.jsonl redraws the table and the SVG from a saved JSONL (the last line of
    each point, thread count and engine counts, so a point re-measured later replaces the old).
  - --dry-run prints the commands (and their environment) instead of running them.

Environment of the benchmark commands, as tools/bench/compare.py (whose bench_env this imports):
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed (the kernel OpenBLAS picks is reported:
blas_core); PyTorch with OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(T); --torch-env and
--gan-env add variables.

Cost of the full default sweep (estimated from single steps of each point): about 8 minutes at
--threads 2 on an idle 2-core machine, the 256x256 StyleGAN2 point about 1.5 of them (a step
takes ~3 s at 1 thread on either engine, and the first one ~10 s while memory is first
touched); about 20 minutes with --threads 1,2. Memory: ~3.1 GB peak for gan.c at 256x256,
~2 GB for PyTorch.
"""
import argparse
import json
import math
import os
import shlex
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import ROOT, bench_env, run_json  # noqa: E402

DEFAULT_POINTS = ("sg2:32,sg2:64,sg2:128,sg2:256," +
                  ",".join("dcgan:%d:%d" % (r, b) for r in (32, 64) for b in (16, 32, 64, 128, 256)))
DEFAULT_SVG = "docs/images/cost_vs_resolution.svg"

# The PyTorch side of tools/bench/scale_stylegan2.yaml (keep the two in step).
SG2_TORCH = ["--channels", "3", "--z-dim", "128", "--w-dim", "128", "--mapping-layers", "2",
             "--channel-base", "4096", "--channel-max", "128", "--mbstd-group", "4", "--r1-gamma", "0.1",
             "--r1-interval", "16", "--mixing-prob", "0.9", "--ema-kimg", "2.5"]
SG2_R1_INTERVAL = 16
NAMES = {"stylegan2": "StyleGAN2", "dcgan": "DCGAN"}
ENGINES = {"gan": "gan.c", "torch": "PyTorch"}


def parse_points(spec, sg2_batch):
    points = []
    for p in spec.split(","):
        f = p.strip().split(":")
        try:
            if f[0] == "sg2" and len(f) in (2, 3):
                res, batch = int(f[1]), int(f[2]) if len(f) == 3 else sg2_batch
                if res not in (8, 16, 32, 64, 128, 256):
                    raise ValueError
                points.append({"workload": "stylegan2", "resolution": res, "batch": batch})
            elif f[0] == "dcgan" and len(f) == 3:
                res, batch = int(f[1]), int(f[2])
                if res not in (32, 64):
                    raise ValueError
                points.append({"workload": "dcgan", "resolution": res, "batch": batch})
            else:
                raise ValueError
        except ValueError:
            sys.exit("scale: bad point %r (expected sg2:RES[:BATCH] with RES 8..256, or dcgan:RES:BATCH with "
                     "RES 32 or 64)" % p)
    return points


def commands(pt, threads, a):
    """The gan bench and PyTorch commands of one point, its statistic, steps and warm-up."""
    res, batch = pt["resolution"], pt["batch"]
    name = "scale_%s%d_rgb_b%d" % ("sg2_" if pt["workload"] == "stylegan2" else "dcgan", res, batch)
    if pt["workload"] == "stylegan2":
        steps, stat = a.sg2_steps, "mean_ms"
        gan = ["tools/bench/scale_stylegan2.yaml", "model.resolution=%d" % res, "stylegan2.pl_weight=%g" % a.pl_weight]
        torch = ["tools/bench/torch_stylegan2.py", "--resolution", str(res), "--batch", str(batch)] + SG2_TORCH + \
                ["--pl-weight", "%g" % a.pl_weight]
    else:
        steps, stat = a.steps, "median_ms"
        gan = ["tools/bench/dcgan64_rgb.yaml", "model.resolution=%d" % res, "model.channels=3"]
        torch = ["tools/bench/torch_dcgan.py", "--resolution", str(res), "--channels", "3", "--batch", str(batch)]
    common = ["--steps", str(steps), "--warmup", str(a.warmup), "--threads", str(threads)]
    gan_cmd = [a.gan, "bench"] + gan + ["--batch", str(batch)] + common + ["--name", name]
    torch_cmd = ["/usr/bin/python3"] + torch + common + ["--workload", name]
    r1 = sum(1 for it in range(a.warmup, a.warmup + steps) if it % SG2_R1_INTERVAL == 0) \
        if pt["workload"] == "stylegan2" else None
    return {"gan": gan_cmd, "torch": torch_cmd}, stat, steps, r1


def shown(cmd, env, base):
    """cmd as a shell line with the environment it differs from ours by."""
    unset = sorted(k for k in base if k not in env)
    changed = sorted(k for k in env if base.get(k) != env[k])
    pre = (["env"] + [x for k in unset for x in ("-u", k)] if unset else []) + ["%s=%s" % (k, env[k]) for k in changed]
    return " ".join(shlex.quote(x) for x in pre + cmd)


def measure(a, points, threads_list):
    torch_env = bench_env(dict([("OPENBLAS_NUM_THREADS", "1")] + [kv.split("=", 1) for kv in a.torch_env]))
    gan_env = bench_env(dict(kv.split("=", 1) for kv in a.gan_env))
    envs = {"gan": gan_env, "torch": torch_env}
    engines = a.engines.split(",")
    if not a.dry_run and "gan" in engines and not os.access(os.path.join(ROOT, a.gan), os.X_OK):
        sys.exit("scale: %s is not an executable (build it, or give --gan)" % a.gan)
    log = open(a.json, "a") if a.json and not a.dry_run else None
    lines, turn = [], 0
    for pt in points:
        for threads in threads_list:
            cmds, stat, steps, r1 = commands(pt, threads, a)
            runs = {e: [] for e in engines}
            for r in range(a.rounds):
                order = list(engines)
                if turn % 2:
                    order.reverse()
                turn += 1
                for e in order:
                    if a.dry_run:
                        print("cd %s && %s" % (shlex.quote(ROOT), shown(cmds[e], envs[e], os.environ)))
                        continue
                    j = run_json(cmds[e], envs[e])
                    j["first"] = e == order[0]
                    runs[e].append(j)
                    print("  %-9s %3dx%-3d b%-3d T=%d round %d %-7s %9.1f ms/step  %6.0f MB" % (
                        pt["workload"], pt["resolution"], pt["resolution"], pt["batch"], threads, r, ENGINES[e],
                        j[stat], j["peak_rss_mb"]), file=sys.stderr)
            if a.dry_run:
                continue
            gflop = statistics.median(x["gflop_per_step"] for x in runs["gan"]) if "gan" in runs else None
            for e in engines:
                ms = statistics.median(x[stat] for x in runs[e])
                line = {
                    "workload": pt["workload"], "resolution": pt["resolution"], "pixels": pt["resolution"] ** 2,
                    "channels": 3, "batch": pt["batch"], "threads": threads, "engine": e,
                    "version": runs[e][0]["engine"], "ms_per_step": round(ms, 3),
                    "ms_per_image": round(ms / pt["batch"], 4),
                    "peak_mb": max(x["peak_rss_mb"] for x in runs[e]),
                    "gflop_per_step": gflop, "gflop_per_image": round(gflop / pt["batch"], 4) if gflop else None,
                    "stat": stat.split("_")[0], "steps": steps, "warmup": a.warmup, "rounds": a.rounds,
                    "r1_steps": r1, "ran_first": [x["first"] for x in runs[e]],
                    "blas_core": runs.get("gan", [{}])[0].get("blas_core"),
                }
                if pt["workload"] == "stylegan2":
                    line["pl_weight"] = a.pl_weight
                lines.append(line)
                if log:
                    log.write(json.dumps(line) + "\n")
                    log.flush()
    return lines


def load(path):
    """A saved JSONL's lines, the last of each point, thread count and engine."""
    last = {}
    try:
        for n, text in enumerate(open(path), 1):
            if not text.strip():
                continue
            try:
                r = json.loads(text)
                last[(r["workload"], r["resolution"], r["batch"], r["threads"], r["engine"])] = r
            except (ValueError, KeyError):
                sys.exit("scale: %s line %d: not a scale.py line" % (path, n))
    except OSError as e:
        sys.exit("scale: %s: %s" % (path, e.strerror))
    if not last:
        sys.exit("scale: %s holds no points" % path)
    return list(last.values())


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def table(lines):
    by = {}
    for r in lines:
        by.setdefault((r["workload"], r["resolution"], r["batch"], r["threads"]), {})[r["engine"]] = r
    keys = sorted(by, key=lambda k: (k[3], k[0] != "stylegan2", k[1], k[2]))
    print("| workload | image | batch | threads | gan.c ms/image | PyTorch ms/image | PyTorch/gan.c "
          "| gan.c peak MB | PyTorch peak MB | GFLOP/image |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    f = lambda r, k, fmt: fmt % r[k] if r and r.get(k) is not None else "-"
    for k in keys:
        g, t = by[k].get("gan"), by[k].get("torch")
        ratio = "%.2fx" % (t["ms_per_image"] / g["ms_per_image"]) if g and t else "-"
        some = g or t
        print("| %s | %dx%d | %d | %d | %s | %s | %s | %s | %s | %s |" % (
            NAMES[k[0]], k[1], k[1], k[2], k[3], f(g, "ms_per_image", "%.2f"), f(t, "ms_per_image", "%.2f"), ratio,
            f(g, "peak_mb", "%.0f"), f(t, "peak_mb", "%.0f"), f(some, "gflop_per_image", "%.2f")))
    notes = set()
    for r in lines:
        if r["workload"] == "stylegan2":
            notes.add("StyleGAN2: mean of %s after %d warm-up (%d R1 phase%s)" % (
                plural(r["steps"], "step"), r["warmup"], r["r1_steps"], "" if r["r1_steps"] == 1 else "s"))
        else:
            notes.add("DCGAN: median of %s after %d warm-up" % (plural(r["steps"], "step"), r["warmup"]))
    rounds = {r["rounds"] for r in lines}
    print("%s; median of %s round(s) per point; OpenBLAS kernel: %s" % (
        "; ".join(sorted(notes)), "/".join(map(str, sorted(rounds))),
        ", ".join(sorted({r["blas_core"] for r in lines if r.get("blas_core")})) or "-"))


# ---- SVG, by hand (the style of tools/plot_quality.py) ----

COLORS = {"gan": "#1f77b4", "torch": "#d62728"}
DASH = {"stylegan2": "", "dcgan": ' stroke-dasharray="6,4"'}
PW, PH, ML, MR, MT, MB = 420, 250, 62, 16, 30, 40  # panel size and its margins (left, right, top, bottom)


def log_ticks(lo, hi):
    """Ticks m * 10^k inside [lo, hi]: decades, or 1-2-5, or finer, whichever first gives three."""
    best = []
    for mults in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 4, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        out = []
        for k in range(int(math.floor(math.log10(lo))) - 1, int(math.ceil(math.log10(hi))) + 1):
            out += [m * 10 ** k for m in mults if lo <= m * 10 ** k <= hi]
        best = out
        if len(out) >= 3:
            break
    return best


def fmt(v):
    return "%g" % v if v < 1e5 else "%.0e" % v


def panel(x0, y0, title, xlabel, ylabel, series, xticks):
    """A log-log panel at (x0, y0): series is [(engine, workload, [(x, y), ...])], xticks [(x, label)]."""
    xs = [x for _, _, p in series for x, _ in p] + [x for x, _ in xticks]
    ys = [y for _, _, p in series for _, y in p if y > 0]
    out = ['<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (x0 + ML, y0 + 18, title)]
    if not ys:
        out.append('<text x="%d" y="%d" font-size="11">(no data)</text>' % (x0 + ML, y0 + MT + 30))
        return out
    lx0, lx1 = math.log(min(xs) / 1.3), math.log(max(xs) * 1.3)
    ly0, ly1 = math.log(min(ys) / 1.25), math.log(max(ys) * 1.25)
    sx = lambda x: x0 + ML + (math.log(x) - lx0) / (lx1 - lx0) * (PW - ML - MR)
    sy = lambda y: y0 + PH - MB - (math.log(y) - ly0) / (ly1 - ly0) * (PH - MT - MB)
    bottom, top, left, right = y0 + PH - MB, y0 + MT, x0 + ML, x0 + PW - MR
    for x, label in xticks:
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (sx(x), bottom, sx(x), top))
        out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>' % (
            sx(x), bottom + 14, label))
    for t in log_ticks(math.exp(ly0), math.exp(ly1)):
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, sy(t), right, sy(t)))
        out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (left - 4, sy(t) + 4, fmt(t)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (
        left, top, right - left, bottom - top))
    for engine, workload, pts in series:
        pts = sorted(p for p in pts if p[1] > 0)
        if not pts:
            continue
        c = COLORS[engine]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
            c, DASH[workload], " ".join("%.1f,%.1f" % (sx(x), sy(y)) for x, y in pts)))
        for x, y in pts:
            if workload == "stylegan2":
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (sx(x), sy(y), c))
            else:
                out.append('<rect x="%.1f" y="%.1f" width="6" height="6" fill="%s"/>' % (sx(x) - 3, sy(y) - 3, c))
    out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>' % (
        (left + right) / 2, bottom + 30, xlabel))
    out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" transform="rotate(-90 %.1f %.1f)">%s</text>'
               % (x0 + 14, (top + bottom) / 2, x0 + 14, (top + bottom) / 2, ylabel))
    return out


def svg(lines, path, threads, sg2_batch):
    lines = [r for r in lines if r["threads"] == threads]
    sg2_batches = sorted({r["batch"] for r in lines if r["workload"] == "stylegan2"})
    if sg2_batch not in sg2_batches and sg2_batches:
        sg2_batch = sg2_batches[0]
    pick = {"stylegan2": sg2_batch, "dcgan": 64}
    top_series, bot_series = [], []
    for key in ("ms_per_image", "peak_mb"):
        top_series.append([(e, w, [(r["pixels"], r[key]) for r in lines
                                   if r["engine"] == e and r["workload"] == w and r["batch"] == pick[w]])
                           for w in ("stylegan2", "dcgan") for e in ("gan", "torch")])
        bot_series.append([(e, "dcgan", [(r["batch"], r[key]) for r in lines
                                         if r["engine"] == e and r["workload"] == "dcgan" and r["resolution"] == 64])
                           for e in ("gan", "torch")])
    res = sorted({r["resolution"] for r in lines if r["batch"] == pick[r["workload"]]})
    px_ticks = [(r * r, "%d&#178;" % r) for r in res]
    batches = sorted({r["batch"] for r in lines if r["workload"] == "dcgan" and r["resolution"] == 64})
    b_ticks = [(b, str(b)) for b in batches]
    legend_h = 44
    W, H = 2 * PW, legend_h + 2 * PH
    body = ['<text x="%d" y="18" font-size="14" font-weight="bold">Training step cost against image size and batch, '
            '%d thread%s (gan.c and PyTorch on the same cores)</text>' % (ML, threads, "" if threads == 1 else "s")]
    items = [("gan", "stylegan2", "gan.c StyleGAN2, batch %d" % sg2_batch),
             ("torch", "stylegan2", "PyTorch StyleGAN2, batch %d" % sg2_batch),
             ("gan", "dcgan", "gan.c DCGAN, batch 64"), ("torch", "dcgan", "PyTorch DCGAN, batch 64")]
    for i, (e, w, label) in enumerate(items):
        lx = 20 + i * 205
        body.append('<line x1="%d" y1="34" x2="%d" y2="34" stroke="%s" stroke-width="2"%s/>' % (
            lx, lx + 22, COLORS[e], DASH[w]))
        body.append('<text x="%d" y="38" font-size="11">%s</text>' % (lx + 27, label))
    body += panel(0, legend_h, "ms per image against pixels per image", "pixels per image (RGB)", "ms per image",
                  top_series[0], px_ticks)
    body += panel(PW, legend_h, "peak memory against pixels per image", "pixels per image (RGB)", "peak resident MB",
                  top_series[1], px_ticks)
    body += panel(0, legend_h + PH, "DCGAN 64x64: ms per image against batch", "batch", "ms per image",
                  bot_series[0], b_ticks)
    body += panel(PW, legend_h + PH, "DCGAN 64x64: peak memory against batch", "batch", "peak resident MB",
                  bot_series[1], b_ticks)
    full = os.path.join(ROOT, path) if not os.path.isabs(path) else path
    with open(full, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">\n' % (W, H))
        f.write('<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(body))
        f.write("\n</svg>\n")
    print("wrote %s" % path, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", default=DEFAULT_POINTS, help="comma-separated sg2:RES[:BATCH] and dcgan:RES:BATCH")
    ap.add_argument("--threads", default="2", help="comma-separated thread counts (default 2)")
    ap.add_argument("--steps", type=int, default=10, help="DCGAN timed steps (default 10; the median is reported)")
    ap.add_argument("--sg2-steps", type=int, default=16,
                    help="StyleGAN2 timed steps (default 16: one R1 phase; the mean is reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--sg2-batch", type=int, default=8)
    ap.add_argument("--pl-weight", type=float, default=0.0, help="StyleGAN2 path-length weight, both sides (default 0)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--engines", default="gan,torch", help="gan, torch or both (default)")
    ap.add_argument("--gan", default="build/src/gan/gan", help="the gan executable (relative to the repository)")
    ap.add_argument("--torch-env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--gan-env", action="append", default=[], metavar="VAR=VALUE")
    ap.add_argument("--json", help="append one line per point, thread count and engine to this file")
    ap.add_argument("--svg", nargs="?", const=DEFAULT_SVG, default=None,
                    help="write the plot (default path %s)" % DEFAULT_SVG)
    ap.add_argument("--plot-threads", type=int, default=None, help="thread count to plot (default the largest)")
    ap.add_argument("--plot-only", metavar="FILE.jsonl", help="redraw the table and SVG from a saved JSONL")
    ap.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    a = ap.parse_args()

    if a.plot_only:
        lines = load(a.plot_only)
        a.svg = a.svg or DEFAULT_SVG
    else:
        if any(e not in ENGINES for e in a.engines.split(",")):
            sys.exit("scale: --engines takes gan, torch or gan,torch")
        if a.steps < 1 or a.sg2_steps < 1 or a.warmup < 0 or a.rounds < 1:
            sys.exit("scale: --steps, --sg2-steps and --rounds must be >= 1, --warmup >= 0")
        points = parse_points(a.points, a.sg2_batch)
        threads_list = [int(t) for t in a.threads.split(",")]
        lines = measure(a, points, threads_list)
        if a.dry_run:
            return
    table(lines)
    if a.svg:
        threads = a.plot_threads or max(r["threads"] for r in lines)
        svg(lines, a.svg, threads, a.sg2_batch)


if __name__ == "__main__":
    main()
