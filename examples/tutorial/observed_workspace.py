#!/usr/bin/env python3
"""Puts observed counts into the workspace.json of a training run (docs/tutorial.md, step 4).

Training writes workspace.json with the held-out simulated events binned in the score and the
Asimov expectation as its observation. This script histograms the scores of the observed events
(the output of `agnostic predict` on the data file) in the same bins — soft_histogram's bins/range
or edges from the run's config.json — and writes a copy of the workspace whose observation of the
channel `summary` is those counts (weighted by the column --weight when given).

    /usr/bin/python3 examples/tutorial/observed_workspace.py RUN_DIR DATA_SCORES.csv --output WS.json
"""
import argparse
import json
import os

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the training output directory (workspace.json, config.json)")
    parser.add_argument("scores", help="agnostic predict's output for the observed events (column 'score')")
    parser.add_argument("--weight", help="a column of the scores file with event weights (--keep it in predict)")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(os.path.join(args.run, "workspace.json"), encoding="utf-8") as f:
        workspace = json.load(f)
    with open(os.path.join(args.run, "config.json"), encoding="utf-8") as f:
        binning = json.load(f).get("soft_histogram", {})
    if "edges" in binning:
        edges = np.asarray(binning["edges"], dtype=float)
    else:
        low, high = binning.get("range", [0.0, 1.0])
        edges = np.linspace(low, high, binning.get("bins", 20) + 1)
    table = np.genfromtxt(args.scores, delimiter=",", names=True)
    weights = table[args.weight] if args.weight else None
    counts, _ = np.histogram(np.clip(table["score"], edges[0], edges[-1]), edges, weights=weights)
    for observation in workspace["observations"]:
        if observation["name"] == "summary":
            if len(observation["data"]) != len(counts):
                raise SystemExit(f"{args.run}/workspace.json has {len(observation['data'])} bins, the config {len(counts)}")
            observation["data"] = counts.tolist()
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(workspace, f, indent=1)
    print(f"observed {counts.sum():g} events in {len(counts)} bins: {counts.tolist()} -> {args.output}")


if __name__ == "__main__":
    main()
