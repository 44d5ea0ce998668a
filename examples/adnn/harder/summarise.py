#!/usr/bin/python3
"""The table of the harder ADNN study: results.jsonl (one line per run: label, seed, seconds and
evaluate.py's figures; the first line of a setting and seed counts) to a Markdown table of median and spread (min ... max) over the seeds, per
setting, in the order the settings first appear. Usage: summarise.py results.jsonl"""
import json
import sys

import numpy as np

runs, seen = [], set()
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        if (r["label"], r["seed"]) not in seen:  # a setting run again: its first run counts
            seen.add((r["label"], r["seed"]))
            runs.append(r)
labels = list(dict.fromkeys(r["label"] for r in runs))
cols = ["max_abs_b", "mean_ks", "accuracy", "seconds"]
print("| setting | seeds | " + " | ".join(f"{c} median (min ... max)" for c in cols) + " | max_abs_b per seed |")
print("|---|---|" + "---|" * (len(cols) + 1))
for label in labels:
    rs = [r for r in runs if r["label"] == label]
    cells = []
    for c in cols:
        v = np.array([r[c] for r in rs])
        fmt = "{:.0f}" if c == "seconds" else "{:.3f}"
        cells.append(f"{fmt.format(np.median(v))} ({fmt.format(v.min())} ... {fmt.format(v.max())})")
    per_seed = " / ".join(f"{r['max_abs_b']:.3f}" for r in sorted(rs, key=lambda r: r["seed"]))
    print(f"| {label} | {len(rs)} | " + " | ".join(cells) + f" | {per_seed} |")
