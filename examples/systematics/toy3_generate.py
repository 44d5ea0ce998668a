#!/usr/bin/env python3
"""Three-class version of 004's two-Gaussian toy, for the multi-class penalty (docs/systematics.md).

Classes (label y): 0 background at (1, 1), 1 background at (-1, 1), 2 signal at (0, 0); each event's
(x1, x2) is drawn from N(mean, 1) per coordinate, the classes in turn (y = i mod 3). The systematic
of toy3.json shifts class 0's x2 by +-1 (a "shift" entry: no weight columns are needed).

    python3 examples/systematics/toy3_generate.py --events 30000 --seed 1 --output toy3.csv
"""
import argparse
import random

MEANS = ((1.0, 1.0), (-1.0, 1.0), (0.0, 0.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="toy3.csv")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.output, "w", encoding="ascii") as out:
        out.write("x1,x2,y\n")
        for i in range(args.events):
            y = i % 3
            x1 = rng.gauss(MEANS[y][0], 1.0)
            x2 = rng.gauss(MEANS[y][1], 1.0)
            out.write(f"{x1:.6f},{x2:.6f},{y}\n")


if __name__ == "__main__":
    main()
