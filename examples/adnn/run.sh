#!/usr/bin/env bash
# The ADNN example (Camaiani et al., arXiv:2207.09293; docs/adnn.md): `agnostic train` with
# "method": "adnn" (config.json) on events of generate.py, once with the adversary (alpha 5) and once
# without it (alpha 0: the plain classifier, same network and epochs). Headline: the mean K-S distance
# of the signal output between the signal models (Camaiani et al.'s figure of merit; lower: the
# output depends less on the model) and the held-out accuracy, for both. The full study (templates,
# Asimov fits, the bias per signal model: docs/adnn.md's table) is the program adnn-example
# (cmake --build BUILD --target adnn_example).
#
#   examples/adnn/run.sh [--quick] [BUILD_DIR]        (default: build)
#
# --quick: 3000 background events, 4 game epochs (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
need "$agnostic"
out=$(output_dir adnn)

events=20000
settings=()
if $quick; then
  events=3000
  settings=(training.epochs=4 adnn.pretrain_classifier_epochs=3 adnn.pretrain_adversary_epochs=2)
fi
"$python" "$here/generate.py" --events $events --seed 1 --output "$out/events.csv"
derive_config "$here/config.json" "$out/adnn.json" "${settings[@]}"
derive_config "$here/config.json" "$out/plain.json" "${settings[@]}" adnn.alpha=0
train_runs "$out" "$out/events.csv" plain adnn
echo
for run in plain adnn; do
  echo "headline $run (alpha $(json_value "$out/$run.json" 'd["adnn"]["alpha"]')): $(json_value "$out/$run/summary.json" \
    '"mean K-S between signal models %.3f, adversary accuracy %.3f (1/3: it cannot tell)" % (d["model_mean_ks"], d["model_adversary_accuracy"])')"
done
draw "$out/plain" "$out/adnn"
