#!/usr/bin/python3
"""An independent PyTorch reference for the penalty of 004 (eq. 2) on 004's two-Gaussian toy (sec. 2).

Run with Debian's python (it has torch):  /usr/bin/python3 examples/systematics/toy_reference.py [options]

What it does, written from the paper and nothing else:
  signal      x ~ N((0, 0), C_s), C_s = [[1, -rho], [-rho, 1]] (004 Fig. 1: rho = 0.5; --rho 0 for the
              identity used by tests/test_train_systematics.cpp)
  background  x ~ N((1, 1), 1); the systematic shifts the background's x2 by +-1 (exact shifts)
  network     sigmoid(MLP(x)), Glorot-uniform weights, zero biases, Adam
  loss        L = BCE + lambda * (Lambda_up + Lambda_down), Lambda = (1/K) sum_k ((N_k - V_k) / N_k)^2
              over the soft histograms of the BACKGROUND events of the batch: N_k = sum_b G_k(f(x_b)),
              V_k = sum_b G_k(f(x_b + Delta)), G_k a Gaussian of peak 1 centred on bin k with sigma equal to
              the half-width of the bin (004 sec. 1), K bins in [0, 1]
  reports     per epoch: the validation AUC and, on the validation background, the total-variation
              distance (1/2) sum_k |p_k - q_k| between the hard K-bin histograms of f(x) and f(x + Delta)

The inputs are standardised with the training part's mean and standard deviation, as agnostic does.
--score-gradient off stops the gradient through the varied scores (a diagnostic: what a penalty that
only moves the nominal histogram does).
"""
import argparse
import math

import torch


def make_toy(n, rho, generator):
    y = torch.zeros(n)
    y[0::2] = 1.0  # alternate signal, background, as the C++ test's generator does
    z = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    x = torch.empty(n, 2, dtype=torch.float64)
    # signal: correlated pair with correlation -rho; background: independent around (1, 1)
    s = y == 1
    x[s, 0] = z[s, 0]
    x[s, 1] = -rho * z[s, 0] + math.sqrt(1.0 - rho * rho) * z[s, 1]
    x[~s] = z[~s] + 1.0
    return x, y.to(torch.float64)


def soft_histogram(values, bins, low, high, weights=None):
    edges = torch.linspace(low, high, bins + 1, dtype=values.dtype)
    centres = 0.5 * (edges[1:] + edges[:-1])
    half = 0.5 * (edges[1:] - edges[:-1])
    g = torch.exp(-0.5 * ((values[:, None] - centres[None, :]) / half[None, :]) ** 2)
    if weights is not None:
        g = g * weights[:, None]
    return g.sum(0)


def penalty(nominal, varied, min_count):
    # bins whose nominal soft count is <= min_count contribute 0 (they still count in 1/K)
    used = nominal > min_count
    ratio = torch.where(used, (nominal - varied) / torch.where(used, nominal, torch.ones_like(nominal)),
                        torch.zeros_like(nominal))
    return (ratio ** 2).sum() / len(nominal)


def auc(score, y):
    order = torch.argsort(score)
    ranks = torch.empty_like(score)
    ranks[order] = torch.arange(1, len(score) + 1, dtype=score.dtype)
    pos = y == 1
    n1, n0 = pos.sum().item(), (~pos).sum().item()
    return ((ranks[pos].sum().item() - n1 * (n1 + 1) / 2) / (n1 * n0))


def hard_tv(a, b, bins):
    ha = torch.histc(a.clamp(0, 1 - 1e-12), bins=bins, min=0.0, max=1.0)
    hb = torch.histc(b.clamp(0, 1 - 1e-12), bins=bins, min=0.0, max=1.0)
    return 0.5 * (ha / ha.sum() - hb / hb.sum()).abs().sum().item()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=50000, help="training + validation events")
    p.add_argument("--validation-fraction", type=float, default=0.5)
    p.add_argument("--rho", type=float, default=0.5)
    p.add_argument("--hidden", type=int, nargs="*", default=[200, 200])
    p.add_argument("--activation", default="relu", choices=["relu", "tanh"])
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--lam", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--score-gradient", default="on", choices=["on", "off"])
    p.add_argument("--min-count", type=float, default=1e-6,
                   help="nominal bins with a soft count <= this are left out of Lambda (agnostic: 1e-6)")
    p.add_argument("--warmup", type=int, default=0, help="epochs of cross-entropy alone before the penalty")
    p.add_argument("--write-csv", metavar="PATH",
                   help="also write the generated events (x1, x2, y) to PATH, for `agnostic train` on the same toy")
    p.add_argument("--quiet", action="store_true", help="print the last epoch only")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(a.seed + 1000)
    x, y = make_toy(a.events, a.rho, gen)
    if a.write_csv:
        with open(a.write_csv, "w") as out:
            out.write("x1,x2,y\n")
            for (u, v), label in zip(x.tolist(), y.tolist()):
                out.write(f"{u!r},{v!r},{int(label)}\n")
    n_val = int(round(a.validation_fraction * a.events))
    xt, yt, xv, yv = x[n_val:], y[n_val:], x[:n_val], y[:n_val]
    mean, std = xt.mean(0), xt.std(0)
    shift = torch.tensor([0.0, 1.0], dtype=torch.float64)
    norm = lambda u: (u - mean) / std

    layers, width = [], 2
    act = torch.nn.ReLU if a.activation == "relu" else torch.nn.Tanh
    for h in a.hidden:
        layers += [torch.nn.Linear(width, h), act()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    net = torch.nn.Sequential(*layers).double()
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    bce = torch.nn.BCEWithLogitsLoss()

    for epoch in range(1, a.epochs + 1):
        perm = torch.randperm(len(xt), generator=gen)
        sums = [0.0, 0.0, 0]
        for start in range(0, len(xt), a.batch):
            idx = perm[start:start + a.batch]
            xb, yb = xt[idx], yt[idx]
            logit = net(norm(xb)).squeeze(1)
            loss = bce(logit, yb)
            ce = loss.item()
            lam_total = 0.0
            bkg = yb == 0
            if True:
                f_nom = torch.sigmoid(logit[bkg])
                n_nom = soft_histogram(f_nom, a.bins, 0.0, 1.0)
                for sign in (1.0, -1.0):
                    f_var = torch.sigmoid(net(norm(xb[bkg] + sign * shift)).squeeze(1))
                    if a.score_gradient == "off":
                        f_var = f_var.detach()
                    lam = penalty(n_nom, soft_histogram(f_var, a.bins, 0.0, 1.0), a.min_count)
                    lam_total += lam.item()
                    if a.lam > 0 and epoch > a.warmup:
                        loss = loss + a.lam * lam
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums[0] += ce
            sums[1] += lam_total
            sums[2] += 1
        with torch.no_grad():
            sv = torch.sigmoid(net(norm(xv)).squeeze(1))
            b = yv == 0
            up = torch.sigmoid(net(norm(xv[b] + shift)).squeeze(1))
            down = torch.sigmoid(net(norm(xv[b] - shift)).squeeze(1))
            tv = max(hard_tv(sv[b], up, a.bins), hard_tv(sv[b], down, a.bins))
            line = (f"epoch {epoch:3d}  ce {sums[0] / sums[2]:.4f}  Lambda_up+down {sums[1] / sums[2]:.5f}  "
                    f"val_auc {auc(sv, yv):.4f}  shape_tv {tv:.4f}  mean_s {sv[~b].mean():.3f}  mean_b {sv[b].mean():.3f}")
        if not a.quiet or epoch == a.epochs:
            print(line, flush=True)


if __name__ == "__main__":
    main()
