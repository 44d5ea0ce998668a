#!/usr/bin/env python3
"""Events for the cGAN quick example (examples/generative/run.sh, docs/cgan.md): a bump hunt in the spirit
of Chisholm et al. (arXiv:2112.00650) sec. 3, on one condition xc (a mass-like variable in [0, 1]) and
one feature xs (a classifier-like score in (0, 1)).

  background  xc ~ exp(-2 xc) on [0, 1]; xs = sigmoid(N(-1 + 1.5 xc, 1)): its shape moves with xc
  signal      xc ~ N(0.5, 0.02), xs = sigmoid(N(2.5, 0.7)): a narrow bump at high xs

Files written into --directory:
  events.csv   the "data": background and signal (--signal events) with columns xc, xs
  window.csv   background conditions (xc only) inside the blinded window [0.45, 0.55], as many rows as
               background events are expected there: where `agnostic template` generates. (Drawn from the
               true density here for brevity; in an analysis they come from a fit of the sidebands.)
  signal.csv   a signal sample of the expected size (the signal template)

    /usr/bin/python3 examples/generative/generate.py --background 20000 --signal 150 --directory DIR
"""
import argparse
import os

import numpy as np

WINDOW = (0.45, 0.55)


def background(rng, n):
    u = rng.random(n)
    xc = -np.log(1.0 - u * (1.0 - np.exp(-2.0))) / 2.0  # inverse CDF of exp(-2 x) on [0, 1]
    xs = 1.0 / (1.0 + np.exp(-rng.normal(-1.0 + 1.5 * xc, 1.0)))
    return np.column_stack([xc, xs])


def signal(rng, n):
    xc = rng.normal(0.5, 0.02, n)
    xs = 1.0 / (1.0 + np.exp(-rng.normal(2.5, 0.7, n)))
    return np.column_stack([xc, xs])


def write(path, rows, header):
    np.savetxt(path, rows, delimiter=",", header=header, comments="", fmt="%.6f")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--background", type=int, default=20000)
    parser.add_argument("--signal", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--directory", default=".")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    data = np.vstack([background(rng, args.background), signal(rng, args.signal)])
    write(os.path.join(args.directory, "events.csv"), data[rng.permutation(len(data))], "xc,xs")
    # the background expected in the window: its share of the exponential times the background count
    share = (np.exp(-2 * WINDOW[0]) - np.exp(-2 * WINDOW[1])) / (1 - np.exp(-2.0))
    window = []
    while len(window) < round(share * args.background):
        xc = background(rng, 1000)[:, 0]
        window.extend(xc[(xc >= WINDOW[0]) & (xc <= WINDOW[1])])
    write(os.path.join(args.directory, "window.csv"), np.array(window[: round(share * args.background)]), "xc")
    write(os.path.join(args.directory, "signal.csv"), signal(rng, args.signal), "xc,xs")


if __name__ == "__main__":
    main()
