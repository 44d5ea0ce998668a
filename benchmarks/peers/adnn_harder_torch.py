#!/usr/bin/python3
"""An independent PyTorch reference for ADNN (Camaiani et al., arXiv:2207.09293, Algorithm 1) on the
analogues of issue 19 (examples/adnn/harder/generate.py, examples/adnn/redundant/generate.py: DATA_DIR
is the folder either wrote): written from the paper, not from agnostic's code, to tell a problem of the
method from a problem of the implementation.

Classifier: MLP (ReLU) with softmax over the three classes, L(C) the cross-entropy. Adversary: MLP
(ReLU) reading the classifier's last hidden layer (or its softmax output), predicting the signal
model of signal events, L(A) the cross-entropy. Epochs 1..P_C train C on L(C) alone, the next P_A
train A alone (C frozen), then per batch of the game: (1) one Adam step of C on L(C) - alpha L(A),
A frozen; (2) k Adam steps of A on L(A) of the batch's signal events, C frozen. Inputs are
standardised with the training set's mean and width. --plain trains C alone on train_dnn.csv (the
DNN of the table). The last epoch's weights are kept (no early stopping).

Usage: adnn_harder_torch.py DATA_DIR OUT.csv [--seed S] [--game-epochs N] [--alpha A] [--k K] ...
Writes the scores on DATA_DIR/test.csv in the columns evaluate.py reads.
"""
import argparse
import csv
import time

import numpy as np
import torch

torch.set_num_threads(1)
CLASSES = {"bkg": 0, "ggh": 1, "sig": 2}
MODELS = ["sm", "bsm1", "bsm2", "bsm3", "bsm4", "bsm5", "bsm6"]


def read(path):
    rows = list(csv.DictReader(open(path)))
    names = [k for k in rows[0] if k.startswith("f")]
    x = np.array([[float(r[k]) for k in names] for r in rows], dtype=np.float32)
    y = np.array([CLASSES[r["process"]] for r in rows])
    d = np.array([MODELS.index(r["model"]) if r["process"] == "sig" else -1 for r in rows])
    return x, y, d, rows


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--plain", action="store_true")
    p.add_argument("--hidden", default="48,48,48")
    p.add_argument("--adversary-hidden", default="32,32")
    p.add_argument("--adversary-input", choices=["penultimate", "output"], default="penultimate")
    p.add_argument("--alpha", type=float, default=10.0)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--pretrain-classifier", type=int, default=15)
    p.add_argument("--pretrain-adversary", type=int, default=5)
    p.add_argument("--game-epochs", type=int, default=60)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--adversary-lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=512)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    start = time.time()
    x, y, d, _ = read(f"{a.data}/{'train_dnn' if a.plain else 'train_adnn'}.csv")
    mean, std = x.mean(0), x.std(0) + 1e-12
    X, Y, D = torch.tensor((x - mean) / std), torch.tensor(y), torch.tensor(d)
    hidden = [int(v) for v in a.hidden.split(",")]
    body = mlp([X.shape[1]] + hidden)
    body.append(torch.nn.ReLU())
    head = torch.nn.Linear(hidden[-1], 3)
    width = 3 if a.adversary_input == "output" else hidden[-1]
    adversary = mlp([width] + [int(v) for v in a.adversary_hidden.split(",")] + [len(MODELS)])
    c_opt = torch.optim.Adam(list(body.parameters()) + list(head.parameters()), lr=a.lr)
    a_opt = torch.optim.Adam(adversary.parameters(), lr=a.adversary_lr)
    ce = torch.nn.CrossEntropyLoss()

    def forward(xb):
        h = body(xb)
        logits = head(h)
        return logits, (torch.softmax(logits, 1) if a.adversary_input == "output" else h)

    epochs = a.pretrain_classifier + (0 if a.plain else a.pretrain_adversary + a.game_epochs)
    n = len(X)
    for epoch in range(1, epochs + 1):
        phase = 1 if epoch <= a.pretrain_classifier else 2 if epoch <= a.pretrain_classifier + a.pretrain_adversary else 3
        order = torch.tensor(rng.permutation(n))
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            xb, yb, db = X[idx], Y[idx], D[idx]
            s = yb == 2
            if phase in (1, 3):
                logits, rep = forward(xb)
                loss = ce(logits, yb)
                if phase == 3 and s.any():
                    loss = loss - a.alpha * ce(adversary(rep[s]), db[s])
                c_opt.zero_grad()
                loss.backward()
                c_opt.step()  # only C's parameters are in c_opt: A is frozen
            if phase in (2, 3) and s.any():
                with torch.no_grad():
                    rep = forward(xb[s])[1]
                for _ in range(a.k):
                    a_opt.zero_grad()
                    ce(adversary(rep), db[s]).backward()
                    a_opt.step()
    seconds = time.time() - start
    xt, _, _, rows = read(f"{a.data}/test.csv")
    with torch.no_grad():
        scores = torch.softmax(head(body(torch.tensor((xt - mean) / std))), 1).numpy()
    with open(a.out, "w") as out:
        out.write("process,model,score_bkg,score_ggh,score_sig\n")
        for r, sc in zip(rows, scores):
            out.write(f"{r['process']},{r['model']},{sc[0]:.7g},{sc[1]:.7g},{sc[2]:.7g}\n")
    print(f"trained in {seconds:.1f} s")


if __name__ == "__main__":
    main()
