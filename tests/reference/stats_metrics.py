#!/usr/bin/python3
"""Reference values for tests/test_stats_histogram.cpp and tests/test_stats_metrics.cpp.

Every number comes from an implementation independent of agnostic: numpy's histogram functions,
scikit-learn's metrics with sample_weight, scipy's K-S test and Kolmogorov distribution, and, for
the AMS of source 001 eq. 5.1, a numerical profile-likelihood minimisation (not the closed form).
Run with Debian's python3-numpy, python3-scipy and python3-sklearn:
    /usr/bin/python3 tests/reference/stats_metrics.py > tests/reference/stats_metrics.json
"""
import json
import sys

import numpy as np
import scipy
import sklearn
from scipy import optimize, stats
from sklearn import metrics

rng = np.random.default_rng(20240611)
out = {"generated_by": "tests/reference/stats_metrics.py",
       "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}}

# --- histograms ---------------------------------------------------------------------------
edges = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]  # source 000's binning
x = np.round(rng.normal(0.45, 0.3, 400), 3)  # some values outside [0, 1], some on edges
x[:4] = [0.0, 0.1, 1.0, 0.8]
w = np.round(rng.uniform(0.2, 2.0, 400), 3)
inside = (x >= edges[0]) & (x <= edges[-1])
h_w, _ = np.histogram(x, bins=edges, weights=w)
h_w2, _ = np.histogram(x, bins=edges, weights=w * w)
h_fold_w, _ = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges, weights=w)
h_fold_w2, _ = np.histogram(np.clip(x, edges[0], edges[-1]), bins=edges, weights=w * w)
density, _ = np.histogram(x, bins=edges, weights=w, density=True)
y = np.round(rng.normal(0.0, 1.0, 400), 3)
z = np.round(rng.uniform(-1.0, 3.0, 400), 3)
edges_y = [-2.0, -0.5, 0.0, 0.3, 2.0]
edges_z = [-1.0, 0.0, 1.0, 3.0]
h2, _, _ = np.histogram2d(x, y, bins=[edges, edges_y], weights=w)
h3, _ = np.histogramdd(np.stack([x, y, z], axis=1), bins=[edges, edges_y, edges_z], weights=w)
h3_w2, _ = np.histogramdd(np.stack([x, y, z], axis=1), bins=[edges, edges_y, edges_z], weights=w * w)
out["histogram"] = {
    "x": x.tolist(), "y": y.tolist(), "z": z.tolist(), "w": w.tolist(),
    "edges": edges, "edges_y": edges_y, "edges_z": edges_z,
    "sum_w": h_w.tolist(), "sum_w2": h_w2.tolist(),
    "underflow_w": float(w[x < edges[0]].sum()), "overflow_w": float(w[x > edges[-1]].sum()),
    "dropped_w": float(w[~inside].sum()),
    "fold_sum_w": h_fold_w.tolist(), "fold_sum_w2": h_fold_w2.tolist(),
    "density": density.tolist(),
    "sum_w_2d": h2.ravel().tolist(),  # C order: last axis fastest
    "sum_w_3d": h3.ravel().tolist(), "sum_w2_3d": h3_w2.ravel().tolist(),
}

# --- ROC, AUC, purity ---------------------------------------------------------------------
n = 300
labels = (rng.uniform(size=n) < 0.4).astype(int)
scores = np.round(np.where(labels == 1, rng.beta(3, 2, n), rng.beta(2, 3, n)), 2)  # rounding makes ties
weights = np.round(rng.uniform(0.1, 3.0, n), 3)
fpr, tpr, thr = metrics.roc_curve(labels, scores, sample_weight=weights, drop_intermediate=False)
precision, recall, pr_thr = metrics.precision_recall_curve(labels, scores, sample_weight=weights)
f = 0.05  # source 001's 5:95 composition
scaled = np.where(labels == 1, weights * f / weights[labels == 1].sum(),
                  weights * (1 - f) / weights[labels == 0].sum())
precision_f, recall_f, pr_thr_f = metrics.precision_recall_curve(labels, scores, sample_weight=scaled)
out["roc"] = {
    "scores": scores.tolist(), "labels": labels.tolist(), "weights": weights.tolist(),
    "auc_weighted": metrics.roc_auc_score(labels, scores, sample_weight=weights),
    "auc_unweighted": metrics.roc_auc_score(labels, scores),
    "fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr[1:].tolist(),  # thr[0] is sklearn's +inf/max+1
    "pr_thresholds": pr_thr.tolist(), "pr_purity": precision[:-1].tolist(), "pr_efficiency": recall[:-1].tolist(),
    "pr_thresholds_f05": pr_thr_f.tolist(), "pr_purity_f05": precision_f[:-1].tolist(),
}

# --- K-S ----------------------------------------------------------------------------------
ks = {"exact": [], "asymptotic": [], "kolmogorov": []}
for (na, nb, shift) in [(30, 25, 0.4), (40, 40, 0.2), (12, 50, 1.0), (7, 9, 3.0), (200, 150, 0.1)]:
    a = np.round(rng.normal(0, 1, na), 6)
    b = np.round(rng.normal(shift, 1, nb), 6)
    r = stats.ks_2samp(a, b, method="exact")
    ks["exact"].append({"a": a.tolist(), "b": b.tolist(), "statistic": r.statistic, "p_value": r.pvalue})
for (na, nb) in [(1500, 2500), (2000, 2000)]:
    a = np.round(rng.normal(0, 1, na), 5)
    b = np.round(rng.normal(0.05, 1, nb), 5)
    r = stats.ks_2samp(a, b, method="exact")  # the exact count still runs at this size
    en = na * nb / (na + nb)
    ks["asymptotic"].append({"a": a.tolist(), "b": b.tolist(), "statistic": r.statistic, "p_value_exact": r.pvalue,
                             "p_value_kolmogorov": stats.kstwobign.sf(np.sqrt(en) * r.statistic)})
