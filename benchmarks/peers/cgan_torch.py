#!/usr/bin/env python3
"""An independent PyTorch implementation of agnostic's "method": "cgan" (docs/cgan.md; Chisholm et al.,
arXiv:2112.00650 sec. 3), the reference of the harder-density study (examples/generative/harder/, issue 19
item 4). Written from the documentation, not from agnostic's code: the same networks and training, its
own random numbers.

  G(z, c): latent noise z (N(0, 1)) then the scaled conditions -> hidden LeakyReLU(0.4) layers -> tanh;
  D(x, c): the scaled features then conditions -> hidden LeakyReLU(0.4) layers -> one logit;
  He-normal weights, zero biases; Adam (beta1 --beta1, default 0.9; beta2 0.999, eps 1e-8) on both.
  One step: k D updates (each its own batch of real events, fresh noise; L_D = BCE(real, 1) + BCE(fake, 0),
  batch means), then one G update at the last batch's conditions with fresh noise (L_G = BCE(fake, 1)),
  then the exponential average of G's weights (decay min(d, (1 + t)/(10 + t))), which is what generates.
  Events in the blinded window are dropped first; features and conditions are scaled to [-1, 1] by the
  training events' range; a fraction is held out for the quality chi2 (10 x 10 cells at the held-out
  events' deciles, one generated event per held-out event with fixed noise), evaluated after every epoch:
  the best epoch's averaged G is kept (patience 10 stops the member), and the `keep` members of lowest
  chi2 form the ensemble; generated event e comes from member e mod M.

    /usr/bin/python3 benchmarks/peers/cgan_torch.py --events events.csv --conditions-dir DIR --output RUN \
        --seed 1 [--members 5 --keep 5 --epochs 30 --hidden 64,64,64 --discriminator-hidden 64,64,64]

writes RUN/gen_<name>.csv for every DIR/<name>.csv among edge_0.1, edge_0.9 and window (columns xc, x;
--per-event events per row), as `agnostic generate` does for examples/generative/harder/density.py evaluate.
"""
import argparse
import copy
import os
import time

import numpy as np
import torch


def network(inputs, hidden, outputs, last):
    layers, width = [], inputs
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.LeakyReLU(0.4)]
        width = h
    layers.append(torch.nn.Linear(width, outputs))
    if last is not None:
        layers.append(last)
    net = torch.nn.Sequential(*layers)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, 0.0, (2.0 / m.in_features) ** 0.5)
            torch.nn.init.zeros_(m.bias)
    return net


def quality_chi2(data, generated, edges):
    """data, generated: (n, 2) arrays (feature, condition); edges: the 9 inner edges per column."""
    cells = lambda a: np.searchsorted(edges[1], a[:, 1], side="right") * 10 + np.searchsorted(
        edges[0], a[:, 0], side="right")
    nd = np.bincount(cells(data), minlength=100).astype(float)
    ng = np.bincount(cells(generated), minlength=100).astype(float)
    used = nd + ng > 0
    return float(np.sum((nd[used] - ng[used]) ** 2 / (nd[used] + ng[used])) / used.sum())


