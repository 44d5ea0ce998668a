#!/usr/bin/python3
"""Independent numbers for tests/test_stats_fit_results.cpp (issue 22, fit results), from numpy/scipy.

Two channels, "sr" (signal [5, 10], background [50, 30], data [60, 45]) and "cr" (signal [1, 0.5],
background [100, 80], data [98, 90]); the signal scaled by a normfactor mu in [0, 10], the background by
a normsys "bkg_norm" with hi 1.25, lo 0.8 under code1 (factor 1.25**alpha for every alpha, since
hi * lo = 1), alpha in [-5, 5] with a unit Gaussian constraint around 0.

Prints: the best fit (mu, alpha), the saturated q = 2 (nll - nll_saturated) (Poisson terms at nu = n,
the constraint at alpha = 0), ndof = 4 bins - 1 unconstrained parameter, its chi^2 p-value, and each
channel's q (its Poisson terms) with its chi^2 p-value for its 2 bins. With the SR masked, the fit of
the CR alone: mu does not enter, alpha from the CR.
Run: /usr/bin/python3 tests/data/fit_results_reference.py
"""
import numpy as np
from scipy import optimize, stats

sig = {"sr": np.array([5.0, 10.0]), "cr": np.array([1.0, 0.5])}
bkg = {"sr": np.array([50.0, 30.0]), "cr": np.array([100.0, 80.0])}
obs = {"sr": np.array([60.0, 45.0]), "cr": np.array([98.0, 90.0])}


def nu(ch, mu, alpha):
    return mu * sig[ch] + bkg[ch] * 1.25**alpha


def deviance(ch, mu, alpha):
    n, v = obs[ch], nu(ch, mu, alpha)
    return 2.0 * np.sum(v - n - n * np.log(v / n))


def objective(x, channels):  # -log L minus its saturated value
    mu, alpha = x
    return 0.5 * sum(deviance(c, mu, alpha) for c in channels) + 0.5 * alpha**2


def report(channels, mu, alpha, ndof):
    q = 2.0 * objective([mu, alpha], channels)
    print("channels in the likelihood", channels)
    print(f"  mu_hat = {mu:.12g}, alpha_hat = {alpha:.12g}")
    print(f"  saturated_q = {q:.12g}, ndof = {ndof}, p_value = {stats.chi2.sf(q, ndof):.12g}")
    for c in ("sr", "cr"):
        qc = deviance(c, mu, alpha)
        print(f"  {c}: saturated_q = {qc:.12g}, p_value = {stats.chi2.sf(qc, 2):.12g}")


# both channels, mu and alpha floating
best = optimize.minimize(objective, [1.0, 0.0], args=(["sr", "cr"],), method="L-BFGS-B",
                         bounds=[(0, 10), (-5, 5)], options={"ftol": 1e-15, "gtol": 1e-12})
best = optimize.minimize(objective, best.x, args=(["sr", "cr"],), method="Nelder-Mead",
                         options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000})
report(["sr", "cr"], best.x[0], best.x[1], 4 - 1)

# "sr" masked and mu fixed at 1: alpha from the CR and its constraint; ndof = 2 bins - 0
one = optimize.minimize_scalar(lambda a: objective([1.0, a], ["cr"]), bounds=(-5, 5), method="bounded",
                               options={"xatol": 1e-12})
report(["cr"], 1.0, one.x, 2)


# -- uncertainty breakdown (freeze groups) ---------------------------------------------------------
# The same model with a second normsys "sig_norm" on the signal in both channels (hi 1.1, lo 1/1.1:
# factor 1.1**beta under code1), unit Gaussian constraint. MINOS intervals of mu (profile -log L rises
# by 0.5) with every parameter floating, with bkg_norm held at its best fit, with sig_norm held, and
# with both held ("stat only"); a group's impact is sqrt(total^2 - held^2) on each side.
def objective3(x):
    mu, alpha, beta = x
    total = 0.0
    for c in ("sr", "cr"):
        n = obs[c]
        v = mu * sig[c] * 1.1**beta + bkg[c] * 1.25**alpha
        total += np.sum(v - n - n * np.log(v / n))
    return total + 0.5 * alpha**2 + 0.5 * beta**2


def polish(f, x0, bounds):
    r = optimize.minimize(f, x0, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-15, "gtol": 1e-12})
    r = optimize.minimize(f, r.x, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 40000})
    return r


best3 = polish(objective3, [1.0, 0.0, 0.0], [(0, 10), (-5, 5), (-5, 5)])
mu_hat, a_hat, b_hat = best3.x
f_min = best3.fun


def profile(mu, held):  # min over the parameters not held, the held ones at their best fit
    free = [i for i in (1, 2) if i not in held]
    def f(y):
        x = [mu, a_hat, b_hat]
        for i, v in zip(free, y):
            x[i] = v
        return objective3(x)
    if not free:
        return f([])
    return polish(f, [best3.x[i] for i in free], [(-5, 5)] * len(free)).fun


def interval(held):
    g = lambda mu: profile(mu, held) - f_min - 0.5
    hi = optimize.brentq(g, mu_hat + 1e-6, mu_hat + 5.0, xtol=1e-12)
    lo = optimize.brentq(g, 1e-9, mu_hat - 1e-6, xtol=1e-12)
    return hi - mu_hat, mu_hat - lo


print("breakdown model: mu_hat = %.12g, alpha_hat = %.12g, beta_hat = %.12g" % (mu_hat, a_hat, b_hat))
total = interval([])
print("  total: up %.10g down %.10g" % total)
for name, held in (("bkg_norm held", [1]), ("sig_norm held", [2]), ("stat only", [1, 2])):
    up, down = interval(held)
    print("  %s: up %.10g down %.10g -> impact up %.10g down %.10g" % (
        name, up, down, np.sqrt(total[0]**2 - up**2), np.sqrt(total[1]**2 - down**2)))
