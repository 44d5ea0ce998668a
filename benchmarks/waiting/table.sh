#!/usr/bin/env bash
# table.sh NEW_BUILD BASE_BUILD OUT_DIR: the waiting table of issue 20 item 2 (benchmarks/README.md).
# W1 and W3 at 2 threads with `agnostic-bench`, in five situations (rows), each run by
#   new      NEW_BUILD's agnostic-bench (agnostic's own pool, core/thread_pool.hpp), no variable set;
#   passive  BASE_BUILD's (the parent commit, OpenMP underneath) with OMP_WAIT_POLICY=passive;
#   spin     BASE_BUILD's with GOMP_SPINCOUNT=20000 (a short spin);
#   rule     BASE_BUILD's with nothing set (its start-up rule reads /proc/loadavg and re-executes);
#   chunksK  NEW_BUILD's with `--chunks K` (every kernel in K chunks, a free thread taking the chunks
#            of a busy one: set_fixed_chunks, core/threads.hpp).
# The base columns need BASE_BUILD; with COLUMNS="new chunks16" it is not read (pass any build).
# Rows: idle (started alone); pipeline (`| tail -1`); after_heavy (started within 10 s of a heavy job
# ending: two `yes` for HEAVY_S seconds, ended 1 s before each run); yes (one `yes >/dev/null`
# competitor); builds (two `nice -n 0` g++ compiles of tests/test_core.cpp in a loop).
# Rounds interleave the columns; each cell is the median over ROUNDS rounds. Every JSON line goes to
# OUT_DIR/runs.jsonl with its row, column and round; OUT_DIR/table.md is the summary.
# Environment: ROUNDS (3), REPEATS (agnostic-bench --repeats, 5), ROWS ("idle pipeline after_heavy yes
# builds"), WORKLOADS ("W1 W3"), COLUMNS ("new passive spin rule"), HEAVY_S (5).
set -euo pipefail
new=$(readlink -f "$1")/benchmarks/agnostic-bench
base=$(readlink -f "$2")/benchmarks/agnostic-bench
out=$3
mkdir -p "$out"; out=$(readlink -f "$out")
src=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-3}; repeats=${REPEATS:-5}; heavy_s=${HEAVY_S:-5}
rows=${ROWS:-"idle pipeline after_heavy yes builds"}
workloads=${WORKLOADS:-"W1 W3"}
columns=${COLUMNS:-"new passive spin rule"}
: > "$out/runs.jsonl"
competitors=()
stop_competitors() {
  for pid in "${competitors[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${competitors[@]}"; do wait "$pid" 2>/dev/null || true; done
  competitors=()
}
trap stop_competitors EXIT

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
  echo "commit: $(git -C "$src" rev-parse --short HEAD) (new), base binary $base"
  echo "load before: $(cut -d' ' -f1-4 /proc/loadavg)"
} > "$out/conditions.txt"

# One run of agnostic-bench for a column; prints its JSON line.
bench() {
  local column=$1 workload=$2
  local args=(--workload "$workload" --threads 2 --repeats "$repeats")
  case $column in
    new) env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$new" "${args[@]}" ;;
    passive) env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive "$base" "${args[@]}" ;;
    spin) env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=20000 "$base" "${args[@]}" ;;
    rule) env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u AGNOSTIC_OPENMP_WAITING "$base" "${args[@]}" ;;
    chunks*) env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$new" "${args[@]}" --chunks "${column#chunks}" ;;
  esac
}

run_row() {
  local row=$1 column workload round line
  for round in $(seq 1 "$rounds"); do
    for workload in $workloads; do
      for column in $columns; do
        if [ "$row" = after_heavy ]; then
          yes > /dev/null & local h1=$!
          yes > /dev/null & local h2=$!
          sleep "$heavy_s"; kill "$h1" "$h2"; wait "$h1" "$h2" 2>/dev/null || true
          sleep 1
        fi
        local load; load=$(cut -d' ' -f1,4 /proc/loadavg)
        if [ "$row" = pipeline ]; then
          line=$(bench "$column" "$workload" | tail -1)
        else
          line=$(bench "$column" "$workload")
        fi
        echo "{\"row\": \"$row\", \"column\": \"$column\", \"round\": $round, \"load\": \"$load\", \"result\": $line}" \
          >> "$out/runs.jsonl"
        echo "$row $workload $column round $round: $(echo "$line" | sed 's/.*"events_per_s":\([0-9.e+]*\).*/\1/')" >&2
      done
    done
  done
}

for row in $rows; do
  case $row in
    yes)
      yes > /dev/null & competitors+=($!)
      sleep 2 ;;
    builds)
      for i in 1 2; do
        # The loop ends its running compile (by its id) when it is stopped.
        (child=
        trap 'kill $child 2> /dev/null; exit 0' TERM
        while true; do
          nice -n 0 g++ -std=c++20 -O2 -I"$src/include" -isystem /usr/include/eigen3 -fopenmp \
            -c "$src/tests/test_core.cpp" -o "/tmp/table-build-$i.o" 2> /dev/null &
          child=$!
          wait $child || true
        done) & competitors+=($!)
      done
      sleep 5 ;;
  esac
  run_row "$row"
  stop_competitors
  sleep 3
done
echo "load after: $(cut -d' ' -f1-4 /proc/loadavg)" >> "$out/conditions.txt"
/usr/bin/python3 "$(dirname "$0")/summarise.py" "$out" > "$out/table.md"
cat "$out/conditions.txt" "$out/table.md"
