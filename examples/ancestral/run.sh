#!/usr/bin/env bash
# Ancestral sampling from the command line (Chisholm et al., arXiv:2112.00650 sec. 2; docs/sampling.md),
# on the control events of generate.py:
#   1. `agnostic sample sample.json`: pseudo-events from p(m, pt) p(iso | pt) and their validation
#      against the control region; headline: each variable's chi2 p-value and the largest
#      difference of the correlation matrices;
#   2. the same with 5 seeds (5 bootstrap replicas, with replacement), each histogrammed in m for
#      iso < 0.2 (the signal region) -> ensemble.json -> `agnostic template --pca 1` -> a pyhf
#      workspace with the observed counts of observed.csv -> `agnostic fit`; headline: the fitted
#      background normalisation (the SR's share of the pseudo-events is not fixed, so it floats).
# The ensemble test of the pull widths is the example study ancestral-pulls (README.md).
#
#   examples/ancestral/run.sh [--quick] [BUILD_DIR]        (default: build)
#
# --quick: 5000 control events, 20000 pseudo-events per replica (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
need "$agnostic"
out=$(output_dir ancestral)

events=20000 pseudo=100000
$quick && { events=5000; pseudo=20000; }
"$python" "$here/generate.py" --events $events --signal 0 --seed 1 --directory "$out"
derive_config "$here/sample.json" "$out/sample.json"  # next to its data
derive_config "$here/sample.json" "$out/replica.json" 'output.validation=""'  # replicas: no validation file
echo "== 1. agnostic sample =="
"$agnostic" sample "$out/sample.json" --events $pseudo --output "$out/sampled.csv" --validation "$out/validation.json"
echo "headline: $(json_value "$out/validation.json" '", ".join("%s chi2 p-value %.2f" % (v["name"], v["chi2_p_value"]) for v in d["variables"]) + "; largest correlation difference %.3f" % d["correlation"]["max_abs_difference"]')"

echo "== 2. an ensemble of 5 bootstrap replicas -> agnostic template -> agnostic fit =="
for seed in 1 2 3 4 5; do
  "$agnostic" sample "$out/replica.json" --events $pseudo --seed $seed --output "$out/replica$seed.csv" > /dev/null
done
"$python" - "$out" "$events" "$pseudo" <<'PY'
import json, sys
import numpy as np
out, events, pseudo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
edges = np.linspace(0.0, 1.0, 11)
def sr_histogram(path, scale):
    x = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return (np.histogram(x[x[:, 2] < 0.2, 0], edges)[0] * scale).tolist()
members = [sr_histogram(f"{out}/replica{s}.csv", events / pseudo) for s in range(1, 6)]
json.dump({"variable": "m", "edges": edges.tolist(), "members": members,
           "observed": sr_histogram(f"{out}/observed.csv", 1.0)}, open(f"{out}/ensemble.json", "w"))
PY
"$agnostic" template "$out/ensemble.json" --pca 1 --output "$out/ws.json"
"$agnostic" fit "$out/ws.json" > "$out/fit.json"
echo "headline: background_norm $(json_value "$out/fit.json" '"%.3f +- %.3f" % (d["bestfit"]["background_norm"], d["errors"]["background_norm"])') (1: the model predicts the observed SR)"
draw "$out/ws.json" "$out/fit.json"
