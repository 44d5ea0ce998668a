#!/usr/bin/env bash
# W6 side by side: agnostic-bench --workload W6 (1 and 2 threads) and the iminuit peer on the same
# likelihood, then the ratios peer / ours (higher is better for agnostic).
#   benchmarks/compare_w6.sh [BUILD_DIR] [REPEATS]      (default: build, 5)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../build}"
repeats="${2:-5}"
bench="$build/benchmarks/agnostic-bench"
python=/usr/bin/python3  # Debian's Python: numpy, scipy and python3-iminuit
[[ -x "$bench" ]] || { echo "compare_w6.sh: $bench not found; build the agnostic-bench target first" >&2; exit 1; }
"$python" -c "import iminuit" 2>/dev/null || { echo "compare_w6.sh: $python cannot import iminuit (apt-get install python3-iminuit)" >&2; exit 1; }

ours1="$("$bench" --workload W6 --threads 1 --repeats "$repeats")"
ours2="$("$bench" --workload W6 --threads 2 --repeats "$repeats")"
peer="$("$python" "$here/peers/w6_iminuit.py" --repeats $((repeats * 4)) --toys 1000)"
echo "agnostic 1 thread:  $ours1"
echo "agnostic 2 threads: $ours2"
echo "iminuit:            $peer"
"$python" - "$ours1" "$ours2" "$peer" <<'PY'
import json, sys
o1, o2, p = (json.loads(a) for a in sys.argv[1:4])
print(json.dumps({
    "workload": "W6",
    "fit_speedup_vs_iminuit": p["ms_per_fit"] / o1["ms_per_fit"],
    "toys_speedup_vs_iminuit_1_thread": p["toys_1000_s"] / o1["toys_1000_s"],
    "toys_speedup_vs_iminuit_2_threads": p["toys_1000_s"] / o2["toys_1000_s"],
    "ms_per_fit": {"agnostic": o1["ms_per_fit"], "iminuit": p["ms_per_fit"]},
    "toys_1000_s": {"agnostic_1_thread": o1["toys_1000_s"], "agnostic_2_threads": o2["toys_1000_s"],
                    "iminuit": p["toys_1000_s"]},
    "minos_mu": {"agnostic": o1["minos_mu"], "iminuit": p["minos"]["mu"]},
}))
PY
