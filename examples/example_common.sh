# What every examples/<name>/run.sh shares (sourced, not run): its arguments, the programs it needs,
# configs derived for --quick, and the figures drawn with `agnostic plot`.
#
#   examples/<name>/run.sh [--quick] [BUILD_DIR] [more arguments of that example]
#
# BUILD_DIR (or the environment variable AGNOSTIC_BUILD_DIR; default build/, relative to the
# repository) holds the build: BUILD_DIR/tools/agnostic and the examples' generators. --quick runs
# the example on few events and epochs (seconds on one core, as CI does: ctest label `example`);
# its figures and headline numbers are then rough. Outputs go to BUILD_DIR/examples/<name>/
# (BUILD_DIR/examples/<name>/quick/ with --quick).
set -euo pipefail
example_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=false
example_args=()
for argument in "$@"; do
  case $argument in
    --quick) quick=true ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) example_args+=("$argument") ;;
  esac
done
build=${example_args[0]:-${AGNOSTIC_BUILD_DIR:-build}}
[[ $build = /* ]] || build="$example_root/$build"
example_args=("${example_args[@]:1}")
agnostic="$build/tools/agnostic"
python=${AGNOSTIC_PYTHON:-/usr/bin/python3}
# --quick is what CI runs next to other tests: one thread unless told otherwise.
if $quick; then export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}; fi

# need PROGRAM...: stop with what to build when a program is missing.
need() {
  local program
  for program in "$@"; do
    [[ -x $program ]] || {
      echo "run.sh: $program is missing; build it first (cmake --build $build --target agnostic_cli ...; examples/README.md)" >&2
      exit 1
    }
  done
  "$python" -c 'import numpy' 2>/dev/null || { echo "run.sh: $python has no numpy (apt-get install python3-numpy)" >&2; exit 1; }
}

# output_dir NAME: BUILD_DIR/examples/NAME (or .../NAME/quick), created.
output_dir() {
  local dir="$build/examples/$1"
  $quick && dir="$dir/quick"
  mkdir -p "$dir"
  echo "$dir"
}

# derive_config IN.json OUT.json KEY=JSON...: IN.json (its whole-line // comments dropped) with the
# dotted keys set to the JSON values, written to OUT.json. --quick uses it for fewer epochs.
derive_config() {
  local in=$1 out=$2
  shift 2
  "$python" - "$in" "$out" "$@" <<'PY'
import json, sys
source, target, settings = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(source, encoding="utf-8") as f:
    config = json.loads("".join(line for line in f if not line.lstrip().startswith("//")))
for setting in settings:
    key, value = setting.split("=", 1)
    node = config
    *path, last = key.split(".")
    for part in path:
        node = node.setdefault(part, {})
    node[last] = json.loads(value)
with open(target, "w", encoding="utf-8") as f:
    json.dump(config, f, indent=1)
    f.write("\n")
PY
}

# train_runs DIR DATA RUN...: `agnostic train DIR/RUN.json --data DATA` into DIR/RUN for each RUN, its
# log in DIR/RUN.log, of which the last two lines (the summary) are printed.
train_runs() {
  local dir=$1 data=$2 run
  shift 2
  for run in "$@"; do
    "$agnostic" train "$dir/$run.json" --data "$data" --out "$dir/$run" --force >"$dir/$run.log"
    tail -n 2 "$dir/$run.log"
  done
}

# json_value FILE EXPRESSION: prints EXPRESSION evaluated on the JSON document `d` of FILE.
json_value() {
  "$python" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# draw PATH... : `agnostic plot` of each PATH into PATH/plots (a directory) or PATH-plots/ (a file).
# Without matplotlib it says so and the example still succeeds (the numbers are printed above).
draw() {
  local path log
  for path in "$@"; do
    log="${path%/}-plot.log"
    if "$agnostic" plot "$path" >"$log" 2>&1; then
      echo "figures: $(grep -c . "$log") drawn from $path (listed in $log)"
    elif grep -q matplotlib "$log"; then
      echo "figures: none (agnostic plot needs python3-matplotlib: $(tail -n 1 "$log"))"
    else
      cat "$log" >&2
      return 1
    fi
  done
  if $quick; then
    echo "(--quick: few events and epochs, so these figures and numbers are rough; run without --quick for the real ones)"
  fi
}
