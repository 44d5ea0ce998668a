#!/usr/bin/env bash
# The compile cost of docs/build-cost.md: user CPU seconds and peak memory of one g++ -O2 compile
# of each translation unit (the *_extern ones with AGNOSTIC_EXTERN_INSTANCES, whose instances
# instances.cpp compiles once), ROUNDS interleaved rounds (median), and each as a multiple of the Eigen
# reference. Run it on an idle machine:   benchmarks/compile/measure.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
flags=(-std=c++20 -O2 -I"$root/include" -isystem /usr/include/eigen3 -c -o /dev/null)
declare -A unit=(
  [eigen_reference]="$root/benchmarks/compile/eigen_reference.cpp"
  [json_floor]="$root/benchmarks/compile/json_floor.cpp"
  [eigen_json_floor]="$root/benchmarks/compile/eigen_json_floor.cpp"
  [infer_trigger_path]="$root/tests/infer_trigger_path.cpp"
  [readme_dann_step_minimal]="$root/benchmarks/compile/readme_dann_step_minimal.cpp"
  [readme_dann_step_modules]="$root/benchmarks/compile/readme_dann_step_modules.cpp"
  [readme_dann_step_umbrella]="$root/benchmarks/compile/readme_dann_step_umbrella.cpp"
  [readme_dann_step_modules_extern]="$root/benchmarks/compile/readme_dann_step_modules.cpp"
  [readme_dann_step_umbrella_extern]="$root/benchmarks/compile/readme_dann_step_umbrella.cpp"
  [instances]="$root/benchmarks/compile/instances.cpp"
)
order=(eigen_reference json_floor eigen_json_floor infer_trigger_path readme_dann_step_minimal readme_dann_step_modules
  readme_dann_step_umbrella readme_dann_step_modules_extern readme_dann_step_umbrella_extern instances)
declare -A times mem
timing=$(mktemp)
trap 'rm -f "$timing"' EXIT
for ((r = 0; r < rounds; ++r)); do
  for name in "${order[@]}"; do
    extra=(-fopenmp)
    [[ $name == eigen_reference || $name == *_floor || $name == infer_trigger_path ]] && extra=()  # no OpenMP on these paths
    # *_extern: the same step in a program that compiles agnostic's instances once, in instances.cpp
    # (AGNOSTIC_EXTERN_INSTANCES, core/explicit_instances.hpp)
    [[ $name == *_extern ]] && extra+=(-DAGNOSTIC_EXTERN_INSTANCES)
    /usr/bin/time -f "%U %M" -o "$timing" g++ "${flags[@]}" "${extra[@]}" "${unit[$name]}" 2>/dev/null
    out=$(tail -n 1 "$timing")
    times[$name]+="${out%% *} "
    mem[$name]+="${out##* } "
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ref=$(echo "${times[eigen_reference]}" | median)
echo "| translation unit | user CPU s (median of $rounds) | peak memory | × reference |"
echo "| --- | --- | --- | --- |"
for name in "${order[@]}"; do
  t=$(echo "${times[$name]}" | median)
  m=$(echo "${mem[$name]}" | median)
  printf '| %s | %.2f | %.2f GB | %.1f |\n' "$name" "$t" "$(echo "$m / 1048576" | bc -l)" "$(echo "$t / $ref" | bc -l)"
done
echo "(g++ $(g++ -dumpfullversion), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F))"
