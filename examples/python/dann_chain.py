"""The whole chain in one Python file, notebook style: events generated with numpy, a domain-adversarial
network (DANN; Ganin et al., arXiv:1505.07818) trained from a dict of arrays, its scores predicted on
the target domain, a pyhf workspace built from the score histograms, and that workspace fitted.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/dann_chain.py [--quick] [--seeds 1 2 3]

The source domain (simulation, labelled) and the target domain (data, unlabelled) differ by a shift
of feature x1: a plain classifier learns to lean on x1, DANN is pushed not to tell the domains apart.
The workspace's templates are the DANN score histograms of labelled source events, scaled to the
expected yields; the "observation" is the target events' histogram, so the fit's mu tells how well the
source templates describe the target. Printed per seed, then median and spread (physics claims are
shown over several seeds, not one).
"""

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

import agnostic


def generate(rng, n, shift):
    """n events: 20 % signal; four Gaussian features, x1 shifted by `shift` (the domain difference)."""
    signal = rng.random(n) < 0.2
    x = rng.normal(size=(n, 4)) + np.where(signal, 0.9, 0.0)[:, None] * np.array([1.0, 0.5, 0.8, 0.0])
    x[:, 1] += shift
    return {f"x{k}": x[:, k] for k in range(4)}, signal


def run(seed, quick, directory):
    rng = np.random.default_rng(seed)
    n = 4000 if quick else 20000
    source, source_signal = generate(rng, n, 0.0)
    target, target_signal = generate(rng, n, 0.6)
    events = {k: np.concatenate([source[k], target[k]]) for k in source}
    events["label"] = np.concatenate([np.where(source_signal, "s", "b"), np.full(n, "?")])
    events["domain"] = np.concatenate([np.full(n, "source"), np.full(n, "target")])

    config = {
        "method": "dann",
        "data": {"features": ["x0", "x1", "x2", "x3"], "label": "label", "label_classes": {"b": 0, "s": 1},
                 "domain": "domain", "domain_classes": {"source": 0, "target": 1}, "validation_fraction": 0.2},
        "model": {"hidden": [32, 32], "activation": "rectified"},
        "optimiser": {"name": "adam", "learning_rate": 0.001},
        "training": {"epochs": 3 if quick else 15, "batch_size": 128, "seed": seed, "early_stopping": False},
        "dann": {"lambda": 1, "lambda_schedule": "ganin", "setup": "A", "domain_weights": "none"},
        "output": {"progress": "silent"},
    }
    summary = agnostic.train(config, data=events, out=directory / f"dann-{seed}")

    model = agnostic.Model.load(directory / f"dann-{seed}" / "model.json")
    source_scores = model.predict(source)[:, -1]
    target_scores = model.predict(target)[:, -1]

    # Templates from the labelled source events, the observation from the target events; 6 score bins.
    edges = np.linspace(0.0, 1.0, 7)
    signal_hist = np.histogram(source_scores[source_signal], edges)[0].astype(float)
    background_hist = np.histogram(source_scores[~source_signal], edges)[0].astype(float)
    observed = np.histogram(target_scores, edges)[0].astype(float)
    workspace = {
        "channels": [{"name": "score", "samples": [
            {"name": "signal", "data": list(signal_hist),
             "modifiers": [{"name": "mu", "type": "normfactor", "data": None},
                           {"name": "mc_stat", "type": "staterror", "data": list(np.sqrt(signal_hist))}]},
            {"name": "background", "data": list(background_hist),
             "modifiers": [{"name": "mc_stat", "type": "staterror", "data": list(np.sqrt(background_hist))}]},
        ]}],
        "observations": [{"name": "score", "data": list(observed)}],
        "measurements": [{"name": "dann", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
    (directory / f"workspace-{seed}.json").write_text(json.dumps(workspace, indent=1))
    fit = agnostic.fit(workspace)
    return summary, fit


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer events and epochs (seconds)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--directory", type=Path, default=None, help="where the runs go (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.directory or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        mus, errors = [], []
        for seed in args.seeds:
            summary, fit = run(seed, args.quick, directory)
            mu, error = fit["bestfit"]["mu"], fit["errors"]["mu"]
            mus.append(mu)
            errors.append(error)
            print(f"seed {seed}: fit status {fit['status']}, mu = {mu:.3f} +- {error:.3f} "
                  f"(true signal fraction of the target = source's; mu = 1 when the templates describe it)")
        if len(mus) > 1:
            spread = (max(mus) - min(mus)) / 2
            print(f"mu over {len(mus)} seeds: median {statistics.median(mus):.3f}, half-range {spread:.3f}; "
                  f"median error {statistics.median(errors):.3f}")


if __name__ == "__main__":
    main()
