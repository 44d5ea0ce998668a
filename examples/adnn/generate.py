#!/usr/bin/env python3
"""Events for the ADNN quick example (examples/adnn/run.sh, docs/adnn.md): one background and a signal
whose kinematics depend on the signal model, as the SM and EFT signals of Camaiani et al.
(arXiv:2207.09293).

Five features x0..x4. Background (label "bkg") is N(0, 1) in each. The signal (label "sig") is shifted
in x0..x2 for every model; its x3 grows with the model (model "SM" 0, "BSM1" +0.6, "BSM2" +1.2 and
wider), so a plain classifier's output depends on which signal model nature chose — what the
adversary, guessing the model from the classifier, removes. The background's model column is empty:
ADNN never reads it.

    /usr/bin/python3 examples/adnn/generate.py --events 20000 --seed 1 --output events.csv
"""
import argparse

import numpy as np

MODELS = (("SM", 0.0, 1.0), ("BSM1", 0.6, 1.2), ("BSM2", 1.2, 1.5))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000, help="background events (as many signal, spread over the models)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", default="events.csv")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.events
    lines = ["x0,x1,x2,x3,x4,label,model"]
    background = rng.normal(0.0, 1.0, size=(n, 5))
    lines += [",".join(f"{v:.6f}" for v in row) + ",bkg," for row in background]
    for k, (name, shift, width) in enumerate(MODELS):
        m = n // len(MODELS)
        x = rng.normal(0.0, 1.0, size=(m, 5))
        x[:, :3] += np.array([0.8, 0.5, -0.4])
        x[:, 3] = shift + width * x[:, 3]
        lines += [",".join(f"{v:.6f}" for v in row) + f",sig,{name}" for row in x]
    order = rng.permutation(len(lines) - 1)
    with open(args.output, "w", encoding="ascii") as out:
        out.write(lines[0] + "\n")
        for i in order:
            out.write(lines[i + 1] + "\n")


if __name__ == "__main__":
    main()
