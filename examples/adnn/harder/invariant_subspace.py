#!/usr/bin/python3
"""The accuracy/invariance trade-off of a classifier that knows generate.py exactly (docs/adnn.md, "The
trade-off"): in generate.py's latent space (before the exp transforms, which do not change what can be
separated) the three classes are Gaussians with one covariance, so the Bayes posteriors are exact. Made
exactly invariant to a set of the six alternative models by keeping only the directions orthogonal to
their shifts of the signal's mean; for each number of shifts dropped, the set with the lowest max |b|.
Accuracy, mean K-S and max |b| as evaluate.py (its functions).
Usage: invariant_subspace.py [GENERATOR_DIR]   (the folder of a generate.py with the same interface,
e.g. ../redundant; default: this folder's)"""
import itertools
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import evaluate as ev
sys.path.insert(0, os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else here)
import generate as g
rng = np.random.default_rng(11)
S = g.covariance()
F = len(S)
n = 20000
def latent(mean, widths):
    z = rng.multivariate_normal(np.zeros(F), S, size=n)
    sc = np.ones(F)
    for k, w in widths.items(): sc[k] = w
    return z * sc + mean
bkg, ggh = latent(g.MU_BKG, {}), latent(g.MU_GGH, {})
sigs = {name: latent(g.model_mean(s), w) for name, s, w in g.MODELS}
shifts = []
for name, s, w in g.MODELS[1:]:
    v = np.zeros(F)
    for k, x in s.items(): v[k] = x
    shifts.append(v)
mus = [g.MU_BKG, g.MU_GGH, g.MU_SM]
def figures(Q):
    C = Q.T @ S @ Q; Ci = np.linalg.inv(C); M = [Q.T @ m for m in mus]
    def post(z):
        u = z @ Q
        l = np.stack([u @ Ci @ m - 0.5 * m @ Ci @ m for m in M], 1)
        l -= l.max(1, keepdims=True); p = np.exp(l); return p / p.sum(1, keepdims=True)
    sb, sg = post(bkg), post(ggh); ss = {k: post(v) for k, v in sigs.items()}
    acc = (np.sum(sb.argmax(1) == 0) + np.sum(sg.argmax(1) == 1) + np.sum(ss["sm"].argmax(1) == 2)) / (3 * n)
    tb, tg, ts = ev.template(sb[:, 2]), ev.template(sg[:, 2]), ev.template(ss["sm"][:, 2])
    bs = [ev.fit_mu(ev.YIELDS["bkg"] * tb + ev.YIELDS["ggh"] * tg + ev.YIELDS["sig"] * ev.template(ss[m][:, 2]), tb, tg, ts) - 1
          for m in ev.MODELS[1:]]
    ks = np.mean([ev.ks(ss[m][:, 2], ss["sm"][:, 2]) for m in ev.MODELS[1:]])
    return acc, ks, max(abs(b) for b in bs)
print("| shifts projected out | accuracy | mean K-S | max abs b |")
print("| none |", " | ".join(f"{v:.3f}" for v in figures(np.eye(F))), "|")
for k in range(1, 7):
    best = None
    for subset in itertools.combinations(range(6), k):
        _, _, vt = np.linalg.svd(np.array([shifts[i] for i in subset]))
        f = figures(vt[k:].T)
        if best is None or f[2] < best[1][2]: best = (subset, f)
    print("|", ",".join(f"bsm{i+1}" for i in best[0]), "|", " | ".join(f"{v:.3f}" for v in best[1]), "|", flush=True)
