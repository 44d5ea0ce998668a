#!/usr/bin/python3
"""Reference figures for the Higgs example: scikit-learn's MLPClassifier on the same sample.

Three seeded 70/30 stratified splits; -999 replaced by the training mean; StandardScaler; default
MLPClassifier (one hidden layer of 100, ReLU, Adam) with early stopping, trained without weights.
AUCs on the held-out 30 %, unweighted and weighted with the physics weights.

Output with scikit-learn 1.2.1 (Debian bookworm):
  seed 1  unweighted 0.8781  weighted 0.9132
  seed 2  unweighted 0.8860  weighted 0.9213
  seed 3  unweighted 0.8850  weighted 0.9165
Run: /usr/bin/python3 examples/higgs/sklearn_reference.py [SAMPLE_DIR]
"""
import csv
import os
import sys

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
sample = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/data/higgs-challenge-sample")
x, y, w = [], [], []
for name in ("signal.csv", "background.csv"):
    with open(os.path.join(sample, name)) as f:
        rows = list(csv.reader(f))
    header = rows[0]
    features = [i for i, h in enumerate(header) if h.startswith(("DER_", "PRI_"))]
    for row in rows[1:]:
        x.append([float(row[i]) for i in features])
        y.append(1 if row[header.index("Label")] == "s" else 0)
        w.append(float(row[header.index("Weight")]))
x, y, w = np.array(x), np.array(y), np.array(w)
for seed in (1, 2, 3):
    xtr, xte, ytr, yte, wtr, wte = train_test_split(x, y, w, test_size=0.3, random_state=seed, stratify=y)
    xtr, xte = xtr.copy(), xte.copy()
    for j in range(x.shape[1]):
        present = xtr[:, j] != -999.0
        mean = xtr[present, j].mean()
        xtr[~present, j] = mean
        xte[xte[:, j] == -999.0, j] = mean
    scaler = StandardScaler().fit(xtr)
    model = MLPClassifier(random_state=seed, max_iter=300, early_stopping=True).fit(scaler.transform(xtr), ytr)
    p = model.predict_proba(scaler.transform(xte))[:, 1]
    print(f"seed {seed}  unweighted {roc_auc_score(yte, p):.4f}  weighted {roc_auc_score(yte, p, sample_weight=wte):.4f}")
