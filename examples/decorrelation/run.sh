#!/usr/bin/env bash
# The decorrelation example (issue 23, docs/decorrelation.md): the plain classifier and DisCo, MoDe
# (on the CDF and on the mean) and flatness at several strengths, on a W-tagging-like toy, over 3
# seeds; the table of R50 against 1/JSD is written to BUILD/examples/decorrelation/decorrelation_scan.md.
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
