#!/usr/bin/env python3
"""Events for the DANN example (examples/dann/run.sh, docs/dann.md): two "generators" of the same process.

Eight features x0..x7. Signal (label 1) and background (label 0) differ in the means of x0..x3; the
source domain (domain 0, e.g. the simulation the labels come from) and the target domain (domain 1,
e.g. another generator or the data) differ in x0, x1 and x4: the target's are wider and shifted, as
a different parton shower would make them. Target events carry label -1: DANN never reads them.
Signal is 50 % of the source and 20 % of the target (config.json's target_signal_fraction).

    /usr/bin/python3 examples/dann/generate.py --events 20000 --seed 1 --output events.csv
"""
import argparse

import numpy as np


def draw(rng, n, signal_fraction, target):
    label = (rng.random(n) < signal_fraction).astype(int)
    x = rng.normal(0.0, 1.0, size=(n, 8))
    x[:, :4] += 0.6 * label[:, None] * np.array([1.0, -0.8, 0.6, 0.5])
    x[:, 5] += 0.3 * label * x[:, 0]  # a correlation the classifier can use
    if target:
        x[:, 0] = 1.3 * x[:, 0] + 0.4
        x[:, 1] = 1.2 * x[:, 1] - 0.3
        x[:, 4] += 0.5 * np.abs(x[:, 0])
    return x, label


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="events per domain")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="events.csv")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    for domain, fraction in ((0, 0.5), (1, 0.2)):
        x, label = draw(rng, args.events, fraction, domain == 1)
        written_label = label if domain == 0 else np.full(args.events, -1)
        rows.append(np.column_stack([x, written_label, np.full(args.events, domain)]))
    table = np.vstack(rows)
    header = ",".join([f"x{i}" for i in range(8)] + ["label", "domain"])
    np.savetxt(args.output, table, delimiter=",", header=header, comments="",
               fmt=["%.6f"] * 8 + ["%d", "%d"])


if __name__ == "__main__":
    main()
