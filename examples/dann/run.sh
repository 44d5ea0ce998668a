#!/usr/bin/env bash
# The DANN example (Clavijo et al., arXiv:2005.00568; docs/dann.md):
#   1. (not with --quick) the lambda scan of dann-scan (C++, DannScheme), written to
#      BUILD/examples/dann/dann_scan.{json,md}, with its figures, when dann-scan is built
#      (cmake --build BUILD --target dann_scan; an example study, left out with
#      -DAGNOSTIC_BUILD_EXAMPLES=OFF);
#   2. `agnostic train` with "method": "dann" (config.json, lambda 10) and the same with lambda 0 (no
#      domain adaptation) on events of generate.py (source and target generators; target labels are
#      -1 in the file and never read). Headline for both: the held-out source AUC and the K-S distance
#      of the classifier output between the domains.
#
#   examples/dann/run.sh [--quick] [BUILD_DIR]        (default: build)
#
# --quick: 3000 events per domain, 5 epochs (seconds; the figures are rough).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
scan="$build/examples/dann/dann-scan"
need "$agnostic"
out=$(output_dir dann)

if ! $quick && [[ -x $scan ]]; then
  echo "== the lambda scan (domain weights match_target and none) =="
  time "$scan" --out "$out"
  draw "$out/dann_scan.json"
  echo
elif ! $quick; then
  echo "(dann-scan is not built: the lambda scan is skipped; cmake --build $build --target dann_scan)"
fi

events=20000
settings=()
if $quick; then
  events=3000
  settings=(training.epochs=5)
fi
echo "== agnostic train with \"method\": \"dann\": lambda 10 (config.json) and lambda 0 (no adaptation) =="
"$python" "$here/generate.py" --events $events --seed 1 --output "$out/events.csv"
derive_config "$here/config.json" "$out/dann.json" "${settings[@]}"
derive_config "$here/config.json" "$out/plain.json" "${settings[@]}" dann.lambda=0
train_runs "$out" "$out/events.csv" plain dann
echo
for run in plain dann; do
  echo "headline $run (lambda $(json_value "$out/$run.json" 'd["dann"]["lambda"]'), held-out events): $(json_value "$out/$run/history.json" \
    '"source AUC %.3f, K-S distance of the output between source and target %.3f, domain accuracy %.3f (0.5: the domains look alike)" % tuple(d["epochs"][-1][k] for k in ("validation_auc", "ks_source_target", "domain_accuracy"))')"
done
draw "$out/plain" "$out/dann"
