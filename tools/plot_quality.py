#!/usr/bin/env python3
"""FID and recall against training wall-clock for several runs, as one SVG and a table, from
their metrics.jsonl (eval.every), with nothing but the standard library.

    python3 tools/plot_quality.py out.svg LABEL=RUN_DIR:IMAGES_PER_STEP:IMAGES_PER_SECOND ...
        [--minutes 15,30] [--max-minutes 35]

Each run's x axis is the images it had seen at an evaluation (step x IMAGES_PER_STEP) over its
clean training speed (IMAGES_PER_SECOND, measured alone on the machine, the evaluations not
counted), in minutes. So runs that shared the machine while they trained are still placed where
they would be had each run alone: the quality of a run at N images does not depend on the load
beside it, only its time does. The table gives each run's last evaluation at or before each of
the --minutes marks. Used for docs/evaluation.md's quality-per-minute plot.
"""
import argparse
import json
import os
import sys

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 800, 260, 60, 240, 28, 36
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"]


def load(spec):
    try:
        label, rest = spec.split("=", 1)
        run, per_step, per_s = rest.rsplit(":", 2)
        per_step, per_s = float(per_step), float(per_s)
    except ValueError:
        sys.exit("plot_quality: expected LABEL=RUN_DIR:IMAGES_PER_STEP:IMAGES_PER_SECOND, got %r" % spec)
    path = os.path.join(run, "metrics.jsonl")
    rows = []
    try:
        for n, line in enumerate(open(path), 1):
            try:
                r = json.loads(line)
            except ValueError:
                sys.exit("plot_quality: %s line %d: not JSON" % (path, n))
            if "fid" in r and "step" in r:
                rows.append({"minutes": r["step"] * per_step / per_s / 60, "step": r["step"],
                             "images": int(r["step"] * per_step), "fid": r["fid"], "recall": r.get("recall"),
                             "precision": r.get("precision")})
    except OSError as e:
        sys.exit("plot_quality: %s: %s" % (path, e.strerror))
    if not rows:
        sys.exit("plot_quality: %s has no evaluations (train with eval.every)" % path)
    return label, rows


def ticks(lo, hi, n=5):
    raw = (hi - lo) / n
    step = next(m for m in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if m >= raw) if raw >= 1 else 0.2
    t, out = 0.0, []
    while t <= hi + 1e-9:
        if t >= lo - 1e-9:
            out.append(t)
        t += step
    return out


def panel(runs, key, top, x1, y1, title):
    """One panel: key against minutes, each run a line; y from 0 to y1."""
    sx = lambda x: PAD_L + x / x1 * (W - PAD_L - PAD_R)
    sy = lambda y: top + PAD_T + (1 - min(y, y1) / y1) * (H - PAD_T - PAD_B)
    out = ['<text x="%d" y="%d" font-size="13" font-weight="bold">%s</text>' % (PAD_L, top + 16, title)]
    for t in ticks(0, x1):
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (sx(t), sy(0), sx(t), sy(y1)))
        out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%g</text>' % (sx(t), sy(0) + 14, t))
    for t in ticks(0, y1):
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (sx(0), sy(t), sx(x1), sy(t)))
        out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%g</text>' % (sx(0) - 4, sy(t) + 4, t))
    for i, (label, rows) in enumerate(runs):
        pts = [(r["minutes"], r[key]) for r in rows if r[key] is not None and r["minutes"] <= x1]
        if not pts:
            continue
        c = COLORS[i % len(COLORS)]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' %
                   (c, " ".join("%.1f,%.1f" % (sx(x), sy(y)) for x, y in pts)))
        for x, y in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (sx(x), sy(y), c))
        ly = top + PAD_T + 14 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>' %
                   (W - PAD_R + 10, ly, W - PAD_R + 28, ly, c))
        out.append('<text x="%d" y="%d" font-size="11">%s</text>' % (W - PAD_R + 32, ly + 4, label))
    out.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">minutes of training</text>' %
               ((sx(0) + sx(x1)) / 2, sy(0) + 28))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--minutes", default="15,30")
    ap.add_argument("--max-minutes", type=float, default=35)
    ap.add_argument("--max-fid", type=float, default=200)
    a = ap.parse_args()
    runs = [load(s) for s in a.runs]
    marks = [float(m) for m in a.minutes.split(",")]
    body = panel(runs, "fid", 0, a.max_minutes, a.max_fid, "FID (fmnist features, 10k samples vs the 10k test images)")
    body += panel(runs, "recall", H, a.max_minutes, 1.0, "recall")
    with open(a.out, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">\n' % (W, 2 * H))
        f.write('<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(body))
        f.write("\n</svg>\n")
    print("| run | " + " | ".join("at %g min: FID / recall (images)" % m for m in marks) + " |")
    print("|---|" + "---|" * len(marks))
    for label, rows in runs:
        cells = []
        for m in marks:
            before = [r for r in rows if r["minutes"] <= m + 1e-9]
            if not before or rows[-1]["minutes"] < m - 0.5:
                cells.append("not reached" if rows[-1]["minutes"] < m - 0.5 else "-")
                continue
            r = before[-1]
            cells.append("%.1f / %.3f (%dk)" % (r["fid"], r["recall"] or 0, r["images"] // 1000))
        print("| %s | %s |" % (label, " | ".join(cells)))


if __name__ == "__main__":
    main()
