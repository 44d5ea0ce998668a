#!/usr/bin/env bash
# INFERNO's synthetic mixture (docs/inference_aware.md): trains the cross-entropy classifier and
# the inference-aware loss for benchmarks 0, 2 and 3 of the paper on events from
# inferno-generate, then evaluates every summary statistic with a binned Asimov fit on an
# independent test sample (inferno-evaluate) and prints the table of sigma(mu) (and sigma(s) =
# 50 sigma(mu), the paper's unit).
#   examples/inferno/run.sh [BUILD_DIR] [EVENTS_PER_CLASS=50000] [SEED=1]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
events=${2:-50000}
seed=${3:-1}
agnostic="$build/tools/agnostic"
generate="$build/examples/inferno/inferno-generate"
evaluate="$build/examples/inferno/inferno-evaluate"
for program in "$agnostic" "$generate" "$evaluate"; do
  [[ -x $program ]] || { echo "run.sh: $program is missing; build agnostic_cli, inferno_generate, inferno_evaluate" >&2; exit 1; }
done
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
