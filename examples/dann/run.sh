#!/usr/bin/env bash
# The DANN example (source 001): the lambda scan of dann-scan (C++, DannScheme), written to
# BUILD/examples/dann/dann_scan.{json,md}, then one `agnostic train` with "method": "dann" on the
# same kind of events (config.json; target labels are -1 in the file and never read).
#
#   examples/dann/run.sh [BUILD_DIR]        (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
agnostic="$build/tools/agnostic"
scan="$build/examples/dann/dann-scan"
for program in "$agnostic" "$scan"; do
  [[ -x $program ]] || { echo "run.sh: $program is missing; build it (cmake --build $build --target agnostic_cli dann_scan)" >&2; exit 1; }
done
out="$build/examples/dann"
mkdir -p "$out"
echo "== the lambda scan (domain weights match_target and none) =="
time "$scan" --out "$out" --write-csv "$out/events.csv"
echo
echo "== agnostic train with \"method\": \"dann\" =="
"$agnostic" train "$here/config.json" --data "$out/events.csv" --out "$out/train" --force
