#!/usr/bin/env bash
# The flagship example: train a classifier with `agnostic train examples/higgs/config.json`,
# print the validation AUC and the AMS at the best cut, and write the held-out events'
# label,weight,score to predictions.csv in the output directory, and draw its figures into
# OUTPUT/plots/ with `agnostic plot` (needs python3-matplotlib).
#
# It runs twice when it can:
#   1. on toy events made by higgs-generate (always: a fresh clone has nothing else), and
#   2. on the real Higgs ML challenge sample, when ../shared/data/higgs-challenge-sample/ exists.
#
#   examples/higgs/run.sh [BUILD_DIR]        (default: build; ./setup.sh example calls it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
agnostic="$build/tools/agnostic"
generate="$build/examples/higgs/higgs-generate"
for program in "$agnostic" "$generate"; do
  [[ -x $program ]] || { echo "run.sh: $program is missing; build first (cmake --build $build)" >&2; exit 1; }
done
out="$build/examples/higgs"
mkdir -p "$out"

echo "== 1. toy H->tautau events made by higgs-generate =="
"$generate" --output "$out/generated-events.csv" --signal 5000 --background 5000 --seed 1
"$agnostic" train "$here/config.json" --data "$out/generated-events.csv" --out "$out/generated" --force |
  tee "$out/generated.log"

sample=$(realpath -m "$root/../shared/data/higgs-challenge-sample")
if [[ -f $sample/signal.csv && -f $sample/background.csv ]]; then
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
  [[ -d $out/$run ]] || continue
  if "$agnostic" plot "$out/$run" --output "$out/$run/plots" >"$out/$run-plot.log" 2>&1; then
    echo "$run: $(wc -l <"$out/$run-plot.log") figures in $out/$run/plots/"
  else
    echo "$run: no figures ($(tail -n 2 "$out/$run-plot.log" | tr '\n' ' '))"
  fi
done
