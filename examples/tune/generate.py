#!/usr/bin/env python3
"""Events for the hyper-parameter search example (examples/tune/run.sh, docs/distributed.md): two
classes in six features, separated by a non-linear boundary (signal inside a shell of radius ~1.2 in
x0..x2, a product x3 * x4 that differs in sign), so that the network's size and learning rate matter.

    /usr/bin/python3 examples/tune/generate.py --events 10000 --seed 1 --output events.csv
"""
import argparse

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="events.csv")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.events
    label = np.arange(n) % 2
    x = rng.normal(0.0, 1.0, size=(n, 6))
    radius = np.linalg.norm(x[:, :3], axis=1)
    x[:, :3] *= np.where(label == 1, rng.normal(1.2, 0.25, n) / np.maximum(radius, 1e-9), 1.0)[:, None]
    x[:, 4] = np.where(label == 1, 1, -1) * np.abs(x[:, 4]) * np.sign(x[:, 3]) + rng.normal(0.0, 0.8, n)
    np.savetxt(args.output, np.column_stack([x, label]), delimiter=",",
               header="x0,x1,x2,x3,x4,x5,label", comments="", fmt=["%.6f"] * 6 + ["%d"])


if __name__ == "__main__":
    main()
