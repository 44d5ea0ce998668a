#!/usr/bin/env python3
"""Wunsch et al. (arXiv:1907.11674) sec. 2's two-Gaussian toy, written with numpy (no PyTorch):
the events of examples/systematics/toy.json and of examples/systematics/run.sh.

  signal (y = 1)      (x1, x2) ~ N((0, 0), [[1, -rho], [-rho, 1]]), rho = 0.5 (Wunsch et al. Fig. 1)
  background (y = 0)  (x1, x2) ~ N((1, 1), 1)
Classes alternate (y = i mod 2). The systematic (toy.json) shifts the background's x2 by +-1 in
training; it needs no column. toy_reference.py draws the same distributions with PyTorch.

    /usr/bin/python3 examples/systematics/toy_generate.py --events 20000 --seed 1 --output toy004.csv
"""
import argparse

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rho", type=float, default=0.5)
    parser.add_argument("--output", default="toy004.csv")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    y = np.arange(args.events) % 2
    signal = rng.multivariate_normal([0.0, 0.0], [[1.0, -args.rho], [-args.rho, 1.0]], size=args.events)
    background = rng.normal(1.0, 1.0, size=(args.events, 2))
    x = np.where(y[:, None] == 1, signal, background)
    np.savetxt(args.output, np.column_stack([x, y]), delimiter=",", header="x1,x2,y", comments="",
               fmt=["%.6f", "%.6f", "%d"])


if __name__ == "__main__":
    main()
