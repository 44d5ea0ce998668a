#!/usr/bin/python3
"""Reference values for tests/test_losses_decorrelation.cpp: the decorrelation penalties of
losses/decorrelation_*.hpp and the figures of stats/decorrelation_metrics.hpp, computed here with
numpy/scipy in double, independently of agnostic:
  - DisCo: dCor^2 from the full n x n matrices, weighted as in Kasieczka & Shih's code
    (arXiv:2001.05310; weights normalised to sum 1, which is their mean-1 normalisation);
  - MoDe on the conditional CDF: on every interval between sorted scores, the bins' CDFs fitted with
    numpy.polynomial.legendre.legfit (weights sqrt(W_b)), L = integral sum_b W_b r_b(s)^2 / W ds;
  - MoDe on the first moment: the bins' weighted mean scores fitted the same way,
    L = sum_b W_b r_b^2 / sum_b W_b;
  - flatness (Rogozhnikov et al., arXiv:1410.4140): sum_b (W_b / W) integral (F_b(s) - F(s))^2 ds with
    the step CDFs evaluated by numpy.searchsorted on every interval between sorted scores;
  - JSD: scipy.spatial.distance.jensenshannon(p, q, base=2) ** 2 (scipy returns its square root);
  - the 50 % signal-efficiency cut and R50 by sorting.
Run with Debian's python3-numpy and python3-scipy:
    /usr/bin/python3 tests/reference/decorrelation.py > tests/reference/decorrelation.json
"""
import json

import numpy as np
import scipy
from numpy.polynomial import legendre
from scipy.spatial import distance

rng = np.random.default_rng(20261205)
n = 60
mass = np.round(rng.exponential(1.0, n) * 50.0 + 40.0, 4)
label = rng.permutation(np.array([0] * 36 + [1] * 24))
z = rng.normal(size=n)
score = 1.0 / (1.0 + np.exp(-(0.9 * z + 1.2 * label + 0.02 * (mass - 90.0))))
score = np.round(score, 6)
weight = np.round(rng.uniform(0.3, 2.0, n), 4)


def dcor2(x, y, w):
    w = w / w.sum()
    a = np.abs(x[:, None] - x[None, :])
    b = np.abs(y[:, None] - y[None, :])
    abar = a @ w
    bbar = b @ w
    A = a - abar[:, None] - abar[None, :] + w @ abar
    B = b - bbar[:, None] - bbar[None, :] + w @ bbar
    v = lambda P, Q: w @ (P * Q) @ w
    return v(A, B) / np.sqrt(v(A, A) * v(B, B))


def equal_population_edges(values, bins):
    v = np.sort(values)
    edges = [v[0]]
    for k in range(1, bins):
        j = (k * len(v)) // bins  # chosen so that k n / bins is an integer: no rounding rule matters
        assert j * bins == k * len(v)
        edges.append(0.5 * (v[j - 1] + v[j]))
    edges.append(v[-1])
    return np.array(edges)


def bins_of(values, edges):
    return np.searchsorted(edges[1:-1], values, side="right")


def mode(s, m, w, edges, order):
    b = bins_of(m, edges)
    K = len(edges) - 1
    W = np.array([w[b == k].sum() for k in range(K)])
    used = W > 0
    mu = np.array([(w[b == k] * s[b == k]).sum() / W[k] if used[k] else 0.0 for k in range(K)])
    centre = 0.5 * (edges[:-1] + edges[1:])
    x = 2.0 * (centre - edges[0]) / (edges[-1] - edges[0]) - 1.0
    if used.sum() <= order + 1:
        return 0.0
    c = legendre.legfit(x[used], mu[used], order, w=np.sqrt(W[used]))
    r = mu[used] - legendre.legval(x[used], c)
    return float((W[used] * r * r).sum() / W[used].sum())


