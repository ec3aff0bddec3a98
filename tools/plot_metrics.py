#!/usr/bin/env python3
"""Loss curves of a run as an SVG, from its metrics.jsonl, with nothing but the standard library.

    python3 tools/plot_metrics.py runs/NAME/metrics.jsonl out.svg [--keys loss_d,loss_g]

One panel per key, step on the x axis. Used for the plots in docs/.
"""
import argparse
import json
import math
import sys

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 200, 56, 16, 24, 30
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def nice_ticks(lo, hi, n=4):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    start = int(lo / step) * step
    ticks, t = [], start
    while t <= hi + 1e-9:
        if t >= lo - 1e-9:
            ticks.append(t)
        t += step
    return ticks


def panel(rows, key, color, top):
    xs = [r["step"] for r in rows]
    ys = [r[key] for r in rows]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y1 == y0:
        y1 = y0 + 1
    sx = lambda x: PAD_L + (x - x0) / max(x1 - x0, 1) * (W - PAD_L - PAD_R)
    sy = lambda y: top + PAD_T + (1 - (y - y0) / (y1 - y0)) * (H - PAD_T - PAD_B)
    out = [f'<text x="{PAD_L}" y="{top + 16}" font-size="13" font-weight="bold">{key}</text>']
    for t in nice_ticks(y0, y1):
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{sy(t) + 4:.1f}" font-size="11" text-anchor="end">{t:g}</text>')
    for t in nice_ticks(x0, x1):
        out.append(f'<text x="{sx(t):.1f}" y="{top + H - 10}" font-size="11" text-anchor="middle">{t:g}</text>')
    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
    out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>')
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("metrics")
    ap.add_argument("out")
    ap.add_argument("--keys", default="loss_d,loss_g,d_x,d_g_z1")
    args = ap.parse_args()
    with open(args.metrics) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        sys.exit(f"{args.metrics}: no metrics")
    keys = args.keys.split(",")
    body = []
    for i, key in enumerate(keys):
        body += panel(rows, key, COLORS[i % len(COLORS)], i * H)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H * len(keys)}" '
           f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
           + "".join(body) + "</svg>\n")
    with open(args.out, "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
