#!/usr/bin/env bash
# Hyper-parameter search from the command line (`agnostic tune`; docs/distributed.md): a grid of the
# network's hidden layers and the learning rate (space.json) over the classifier config.json, on
# events of generate.py, then the best config trained again with `agnostic train`. Headline: the
# table of trials (tune.csv) and the best trial's held-out AUC.
#
#   examples/tune/run.sh [--quick] [BUILD_DIR]        (default: build)
#
# --quick: 3000 events, 4 trials of at most 5 epochs (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
need "$agnostic"
out=$(output_dir tune)

events=10000 trials=6 settings=()
$quick && { events=3000; trials=4; settings=(training.epochs=5); }
"$python" "$here/generate.py" --events $events --seed 1 --output "$out/events.csv"
derive_config "$here/config.json" "$out/config.json" "${settings[@]}"
"$agnostic" tune "$out/config.json" --space "$here/space.json" --trials $trials --output "$out/tune" --force \
  > "$out/tune.log"
echo "== the trials (tune.json; also tune.csv) =="
json_value "$out/tune/tune.json" 'chr(10).join("trial %d  %s  validation_auc %.3f  epochs %d" % (t["trial"], json.dumps(t["settings"]), t["validation_auc"], t["epochs"]) for t in d["trials"])'
"$agnostic" train "$out/tune/best_config.json" --data "$out/events.csv" --out "$out/best" --force > "$out/best.log"
echo "headline: best trial $(json_value "$out/tune/tune.json" '"%d %s" % (d["best_trial"], json.dumps(d["trials"][d["best_trial"]]["settings"]))'); retrained: held-out AUC $(json_value "$out/best/summary.json" '"%.3f" % d["validation_auc"]')"
draw "$out/best"
