#!/usr/bin/env bash
# The flagship example (a classifier): train with `agnostic train examples/higgs/config.json`,
# print the validation AUC and the AMS at the best cut, write the held-out events'
# label,weight,score to predictions.csv in the output directory, and draw its figures into
# OUTPUT/plots/ with `agnostic plot` (needs python3-matplotlib).
#
# It runs twice when it can:
#   1. on toy events made by higgs-generate (always: a fresh clone has nothing else), and
#   2. on the real Higgs ML challenge sample, when ../shared/data/higgs-challenge-sample/ exists
#      (not with --quick).
#
#   examples/higgs/run.sh [--quick] [BUILD_DIR]   (default: build; ./setup.sh example calls it)
#
# --quick: 1000 + 1000 toy events, at most 15 epochs (a few seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
root=$example_root
generate="$build/examples/higgs/higgs-generate"
need "$agnostic" "$generate"
out=$(output_dir higgs)

config="$here/config.json"
events_per_class=5000
if $quick; then
  events_per_class=1000
  config="$out/config-quick.json"
  derive_config "$here/config.json" "$config" training.epochs=15
fi

echo "== 1. toy H->tautau events made by higgs-generate =="
"$generate" --output "$out/generated-events.csv" --signal $events_per_class --background $events_per_class --seed 1
"$agnostic" train "$config" --data "$out/generated-events.csv" --out "$out/generated" --force |
  tee "$out/generated.log"

sample=$(realpath -m "$root/../shared/data/higgs-challenge-sample")
if $quick; then
  rm -f "$out/real.log"
elif [[ -f $sample/signal.csv && -f $sample/background.csv ]]; then
  echo
  echo "== 2. the Higgs ML challenge sample ($sample) =="
  "$agnostic" train "$here/config.json" --data "$sample/signal.csv" --data "$sample/background.csv" \
    --out "$out/real" --force | tee "$out/real.log"
else
  echo
  echo "(the real sample was not found at $sample; only the toy events were used)"
fi

echo
echo "== results (held-out 30 %; predictions.csv holds label,weight,score) =="
for run in generated real; do
  [[ -f $out/$run.log ]] || continue
  echo "$run: $(grep '^validation:' "$out/$run.log" | sed 's/^validation: //')"
  echo "  -> $out/$run/predictions.csv"
done

echo
echo "== figures (agnostic plot: losses, classifier output, ROC, AMS against the cut; docs/plot.md) =="
for run in generated real; do
  [[ -f $out/$run.log ]] || continue
  draw "$out/$run"
done
