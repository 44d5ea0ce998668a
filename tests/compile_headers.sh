#!/usr/bin/env bash
# Every public header compiles alone: one generated translation unit per header under
# include/agnostic/ (the header included twice, so a missing `#pragma once` fails too), checked by the
# compiler with -fsyntax-only, several at a time. Headers of distributed/ need <mpi.h> and are checked
# only when the flags define AGNOSTIC_MPI.
# Eigen and nlohmann/json are parsed once, into a precompiled header that every check starts from
# (half of the check's time was parsing them again, 153 times). So the check still finds a header
# that misses one of agnostic's own headers, or Eigen's or JSON's, but not one that misses a standard
# header which Eigen or JSON include themselves (<vector>, <string>, <map>, ...).
#   compile_headers.sh INCLUDE_DIR JOBS COMPILER [FLAGS...]
set -euo pipefail
include_dir=$1 jobs=$2 compiler=$3
shift 3
flags=("$@")
mpi=false
for f in "${flags[@]}"; do [[ $f == -DAGNOSTIC_MPI* ]] && mpi=true; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The precompiled external headers (agnostic/core/matrix.hpp's Eigen setting first, as it does).
printf '%s\n' '#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)' '#include <Eigen/Dense>' \
  '#include <nlohmann/json.hpp>' >"$work/external.hpp"
if "$compiler" --version | grep -q clang; then
  "$compiler" "${flags[@]}" -x c++-header "$work/external.hpp" -o "$work/external.pch"
  flags+=(-include-pch "$work/external.pch")
else
  "$compiler" "${flags[@]}" -x c++-header "$work/external.hpp" -o "$work/external.hpp.gch"
  flags+=(-include "$work/external.hpp")
fi
headers=()
while IFS= read -r header; do
  [[ $header == agnostic/distributed/* || $header == agnostic/distributed.hpp ]] && ! $mpi && continue
  headers+=("$header")
done < <(cd "$include_dir" && find agnostic -name '*.hpp' | sort)

check() {  # header -> compiler messages in $work/<n>.log, "FAIL header" on stdout
  local header=$1 tu
  tu="$work/$(echo "$header" | tr '/.' '__').cpp"
  printf '#include "%s"\n#include "%s"\n' "$header" "$header" >"$tu"
  if ! "$compiler" "${flags[@]}" -I"$include_dir" -fsyntax-only "$tu" >"$tu.log" 2>&1; then
    echo "FAIL $header"
    sed 's/^/    /' "$tu.log" | head -n 20
  fi
}
export -f check
export work compiler include_dir
export flags_text="${flags[*]}"
failures=$(printf '%s\n' "${headers[@]}" |
  xargs -P "$jobs" -I{} bash -c 'flags=($flags_text); check "$1"' _ {})
if [[ -n $failures ]]; then
  echo "$failures"
  echo "$(grep -c '^FAIL' <<<"$failures") of ${#headers[@]} headers do not compile alone"
  exit 1
fi
echo "all ${#headers[@]} headers compile alone ($compiler)"
