#!/usr/bin/env bash
# `agnostic fit` before/after comparison (issue 18, point 5: the fit report moved into stats/).
#   fit_compare.sh run BINARY OUTDIR [mpi]   every case below -> OUTDIR/<case>.{out,err,rc}
#                                            (mpi: under `mpirun -n 2 --oversubscribe`)
#   fit_compare.sh compare DIR_A DIR_B [stdout]   byte comparison of every case (stdout, stderr, exit
#                                            code; with `stdout`: stderr left out, as under mpirun,
#                                            where each rank reports an error in its own order); a
#                                            case whose stdout differs is compared as JSON with
#                                            numbers to 1e-9 relative
# Workspaces: tests/data/pyhf (with its patchset), ../shared/reference/w6-workspace.json and the
# workspaces embedded in ../shared/reference/pyhf-validation/*.json.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
shared="$repo/../shared"

run_cases() {
  local bin="$1" out="$2" mpi="${3:-}"
  mkdir -p "$out/ws"
  local launch=()
  if [[ "$mpi" == mpi ]]; then
    launch=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -n 2 --oversubscribe)
  fi
  # the validation cases' workspaces as files
  for f in "$shared"/reference/pyhf-validation/*.json; do
    [[ "$(basename "$f")" == INDEX.json ]] && continue
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["workspace"], open(sys.argv[2],"w"))' \
      "$f" "$out/ws/$(basename "$f")"
  done
  one() {  # NAME ARGS...
    local name="$1"; shift
    "${launch[@]}" "$bin" fit "$@" >"$out/$name.out" 2>"$out/$name.err"
    echo $? >"$out/$name.rc"
  }
  local w6="$shared/reference/w6-workspace.json" ex="$repo/tests/data/pyhf/example_bkgonly.json"
  local ps="$repo/tests/data/pyhf/example_patchset.json"
  one help --help
  for pair in "w6:$w6" "example:$ex"; do
    local n="${pair%%:*}" w="${pair#*:}"
    one "$n-plain" "$w"
    one "$n-asimov" "$w" --asimov
    one "$n-minos" "$w" --minos
    one "$n-scan" "$w" --scan
    one "$n-scan-grid" "$w" --scan 0:3:7
    one "$n-scan-minos-asimov" "$w" --scan --minos --asimov
    one "$n-cls" "$w" --cls 1
    one "$n-cls-q" "$w" --cls 1.5 --test-stat q
    one "$n-ul" "$w" --upper-limit
    one "$n-ul-cl90" "$w" --upper-limit --cl 0.9
    one "$n-cls-scan" "$w" --cls-scan 0:3:7
    one "$n-ul-cls-scan" "$w" --upper-limit --cls-scan 0:3:7 --cls 2
    one "$n-impacts" "$w" --impacts
    one "$n-toys" "$w" --toys 20 --seed 3
    one "$n-toys-asimov" "$w" --asimov --toys 20
    one "$n-toys-threads1" "$w" --toys 12 --threads 1
    one "$n-toy-cls" "$w" --cls 1 --toys 20 --seed 5
    one "$n-toy-ul" "$w" --upper-limit --toys 12
    one "$n-toy-cls-scan" "$w" --cls-scan 0:3:5 --toys 15 --test-stat q
    one "$n-toy-ul-cls-scan" "$w" --upper-limit --cls-scan 0:3:6 --toys 15 --cl 0.9
    one "$n-interp" "$w" --normsys-interp code1 --histosys-interp code0 --minos
    one "$n-everything" "$w" --minos --scan --cls 1 --upper-limit --cls-scan 0:3:4 --impacts
    one "$n-err-grid" "$w" --cls-scan -5:3:4
    one "$n-err-cls" "$w" --cls -3
    one "$n-err-scan" "$w" --scan 0:999:4
  done
  one w6-toys-200 "$w6" --toys 200 --seed 9
  one example-fixed-poi-minos "$ex" --poi lumi --minos
  one example-fixed-poi-cls "$ex" --poi lumi --cls 1
  one example-fixed-poi-plain "$ex" --poi lumi
  one w6-err-seed "$w6" --seed 4
  one w6-err-unknown "$w6" --bogus
  one w6-err-cl "$w6" --cl 0.9
  one w6-err-none
  one w6-poi "$w6" --poi mu --measurement "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["measurements"][0]["name"])' "$w6")" --minos
  one patch-list --list-patches "$ps"
  local first
  first="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["patches"][0]["metadata"]["name"])' "$ps")"
  one patch-one "$ex" --patchset "$ps" --patch "$first" --minos --cls 1
  one patch-all "$ex" --patchset "$ps" --patch all --minos --upper-limit --impacts
  one patch-all-toys "$ex" --patchset "$ps" --patch all --cls 1 --toys 10 --scan
  for w in "$out"/ws/*.json; do
    local n
    n="val-$(basename "$w" .json)"
    one "$n-plain" "$w"
    one "$n-minos-scan" "$w" --minos --scan
    one "$n-cls" "$w" --cls 1 --upper-limit --cls-scan 0:2:5
    one "$n-impacts" "$w" --impacts
    one "$n-toys" "$w" --toys 10
    one "$n-toy-cls" "$w" --cls 1 --toys 10
  done
}

compare_dirs() {
  local a="$1" b="$2" only="${3:-}" same=0 close=0 differ=0
  same_err() { [[ "$only" == stdout ]] || cmp -s "$a/$1.err" "$b/$1.err"; }
  for f in "$a"/*.out; do
    local n
    n="$(basename "$f" .out)"
    if cmp -s "$f" "$b/$n.out" && same_err "$n" && cmp -s "$a/$n.rc" "$b/$n.rc"; then
      same=$((same + 1))
    elif cmp -s "$a/$n.rc" "$b/$n.rc" && same_err "$n" && python3 - "$f" "$b/$n.out" 2>/dev/null <<'PY'
import json, math, sys
def close(x, y, path):
    if isinstance(x, dict):
        return isinstance(y, dict) and list(x) == list(y) and all(close(x[k], y[k], path + "/" + k) for k in x)
    if isinstance(x, list):
        return isinstance(y, list) and len(x) == len(y) and all(close(u, v, path) for u, v in zip(x, y))
    if isinstance(x, float) or isinstance(y, float):
        ok = isinstance(y, (int, float)) and (x == y or abs(x - y) <= 1e-9 * max(abs(x), abs(y)))
        if not ok: print("  differs at", path, x, y)
        return ok
    return x == y
a, b = (json.load(open(p), object_pairs_hook=dict) for p in sys.argv[1:3])
sys.exit(0 if close(a, b, "") else 1)
PY
    then
      close=$((close + 1)); echo "within 1e-9, not byte-identical: $n"
    else
      differ=$((differ + 1)); echo "DIFFERS: $n"
    fi
  done
  echo "cases: $((same + close + differ)); byte-identical $same, within 1e-9 $close, different $differ"
  [[ $differ == 0 ]]
}

case "${1:-}" in
  run) shift; run_cases "$@" ;;
  compare) shift; compare_dirs "$@" ;;
  *) sed -n 2,8p "$0"; exit 2 ;;
esac
