#!/usr/bin/python3
"""Reference numbers for the Higgs-sample chain in tests/test_io_columns.cpp, computed with numpy.

Run from the repository root:  /usr/bin/python3 tests/reference/higgs_io_reference.py
Reads ../shared/data/higgs-challenge-sample/signal.csv, takes the even data rows (0, 2, 4, ...)
as the "training rows", and writes tests/reference/higgs_io_reference.json with
  - per feature: the number of -999 values in the training rows and the mean of the others,
  - the standardisation (lwtnn offset = -mean, scale = 1/std, population std) of the 30 features
    with -999 replaced by that mean, followed by one 0/1 indicator per feature that had -999,
    unweighted and weighted by the `Weight` column, over the training rows.
"""
import csv
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "..", "shared", "data", "higgs-challenge-sample", "signal.csv")

with open(SAMPLE, newline="") as f:
    rows = list(csv.reader(f))
header, data = rows[0], rows[1:]
features = [h for h in header if h.startswith("DER_") or h.startswith("PRI_")]
assert len(features) == 30
col = {name: i for i, name in enumerate(header)}
x = np.array([[float(r[col[n]]) for n in features] for r in data])
w = np.array([float(r[col["Weight"]]) for r in data])
train = np.arange(0, len(data), 2)

xt = x[train]
missing = xt == -999.0
fill = {}
out_features = []
for j, name in enumerate(features):
    present = xt[~missing[:, j], j]
    fill[name] = {"n_missing": int(missing[:, j].sum()), "mean": float(present.mean())}

filled = np.where(x == -999.0, np.array([fill[n]["mean"] for n in features]), x)
indicator_names = [n for n in features if fill[n]["n_missing"] > 0]
indicators = np.column_stack([(x[:, features.index(n)] == -999.0).astype(float) for n in indicator_names])
full = np.column_stack([filled, indicators])
names = features + [n + "_missing" for n in indicator_names]


def standardisation(weights):
    m = np.average(full[train], axis=0, weights=weights)
    var = np.average((full[train] - m) ** 2, axis=0, weights=weights)
    sd = np.sqrt(var)
    scale = np.where(sd <= 1e-12 * np.abs(m), 1.0, 1.0 / np.where(sd > 0, sd, 1.0))
    return [{"name": n, "offset": float(-a), "scale": float(s)} for n, a, s in zip(names, m, scale)]


reference = {
    "source": "numpy " + np.__version__ + " on signal.csv, training rows = even data rows",
    "n_rows": len(data),
    "n_train": int(len(train)),
    "missing": fill,
    "feature_names": names,
    "inputs_unweighted": standardisation(None),
    "inputs_weighted": standardisation(w[train]),
    # Row 1 (0-based) of the data after filling, as the network's input before standardisation.
    "row1": [float(v) for v in full[1]],
}
with open(os.path.join(HERE, "higgs_io_reference.json"), "w") as f:
    json.dump(reference, f, indent=1)
    f.write("\n")
print(len(names), "inputs,", len(indicator_names), "indicators")
