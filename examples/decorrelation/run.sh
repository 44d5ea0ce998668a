#!/usr/bin/env bash
# The decorrelation example (issue 23, docs/decorrelation.md): the plain classifier and DisCo, MoDe
# (on the CDF and on the mean) and flatness at several strengths, on a W-tagging-like toy, over 3
# seeds; the table of R50 against 1/JSD is written to BUILD/examples/decorrelation/decorrelation_scan.md,
# and `agnostic plot` draws the trade-off and sculpting figures into BUILD/examples/decorrelation/plots/.
#
#   examples/decorrelation/run.sh [BUILD_DIR] [--quick]     (default: build; --quick: 1 seed, fewer events)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=build
quick=()
for arg in "$@"; do
  if [[ $arg == --quick ]]; then quick=(--quick --seeds 1); else build=$arg; fi
done
[[ $build = /* ]] || build="$root/$build"
scan="$build/examples/decorrelation/decorrelation-scan"
[[ -x $scan ]] || { echo "run.sh: $scan is missing; build it (cmake --build $build --target decorrelation_scan)" >&2; exit 1; }
out="$build/examples/decorrelation"
time "$scan" --out "$out" "${quick[@]}"

# The figures (docs/decorrelation.md, docs/plot.md): the trade-off 1/JSD against R50 of this scan's runs,
# and the sculpting of the background's mass by the plain classifier and by DisCo at lambda 30 (seed 1).
agnostic="$build/tools/agnostic"
python=${AGNOSTIC_PYTHON:-/usr/bin/python3}
if [[ ! -x $agnostic ]]; then
  echo "figures: not drawn ($agnostic is missing; cmake --build $build --target agnostic_cli)"
  exit 0
fi
mapfile -t runs < <("$python" - "$out/decorrelation_scan.json" "$out/runs" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1])):
    print(f"{sys.argv[2]}/{r['method']}_{r['strength']:g}_seed{r['seed']}")
PY
)
log="$out/plots.log"
if "$agnostic" plot --trade-off "${runs[@]}" --output "$out/plots" >"$log" 2>&1 &&
  "$agnostic" plot "$out/runs/plain_0_seed1" "$out/runs/disco_30_seed1" --output "$out/plots" >>"$log" 2>&1; then
  echo "figures: $out/plots/trade_off.png, $out/plots/{plain_0_seed1,disco_30_seed1}/sculpting.png (all listed in $log)"
elif grep -q matplotlib "$log"; then
  echo "figures: none (agnostic plot needs python3-matplotlib: $(tail -n 1 "$log"))"
else
  cat "$log" >&2
  exit 1
fi
