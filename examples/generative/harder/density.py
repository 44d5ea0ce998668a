#!/usr/bin/env python3
"""A harder density for the cGAN study of issue 19 item 4 (examples/generative/harder/README.md): one
condition xc, uniform on [0, 1], and one feature x whose conditional law changes strongly with xc:

    x | xc  =  mu(xc) + s(xc) * Z,    Z ~ (1 - f(xc)) N(0, 1) + f(xc) N(2, 1.5^2)
    mu(xc) = xc - 0.5        (the location moves)
    s(xc)  = 0.5 + xc        (the width grows by a factor 3 over [0, 1])
    f(xc)  = 0.1 + 0.3 xc    (the skewed component's share grows by a factor 4)

so the conditional CDF is exact: F(x | xc) = (1 - f) Phi(u) + f Phi((u - 2) / 1.5), u = (x - mu) / s.
The tail is x > 1 (a fixed cut, as an analysis would make): its fraction is 0.062 at xc = 0.1, 0.306 at
xc = 0.5 and 0.53 at xc = 0.9. The blinded window is 0.45 <= xc <= 0.55.

    density.py events --events N --seed S --output events.csv       events (xc, x)
    density.py conditions --rows N --directory DIR                    edge_0.1.csv, edge_0.9.csv, window.csv
    density.py evaluate --directory DIR [--setting NAME --seed S --wall W] >> results.jsonl
        K-S distance of DIR/gen_edge_0.1.csv, gen_edge_0.9.csv, gen_window.csv (agnostic generate) to
        the exact law, and the relative error of their tail fractions; one JSON line
    density.py table results.jsonl          median and min-max over seeds, per setting (markdown)
"""
import argparse
import json
import sys

import numpy as np
from scipy.special import ndtr

WINDOW = (0.45, 0.55)
EDGES = (0.1, 0.9)
TAIL_CUT = 1.0


def location(xc):
    return xc - 0.5


def width(xc):
    return 0.5 + xc


def skewed_share(xc):
    return 0.1 + 0.3 * xc


def draw(rng, xc):
    u = rng.normal(0.0, 1.0, len(xc))
    skewed = rng.random(len(xc)) < skewed_share(xc)
    u[skewed] = rng.normal(2.0, 1.5, skewed.sum())
    return location(xc) + width(xc) * u


def cdf(x, xc):
    """F(x | xc), exact; x and xc broadcast."""
    u = (x - location(xc)) / width(xc)
    f = skewed_share(xc)
    return (1.0 - f) * ndtr(u) + f * ndtr((u - 2.0) / 1.5)


def window_cdf(x):
    """F(x | xc in the window), xc uniform there: the conditional CDF averaged (midpoint rule, 200 points)."""
    grid = WINDOW[0] + (np.arange(200) + 0.5) * (WINDOW[1] - WINDOW[0]) / 200
    return np.mean([cdf(x, c) for c in grid], axis=0)


def ks_distance(sample, law):
    x = np.sort(sample)
    n = len(x)
    f = law(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def write(path, rows, header):
    np.savetxt(path, rows, delimiter=",", header=header, comments="", fmt="%.7g")


def events(args):
    rng = np.random.default_rng(args.seed)
    xc = rng.random(args.events)
    write(args.output, np.column_stack([xc, draw(rng, xc)]), "xc,x")


def conditions(args):
    rng = np.random.default_rng(12345)
    for edge in EDGES:
        write(f"{args.directory}/edge_{edge}.csv", np.full(args.rows, edge), "xc")
    write(f"{args.directory}/window.csv", rng.uniform(*WINDOW, args.rows), "xc")


def regions():
    """(name, conditions file stem, exact CDF)"""
    out = [(f"edge_{e}", f"edge_{e}", (lambda e: lambda x: cdf(x, e))(e)) for e in EDGES]
    out.append(("window", "window", window_cdf))
    return out


def evaluate(args):
    result = {"setting": args.setting, "seed": args.seed, "wall_s": args.wall}
    for name, stem, law in regions():
        generated = np.loadtxt(f"{args.directory}/gen_{stem}.csv", delimiter=",", skiprows=1)[:, 1]
        true_tail = 1.0 - float(law(np.array([TAIL_CUT]))[0])
        tail = float(np.mean(generated > TAIL_CUT))
        result[f"ks_{name}"] = ks_distance(generated, law)
        result[f"tail_relative_{name}"] = (tail - true_tail) / true_tail
    result["ks_max"] = max(result[f"ks_{n}"] for n, _, _ in regions())
    result["tail_relative_max"] = max(abs(result[f"tail_relative_{n}"]) for n, _, _ in regions())
    print(json.dumps(result))


def table(args):
    rows = [json.loads(line) for line in open(args.results, encoding="utf-8") if line.strip()]
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    figures = ["ks_edge_0.1", "ks_edge_0.9", "ks_window", "tail_relative_edge_0.1", "tail_relative_edge_0.9",
               "tail_relative_window"]
    print("| setting | seeds | " + " | ".join(figures) + " | wall s |")
    print("| --- | --- |" + " --- |" * (len(figures) + 1))
    for s in settings:
        mine = {r["seed"]: r for r in rows if r["setting"] == s}.values()  # a seed counts once (the last)
        cells = []
        for f in figures:
            v = np.array([abs(r[f]) for r in mine])
            scale = 100.0 if f.startswith("tail") else 1.0
            fmt = "%.1f" if f.startswith("tail") else "%.3f"
            cells.append((fmt + " (" + fmt + "-" + fmt + ")") % (np.median(v) * scale, v.min() * scale,
                                                                v.max() * scale))
        wall = np.median([r["wall_s"] for r in mine])
        print(f"| {s} | {len(mine)} | " + " | ".join(cells) + f" | {wall:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("events")
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--output", required=True)
    p.set_defaults(run=events)
    p = sub.add_parser("conditions")
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--directory", required=True)
    p.set_defaults(run=conditions)
    p = sub.add_parser("evaluate")
    p.add_argument("--directory", required=True)
    p.add_argument("--setting", default="")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wall", type=float, default=0.0)
    p.set_defaults(run=evaluate)
    p = sub.add_parser("table")
    p.add_argument("results")
    p.set_defaults(run=table)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
