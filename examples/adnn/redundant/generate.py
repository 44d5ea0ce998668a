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
model_mean, the files and columns) is that of ../harder/generate.py, whose functions draw and write the
events, so ../harder's run.sh, evaluate.py, summarise.py and invariant_subspace.py serve both.

Usage: generate.py OUT_DIR [--seed S] [--scale F]
Writes OUT_DIR/train_adnn.csv (background, ggH, the signal of all seven models in equal shares),
OUT_DIR/train_dnn.csv (the same background and ggH, the signal from the SM only) and
OUT_DIR/test.csv (large samples of every process and model, for templates and Asimov fits).
Columns: f0 ... f11, process (bkg, ggh, sig), model (sm, bsm1 ... bsm6; "none" off the signal).
"""
import importlib.util
import os
import sys

import numpy as np

# ../harder/generate.py's sampling and writing, with this module's constants (its `spec`)
_where = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harder", "generate.py")
_loader = importlib.util.spec_from_file_location("adnn_harder_generate", _where)
harder = importlib.util.module_from_spec(_loader)
_loader.loader.exec_module(harder)

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


def model_mean(shift):
    return harder.model_mean(shift, sys.modules[__name__])


if __name__ == "__main__":
    harder.main(sys.modules[__name__])
