#!/usr/bin/env bash
# INFERNO's synthetic mixture (de Castro & Dorigo, arXiv:1806.04743; docs/inference_aware.md): trains
# the cross-entropy classifier and the inference-aware loss for benchmarks 0, 2 and 3 of the paper on
# events from inferno-generate, then evaluates every summary statistic with a binned Asimov fit on an
# independent test sample (inferno-evaluate) and prints the table of sigma(mu) (and sigma(s) =
# 50 sigma(mu), the paper's unit).
#
#   examples/inferno/run.sh [--quick] [BUILD_DIR] [EVENTS_PER_CLASS=50000] [SEED=1]
#
# --quick (also what runs when the example study inferno-evaluate is not built): the inference-aware
# loss for benchmarks 0 and 2 only, each run's workspace.json (its held-out events binned by the
# network's arg-max) fitted with `agnostic fit --asimov`; headline: sigma(mu) of each. --quick uses
# 3000 events per class and 4 epochs (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
events=${example_args[0]:-50000}
seed=${example_args[1]:-1}
generate="$build/examples/inferno/inferno-generate"
evaluate="$build/examples/inferno/inferno-evaluate"
need "$agnostic" "$generate"
if $quick || [[ ! -x $evaluate ]]; then
  out=$(output_dir inferno)
  $quick && events=3000
  $quick || echo "(inferno-evaluate is not built: only the training and the fits of workspace.json; cmake --build $build --target inferno_evaluate)"
  "$generate" "$out/train.csv" "$events" "$seed"
  for config in inferno_b0 inferno_b2; do
    settings=()
    $quick && settings=(training.epochs=4)
    derive_config "$here/$config.json" "$out/$config.json" "${settings[@]}"
    "$agnostic" train "$out/$config.json" --data "$out/train.csv" --out "$out/$config" --force > "$out/$config.log"
    "$agnostic" fit "$out/$config/workspace.json" --asimov > "$out/$config/fit.json"
    echo "headline $config: sigma(mu) $(json_value "$out/$config/fit.json" '"%.3f" % d["errors"]["mu"]') (Asimov fit of the held-out events binned by the network, its nuisances profiled)"
  done
  draw "$out/inferno_b0" "$out/inferno_b2" "$out/inferno_b2/fit.json"
  exit 0
fi
out="$build/examples/inferno/seed$seed"
mkdir -p "$out"
"$generate" "$out/train.csv" "$events" "$seed"
"$generate" "$out/test.csv" 200000 $((seed + 1000))
for config in classifier inferno_b0 inferno_b2 inferno_b3; do
  "$agnostic" train "$here/$config.json" --data "$out/train.csv" --out "$out/$config" --force > "$out/$config.log"
  tail -n 3 "$out/$config.log"
done
{
  echo "| summary statistic | benchmark 0 | benchmark 2 | benchmark 3 |"
  echo "| --- | --- | --- | --- |"
  row() {  # name model kind
    local -a s
    mapfile -t s < <("$evaluate" "$2" "$out/test.csv" "$3" 10 | awk '{printf "%.3f (%.1f)\n", $4, $6}')
    echo "| $1 | ${s[0]} | ${s[1]} | ${s[2]} |"
  }
  row "cross-entropy classifier, score in 10 bins" "$out/classifier/model.json" score
  row "inference-aware, trained for benchmark 0" "$out/inferno_b0/model.json" argmax
  row "inference-aware, trained for benchmark 2" "$out/inferno_b2/model.json" argmax
  row "inference-aware, trained for benchmark 3" "$out/inferno_b3/model.json" argmax
} | tee "$out/table.md"