def train_member(train, held, args, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = network(args.latent + 1, args.hidden, 1, torch.nn.Tanh())
    d = network(2, args.discriminator_hidden, 1, None)
    average = copy.deepcopy(g)
    og = torch.optim.Adam(g.parameters(), lr=args.learning_rate, betas=(args.beta1, 0.999), eps=1e-8)
    od = torch.optim.Adam(d.parameters(), lr=args.learning_rate, betas=(args.beta1, 0.999), eps=1e-8)
    bce = torch.nn.BCEWithLogitsLoss()
    edges = [np.sort(held[:, j])[[b * len(held) // 10 for b in range(1, 10)]] for j in range(2)]
    quality_noise = torch.randn(len(held), args.latent, generator=torch.Generator().manual_seed(20221))
    held_c = torch.tensor(held[:, 1:2])
    tensor = torch.tensor(train)
    n, batch, k = len(train), args.batch_size, args.discriminator_steps
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    updates, best, best_state, since = 0, np.inf, None, 0
    for epoch in range(args.epochs):
        order = torch.tensor(rng.permutation(n))
        for step in range(n // batch // k):
            for s in range(k):
                real = tensor[order[(step * k + s) * batch:(step * k + s + 1) * batch]]
                c = real[:, 1:2]
                with torch.no_grad():
                    fake = g(torch.cat([torch.randn(batch, args.latent), c], 1))
                loss = bce(d(real), ones) + bce(d(torch.cat([fake, c], 1)), zeros)
                od.zero_grad()
                loss.backward()
                od.step()
            fake = g(torch.cat([torch.randn(batch, args.latent), c], 1))
            loss = bce(d(torch.cat([fake, c], 1)), ones)
            og.zero_grad()
            loss.backward()
            og.step()
            updates += 1
            decay = min(args.average, (1.0 + updates) / (10.0 + updates)) if args.average > 0 else 0.0
            with torch.no_grad():
                for pa, pg in zip(average.parameters(), g.parameters()):
                    pa.mul_(decay).add_(pg, alpha=1.0 - decay)
        with torch.no_grad():
            generated = average(torch.cat([quality_noise, held_c], 1)).numpy()
        chi2 = quality_chi2(held, np.column_stack([generated[:, 0], held[:, 1]]), edges)
        if chi2 < best:
            best, best_state, since = chi2, copy.deepcopy(average.state_dict()), 0
        else:
            since += 1
            if args.patience and since >= args.patience:
                break
    if args.last_epoch:
        return chi2, average
    average.load_state_dict(best_state)
    return best, average


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", required=True)
    p.add_argument("--conditions-dir", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--members", type=int, default=5)
    p.add_argument("--keep", type=int, default=5)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--latent", type=int, default=9)
    p.add_argument("--hidden", default="64,64,64")
    p.add_argument("--discriminator-hidden", default="64,64,64")
    p.add_argument("--discriminator-steps", type=int, default=1)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--average", type=float, default=0.999)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--last-epoch", action="store_true", help="keep the last epoch, not the best")
    p.add_argument("--blind", type=float, nargs=2, default=(0.45, 0.55))
    p.add_argument("--validation-fraction", type=float, default=0.25)
    p.add_argument("--per-event", type=int, default=5)
    args = p.parse_args()
    args.hidden = [int(h) for h in args.hidden.split(",")]
    args.discriminator_hidden = [int(h) for h in args.discriminator_hidden.split(",")]
    torch.set_num_threads(1)
    start = time.time()
    events = np.loadtxt(args.events, delimiter=",", skiprows=1)  # xc, x
    events = events[(events[:, 0] < args.blind[0]) | (events[:, 0] > args.blind[1])]
    events = events[:, ::-1].copy()  # x, xc: features then conditions, as D reads them
    rng = np.random.default_rng(args.seed + 1000)
    events = events[rng.permutation(len(events))]
    n_held = int(round(args.validation_fraction * len(events)))
    held, train = events[:n_held], events[n_held:]
    low, high = train.min(axis=0), train.max(axis=0)
    scale = lambda a: (2.0 * (a - low) / (high - low) - 1.0).astype(np.float32)
    members = [train_member(scale(train), scale(held), args, args.seed + m) for m in range(args.members)]
    members.sort(key=lambda m: m[0])
    kept = [g for _, g in members[: args.keep]]
    os.makedirs(args.output, exist_ok=True)
    generator = torch.Generator().manual_seed(args.seed + 7)
    for name in ("edge_0.1", "edge_0.9", "window"):
        path = os.path.join(args.conditions_dir, name + ".csv")
        xc = np.repeat(np.loadtxt(path, delimiter=",", skiprows=1, ndmin=1), args.per_event)
        c = torch.tensor((2.0 * (xc - low[1]) / (high[1] - low[1]) - 1.0).astype(np.float32))[:, None]
        z = torch.randn(len(xc), args.latent, generator=generator)
        out = np.empty(len(xc))
        with torch.no_grad():
            for m, g in enumerate(kept):
                rows = np.arange(m, len(xc), len(kept))
                out[rows] = g(torch.cat([z[rows], c[rows]], 1)).numpy()[:, 0]
        x = low[0] + (out + 1.0) * (high[0] - low[0]) / 2.0
        np.savetxt(os.path.join(args.output, f"gen_{name}.csv"), np.column_stack([xc, x]), delimiter=",",
                   header="xc,x", comments="", fmt="%.7g")
    print(f"wall_s {time.time() - start:.1f} quality_chi2 {[round(q, 3) for q, _ in members]}")


if __name__ == "__main__":
    main()
