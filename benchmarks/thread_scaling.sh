#!/usr/bin/env bash
# Thread scaling of W1 and W3 (issue 20 item 2: 1 -> 16 threads >= 8x for W1) on a machine with more
# cores than the development VM, which need not have a compiler or Eigen: build a static agnostic-bench
# here, copy the repository (or just that binary and this script) there, and run it.
#
#   benchmarks/thread_scaling.sh build [BUILD_DIR]          here: a static, AVX-512 (x86-64-v4) agnostic-bench
#   benchmarks/thread_scaling.sh run [BUILD_DIR] [THREADS...]   there: the table (default 1 2 4 8 12 16)
#
# BUILD_DIR defaults to build-static (ignored by git, so the device tool carries it only when asked:
# carry "build-static/benchmarks/agnostic-bench"). For each thread count the run prints W1 and W3 with
# one chunk per thread (the default) and with CHUNKS chunks (default 64: set_fixed_chunks), each the
# median of ROUNDS (3) runs, and the speed-up against one thread; the JSON lines go to OUT
# (thread_scaling.jsonl). When `python3 -c "import torch"` works there, the PyTorch peer
# (peers/torch_workloads.py) runs the same workloads at the same thread counts in the same run.
# Environment: ROUNDS, CHUNKS, WORKLOADS ("W1 W3"), OUT, PYTHON (python3).
# Length: about 13 s per workload, thread count and round on the development VM (two agnostic-bench
# runs of 3 s and the peer's 7 s), so the default 6 thread counts x 2 workloads x 3 rounds take about
# 8 minutes; ROUNDS=3 WORKLOADS=W1 about 4.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode=${1:?usage: benchmarks/thread_scaling.sh build|run [BUILD_DIR] [THREADS...]}
build=${2:-$here/../build-static}
shift 2 || shift $#

case $mode in
  build)
    # libgomp's archive, not the shared object FindOpenMP picks; GCC 12 warns (-Wmaybe-uninitialized)
    # and -Wuninitialized inside its own AVX-512 intrinsics header at -O3 -march=x86-64-v4 (the
    # header initialises a variable with itself), not in agnostic's code.
    cmake -S "$here/.." -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
      -DAGNOSTIC_NATIVE=OFF -DAGNOSTIC_BUILD_TESTS=OFF -DAGNOSTIC_BUILD_EXAMPLES=ON \
      -DCMAKE_CXX_FLAGS="-march=x86-64-v4 -Wno-maybe-uninitialized -Wno-uninitialized" -DCMAKE_EXE_LINKER_FLAGS="-static" \
      -DOpenMP_gomp_LIBRARY="$(g++ -print-file-name=libgomp.a)"
    cmake --build "$build" --target agnostic-bench -j "$(nproc)"
    echo "built $build/benchmarks/agnostic-bench ($(du -h "$build/benchmarks/agnostic-bench" | cut -f1))"
    ;;
  run)
    bench="$build/benchmarks/agnostic-bench"
    [[ -x $bench ]] || { echo "thread_scaling.sh: $bench not found; run 'thread_scaling.sh build' first" >&2; exit 1; }
    threads=("$@")
    ((${#threads[@]})) || threads=(1 2 4 8 12 16)
    rounds=${ROUNDS:-3}; chunks=${CHUNKS:-64}; python=${PYTHON:-python3}
    out=${OUT:-thread_scaling.jsonl}
    peer=0
    "$python" -c "import torch" 2> /dev/null && peer=1
    : > "$out"
    {
      echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
      echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
      echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
      ((peer)) && echo "peer: PyTorch $("$python" -c 'import torch; print(torch.__version__)')"
    } >&2
    for round in $(seq 1 "$rounds"); do
      for w in ${WORKLOADS:-W1 W3}; do
        for t in "${threads[@]}"; do
          for c in 0 "$chunks"; do
            line=$("$bench" --workload "$w" --threads "$t" --chunks "$c" --repeats 5)
            echo "{\"side\": \"agnostic\", \"chunks\": $c, \"round\": $round, \"result\": $line}" >> "$out"
          done
          if ((peer)); then
            line=$(OMP_NUM_THREADS=$t "$python" "$here/peers/torch_workloads.py" --workload "$w" --threads "$t" --repeats 5)
            echo "{\"side\": \"pytorch\", \"chunks\": 0, \"round\": $round, \"result\": $line}" >> "$out"
          fi
          echo "round $round $w threads $t done" >&2
        done
      done
    done
    "$python" - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in runs:
    res = r["result"]
    key = (res["workload"], r["side"] if r["side"] == "pytorch" else f"agnostic, chunks {r['chunks'] or 'per thread'}")
    cells.setdefault(key, {}).setdefault(res["threads"], []).append(res["events_per_s"])
for w in sorted({k[0] for k in cells}):
    print(f"\n{w}: events/s (median of rounds), speed-up against one thread\n")
    print("| threads | " + " | ".join(k[1] for k in cells if k[0] == w) + " |")
    print("|" + " --- |" * (1 + sum(k[0] == w for k in cells)))
    threads = sorted({t for k, v in cells.items() if k[0] == w for t in v})
    for t in threads:
        row = []
        for k, v in cells.items():
            if k[0] != w:
                continue
            if t not in v:
                row.append("")
                continue
            m = statistics.median(v[t])
            one = statistics.median(v[min(v)])
            row.append(f"{m / 1e6:.2f} M ({m / one:.1f}x)")
        print(f"| {t} | " + " | ".join(row) + " |")
PY
    ;;
  *)
    echo "thread_scaling.sh: the first argument is build or run, not '$mode'" >&2
    exit 2
    ;;
esac