def mode_cdf(s, m, w, edges, order):
    b = bins_of(m, edges)
    K = len(edges) - 1
    W = np.array([w[b == k].sum() for k in range(K)])
    used = W > 0
    if used.sum() <= order + 1:
        return 0.0
    centre = 0.5 * (edges[:-1] + edges[1:])
    x = 2.0 * (centre - edges[0]) / (edges[-1] - edges[0]) - 1.0
    grid = np.sort(s)
    value = 0.0
    for t in range(len(grid) - 1):
        lo, hi = grid[t], grid[t + 1]
        if hi == lo:
            continue
        mid = 0.5 * (lo + hi)
        F = np.array([w[(b == k) & (s <= mid)].sum() / W[k] if used[k] else 0.0 for k in range(K)])
        c = legendre.legfit(x[used], F[used], order, w=np.sqrt(W[used]))
        r = F[used] - legendre.legval(x[used], c)
        value += (hi - lo) * (W[used] * r * r).sum() / W[used].sum()
    return value


def flatness(s, m, w, edges):
    b = bins_of(m, edges)
    K = len(edges) - 1
    grid = np.sort(s)
    total = w.sum()
    value = 0.0
    order = np.argsort(s, kind="stable")
    for t in range(len(grid) - 1):
        lo, hi = grid[t], grid[t + 1]
        if hi == lo:
            continue
        mid = 0.5 * (lo + hi)  # the CDFs are constant on (lo, hi)
        F = w[s <= mid].sum() / total
        inner = 0.0
        for k in range(K):
            Wb = w[b == k].sum()
            if Wb == 0:
                continue
            Fb = w[(b == k) & (s <= mid)].sum() / Wb
            inner += Wb / total * (Fb - F) ** 2
        value += (hi - lo) * inner
    return value


def threshold_at(s_signal, w_signal, efficiency):
    order = np.argsort(-s_signal, kind="stable")
    taken = np.cumsum(w_signal[order])
    k = np.nonzero(taken >= efficiency * w_signal.sum())[0][0]
    return float(s_signal[order][k])


ones = np.ones(n)
background = label == 0
signal = label == 1
edges = equal_population_edges(mass[background], 4)
out = {"generated_by": "tests/reference/decorrelation.py",
       "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
       "mass": mass.tolist(), "label": label.tolist(), "score": score.tolist(), "weight": weight.tolist(),
       "background_edges": edges.tolist()}
out["disco"] = {"unweighted": dcor2(score, mass, ones), "weighted": dcor2(score, mass, weight),
                "background_weighted": dcor2(score[background], mass[background], weight[background])}
all_edges = equal_population_edges(mass, 5)
out["all_edges"] = all_edges.tolist()
out["mode"] = {f"order{o}_{kind}": mode(score, mass, w, all_edges, o)
               for o in (0, 1, 2) for kind, w in (("unweighted", ones), ("weighted", weight))}
out["mode_cdf"] = {f"order{o}_{kind}": mode_cdf(score, mass, w, all_edges, o)
                   for o in (0, 1, 2) for kind, w in (("unweighted", ones), ("weighted", weight))}
out["flatness"] = {kind: flatness(score, mass, w, all_edges) for kind, w in (("unweighted", ones), ("weighted", weight))}

t = threshold_at(score[signal], weight[signal], 0.5)
passes = score[background] >= t
wb = weight[background]
hist_pass, _ = np.histogram(np.clip(mass[background][passes], edges[0], edges[-1]), bins=edges, weights=wb[passes])
hist_fail, _ = np.histogram(np.clip(mass[background][~passes], edges[0], edges[-1]), bins=edges, weights=wb[~passes])
out["at_50"] = {"threshold": t, "background_efficiency": float(wb[passes].sum() / wb.sum()),
                "background_rejection": float(wb.sum() / wb[passes].sum()),
                "jsd": float(distance.jensenshannon(hist_pass, hist_fail, base=2) ** 2),
                "dcor": float(np.sqrt(dcor2(score[background], mass[background], wb)))}
print(json.dumps(out, indent=1))
