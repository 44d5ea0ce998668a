#!/usr/bin/env bash
# The scaling measurement of docs/distributed.md ("Measured here"): W1 (the DANN step) at a fixed
# large global batch on K = 1, 2, 4, ... ranks of 1 thread each, against 1 rank of K threads; and
# toys per second (`agnostic fit W6 --toys N`) on K ranks of 1 thread against 1 rank of K threads.
# Prints one Markdown table per measurement; each figure is the median of the workload's repeats
# (W1) or one timed run (toys).
#
#   benchmarks/mpi_scaling.sh BUILD_DIR [MAX_RANKS] [BATCH] [TOYS]
#
# BUILD_DIR must be configured with -DAGNOSTIC_MPI=ON and hold agnostic-bench and agnostic
# (cmake --build BUILD_DIR --target agnostic-bench agnostic_cli). MAX_RANKS defaults to the number
# of cores, BATCH (W1's global batch) to 65536, TOYS to 20000. Run it on an otherwise idle machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: benchmarks/mpi_scaling.sh BUILD_DIR [MAX_RANKS] [BATCH] [TOYS]}
max=${2:-$(nproc)}
batch=${3:-65536}
toys=${4:-20000}
bench="$build/benchmarks/agnostic-bench"
agnostic="$build/tools/agnostic"
workspace="$here/../../shared/reference/w6-workspace.json"
for program in "$bench" "$agnostic"; do
  [[ -x $program ]] || { echo "mpi_scaling.sh: $program is missing (build with -DAGNOSTIC_MPI=ON)" >&2; exit 1; }
done
mpirun=(mpirun --bind-to core)
[[ $(id -u) -eq 0 ]] && mpirun+=(--allow-run-as-root)
counts=()
for ((k = 1; k <= max; k *= 2)); do counts+=("$k"); done
events() { sed -n 's/.*"events_per_s":\([0-9.e+]*\).*/\1/p'; }

echo "W1, global batch $batch, events/s ($(date -u +%F), $(nproc) cores, $(uname -n))"
echo
echo "| K | K ranks x 1 thread | 1 rank x K threads | ratio |"
echo "| --- | --- | --- | --- |"
for k in "${counts[@]}"; do
  ranks=$("${mpirun[@]}" -n "$k" "$bench" --workload W1 --threads 1 --batch "$batch" | events)
  threads=$("$bench" --workload W1 --threads "$k" --batch "$batch" | events)
  awk -v k="$k" -v r="$ranks" -v t="$threads" 'BEGIN { printf "| %d | %.3g | %.3g | %.2f |\n", k, r, t, r / t }'
done

echo
echo "W6 toys (agnostic fit --toys $toys), toys/s"
echo
echo "| K | K ranks x 1 thread | 1 rank x K threads |"
echo "| --- | --- | --- |"
for k in "${counts[@]}"; do
  start=$(date +%s.%N)
  "${mpirun[@]}" -n "$k" "$agnostic" fit "$workspace" --toys "$toys" --threads 1 > /dev/null
  middle=$(date +%s.%N)
  "$agnostic" fit "$workspace" --toys "$toys" --threads "$k" > /dev/null
  end=$(date +%s.%N)
  awk -v k="$k" -v n="$toys" -v a="$start" -v b="$middle" -v c="$end" \
    'BEGIN { printf "| %d | %.0f | %.0f |\n", k, n / (b - a), n / (c - b) }'
done