for xv in [0.05, 0.3, 0.6, 0.9, 1.1, 1.17, 1.19, 1.36, 1.8, 2.5, 4.0]:
    ks["kolmogorov"].append([xv, stats.kstwobign.sf(xv)])

# Weighted statistic by direct evaluation of both weighted ECDFs at every data point (numpy).
a = np.round(rng.normal(0, 1, 120), 2)
b = np.round(rng.normal(0.3, 1.2, 90), 2)
wa = rng.uniform(0.5, 2.0, 120)
wb = rng.exponential(1.0, 90)
grid = np.union1d(a, b)
cdf_a = np.array([wa[a <= g].sum() for g in grid]) / wa.sum()
cdf_b = np.array([wb[b <= g].sum() for g in grid]) / wb.sum()
d = np.abs(cdf_a - cdf_b).max()
ea, eb = wa.sum() ** 2 / (wa ** 2).sum(), wb.sum() ** 2 / (wb ** 2).sum()
ks["weighted"] = {"a": a.tolist(), "b": b.tolist(), "wa": wa.tolist(), "wb": wb.tolist(), "statistic": d,
                  "effective_a": ea, "effective_b": eb,
                  "p_value": stats.kstwobign.sf(np.sqrt(ea * eb / (ea + eb)) * d)}

# Average K-S across domains (source 000): domain 0 is the SM reference.
dom = rng.integers(0, 4, 400)
sc = rng.normal(0.1 * dom, 1.0)
per = [stats.ks_2samp(sc[dom == 0], sc[dom == k], method="exact") for k in (1, 2, 3)]
ks["domains"] = {"scores": sc.tolist(), "domains": dom.tolist(),
                 "statistics": [p.statistic for p in per], "p_values": [p.pvalue for p in per],
                 "average": float(np.mean([p.statistic for p in per]))}
out["ks"] = ks

# --- AMS ----------------------------------------------------------------------------------
def ams_profile(s, b, sigma):
    """sqrt(2 (NLL_bkg-only - NLL_best)) for Poisson(n = s + b | b') x Gauss(b | b', sigma), minimised numerically."""
    n = s + b
    def nll(bp):
        return -(n * np.log(bp) - bp) + 0.5 * ((bp - b) / sigma) ** 2
    best = -(n * np.log(n) - n)  # b' = b, signal free: the data are fitted exactly
    res = optimize.minimize_scalar(nll, bounds=(1e-9, 10 * n + 10 * sigma), method="bounded",
                                   options={"xatol": 1e-12})
    return 2.0 * (res.fun - best)

s_bins = np.array([2.0, 5.0, 10.0, 30.0, 0.5, 0.0])
b_bins = np.array([100.0, 60.0, 20.0, 5.0, 0.2, 3.0])
b_alt = np.array([90.0, 70.0, 18.0, 6.0, 0.3, 3.5])
sigma = np.sqrt(0.5 * (b_bins - b_alt) ** 2 + (0.1 * b_bins) ** 2)
terms = [ams_profile(s, b, e) if s > 0 else 0.0 for s, b, e in zip(s_bins, b_bins, sigma)]
hml = []
for s, b in [(10.0, 100.0), (0.5, 0.0), (100.0, 1000.0), (3.0, 1.0)]:
    hml.append([s, b, float(np.sqrt(2 * ((s + b + 10) * np.log(1 + s / (b + 10)) - s)))])
# Best cut: brute force over every distinct score of the ROC sample, weights scaled to a 5:95 yield of 1000.
ws = np.where(labels == 1, weights * 50 / weights[labels == 1].sum(), weights * 950 / weights[labels == 0].sum())
best = (-1.0, 0, 0, 0)
for t in sorted(set(scores.tolist()), reverse=True):
    sel = scores >= t
    s = ws[sel & (labels == 1)].sum()
    bkg = ws[sel & (labels == 0)].sum()
    z = np.sqrt(2 * ((s + bkg + 10) * np.log(1 + s / (bkg + 10)) - s))
    if z > best[0]:
        best = (z, t, s, bkg)
out["ams"] = {"s": s_bins.tolist(), "b": b_bins.tolist(), "b_alt": b_alt.tolist(), "sigma_b": sigma.tolist(),
              "terms": terms, "ams": float(np.sqrt(sum(terms))), "higgsml": hml,
              "scan_weights": ws.tolist(),
              "best_cut": {"ams": best[0], "threshold": best[1], "signal": best[2], "background": best[3]}}

# --- confusion matrix and categorical accuracy -------------------------------------------
k = 3
truth = rng.integers(0, k, 250)
logits = rng.normal(0, 1, (250, k)) + 1.2 * np.eye(k)[truth]
prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
pred = prob.argmax(axis=1)
cw = np.round(rng.uniform(0.1, 2.0, 250), 3)
out["classification"] = {
    "truth": truth.tolist(), "probabilities": prob.tolist(), "weights": cw.tolist(),
    "confusion": metrics.confusion_matrix(truth, pred, sample_weight=cw).tolist(),
    "confusion_true": metrics.confusion_matrix(truth, pred, sample_weight=cw, normalize="true").tolist(),
    "confusion_pred": metrics.confusion_matrix(truth, pred, sample_weight=cw, normalize="pred").tolist(),
    "confusion_all": metrics.confusion_matrix(truth, pred, sample_weight=cw, normalize="all").tolist(),
    "accuracy_weighted": metrics.accuracy_score(truth, pred, sample_weight=cw),
    "accuracy": metrics.accuracy_score(truth, pred),
}

json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
sys.stdout.write("\n")
