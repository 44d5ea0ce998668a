#!/usr/bin/python3
"""agnostic.fit against pyhf.infer.mle.fit, side by side in one Python process, on a pyhf workspace
(default W6: ../shared/reference/w6-workspace.json; W8 with --workspace, the JSON that
`AGNOSTIC_W8_WORKSPACE=w8.json agnostic-bench --workload W8` writes).

pyhf is not a dependency: bring its source tree (https://github.com/scikit-hep/pyhf) and put its src/ on
PYTHONPATH, with Debian's python3-numpy, -scipy, -jsonschema, -jsonpatch, -click, -tqdm, -yaml, -rich;
iminuit is not packaged in Debian 12, so pyhf runs with its numpy backend and the scipy optimizer
(SLSQP) unless iminuit can be imported (then --optimizer minuit):

    PYTHONPATH=build/python:/path/to/pyhf/src /usr/bin/python3 benchmarks/peers/pyhf_fit.py [--repeats 20]

Timed per call, median of --repeats after one warm-up: pyhf's maximum-likelihood fit of the observed data
(best fit only; with minuit also its Hessian errors), and agnostic.fit(ws) (the whole document of
`agnostic fit`: best fit, Hessian errors, observed and expected significance, pre- and post-fit yields,
i.e. more work than pyhf's call). Prints one JSON line per workspace with both times, their ratio and the
best-fit POI of each.
"""
import argparse
import json
import os
import statistics
import time

import agnostic
import pyhf

HERE = os.path.dirname(os.path.abspath(__file__))
W6 = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "reference", "w6-workspace.json"))


def median_time(call, repeats):
    call()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default=W6)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--optimizer", default=None, help="scipy or minuit (default: minuit if importable)")
    parser.add_argument("--threads", type=int, default=1, help="agnostic's threads")
    args = parser.parse_args()
    optimizer = args.optimizer
    if optimizer is None:
        try:
            import iminuit  # noqa: F401
            optimizer = "minuit"
        except ImportError:
            optimizer = "scipy"
    pyhf.set_backend("numpy", optimizer)

    spec = json.load(open(args.workspace))
    workspace = pyhf.Workspace(spec)
    model = workspace.model()
    data = workspace.data(model)
    poi = model.config.poi_index

    def pyhf_fit():
        return pyhf.infer.mle.fit(data, model, return_uncertainties=optimizer == "minuit")

    def agnostic_fit():
        return agnostic.fit(spec, threads=args.threads)

    pyhf_median, pyhf_min, pyhf_max = median_time(pyhf_fit, args.repeats)
    agnostic_median, agnostic_min, agnostic_max = median_time(agnostic_fit, args.repeats)
    pyhf_result = pyhf_fit()
    pyhf_mu = float(pyhf_result[poi][0] if optimizer == "minuit" else pyhf_result[poi])
    document = agnostic_fit()
    print(json.dumps({
        "workspace": os.path.basename(args.workspace),
        "parameters": model.config.npars,
        "pyhf": {"version": pyhf.__version__, "optimizer": optimizer, "median_s": pyhf_median,
                 "min_s": pyhf_min, "max_s": pyhf_max, "mu_hat": pyhf_mu},
        "agnostic": {"median_s": agnostic_median, "min_s": agnostic_min, "max_s": agnostic_max,
                     "mu_hat": document["bestfit"][document["poi"]], "status": document["status"]},
        "ratio_pyhf_over_agnostic": pyhf_median / agnostic_median,
        "repeats": args.repeats,
    }))


if __name__ == "__main__":
    main()
