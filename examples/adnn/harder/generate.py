#!/usr/bin/python3
"""The harder ADNN analogue of issue 19: three classes as in Camaiani et al. (arXiv:2207.09293)
(background, a ggH-like process, a VBF-like signal), 12 features, the signal from the SM and SIX
alternative models whose kinematics move the signal towards (or away from) the other classes, so
that a plain classifier trained on the SM signal gives signal-strength biases of 30 % and more.

Each process is a correlated Gaussian in a latent space (12 dimensions, unit widths, correlation
0.3 within the blocks jets 0-3, leptons 4-7, event 8-11), shifted per process; five features are
then made positive and skewed like momenta and masses (exp), the others stay as they are.
An alternative model m moves the SM signal's mean by s_m along its own direction and widens some
of its features: which features and how far is the table MODELS below (written for this study,
no one tuned the ADNN on it).

Usage: generate.py OUT_DIR [--seed S] [--scale F]
(../redundant/generate.py is another analogue made with this file's functions: `spec`, below, is the
module whose FEATURES, covariance(), POSITIVE, MU_BKG, MU_GGH, MU_SM and MODELS they use; this one's by
default.)
Writes OUT_DIR/train_adnn.csv (background, ggH, the signal of all seven models in equal shares),
OUT_DIR/train_dnn.csv (the same background and ggH, the signal from the SM only) and
OUT_DIR/test.csv (large samples of every process and model, for templates and Asimov fits).
Columns: f0 ... f11, process (bkg, ggh, sig), model (sm, bsm1 ... bsm6; "none" off the signal).
"""
import argparse
import os
import sys

import numpy as np

FEATURES = 12
MU_BKG = np.zeros(FEATURES)
MU_GGH = np.array([0.0, 0.0, 0.2, 0.2, 0.9, 0.9, 0.9, 0.9, 0.3, 0.3, 0.0, 0.0])
MU_SM = np.array([1.2, 1.2, 1.0, 1.0, 0.8, 0.8, 0.8, 0.8, 0.3, 0.3, 0.5, 0.5])
# (name, shift of the latent mean, width factors by feature index)
MODELS = [
    ("sm", {}, {}),
    ("bsm1", {0: -0.6, 1: -0.6}, {}),                           # smaller di-jet mass and gap
    ("bsm2", {2: 0.8, 3: 0.8, 0: 0.3}, {2: 1.3, 3: 1.3}),        # harder jets
    ("bsm3", {4: -0.6, 5: -0.6, 6: -0.4, 7: -0.4}, {}),         # softer leptons
    ("bsm4", {10: -0.7, 11: -0.7, 1: -0.3}, {}),                # less central, smaller gap
    ("bsm5", {0: -0.6, 1: -0.6, 4: 0.3, 5: 0.3}, {0: 1.4}),     # ggH-like
    ("bsm6", {0: -0.45, 1: -0.45, 2: -0.3, 3: -0.3, 10: -0.3, 11: -0.3}, {1: 1.3}),  # background-like
]
POSITIVE = {0: 400.0, 2: 80.0, 3: 50.0, 4: 40.0, 5: 25.0}  # exp-transformed: scale * exp(0.5 z)


def covariance():
    c = np.eye(FEATURES)
    for block in (range(0, 4), range(4, 8), range(8, 12)):
        for i in block:
            for j in block:
                if i != j:
                    c[i, j] = 0.3
    return c


def sample(rng, n, mean, widths, spec=None):
    spec = spec or sys.modules[__name__]
    z = rng.multivariate_normal(np.zeros(spec.FEATURES), spec.covariance(), size=n)
    scale = np.ones(spec.FEATURES)
    for k, w in widths.items():
        scale[k] = w
    z = z * scale + mean
    x = z.copy()
    for k, s in spec.POSITIVE.items():
        x[:, k] = s * np.exp(0.5 * z[:, k])
    return x


def model_mean(shift, spec=None):
    mean = (spec or sys.modules[__name__]).MU_SM.copy()
    for k, s in shift.items():
        mean[k] += s
    return mean


def write(path, blocks, features=FEATURES):
    with open(path, "w") as out:
        out.write(",".join(f"f{k}" for k in range(features)) + ",process,model\n")
        rows = []
        for x, process, model in blocks:
            for r in x:
                rows.append(",".join(f"{v:.6g}" for v in r) + f",{process},{model}\n")
        order = np.random.default_rng(12345).permutation(len(rows))
        out.writelines(rows[i] for i in order)


def main(spec=None):
    spec = spec or sys.modules[__name__]
    parser = argparse.ArgumentParser(description=spec.__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every sample size")
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    n_train = int(21000 * a.scale)  # per class (3000 signal events per model)
    n_test = int(20000 * a.scale)  # per process and per model

    def draw(n, mean, widths):
        return sample(rng, n, mean, widths, spec)

    bkg, ggh = draw(n_train, spec.MU_BKG, {}), draw(n_train, spec.MU_GGH, {})
    per_model = n_train // len(spec.MODELS)
    sig_all = [(draw(per_model, model_mean(s, spec), w), "sig", name) for name, s, w in spec.MODELS]
    f = spec.FEATURES
    write(os.path.join(a.out, "train_adnn.csv"), [(bkg, "bkg", "none"), (ggh, "ggh", "none")] + sig_all, f)
    write(os.path.join(a.out, "train_dnn.csv"),
          [(bkg, "bkg", "none"), (ggh, "ggh", "none"), (draw(n_train, spec.MU_SM, {}), "sig", "sm")], f)
    test = [(draw(n_test, spec.MU_BKG, {}), "bkg", "none"), (draw(n_test, spec.MU_GGH, {}), "ggh", "none")]
    test += [(draw(n_test, model_mean(s, spec), w), "sig", name) for name, s, w in spec.MODELS]
    write(os.path.join(a.out, "test.csv"), test, f)


if __name__ == "__main__":
    main()
