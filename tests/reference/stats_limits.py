#!/usr/bin/python3
"""Reference upper limits, CLs scans, impacts and toy CLs for tests/test_stats_inference.cpp.

pyhf itself could not be run here (not a Debian package, and its repository cannot be fetched in this
session), so this is an independent numpy/scipy implementation, written from the HistFactory
definitions pyhf documents and from Cowan, Cranmer, Gross, Vitells (arXiv:1007.1727); it shares no
code with the C++ library. Conventions followed (pyhf's):
  - -log L = sum_b [nu_b - n_b ln nu_b + lgamma(n_b + 1)] + Gaussian constraints (normsys/histosys
    alpha, lumi, staterror) + Poisson constraints (shapesys, tau = (nominal/unc)^2);
  - normsys code1/code4 (degree-6 polynomial inside |alpha| < 1 matching value, 1st and 2nd
    derivative at +-1), histosys code0/code4p;
  - mu_hat is fitted inside the POI's bounds; qtilde/q for upper limits; the expected band uses the
    Asimov data of the mu = 0 conditional fit to the data, CLs_exp(n) = Phi(-(n + sqrt qA)) / Phi(-n);
  - the upper limit is the root of CLs(mu) = 1 - cl (scipy.optimize.brentq, xtol 1e-10);
  - impacts: refits with theta fixed at theta_hat +- sigma (post-fit: Hessian error; pre-fit: the
    constraint width), delta mu_hat; pull = (theta_hat - theta_0) / sigma_pre;
  - toy CLs (pyhf's ToyCalculator): toys at the init values with the POI at mu (s+b) and at 0 (b),
    CLs+b, CLb = fraction of toys with q >= q_obs.
Fits: L-BFGS-B with complex-step gradients, polished by Newton steps on a finite-difference Hessian of
that gradient. Run: /usr/bin/python3 tests/reference/stats_limits.py > tests/reference/stats_limits.json
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy.optimize import brentq, minimize
from scipy.special import gammaln
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "reference")


def code4_coefficients(hi, lo):
    lh, ll = math.log(hi), math.log(lo)
    rows, rhs = [], [hi - 1, lo - 1, hi * lh, -lo * ll, hi * lh * lh, lo * ll * ll]
    rows.append([1.0] * 6)
    rows.append([(-1.0) ** i for i in range(1, 7)])
    rows.append([float(i) for i in range(1, 7)])
    rows.append([i * (-1.0) ** (i - 1) for i in range(1, 7)])
    rows.append([i * (i - 1.0) for i in range(1, 7)])
    rows.append([i * (i - 1.0) * (-1.0) ** (i - 2) for i in range(1, 7)])
    return np.linalg.solve(np.array(rows), np.array(rhs))


class Model:
    def __init__(self, ws, normsys="code4", histosys="code4p", measurement=None):
        self.normsys, self.histosys = normsys, histosys
        meas = ws["measurements"][0] if measurement is None else [m for m in ws["measurements"] if m["name"] == measurement][0]
        self.poi_name = meas["config"]["poi"]
        self.params = []  # dicts: name, init, lo, hi, fixed, kind, aux0, sigma, tau
        groups = {}
        stat = {}
        for c in ws["channels"]:
            for s in c["samples"]:
                for m in s["modifiers"]:
                    if m["type"] == "staterror":
                        key = (c["name"], m["name"])
                        nom, var = stat.setdefault(key, (np.zeros(len(s["data"])), np.zeros(len(s["data"]))))
                        nom += np.array(s["data"])
                        var += np.array(m["data"]) ** 2
        self.samples = []
        offset = 0
        self.nbins = 0
        for c in ws["channels"]:
            nb = len(c["samples"][0]["data"])
            for s in c["samples"]:
                nominal = np.array(s["data"], dtype=float)
                mods = []
                for m in s["modifiers"]:
                    t, name = m["type"], m["name"]
                    if name not in groups:
                        first = len(self.params)
                        count = nb if t in ("shapesys", "staterror", "shapefactor") else 1
                        for k in range(count):
                            pname = name if count == 1 and t not in ("shapesys", "staterror", "shapefactor") else f"{name}[{k}]"
                            p = dict(name=pname, fixed=False, kind=None, aux0=0.0, sigma=1.0, tau=1.0)
                            if t in ("normfactor", "shapefactor"):
                                p.update(init=1.0, lo=0.0, hi=10.0)
                            elif t in ("normsys", "histosys"):
                                p.update(init=0.0, lo=-5.0, hi=5.0, kind="gauss")
                            elif t == "lumi":
                                p.update(init=1.0, lo=0.0, hi=10.0, kind="gauss", aux0=1.0)
                            elif t == "shapesys":
                                p.update(init=1.0, lo=1e-10, hi=10.0, kind="poisson")
                                nom_k, unc = nominal[k], m["data"][k]
                                if nom_k > 0 and unc > 0:
                                    p["tau"] = (nom_k / unc) ** 2
                                else:
                                    p["fixed"] = True
                                p["aux0"] = p["tau"]
                            elif t == "staterror":
                                p.update(init=1.0, lo=1e-10, hi=10.0, kind="gauss", aux0=1.0)
                                nom, var = stat[(c["name"], name)]
                                if nom[k] > 0 and var[k] > 0:
                                    p["sigma"] = math.sqrt(var[k]) / nom[k]
                                else:
                                    p["fixed"] = True
                            self.params.append(p)
                        groups[name] = (first, count)
                    first, count = groups[name]
                    if t == "normsys":
                        mods.append(("normsys", first, m["data"]["hi"], m["data"]["lo"],
                                     code4_coefficients(m["data"]["hi"], m["data"]["lo"])))
                    elif t == "histosys":
                        mods.append(("histosys", first, np.array(m["data"]["hi_data"]) - nominal,
                                     nominal - np.array(m["data"]["lo_data"])))
                    elif t in ("normfactor", "lumi"):
                        mods.append(("scalar", first))
                    else:
                        mods.append(("perbin", first))
                self.samples.append((offset, nb, nominal, mods))
            offset += nb
        self.nbins = offset
        for cfg in meas["config"]["parameters"]:
            if cfg["name"] not in groups:
                continue
            first, count = groups[cfg["name"]]
            for k in range(count):
                p = self.params[first + k]
                if "inits" in cfg:
                    p["init"] = cfg["inits"][k]
                if "bounds" in cfg:
                    p["lo"], p["hi"] = cfg["bounds"][k]
                if "fixed" in cfg:
                    p["fixed"] = cfg["fixed"]
                if "auxdata" in cfg:
                    p["aux0"] = cfg["auxdata"][k]
                    if p["name"] == "lumi" and "inits" not in cfg:
                        p["init"] = p["aux0"]
                if "sigmas" in cfg:
                    p["sigma"] = cfg["sigmas"][k]
        self.names = [p["name"] for p in self.params]
        self.poi = self.names.index(self.poi_name)
        self.init = np.array([p["init"] for p in self.params])
        self.bounds = [(p["lo"], p["hi"]) for p in self.params]
        self.fixed = np.array([p["fixed"] for p in self.params])
        self.constrained = [i for i, p in enumerate(self.params) if p["kind"]]
        obs = {o["name"]: o["data"] for o in ws["observations"]}
        self.observed = np.concatenate([np.array(obs[c["name"]], dtype=float) for c in ws["channels"]])
        self.nominal_aux = np.array([self.params[i]["aux0"] for i in self.constrained])

    def expected(self, x):
        nu = np.zeros(self.nbins, dtype=x.dtype)
        for offset, nb, nominal, mods in self.samples:
            add = nominal.astype(x.dtype)
            factor = np.ones(nb, dtype=x.dtype)
            for m in mods:
                if m[0] == "histosys":
                    a, up, dn = x[m[1]], m[2], m[3]
                    if a.real > 1:
                        add = add + a * up
                    elif a.real < -1:
                        add = add + a * dn
                    elif self.histosys == "code0":
                        add = add + a * (up if a.real >= 0 else dn)
                    else:
                        s, asym = 0.5 * (up + dn), 0.0625 * (up - dn)
                        add = add + a * s + asym * a * a * (15 + a * a * (3 * a * a - 10))
            for m in mods:
                if m[0] == "scalar":
                    factor = factor * x[m[1]]
                elif m[0] == "perbin":
                    factor = factor * x[m[1]:m[1] + nb]
                elif m[0] == "normsys":
                    a, hi, lo, coef = x[m[1]], m[2], m[3], m[4]
                    if self.normsys == "code1" or abs(a.real) >= 1:
                        f = hi ** a if a.real >= 0 else lo ** (-a)
                    else:
                        f = 1 + sum(coef[i - 1] * a ** i for i in range(1, 7))
                    factor = factor * f
            nu[offset:offset + nb] += add * factor
        return np.where(nu.real > 1e-10, nu, 1e-10)

    def expected_aux(self, x):
        return np.array([x[i] * (self.params[i]["tau"] if self.params[i]["kind"] == "poisson" else 1.0)
                         for i in self.constrained])

    def nll(self, x, main, aux):
        nu = self.expected(x)
        v = np.sum(nu - main * np.log(nu) + gammaln(main + 1))
        for j, i in enumerate(self.constrained):
            p = self.params[i]
            if p["kind"] == "gauss":
                v = v + 0.5 * ((aux[j] - x[i]) / p["sigma"]) ** 2 + math.log(p["sigma"]) + 0.5 * math.log(2 * math.pi)
            else:
                r = x[i] * p["tau"]
                v = v + r - aux[j] * np.log(r) + gammaln(aux[j] + 1)
        return v


def fit(model, data, fix=None, start=None):
    """Returns (x, nll). fix: {index: value}."""
    main, aux = data
    x0 = np.array(model.init if start is None else start, dtype=float)
    fixed = model.fixed.copy()
    for i, v in (fix or {}).items():
        x0[i] = v
        fixed[i] = True
    free = np.where(~fixed)[0]
    bounds = [model.bounds[i] for i in free]

    def full(y):
        x = x0.astype(complex if np.iscomplexobj(y) else float)
        x[free] = y
        return x

    def f(y):
        return model.nll(full(y), main, aux).real

    def grad(y):
        g = np.zeros(len(y))
        for k in range(len(y)):
            z = y.astype(complex)
            z[k] += 1e-30j
            g[k] = model.nll(full(z), main, aux).imag / 1e-30
        return g

    y = np.clip(x0[free], [b[0] for b in bounds], [b[1] for b in bounds])
    res = minimize(f, y, jac=grad, method="L-BFGS-B", bounds=bounds,
                   options=dict(ftol=1e-15, gtol=1e-11, maxiter=20000, maxcor=30))
    y = res.x
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    for _ in range(6):  # Newton polish on the parameters away from their bounds
        g = grad(y)
        active = ((y - lo < 1e-9) & (g > 0)) | ((hi - y < 1e-9) & (g < 0))
        idx = np.where(~active)[0]
        if len(idx) == 0:
            break
        h = hessian_of(grad, y)[np.ix_(idx, idx)]
        try:
            step = -np.linalg.solve(h, g[idx])
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-6:
            z = y.copy()
            z[idx] = np.clip(y[idx] + t * step, lo[idx], hi[idx])
            if f(z) <= f(y) + 1e-14:
                y = z
                break
            t *= 0.5
        if np.max(np.abs(step)) < 1e-12:
            break
    return full(y), f(y)


def hessian_of(grad, y, h=1e-5):
    n = len(y)
    out = np.zeros((n, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = h * max(1.0, abs(y[k]))
        out[:, k] = (grad(y + e) - grad(y - e)) / (2 * e[k])
    return 0.5 * (out + out.T)


def hesse_errors(model, data, x):
    main, aux = data
    free = np.where(~model.fixed)[0]

    def grad(y):
        g = np.zeros(len(y))
        for k in range(len(y)):
            z = x.astype(complex)
            z[free] = y
            z[free[k]] += 1e-30j
            g[k] = model.nll(z, main, aux).imag / 1e-30
        return g

    cov = np.linalg.inv(hessian_of(grad, x[free]))
    err = np.zeros(len(x))
    err[free] = np.sqrt(np.diag(cov))
    return err


class Cls:
    def __init__(self, model, data, stat="qtilde"):
        self.model, self.data, self.stat = model, data, stat
        self.free = fit(model, data)
        bkg, _ = fit(model, data, {model.poi: 0.0})
        self.asimov = (model.expected(bkg).real, model.expected_aux(bkg))
        self.asimov_free = fit(model, self.asimov, start=bkg)
        self.bkg = bkg

    def q(self, data, free, mu):
        x_hat, nll_free = free
        cond_x, cond = fit(self.model, data, {self.model.poi: mu}, start=x_hat)
        if cond < nll_free:
            nll_free, x_hat = cond, cond_x
        t = max(0.0, 2 * (cond - nll_free))
        return 0.0 if x_hat[self.model.poi] > mu else t

    def at(self, mu):
        q = self.q(self.data, self.free, mu)
        qa = self.q(self.asimov, self.asimov_free, mu)
        sq, sqa = math.sqrt(q), math.sqrt(qa)
        if self.stat == "q" or sq <= sqa or qa == 0:
            clsb, clb = norm.cdf(-sq), norm.cdf(sqa - sq)
        else:
            clsb, clb = norm.cdf(-(q + qa) / (2 * sqa)), norm.cdf(-(q - qa) / (2 * sqa))
        band = [norm.cdf(-(n + sqa)) / norm.cdf(-n) for n in (2, 1, 0, -1, -2)]
        return clsb / clb, band

    def limits(self, cl=0.95):
        hi = self.model.bounds[self.model.poi][1]
        lo = 1e-9 * hi
        obs = brentq(lambda m: self.at(m)[0] - (1 - cl), lo, hi, xtol=1e-10, rtol=1e-12)
        exp = [brentq(lambda m, k=k: self.at(m)[1][k] - (1 - cl), lo, hi, xtol=1e-10, rtol=1e-12) for k in range(5)]
        return obs, exp


def impacts(model, data):
    x, _ = fit(model, data)
    err = hesse_errors(model, data, x)
    mu_hat = x[model.poi]
    out = []
    for i, p in enumerate(model.params):
        if i == model.poi or model.fixed[i]:
            continue
        entry = {"name": p["name"]}

        def shifted(s):
            v = min(max(x[i] + s, p["lo"]), p["hi"])
            y, _ = fit(model, data, {i: v}, start=x)
            return y[model.poi] - mu_hat

        entry["postfit_up"], entry["postfit_down"] = shifted(err[i]), shifted(-err[i])
        if p["kind"]:
            j = model.constrained.index(i)
            sigma_pre = p["sigma"] if p["kind"] == "gauss" else 1 / math.sqrt(p["tau"])
            centre = data[1][j] if p["kind"] == "gauss" else data[1][j] / p["tau"]
            entry["pull"] = (x[i] - centre) / sigma_pre
            entry["constraint"] = err[i] / sigma_pre
            entry["prefit_up"], entry["prefit_down"] = shifted(sigma_pre), shifted(-sigma_pre)
        out.append(entry)
    return out


def toy_cls(model, data, mu, n, seed, stat="qtilde"):
    rng = np.random.default_rng(seed)
    calc = Cls.__new__(Cls)
    calc.model = model

    def q_of(d, start):
        free = fit(model, d, start=start)
        return calc.q(d, free, mu)

    q_obs = q_of(data, model.init)

    def sample(truth):
        nu = model.expected(truth).real
        aux_mean = model.expected_aux(truth)
        main = rng.poisson(nu).astype(float)
        aux = np.array([rng.normal(aux_mean[j], model.params[i]["sigma"]) if model.params[i]["kind"] == "gauss"
                        else float(rng.poisson(aux_mean[j])) for j, i in enumerate(model.constrained)])
        return main, aux

    sig = model.init.copy()
    sig[model.poi] = mu
    bkg = model.init.copy()
    bkg[model.poi] = 0.0
    q_sb = np.array([q_of(sample(sig), sig) for _ in range(n)])
    q_b = np.array([q_of(sample(bkg), bkg) for _ in range(n)])
    clsb, clb = np.mean(q_sb >= q_obs), np.mean(q_b >= q_obs)
    cls = clsb / clb
    err = cls * math.sqrt((1 - clsb) / (n * clsb) + (1 - clb) / (n * clb))
    band_values = np.sort([np.mean(q_sb >= q) / np.mean(q_b >= q) for q in q_b])
    band = [float(np.percentile(band_values, 100 * norm.cdf(-k))) for k in (2, 1, 0, -1, -2)]
    return {"mu": mu, "n": n, "test_stat": stat, "q_obs": q_obs, "cls": cls, "cls_error": err,
            "clsb": clsb, "clb": clb, "exp": band}


def validation_case(name):
    d = json.load(open(os.path.join(SHARED, "pyhf-validation", name + ".json")))
    s = d["settings"]
    return d["workspace"], s["normsys_interpcode"], s["histosys_interpcode"]


def main():
    cases = []
    limit_cases = ["1bin_shapesys", "1bin_normsys", "2bin_histosys", "2bin_2channel", "2bin_2channel_couplednorm",
                   "2bin_2channel_coupledshapefactor", "1bin_lumi", "shapesys_nuisparfilter"]
    for name in limit_cases:
        ws, ns, hs = validation_case(name)
        cases.append(("pyhf-validation/" + name + ".json", ws, ns, hs, None))
    w6 = json.load(open(os.path.join(SHARED, "w6-workspace.json")))
    cases.append(("w6-workspace.json", w6, "code4", "code4p", None))
    bkg = json.load(open(os.path.join(REPO, "tests", "data", "pyhf", "example_bkgonly.json")))
    patchset = json.load(open(os.path.join(REPO, "tests", "data", "pyhf", "example_patchset.json")))
    import jsonpatch
    patched = jsonpatch.apply_patch(bkg, patchset["patches"][0]["patch"])
    cases.append(("example_bkgonly.json + patch_channel1_signal_syst1", patched, "code4", "code4p", None))

    out = {"generator": "tests/reference/stats_limits.py (independent numpy/scipy implementation; pyhf not run)",
           "numpy": np.__version__, "scipy": scipy.__version__, "limits": [], "impacts": [], "toys": []}
    for label, ws, ns, hs, meas in cases:
        model = Model(ws, ns, hs, meas)
        data = (model.observed, model.nominal_aux)
        for stat in ("qtilde", "q"):
            calc = Cls(model, data, stat)
            obs, exp = calc.limits(0.95)
            scan = []
            for mu in (0.5 * exp[2], exp[2], 2 * exp[2]):
                c, band = calc.at(mu)
                scan.append({"mu": mu, "obs": c, "exp": band})
            out["limits"].append({"workspace": label, "normsys": ns, "histosys": hs, "test_stat": stat, "cl": 0.95,
                                  "obs": obs, "exp": exp, "cls_scan": scan})
            print(label, stat, obs, exp, file=sys.stderr)
        if label.startswith("w6") or "2bin_2channel.json" in label or "1bin_shapesys.json" in label or "example" in label:
            out["impacts"].append({"workspace": label, "normsys": ns, "histosys": hs, "impacts": impacts(model, data)})
    ws, ns, hs = validation_case("1bin_normsys")
    model = Model(ws, ns, hs)
    out["toys"].append({"workspace": "pyhf-validation/1bin_normsys.json", "normsys": ns, "histosys": hs, "seed": 7,
                        **toy_cls(model, (model.observed, model.nominal_aux), 0.5, 2000, 7)})
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
