#!/usr/bin/python3
"""Figures of one classifier on the harder ADNN analogue (generate.py), from its scores on test.csv
(`agnostic predict ... --keep process --keep model`, or any CSV with the columns process, model,
score_bkg, score_ggh, score_sig):

- accuracy: three-class accuracy on background, ggH and the SM signal (equal numbers of each);
- mean_ks: mean over the six alternative models of the K-S distance between the signal-class score
  of that model's signal and of the SM's (Camaiani et al., arXiv:2207.09293);
- b_<model>: the bias of the signal strength fitted on an Asimov data set background + ggH +
  mu x (that model's signal), mu = 1, with the SM signal template (10 equal bins of the signal-class
  score), background and ggH templates, yields 3000 / 400 / 300 and a 5 % background
  normalisation uncertainty, as examples/adnn; b = mu_hat - 1;
- max_abs_b: the largest |b| over the six alternatives.

Usage: evaluate.py SCORES.csv [LABEL]   prints one JSON object.
"""
import csv
import json
import sys

import numpy as np
from scipy.optimize import minimize

YIELDS = {"bkg": 3000.0, "ggh": 400.0, "sig": 300.0}
BINS = np.linspace(0.0, 1.0, 11)
MODELS = ["sm", "bsm1", "bsm2", "bsm3", "bsm4", "bsm5", "bsm6"]


def ks(a, b):
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, "right") / len(a) -
                               np.searchsorted(b, grid, "right") / len(b))))


def template(scores):
    h, _ = np.histogram(np.clip(scores, 0.0, 1.0), BINS)
    return h / h.sum()


def fit_mu(data, bkg, ggh, sig):
    def nll(p):
        mu, theta = p
        nu = (1.0 + 0.05 * theta) * (YIELDS["bkg"] * bkg + YIELDS["ggh"] * ggh) + mu * YIELDS["sig"] * sig
        nu = np.maximum(nu, 1e-12)
        return float(np.sum(nu - data * np.log(nu)) + 0.5 * theta * theta)
    return minimize(nll, [1.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9}).x[0]


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    process = np.array([r["process"] for r in rows])
    model = np.array([r["model"] for r in rows])
    s = np.array([[float(r["score_bkg"]), float(r["score_ggh"]), float(r["score_sig"])] for r in rows])
    sig = process == "sig"
    sm = sig & (model == "sm")
    pick = (process != "sig") | sm
    truth = np.where(process == "bkg", 0, np.where(process == "ggh", 1, 2))
    out = {"label": sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]}
    out["accuracy"] = float(np.mean(np.argmax(s[pick], axis=1) == truth[pick]))
    t_bkg, t_ggh, t_sm = template(s[process == "bkg", 2]), template(s[process == "ggh", 2]), template(s[sm, 2])
    out["mean_ks"] = float(np.mean([ks(s[sig & (model == m), 2], s[sm, 2]) for m in MODELS[1:]]))
    for m in MODELS[1:]:
        asimov = YIELDS["bkg"] * t_bkg + YIELDS["ggh"] * t_ggh + YIELDS["sig"] * template(s[sig & (model == m), 2])
        out["b_" + m] = float(fit_mu(asimov, t_bkg, t_ggh, t_sm) - 1.0)
    out["max_abs_b"] = max(abs(out["b_" + m]) for m in MODELS[1:])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
