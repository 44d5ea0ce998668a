#!/usr/bin/env bash
# 004 sec. 3 with agnostic: PRI_tau_pt +-3 % as event weights, a scan of the penalty lambda
# (004 Fig. 7): AUC, score histograms nominal/up/down, expected significance and dmu/mu from the
# Asimov fit of each run's workspace.json. Results: BUILD/examples/systematics/{results.json,results.md}.
#
#   examples/systematics/run.sh [BUILD_DIR] [LAMBDAS]     (default: build, 0,1,5,20,50)
#
# Uses the Higgs ML challenge sample in ../shared/data when present, else 10000 events of
# higgs-generate (examples/higgs/generate.cpp) on a fresh clone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
lambdas=${2:-0,1,5,20,50}
[[ $build = /* ]] || build="$root/$build"
scan="$build/examples/systematics/systematics-scan"
generate="$build/examples/higgs/higgs-generate"
sample="$root/../shared/data/higgs-challenge-sample"
have_sample=false
[[ -f $sample/signal.csv && -f $sample/background.csv ]] && have_sample=true
needed=("$scan")
$have_sample || needed+=("$generate")  # higgs-generate only without the sample
for program in "${needed[@]}"; do
  [[ -x $program ]] || { echo "run.sh: $program is missing; build first (cmake --build $build --target systematics_scan higgs_generate)" >&2; exit 1; }
done
out="$build/examples/systematics"
mkdir -p "$out"
if $have_sample; then
  echo "== the Higgs ML challenge sample ($sample) =="
  events=("$sample/signal.csv" "$sample/background.csv")
else
  echo "== (no $sample) toy H->tautau events made by higgs-generate =="
  "$generate" --output "$out/generated-events.csv" --signal 5000 --background 5000 --seed 1
  events=("$out/generated-events.csv")
fi
"$scan" --events "${events[@]}" --config "$here/config.json" --output "$out/scan" --lambdas "$lambdas"
