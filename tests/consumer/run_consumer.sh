#!/usr/bin/env bash
# Builds tests/consumer against agnostic both ways and checks what it prints.
#   run_consumer.sh SOURCE_DIR BINARY_DIR WORK_DIR
set -euo pipefail
source_dir=$1 binary_dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
check() {
  local out
  out=$("$1")
  grep -qx "consumer output 0" <<<"$out" && grep -qx "consumer linear -0.5" <<<"$out" || {
    echo "unexpected consumer output: $out" >&2
    exit 1
  }
}
cmake -S "$source_dir/tests/consumer" -B "$work/sub" -DAGNOSTIC_SOURCE="$source_dir" >/dev/null
cmake --build "$work/sub" >/dev/null
check "$work/sub/consumer"
echo "add_subdirectory: ok"
cmake --install "$binary_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
check "$work/installed/consumer"
echo "find_package: ok"
