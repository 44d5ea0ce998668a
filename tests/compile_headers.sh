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
  # clang also instantiates, once in the precompiled header, the templates of Eigen and JSON that
  # every check would otherwise instantiate again: those their own inline code uses, and the JSON
  # reading and writing that agnostic's headers do (the function below is never called). That took
  # the check from 287 to 179 s of CPU (docs/build-cost.md) and changes nothing it checks: the
  # precompiled header holds no agnostic header.
  cat >>"$work/external.hpp" <<'WARM'
inline void agnostic_header_check_warm_up(std::istream& in, const std::string& text) {
  nlohmann::json a = nlohmann::json::parse(text), b = nlohmann::json::parse(in);
  a.push_back(nlohmann::json::parse(text.c_str()));
  (void)a.dump(2);
  (void)a.at("x").get<double>();
  (void)a["y"].get<std::string>();
  (void)a.value("z", 1.0);
  (void)a.value("w", std::string());
  (void)a.contains("v");
  (void)a.get<int>();
  (void)a.get<long>();
  (void)a.get<std::size_t>();
  (void)a.get<bool>();
  (void)a.get<std::vector<double>>();
  (void)a.get<std::vector<std::string>>();
  nlohmann::json d = {{"k", 1.0}, {"s", text}};
  d["q"] = std::vector<double>{1.0};
  d.push_back(b);
  for (auto& [key, value] : a.items()) (void)value;
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(3, 3), n = m * m.transpose();
  n += m;
  Eigen::MatrixXf f = Eigen::MatrixXf::Zero(3, 3), g = f * f.transpose();
  g += f;
  Eigen::VectorXd v = n.col(0);
  (void)v.dot(v);
}
WARM
  "$compiler" "${flags[@]}" -Xclang -fpch-instantiate-templates -x c++-header "$work/external.hpp" \
    -o "$work/external.pch"
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
