#!/usr/bin/env python3
"""Reference trajectories for tests/test_optim.cpp from PyTorch's own optimisers (float64).

Same set-up as the test: nine parameters (W 2x3 row by row, then b 1x3) starting at START; at step k
(1-based) element e gets the gradient 1.4 theta - 0.9 cos(1.3 k + 0.5 e) + 0.2 e; optional clipping
(torch.nn.utils.clip_grad_value_ then clip_grad_norm_ over both tensors); optional scheduler stepped
after every optimiser step. Writes tests/reference/optim_torch.json.

Run: /usr/bin/python3 tests/reference/optim_torch.py   (Debian's python3-torch)
"""
import json
import math
import os

import torch

START = [0.5, -0.3, 0.8, 0.1, -0.7, 0.25, 0.05, -0.15, 0.3]
STEPS = 7

CONFIGS = [
    dict(label="sgd nesterov + L2 + step schedule", kind="sgd", lr=0.1, momentum=0.9, nesterov=True, l2=0.05,
         schedule=2, gamma=0.5, schedule_steps=3),
    dict(label="sgd momentum + dampening + clip norm", kind="sgd", lr=0.1, momentum=0.5, dampening=0.3,
         clip_norm=0.8),
    dict(label="sgd clip value + exponential schedule", kind="sgd", lr=0.1, clip_value=0.4, schedule=1,
         gamma=0.7, schedule_steps=2),
    dict(label="rmsprop plain", kind="rmsprop", lr=0.01, rho=0.9),
    dict(label="rmsprop centred + momentum + L2", kind="rmsprop", lr=0.01, rho=0.9, centred=True, momentum=0.6,
         l2=0.1),
    dict(label="adam plain", kind="adam", lr=0.05),
    dict(label="adam L2 + clip value + norm", kind="adam", lr=0.05, l2=0.3, clip_value=1.0, clip_norm=1.5),
    dict(label="adamw + exponential schedule", kind="adamw", lr=0.05, weight_decay=0.2, schedule=1, gamma=0.8),
]


def gradient(theta, k, e):
    return 1.4 * theta - 0.9 * math.cos(1.3 * k + 0.5 * e) + 0.2 * e


def run(c):
    w = torch.tensor([START[0:3], START[3:6]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([START[6:9]], dtype=torch.float64, requires_grad=True)
    params = [w, b]
    kind = c["kind"]
    if kind == "sgd":
        opt = torch.optim.SGD(params, lr=c["lr"], momentum=c.get("momentum", 0.0), dampening=c.get("dampening", 0.0),
                              nesterov=c.get("nesterov", False), weight_decay=c.get("l2", 0.0))
    elif kind == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=c["lr"], alpha=c.get("rho", 0.9), eps=1e-8,
                                  momentum=c.get("momentum", 0.0), centered=c.get("centred", False),
                                  weight_decay=c.get("l2", 0.0))
    elif kind == "adam":
        opt = torch.optim.Adam(params, lr=c["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=c.get("l2", 0.0))
    else:
        opt = torch.optim.AdamW(params, lr=c["lr"], betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=c.get("weight_decay", 0.01))
    schedule = c.get("schedule", 0)
    scheduler = None
    if schedule == 1:
        scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c["gamma"] ** (1.0 / c.get("schedule_steps", 1)))
    elif schedule == 2:
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=c["schedule_steps"], gamma=c["gamma"])
    trajectory = []
    for k in range(1, STEPS + 1):
        with torch.no_grad():
            flat = [w[0, 0], w[0, 1], w[0, 2], w[1, 0], w[1, 1], w[1, 2], b[0, 0], b[0, 1], b[0, 2]]
            g = [gradient(float(t), k, e) for e, t in enumerate(flat)]
        w.grad = torch.tensor([g[0:3], g[3:6]], dtype=torch.float64)
        b.grad = torch.tensor([g[6:9]], dtype=torch.float64)
        if c.get("clip_value", 0.0) > 0:
            torch.nn.utils.clip_grad_value_(params, c["clip_value"])
        if c.get("clip_norm", 0.0) > 0:
            torch.nn.utils.clip_grad_norm_(params, c["clip_norm"])
        opt.step()
        if scheduler is not None:
            scheduler.step()
        trajectory.append(w.detach().flatten().tolist() + b.detach().flatten().tolist())
    return trajectory


def main():
    out = {"generator": "tests/reference/optim_torch.py", "torch": torch.__version__, "steps": STEPS,
           "start": START, "configs": []}
    for c in CONFIGS:
        entry = dict(c)
        entry["theta"] = run(c)
        out["configs"].append(entry)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_torch.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
