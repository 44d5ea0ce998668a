#!/usr/bin/python3
"""W6 peer: the same binned likelihood as `agnostic-bench --workload W6`, fitted with iminuit.

Run with Debian's Python (python3-iminuit, python3-numpy):
    /usr/bin/python3 benchmarks/peers/w6_iminuit.py [--workspace PATH] [--repeats 20] [--toys 1000]

The NLL is written here in numpy from the pyhf JSON workspace (normfactor, normsys with code4,
histosys with code4p, unit-Gaussian constraints, Poisson main bins with lgamma), i.e. the value pyhf
computes. One "fit" is what the C++ side times: MIGRAD + HESSE + MINOS of the POI, from the
workspace's initial values. The toys are Poisson main data plus Gaussian auxiliary data drawn
around the best fit, each fitted with MIGRAD + HESSE (no MINOS), as the C++ toy ensemble does.
Prints one JSON line with the keys of the C++ workload.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
from iminuit import Minuit
from scipy.special import gammaln

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WORKSPACE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                                  "w6-workspace.json"))


def code4_coefficients(hi, lo):
    """Six polynomial coefficients of pyhf's code4 normsys interpolation for |alpha| < 1.

    The polynomial 1 + sum a_k alpha^k matches value, slope and curvature of the exponential
    extrapolation hi^alpha / lo^-alpha at alpha = +1 and -1."""
    lh, ll = math.log(hi), math.log(lo)
    rows, rhs = [], []
    for x in (1.0, -1.0):
        rows.append([x**k for k in range(1, 7)])
        rows.append([k * x**(k - 1) for k in range(1, 7)])
        rows.append([k * (k - 1) * x**(k - 2) for k in range(1, 7)])
    rhs = [hi - 1.0, hi * lh, hi * lh * lh, lo - 1.0, -lo * ll, lo * ll * ll]
    return np.linalg.solve(np.array(rows), np.array(rhs))


class Model:
    """Expected counts and NLL of a workspace using normfactor / normsys / histosys only."""

    def __init__(self, workspace):
        self.names, self.constrained = [], []
        self.poi = workspace["measurements"][0]["config"]["poi"]
        observed = {o["name"]: o["data"] for o in workspace["observations"]}
        self.samples = []  # (bin offset, nominal, [(kind, param index, payload)])
        self.n_obs, offset = [], 0
        for channel in workspace["channels"]:
            for sample in channel["samples"]:
                mods = []
                for m in sample["modifiers"]:
                    if m["name"] not in self.names:
                        self.names.append(m["name"])
                        self.constrained.append(m["type"] in ("normsys", "histosys"))
                    index = self.names.index(m["name"])
                    if m["type"] == "normfactor":
                        mods.append(("normfactor", index, None))
                    elif m["type"] == "normsys":
                        hi, lo = m["data"]["hi"], m["data"]["lo"]
                        mods.append(("normsys", index, (hi, lo, code4_coefficients(hi, lo))))
                    elif m["type"] == "histosys":
                        nominal = np.array(sample["data"], float)
                        up = np.array(m["data"]["hi_data"], float) - nominal
                        down = nominal - np.array(m["data"]["lo_data"], float)
                        mods.append(("histosys", index, (up, down)))
                    else:
                        sys.exit("w6_iminuit.py: modifier type %s is not supported by this peer" % m["type"])
                self.samples.append((offset, np.array(sample["data"], float), mods))
            self.n_obs.extend(observed[channel["name"]])
            offset += len(channel["samples"][0]["data"])
        self.n_obs = np.array(self.n_obs, float)
        self.n_bins = offset
        self.init = np.array([1.0 if not c else 0.0 for c in self.constrained])
        self.limits = [(0.0, 10.0) if not c else (-5.0, 5.0) for c in self.constrained]
        self.aux_index = [i for i, c in enumerate(self.constrained) if c]

    def expected(self, p):
        nu = np.zeros(self.n_bins)
        for offset, nominal, mods in self.samples:
            shape, factor = nominal.copy(), 1.0
            for kind, index, payload in mods:
                a = p[index]
                if kind == "normfactor":
                    factor *= a
                elif kind == "normsys":
                    hi, lo, coef = payload
                    if a >= 1.0:
                        factor *= hi**a
                    elif a <= -1.0:
                        factor *= lo**(-a)
                    else:
                        factor *= 1.0 + sum(coef[k] * a**(k + 1) for k in range(6))
                else:  # histosys code4p
                    up, down = payload
                    if a > 1.0:
                        shape += a * up
                    elif a < -1.0:
                        shape += a * down
                    else:
                        s, asym = 0.5 * (up + down), 0.0625 * (up - down)
                        a2 = a * a
                        shape += a * s + asym * a2 * ((3.0 * a2 - 10.0) * a2 + 15.0)
            nu[offset:offset + len(nominal)] += factor * shape
        return nu

    def nll(self, p, n, aux):
        # pyhf's NLL minus constant(n): sum(nu - n - n ln(nu/n)) + 0.5 sum((alpha - aux)^2). Without
        # the constant there is no cancellation of terms ~3000, whose rounding noise would be far
        # above what HESSE's step sizes assume.
        nu = self.expected(p)
        alpha = np.asarray(p)[self.aux_index]
        safe_n = np.where(n > 0, n, 1.0)
        return np.sum(nu - n - n * np.log(nu / safe_n)) + 0.5 * np.sum((alpha - aux)**2)

    @staticmethod
    def constant(n, n_gauss):
        safe_n = np.where(n > 0, n, 1.0)
        return float(np.sum(n - n * np.log(safe_n) * (n > 0) + gammaln(n + 1.0)) +
                     0.5 * n_gauss * math.log(2.0 * math.pi))


def make_minuit(model, n, aux):
    m = Minuit(lambda p: model.nll(p, n, aux), model.init.copy(), name=model.names)
    m.errordef = Minuit.LIKELIHOOD
    m.limits = model.limits
    return m


def one_fit(model, n, aux):
    m = make_minuit(model, n, aux)
    m.migrad()
    m.hesse()
    m.minos(model.poi)
    return m


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=DEFAULT_WORKSPACE)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--toys", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with open(args.workspace) as f:
        model = Model(json.load(f))
    aux0 = np.zeros(len(model.aux_index))
    poi = model.names.index(model.poi)

    for _ in range(3):  # warm-up
        one_fit(model, model.n_obs, aux0)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        m = one_fit(model, model.n_obs, aux0)
        times.append(time.perf_counter() - start)
    best = np.array(m.values)
    me = m.merrors[model.poi]

    rng = np.random.default_rng(args.seed)
    truth_nu = model.expected(best)
    truth_aux = best[model.aux_index]
    pulls = []
    start = time.perf_counter()
    for _ in range(args.toys):
        n = rng.poisson(truth_nu).astype(float)
        aux = rng.normal(truth_aux, 1.0)
        t = make_minuit(model, n, aux)
        t.migrad()
        t.hesse()
        if t.valid and t.errors[poi] > 0:
            pulls.append((t.values[poi] - best[poi]) / t.errors[poi])
    toys_s = time.perf_counter() - start
    pulls = np.array(pulls)

    print(json.dumps({
        "workload": "W6",
        "peer": "iminuit %s (MIGRAD + HESSE + MINOS, numpy NLL)" % __import__("iminuit").__version__,
        "ms_per_fit": 1e3 * float(np.median(times)),
        "toys_1000_s": toys_s * 1000.0 / max(args.toys, 1),
        "threads": 1,
        "repeats": args.repeats,
        "bestfit": dict(zip(model.names, map(float, best))),
        "errors": dict(zip(model.names, map(float, m.errors))),
        "minos": {model.poi: [float(best[poi] + me.lower), float(best[poi] + me.upper)]},
        "nll": float(m.fval) + model.constant(model.n_obs, len(model.aux_index)),
        "toys": {"n": int(len(pulls)), "pull_mean": float(pulls.mean()), "pull_width": float(pulls.std(ddof=1))},
    }))


if __name__ == "__main__":
    main()
