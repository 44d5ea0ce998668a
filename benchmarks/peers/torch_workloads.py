#!/usr/bin/python3
"""PyTorch peer for the training workloads of ../shared/BENCHMARKS.md (W1, W2, W3, W4), W7 (benchmarks/README.md)
and W9 (docs/decorrelation.md).

Same architecture, batch, optimiser and float32 as agnostic-bench; prints the same JSON line.
Run with Debian's Python and OpenBLAS, e.g.
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 benchmarks/peers/torch_workloads.py --workload W1 --threads 2
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


class ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


def mlp(sizes, act, last_act=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    if last_act is not None:
        layers.append(last_act())
    return nn.Sequential(*layers)


def flops_dense(batch, sizes):
    return sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def w1(args):
    batch = 16384
    torch.manual_seed(1)
    fe = mlp([41, 20, 16, 13, 10], nn.ELU, nn.ELU)
    label = mlp([10, 2], nn.ELU)
    domain = mlp([10, 20, 35, 50, 2], nn.ELU)
    params = list(fe.parameters()) + list(label.parameters()) + list(domain.parameters())
    opt = torch.optim.RMSprop(params, lr=1e-3, alpha=0.9)
    x = torch.randn(batch, 41)
    y = torch.randint(0, 2, (batch,))
    d = torch.cat([torch.zeros(batch // 2, dtype=torch.long), torch.ones(batch - batch // 2, dtype=torch.long)])
    source = d == 0
    ce = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        h = fe(x)
        loss = ce(label(h[source]), y[source]) + ce(domain(ReverseGradient.apply(h, 1.0)), d)
        loss.backward()
        opt.step()

    flops = 3 * (flops_dense(batch, [41, 20, 16, 13, 10]) + flops_dense(batch // 2, [10, 2])
                 + flops_dense(batch, [10, 20, 35, 50, 2]))
    return batch, flops, step


def w2(args):
    """ADNN two-step epoch (000, C2): one batch of 37 600 events; the adversary reads the classifier's
    last hidden layer on the signal class (a third of the events, 7 models)."""
    events, inputs, width, domains = 37600, 26, 95, 7
    torch.manual_seed(1)
    body = mlp([inputs] + [width] * 7, nn.ReLU, nn.ReLU)  # 7 hidden layers: the representation
    head = nn.Linear(width, 3)
    adversary = mlp([width] + [width] * 9 + [domains], nn.ReLU)
    c_params = list(body.parameters()) + list(head.parameters())
    a_params = list(adversary.parameters())
    opt_c = torch.optim.Adam(c_params, lr=1e-3)
    opt_a = torch.optim.Adam(a_params, lr=1e-3)
    x = torch.randn(events, inputs)
    y = torch.arange(events) % 3
    models = torch.randint(0, domains, (events,))
    ce = nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(events)  # one shuffled batch per epoch, signal events first as ours
        xb, yb, mb = x[order], y[order], models[order]
        signal = yb == 2
        # Step 1: A frozen, C on CE_C - 50 CE_A.
        for p in a_params:
            p.requires_grad_(False)
        opt_c.zero_grad(set_to_none=False)
        h = body(xb)
        h_signal = h[signal]
        loss = ce(head(h), yb) - 50.0 * ce(adversary(h_signal), mb[signal])
        loss.backward()
        opt_c.step()
        for p in a_params:
            p.requires_grad_(True)
        # Step 2: C frozen (its representation detached), one update of A on CE_A.
        opt_a.zero_grad(set_to_none=False)
        ce(adversary(h_signal.detach()), mb[signal]).backward()
        opt_a.step()

    signal = events // 3
    flops = 3 * (flops_dense(events, [inputs] + [width] * 7 + [3])
                 + 2 * flops_dense(signal, [width] + [width] * 9 + [domains]))
    return events, flops, epoch


def soft_histogram(f, w, edges):
    centres = 0.5 * (edges[1:] + edges[:-1])
    half = 0.5 * (edges[1:] - edges[:-1])
    g = torch.exp(-0.5 * ((f[:, None] - centres[None, :]) / half[None, :]) ** 2)
    return (w[:, None] * g).sum(0)


def penalty(nominal, varied, eps=1e-12):
    keep = nominal > eps
    return (((nominal - varied) / nominal.clamp_min(eps)) ** 2 * keep).sum() / nominal.numel()


def w3(args):
    batch = 1000
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(30, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 30)
    y = torch.randint(0, 2, (batch,)).float()
    w = torch.rand(batch) + 0.5
    w_up = w * (1 + 0.1 * torch.randn(batch))
    w_down = w * (1 - 0.1 * torch.randn(batch))
    edges = torch.linspace(0, 1, 21)
    bce = nn.BCEWithLogitsLoss(reduction="none")

    def step():
        opt.zero_grad(set_to_none=False)
        z = net(x)[:, 0]
        f = torch.sigmoid(z)
        loss = (bce(z, y) * w).sum() / w.sum()
        nom = soft_histogram(f, w, edges)
        loss = loss + 20 * (penalty(nom, soft_histogram(f, w_up, edges)) + penalty(nom, soft_histogram(f, w_down, edges)))
        loss.backward()
        opt.step()

    flops = 3 * flops_dense(batch, [30, 200, 200, 1])
    return batch, flops, step


def inference_aware_variance(counts, shapes, norms):
    """sigma^2(mu) = (I^-1)_00 of the Asimov Fisher information; counts: K x (2 + 4 shapes) with
    columns s, b, then s up, b up, s down, b down per shape nuisance; norms: [(on_signal, r)]."""
    s, b = counts[:, 0], counts[:, 1]
    nu = s + b
    rows = [s]
    for j in range(shapes):
        c = counts[:, 2 + 4 * j: 6 + 4 * j]
        rows.append(0.5 * (c[:, 0] + c[:, 1] - c[:, 2] - c[:, 3]))
    for on_signal, r in norms:
        rows.append(torch.log1p(torch.tensor(r)) * (s if on_signal else b))
    d = torch.stack(rows)
    info = (d / nu) @ d.T + torch.diag(torch.tensor([0.0] + [1.0] * (d.shape[0] - 1)))
    e0 = torch.zeros(d.shape[0], 1)
    e0[0, 0] = 1.0
    return torch.linalg.solve(info, e0)[0, 0]


def w7(args):
    batch, bins = 1000, 10
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, bins))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3)
    signal = torch.arange(batch) % 2 == 1
    shift = torch.zeros(batch, 3)
    shift[~signal, 0] = 0.4
    x_up, x_down = x + shift, x - shift
    w = torch.where(signal, torch.tensor(50.0 / 500), torch.tensor(1000.0 / 500))
    factor = torch.where(signal, torch.tensor(0.0), 0.2 * torch.randn(batch))
    ws, wb = w * signal, w * ~signal
    weights = torch.stack([ws, wb, ws, wb * (1 + factor), ws, wb * (1 - factor)], 1)
    nominal_weights = weights[:, :2].contiguous()

    def step():
        opt.zero_grad(set_to_none=False)
        nominal = torch.softmax(net(x) * 10.0, 1).T @ weights
        up = torch.softmax(net(x_up) * 10.0, 1).T @ nominal_weights
        down = torch.softmax(net(x_down) * 10.0, 1).T @ nominal_weights
        loss = inference_aware_variance(torch.cat([nominal, up, down], 1), 2, [(False, 0.1)])
        loss.backward()
        opt.step()

    flops = 3 * 3 * flops_dense(batch, [3, 100, 100, bins])
    return batch, flops, step


def w4(args):
    batch, latent = 512, 9
    torch.manual_seed(1)
    gs = [latent + 1, 256, 256, 256, 256, 256, 4]
    ds = [4 + 1, 256, 256, 256, 256, 256, 1]
    act = lambda: nn.LeakyReLU(0.4)
    gen = mlp(gs, act, nn.Tanh)
    disc = mlp(ds, act)
    for net in (gen, disc):
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)
    g_opt = torch.optim.SGD(gen.parameters(), lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4)
    d_opt = torch.optim.SGD(disc.parameters(), lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4)
    data = torch.rand(batch * 40, 5) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    bce = nn.BCEWithLogitsLoss()
    state = {"b": 0, "order": torch.randperm(data.shape[0])}

    def step():
        b = state["b"]
        if b == 0:
            state["order"] = torch.randperm(data.shape[0])
        real = data[state["order"][b * batch:(b + 1) * batch]]
        c = real[:, 4:]
        # D step: G's output detached.
        d_opt.zero_grad(set_to_none=False)
        with torch.no_grad():
            fake = gen(torch.cat([torch.randn(batch, latent), c], 1))
        d_loss = bce(disc(real), ones) + bce(disc(torch.cat([fake, c], 1)), zeros)
        d_loss.backward()
        torch.nn.utils.clip_grad_norm_(disc.parameters(), 1.0)
        d_opt.step()
        # G step: D's parameters take no step (its gradients are zeroed at the next D step).
        g_opt.zero_grad(set_to_none=False)
        fake = gen(torch.cat([torch.randn(batch, latent), c], 1))
        g_loss = bce(disc(torch.cat([fake, c], 1)), ones)
        g_loss.backward()
        torch.nn.utils.clip_grad_norm_(gen.parameters(), 1.0)
        g_opt.step()
        state["b"] = (b + 1) % 40

    flops = 3 * (3 * flops_dense(batch, ds) + 2 * flops_dense(batch, gs))
    return batch, flops, step


def distance_correlation_squared(x, y, w):
    """Weighted dCor^2 of two 1-D tensors (Kasieczka & Shih, arXiv:2001.05310), the standard O(B^2)
    form: the B x B distance matrices, double-centred with the weighted row means (w sums to 1)."""
    def centred(v):
        a = (v[:, None] - v[None, :]).abs()
        row = a @ w
        return a - row[:, None] - row[None, :] + row @ w

    a, b = centred(x), centred(y)
    ww = w[:, None] * w[None, :]
    v_xy, v_xx, v_yy = (ww * a * b).sum(), (ww * a * a).sum(), (ww * b * b).sum()
    return v_xy / torch.sqrt(v_xx * v_yy)


def w9(args):
    """One DisCo training step (issue 23): 6 -> 64 -> 64 -> 1, batch 4096 weighted events, weighted BCE
    + 30 dCor^2(score, mass) over the 2048 background events, one Adam step."""
    batch, features, strength = 4096, 6, 30.0
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(features, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, features)
    y = (torch.arange(batch) % 2).float()
    w = torch.rand(batch) + 0.5
    background = y == 0
    mass = 0.8 * x[background, 0] + 0.6 * torch.randn(int(background.sum()))
    w_background = w[background] / w[background].sum()
    bce = nn.BCEWithLogitsLoss(reduction="none")

    def step(with_penalty=True):
        opt.zero_grad(set_to_none=False)
        z = net(x)[:, 0]
        loss = (bce(z, y) * w).sum() / w.sum()
        if with_penalty:
            loss = loss + strength * distance_correlation_squared(torch.sigmoid(z)[background], mass, w_background)
        loss.backward()
        opt.step()

    flops = 3 * flops_dense(batch, [features, 64, 64, 1])
    extra = {"disco_events": int(background.sum()),
             "network_ms_per_step": 1e3 / steps_per_second(lambda: step(False), args)[0]}
    return batch, flops, step, extra


def openblas_core():
    """The OpenBLAS kernel set the process runs on (openblas_get_corename), or why it is unknown."""
    import ctypes
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line and ".so" in line})
    for path in paths:
        try:
            name = ctypes.CDLL(path).openblas_get_corename
        except (OSError, AttributeError):
            continue
        name.restype = ctypes.c_char_p
        return name().decode()
    return "not OpenBLAS (no libopenblas loaded)"


# The dense layers (n_in, n_out, events) of one step, as benchmarks/workloads/*.hpp list them for
# agnostic-bench's eigen_gemm_gflops: W1's and W3's layers once, W4's discriminator three times and
# its generator twice (each layer: forward X W^T, input gradient G W, weight gradient G^T X).
def gemm_shapes(workload):
    def chain(sizes, batch):
        return [(a, b, batch) for a, b in zip(sizes[:-1], sizes[1:])]
    if workload == "W1":
        return (chain([41, 20, 16, 13, 10], 16384) + [(10, 2, 8192)] + chain([10, 20, 35, 50, 2], 16384))
    if workload == "W3":
        return chain([30, 200, 200, 1], 1000)
    if workload == "W4":
        return 3 * chain([5, 256, 256, 256, 256, 256, 1], 512) + 2 * chain([10, 256, 256, 256, 256, 256, 4], 512)
    return []


def blas_gemm_gflops(shapes, repeats):
    """GFLOP/s of the BLAS under torch (torch.mm, float32, torch's thread count) on exactly the three
    products per dense layer of one step, nothing else around them: the machine's sgemm rate on the
    workload's shapes, to set the workload's GFLOP/s against. Median over the repeats."""
    ops = [(torch.randn(n, a), torch.randn(b, a), torch.randn(n, b)) for a, b, n in shapes]
    out = [(torch.empty(n, b), torch.empty(n, a), torch.empty(b, a)) for a, b, n in shapes]
    flops = sum(3 * 2 * n * a * b for a, b, n in shapes)

    def once():
        for (x, w, g), (y, dx, dw) in zip(ops, out):
            torch.mm(x, w.t(), out=y)
            torch.mm(g, w, out=dx)
            torch.mm(g.t(), x, out=dw)

    once()
    inner = 1
    while True:
        t = time.perf_counter()
        for _ in range(inner):
            once()
        if time.perf_counter() - t > 0.05:
            break
        inner *= 2
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            once()
        rates.append(inner * flops / (time.perf_counter() - t) / 1e9)
    return statistics.median(rates)


def steps_per_second(step, args):
    """Median steps per second over args.repeats repeats of args.steps steps (0: about 1 s of work)."""
    for _ in range(3):
        step()
    steps = args.steps
    if steps == 0:
        t = time.perf_counter()
        step()
        steps = max(3, int(1.0 / max(time.perf_counter() - t, 1e-6)))
    rates = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - t))
    return statistics.median(rates), steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", required=True, choices=["W1", "W2", "W3", "W4", "W7", "W9"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=0, help="steps per repeat (default: about 1 s of work)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    batch, flops, step, *extra = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W7": w7, "W9": w9}[a.workload](a)
    steps_per_s, steps = steps_per_second(step, a)
    shapes = gemm_shapes(a.workload)
    gemm = {"blas_gemm_gflops": blas_gemm_gflops(shapes, a.repeats)} if shapes else {}
    print(json.dumps({"workload": a.workload, "threads": a.threads, "peer": "pytorch " + torch.__version__,
                      "events_per_s": steps_per_s * batch, "epochs_per_s": steps_per_s, "steps_per_s": steps_per_s, "ms_per_step": 1e3 / steps_per_s,
                      "gflops": steps_per_s * flops / 1e9, "repeats": a.repeats, "steps": steps,
                      **(extra[0] if extra else {}), **gemm, "openblas_core": openblas_core()}))


if __name__ == "__main__":
    main()
