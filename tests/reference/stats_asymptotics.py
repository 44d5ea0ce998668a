#!/usr/bin/python3
"""Reference numbers for tests/test_stats_inference.cpp (asymptotic formulas), from scipy.

Written independently of the C++ code from Cowan et al., arXiv:1007.1727:
  q:      CLs+b = Phi(-sqrt q),               CLb = Phi(sqrt qA - sqrt q)
  qtilde: same while sqrt q <= sqrt qA, else  CLs+b = Phi(-(q + qA) / (2 sqrt qA)),
                                              CLb   = Phi(-(q - qA) / (2 sqrt qA))
  band:   CLs_exp(n) = Phi(-(n + sqrt qA)) / Phi(-n), n = 2, 1, 0, -1, -2
  p0:     Phi(-sqrt q0), band Phi(-(n + sqrt q0A))
Run: /usr/bin/python3 tests/reference/stats_asymptotics.py > tests/reference/stats_asymptotics.json
"""
import json
import math

from scipy.stats import norm


def cls(q, qa, stat):
    sq, sqa = math.sqrt(q), math.sqrt(qa)
    if stat == "q" or sq <= sqa:
        clsb, clb = norm.cdf(-sq), norm.cdf(sqa - sq)
    else:
        clsb, clb = norm.cdf(-(q + qa) / (2 * sqa)), norm.cdf(-(q - qa) / (2 * sqa))
    return {"q_obs": q, "q_asimov": qa, "test_stat": stat, "cls": clsb / clb, "clsb": clsb, "clb": clb}


cases = []
for q, qa in [(0.0, 1.0), (0.3, 2.5), (2.5, 0.3), (4.0, 9.0), (9.0, 4.0), (16.0, 1.0), (1e-6, 20.0), (30.0, 30.0)]:
    for stat in ("q", "qtilde"):
        cases.append(cls(q, qa, stat))

bands = []
for qa in (0.0, 0.5, 3.0, 12.0, 40.0):
    sqa = math.sqrt(qa)
    bands.append({
        "q_asimov": qa,
        "cls_exp": [norm.cdf(-(n + sqa)) / norm.cdf(-n) for n in (2, 1, 0, -1, -2)],
        "p0_exp": [norm.cdf(-(n + sqa)) for n in (2, 1, 0, -1, -2)],
        "p0": norm.cdf(-sqa),
    })

cdf = [{"x": x, "phi": norm.cdf(x)} for x in (-30.0, -8.0, -3.0, -1.0, -0.1, 0.0, 0.7, 2.0, 6.0)]
print(json.dumps({"generator": "scipy.stats.norm " + __import__("scipy").__version__, "cls": cases,
                  "bands": bands, "normal_cdf": cdf}, indent=1))
