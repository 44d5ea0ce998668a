#!/usr/bin/env python3
"""Control-region ("generation region") events for the ancestral-sampling quick example
(examples/ancestral/run.sh, docs/sampling.md; Chisholm et al., arXiv:2112.00650 sec. 2), and an
observed signal-region sample.

Three variables: m in [0, 1] (density x e^{-6x}, a rising edge then a fall, like a diphoton mass),
pt in [0, 1] correlated with m (pt = clip(0.6 m + N(0.2, 0.15))), and iso in [0, 1] independent of both
(exponential). The signal region is iso < 0.2. generation_region.csv holds the control events;
observed.csv holds an independent draw of the same background in the signal region plus a small
bump at m = 0.3 (--signal events): what `agnostic template` takes as the observation.

    /usr/bin/python3 examples/ancestral/generate.py --events 20000 --signal 60 --directory DIR
"""
import argparse
import os

import numpy as np


def draw(rng, n):
    m = rng.gamma(2.0, 1.0 / 6.0, 3 * n)
    m = m[m < 1.0][:n]
    pt = np.clip(0.6 * m + rng.normal(0.2, 0.15, n), 0.0, 0.999999)
    iso = np.clip(rng.exponential(0.3, n), 0.0, 0.999999)
    return np.column_stack([m, pt, iso])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--signal", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--directory", default=".")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    header, fmt = "m,pt,iso", "%.6f"
    np.savetxt(os.path.join(args.directory, "generation_region.csv"), draw(rng, args.events), delimiter=",",
               header=header, comments="", fmt=fmt)
    background = draw(rng, args.events)
    signal = np.column_stack([rng.normal(0.3, 0.02, args.signal), rng.uniform(0.3, 0.5, args.signal),
                              rng.uniform(0.0, 0.2, args.signal)])
    observed = np.vstack([background, signal])
    observed = observed[observed[:, 2] < 0.2]
    np.savetxt(os.path.join(args.directory, "observed.csv"), observed, delimiter=",", header=header,
               comments="", fmt=fmt)


if __name__ == "__main__":
    main()
