#!/usr/bin/env bash
# Training workloads side by side: agnostic-bench and the PyTorch peer, same workload, same thread
# count, one after the other in the same run; prints each JSON line and the ratio ours / PyTorch.
#   benchmarks/compare.sh [BUILD_DIR] [THREADS...]        (default: build, 1 2)
#   WORKLOADS="W2" benchmarks/compare.sh build 2          (default: W1 W2 W3)
# Needs Debian's python3-torch and libopenblas0-openmp (the peer's best BLAS, as BENCHMARKS.md says).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../build}"
shift || true
threads=("$@")
((${#threads[@]})) || threads=(1 2)
bench="$build/benchmarks/agnostic-bench"
python=/usr/bin/python3
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
[[ -x "$bench" ]] || { echo "compare.sh: $bench not found; build the agnostic-bench target first" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "compare.sh: $python cannot import torch (apt-get install python3-torch)" >&2; exit 1; }
[[ -d "$openblas" ]] || echo "compare.sh: warning: $openblas missing (apt-get install libopenblas0-openmp); the peer runs on the reference BLAS" >&2

for w in ${WORKLOADS:-W1 W2 W3}; do
  for t in "${threads[@]}"; do
    ours="$("$bench" --workload "$w" --threads "$t" --repeats 5)"
    peer="$(LD_LIBRARY_PATH="$openblas" OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
      "$python" "$here/peers/torch_workloads.py" --workload "$w" --threads "$t" --repeats 5)"
    echo "agnostic: $ours"
    echo "pytorch:  $peer"
    "$python" - "$ours" "$peer" <<'PY'
import json, sys
o, p = (json.loads(a) for a in sys.argv[1:3])
extra = {"epochs_per_s": {"agnostic": o["epochs_per_s"], "pytorch": p["epochs_per_s"]}} if "epochs_per_s" in o else {}
gemm = {"eigen_gemm": o["eigen_gemm_gflops"]}
if "blas_gemm_gflops" in p:  # the peer's sgemm on the same products: the machine's GEMM rate is the better
    gemm["blas_gemm"] = p["blas_gemm_gflops"]
    best = max(o["eigen_gemm_gflops"], p["blas_gemm_gflops"])
    extra["fraction_of_best_gemm"] = {"agnostic": o["gflops"] / best, "pytorch": p["gflops"] / best}
print(json.dumps({"workload": o["workload"], "threads": o["threads"],
                  "ratio_ours_over_pytorch": o["events_per_s"] / p["events_per_s"],
                  "events_per_s": {"agnostic": o["events_per_s"], "pytorch": p["events_per_s"]},
                  "gflops": {"agnostic": o["gflops"], "pytorch": p["gflops"], **gemm},
                  "openblas_core": p.get("openblas_core", "?"), **extra}))
PY
  done
done
