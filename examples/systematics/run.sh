#!/usr/bin/env bash
# The systematics penalty of Wunsch et al. (arXiv:1907.11674; docs/systematics.md):
#   1. sec. 2's two-Gaussian toy (toy.json, events of toy_generate.py): background x2 shifted by +-1,
#      trained without (lambda 0) and with the penalty (lambda 5); each run's workspace.json fitted
#      with `agnostic fit --asimov`. Headline: sigma(mu) of each, the penalty's gain when the
#      systematic matters, and the held-out AUC.
#   2. (not with --quick; needs the example study systematics-scan, cmake --build BUILD --target
#      systematics_scan higgs_generate) sec. 3: PRI_tau_pt +-3 % as event weights, a scan of the
#      penalty lambda (Wunsch et al. Fig. 7): AUC, score histograms nominal/up/down, expected
#      significance and dmu/mu from the Asimov fit of each run's workspace.json. Results:
#      BUILD/examples/systematics/{results.json,results.md}. Uses the Higgs ML challenge sample in
#      ../shared/data when present, else 10000 events of higgs-generate on a fresh clone.
#
#   examples/systematics/run.sh [--quick] [BUILD_DIR] [LAMBDAS]     (default: build, 0,1,5,20,50)
#
# --quick: part 1 only, 4000 events, 5 epochs (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
root=$example_root
lambdas=${example_args[0]:-0,1,5,20,50}
need "$agnostic"
out=$(output_dir systematics)

echo "== 1. Wunsch et al. sec. 2: the two-Gaussian toy, background x2 +-1 =="
events=20000
settings=('expected_yields={"1": 100, "0": 1000}')
$quick && { events=4000; settings+=(training.epochs=5); }
"$python" "$here/toy_generate.py" --events $events --seed 1 --output "$out/toy004.csv"
for lambda in 0 5; do
  derive_config "$here/toy.json" "$out/toy-lambda$lambda.json" "${settings[@]}" \
    "systematics=[{\"name\": \"x2\", \"shift\": {\"feature\": \"x2\", \"up\": 1, \"down\": -1}, \"classes\": [0], \"penalty\": $lambda}]"
  "$agnostic" train "$out/toy-lambda$lambda.json" --data "$out/toy004.csv" --out "$out/toy-lambda$lambda" --force \
    > "$out/toy-lambda$lambda.log"
  "$agnostic" fit "$out/toy-lambda$lambda/workspace.json" --asimov > "$out/toy-lambda$lambda/fit.json"
  echo "headline lambda $lambda: sigma(mu) $(json_value "$out/toy-lambda$lambda/fit.json" '"%.3f" % d["errors"]["mu"]') (Asimov, mu = 1, x2 +-1 as a nuisance), held-out AUC $(json_value "$out/toy-lambda$lambda/summary.json" '"%.3f" % d["validation_auc"]')"
done
draw "$out/toy-lambda0" "$out/toy-lambda5" "$out/toy-lambda5/fit.json"
$quick && exit 0

scan="$build/examples/systematics/systematics-scan"
generate="$build/examples/higgs/higgs-generate"
if [[ ! -x $scan ]]; then
  echo "(systematics-scan is not built: the Higgs-sample scan is skipped; cmake --build $build --target systematics_scan higgs_generate)"
  exit 0
fi
echo
sample="$root/../shared/data/higgs-challenge-sample"
if [[ -f $sample/signal.csv && -f $sample/background.csv ]]; then
  echo "== 2. the Higgs ML challenge sample ($sample) =="
  events=("$sample/signal.csv" "$sample/background.csv")
else
  need "$generate"
  echo "== 2. (no $sample) toy H->tautau events made by higgs-generate =="
  "$generate" --output "$out/generated-events.csv" --signal 5000 --background 5000 --seed 1
  events=("$out/generated-events.csv")
fi
"$scan" --events "${events[@]}" --config "$here/config.json" --output "$out/scan" --lambdas "$lambdas"
