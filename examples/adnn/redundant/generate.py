#!/usr/bin/python3
"""An ADNN analogue of issue 19 where invariance CAN be reached: three classes as in Camaiani et al.
(arXiv:2207.09293) (background, a ggH-like process, a VBF-like signal), 12 features, the signal from
the SM and SIX alternative models, built so that the features in which the models differ are partly
REDUNDANT for classification (as in Camaiani et al., where the discriminating information is also carried
by features the alternative models do not change).

Six quantities (jets 0-1, leptons 2-3, event 4-5) are each seen by two features: f_i and f_{i+6}
(i = 0 ... 5), two measurements of one latent quantity with correlation RHO between them; the classes
differ in the latent quantities (both measurements of a quantity move together). An alternative model
m moves the SM signal's FIRST measurements f_i only (the table MODELS below: its kinematics change what
f_i sees, not f_{i+6}), by up to 1.2 latent widths, so a classifier that averages both measurements is
biased, while one that reads the second measurements alone is exactly invariant and, since RHO is
large, nearly as accurate (invariant_subspace.py in ../harder gives both figures).

Each process is a correlated Gaussian in the latent space (unit widths, RHO within a pair, 0.2 between
quantities of a block), shifted per process; five features are then made positive and skewed like
momenta and masses (exp), the others stay as they are. The interface (covariance, MU_*, MODELS,
model_mean, main's files and columns) is that of ../harder/generate.py, so ../harder's run.sh,
evaluate.py, summarise.py and invariant_subspace.py serve both.

Usage: generate.py OUT_DIR [--seed S] [--scale F]
Writes OUT_DIR/train_adnn.csv (background, ggH, the signal of all seven models in equal shares),
OUT_DIR/train_dnn.csv (the same background and ggH, the signal from the SM only) and
OUT_DIR/test.csv (large samples of every process and model, for templates and Asimov fits).
Columns: f0 ... f11, process (bkg, ggh, sig), model (sm, bsm1 ... bsm6; "none" off the signal).
"""
import argparse
import os

import numpy as np

FEATURES = 12
QUANTITIES = 6  # feature i and i + 6 measure quantity i
RHO = 0.8  # correlation of the two measurements of one quantity
BLOCK_RHO = 0.2  # correlation between the quantities of a block (jets, leptons, event)
# latent means of the six quantities per process; both measurements share them
Q_BKG = np.zeros(QUANTITIES)
Q_GGH = np.array([0.1, 0.2, 0.9, 0.9, 0.3, 0.0])
Q_SM = np.array([1.0, 1.0, 0.6, 0.6, 0.3, 0.6])
MU_BKG, MU_GGH, MU_SM = (np.concatenate([q, q]) for q in (Q_BKG, Q_GGH, Q_SM))
# (name, shift of the latent mean by feature index: first measurements 0-5 only, width factors)
MODELS = [
    ("sm", {}, {}),
    ("bsm1", {0: -1.2}, {}),                  # smaller di-jet mass
    ("bsm2", {1: 1.0, 0: 0.4}, {}),           # larger rapidity gap, harder jets
    ("bsm3", {2: -1.0, 3: -0.6}, {}),         # softer leptons
    ("bsm4", {5: -1.2}, {}),                  # less central
    ("bsm5", {0: -0.8, 2: 0.6}, {}),          # ggH-like
    ("bsm6", {0: -0.7, 1: -0.7, 5: -0.5}, {}),  # background-like
]
POSITIVE = {0: 400.0, 2: 80.0, 3: 50.0, 6: 380.0, 8: 75.0}  # exp-transformed: scale * exp(0.5 z)


def covariance():
    c = np.eye(FEATURES)
    block_of = [0, 0, 1, 1, 2, 2]
    for i in range(FEATURES):
        for j in range(FEATURES):
            qi, qj = i % QUANTITIES, j % QUANTITIES
            if i == j:
                continue
            if qi == qj:
                c[i, j] = RHO
            elif block_of[qi] == block_of[qj]:
                c[i, j] = BLOCK_RHO * (RHO if (i < QUANTITIES) != (j < QUANTITIES) else 1.0)
    return c


def sample(rng, n, mean, widths):
    z = rng.multivariate_normal(np.zeros(FEATURES), covariance(), size=n)
    scale = np.ones(FEATURES)
    for k, w in widths.items():
        scale[k] = w
    z = z * scale + mean
    x = z.copy()
    for k, s in POSITIVE.items():
        x[:, k] = s * np.exp(0.5 * z[:, k])
    return x


def model_mean(shift):
    mean = MU_SM.copy()
    for k, s in shift.items():
        mean[k] += s
    return mean


def write(path, blocks):
    with open(path, "w") as out:
        out.write(",".join(f"f{k}" for k in range(FEATURES)) + ",process,model\n")
        rows = []
        for x, process, model in blocks:
            for r in x:
                rows.append(",".join(f"{v:.6g}" for v in r) + f",{process},{model}\n")
        order = np.random.default_rng(12345).permutation(len(rows))
        out.writelines(rows[i] for i in order)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every sample size")
    a = parser.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    n_train = int(21000 * a.scale)  # per class (3000 signal events per model)
    n_test = int(20000 * a.scale)  # per process and per model
    bkg, ggh = sample(rng, n_train, MU_BKG, {}), sample(rng, n_train, MU_GGH, {})
    per_model = n_train // len(MODELS)
    sig_all = [(sample(rng, per_model, model_mean(s), w), "sig", name) for name, s, w in MODELS]
    write(os.path.join(a.out, "train_adnn.csv"), [(bkg, "bkg", "none"), (ggh, "ggh", "none")] + sig_all)
    write(os.path.join(a.out, "train_dnn.csv"),
          [(bkg, "bkg", "none"), (ggh, "ggh", "none"), (sample(rng, n_train, MU_SM, {}), "sig", "sm")])
    test = [(sample(rng, n_test, MU_BKG, {}), "bkg", "none"), (sample(rng, n_test, MU_GGH, {}), "ggh", "none")]
    test += [(sample(rng, n_test, model_mean(s), w), "sig", name) for name, s, w in MODELS]
    write(os.path.join(a.out, "test.csv"), test)


if __name__ == "__main__":
    main()
