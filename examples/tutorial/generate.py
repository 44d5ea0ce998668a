#!/usr/bin/env python3
"""The events of docs/tutorial.md ("from your events to a limit"): one file per sample, as an analysis
has them — simulated signal and two simulated backgrounds with event weights, and the observed data.

Columns (every file): pt_lead, eta_lead, met, ht, njets (the network's inputs), mjj (a mass the
background's score must not sculpt: the classifier is decorrelated from it), weight (the event weight:
the simulated samples are normalised to the luminosity, data events weigh 1), label (0 background, 1
signal; -1 in data, never read), jes_up, jes_down (per-event weight factors of a jet-energy-scale-like
shape systematic: 1 in data).

  signal.csv   4000 simulated signal events, total weight 40 (the expected signal)
  ttbar.csv    6000 simulated ttbar-like background events, total weight 600
  wjets.npy    6000 simulated W+jets-like background events, total weight 400 (a structured .npy:
               one named field per column)
  data.csv     the observation: 1000 background events drawn from the same model (no signal: the
               limit should be near the expected one)

    /usr/bin/python3 examples/tutorial/generate.py [--directory examples/tutorial] [--seed 1]
"""
import argparse
import os

import numpy as np

COLUMNS = ["pt_lead", "eta_lead", "met", "ht", "njets", "mjj", "weight", "label", "jes_up", "jes_down"]


def draw(rng, n, kind):
    if kind == "signal":
        pt = rng.gamma(6.0, 12.0, n)
        met = rng.gamma(4.0, 15.0, n)
        njets = rng.poisson(3.0, n)
        mjj = rng.normal(125.0, 12.0, n)
    elif kind == "ttbar":
        pt = rng.gamma(4.0, 12.0, n)
        met = rng.gamma(3.0, 14.0, n)
        njets = rng.poisson(4.0, n)
        mjj = 40.0 + rng.exponential(60.0, n)
    else:  # wjets
        pt = rng.gamma(3.0, 12.0, n)
        met = rng.gamma(2.5, 15.0, n)
        njets = rng.poisson(1.5, n)
        mjj = 40.0 + rng.exponential(45.0, n)
    eta = rng.normal(0.0, 1.0 if kind == "signal" else 1.4, n)
    ht = pt + 30.0 * njets + rng.gamma(2.0, 10.0, n)
    if kind != "signal":
        ht += 0.4 * (mjj - 40.0)  # the background's ht grows with mjj: a score that uses ht sculpts mjj
    shift = np.clip(0.08 * (ht - 150.0) / 100.0, -0.3, 0.3)
    return np.column_stack([pt, eta, met, ht, njets, mjj, np.ones(n), np.full(n, 0 if kind != "signal" else 1),
                            1.0 + shift, 1.0 - shift])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--directory", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.directory, exist_ok=True)
    fmt = ["%.4f"] * 6 + ["%.6g", "%d", "%.5f", "%.5f"]
    header = ",".join(COLUMNS)
    for kind, events, total in (("signal", 4000, 40.0), ("ttbar", 6000, 600.0)):
        table = draw(rng, events, kind)
        table[:, 6] = total / events
        np.savetxt(os.path.join(args.directory, f"{kind}.csv"), table, delimiter=",", header=header, comments="", fmt=fmt)
    wjets = draw(rng, 6000, "wjets")
    wjets[:, 6] = 400.0 / 6000
    records = np.zeros(len(wjets), dtype=[(name, "<f8") for name in COLUMNS])
    for i, name in enumerate(COLUMNS):
        records[name] = wjets[:, i]
    np.save(os.path.join(args.directory, "wjets.npy"), records)
    data = np.vstack([draw(rng, 600, "ttbar"), draw(rng, 400, "wjets")])
    data[:, 7] = -1
    data[:, 8:] = 1.0
    np.savetxt(os.path.join(args.directory, "data.csv"), data[rng.permutation(len(data))], delimiter=",",
               header=header, comments="", fmt=fmt)


if __name__ == "__main__":
    main()
