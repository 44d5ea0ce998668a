#!/bin/bash
# Runs the commands the tests run (train, predict, inspect, export, import, sample, template,
# generate, tune) with one `agnostic` binary on fixed generated inputs and writes every output
# file, plus each command's stdout+stderr, under OUTDIR. Run it with the binary of the starting
# commit and with the new one, then compare:
#   cli_compare.sh BINARY OUTDIR            (runs)
#   cli_compare.sh --diff DIR_A DIR_B       (byte comparison; files that hold wall times or dates
#                                            are compared with those fields removed)
# Helper H4, issue 18 (thin commands): "no result may change".
set -u
if [ "${1:-}" = "--diff" ]; then
  a=$2 b=$3 status=0
  # Wall-clock and date fields change from run to run: strip them before comparing.
  strip() { sed -E 's/"(seconds|wall_seconds|time|date|elapsed[a-z_]*|epoch_seconds|duration[a-z_]*)": ?[^,}]*/"\1": X/g; s/date: "[^"]*"/date: X/g; s/[0-9.]+ s\b/T s/g; s/[0-9]+(\.[0-9]+)? (ms|min)\b/T \2/g; s#/tmp/[^ ",]*/(run-[ab]|base|new)#DIR#g' "$1"; }
  for f in $(cd "$a" && find . -type f | sort); do
    if [ ! -f "$b/$f" ]; then echo "MISSING in $b: $f"; status=1; continue; fi
    if cmp -s "$a/$f" "$b/$f"; then continue; fi
    if cmp -s <(strip "$a/$f") <(strip "$b/$f"); then echo "same but for times/dates: $f"; continue; fi
    echo "DIFFERS: $f"; status=1
    diff <(strip "$a/$f") <(strip "$b/$f") | head -10
  done
  for f in $(cd "$b" && find . -type f | sort); do [ -f "$a/$f" ] || { echo "EXTRA in $b: $f"; status=1; }; done
  [ $status = 0 ] && echo "all outputs identical (times/dates aside)"
  exit $status
fi

bin=$(realpath "$1")
out=$(realpath -m "$2")
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 1
export OMP_NUM_THREADS=1
run() {  # run NAME ARGS...: output and exit code into NAME.log
  local name=$1
  shift
  "$bin" "$@" > "$name.log" 2>&1
  echo "exit $?" >> "$name.log"
}

# Data: two Gaussian blobs with -999 holes and text labels (as tests/test_cli_train.cpp), from a
# fixed linear congruential stream so the bytes never depend on a library's RNG.
awk 'BEGIN {
  s = 12345; srand(1)
  print "id,a,b,c,w,Label,xc,xs,dom"
  for (i = 0; i < 1200; i++) {
    u1 = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
    u2 = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
    u3 = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
    u4 = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
    u5 = (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648
    sig = u1 < 0.5; sh = sig ? 0.8 : -0.8
    g1 = sqrt(-2 * log(u2 + 1e-12)) * cos(6.283185307 * u3)
    g2 = sqrt(-2 * log(u2 + 1e-12)) * sin(6.283185307 * u3)
    c = u4 < 0.2 ? -999 : 0.5 * sh + g2
    printf "%d,%.6f,%.6f,%.6f,%.6f,%s,%.6f,%.6f,%d\n", i, sh + g1, 0.3 * sh + g2 * 0.7 + u5, c, sig ? 0.01 + 0.01 * u5 : 0.5 + u5, sig ? "s" : "b", u5, u4 * u5 + 0.2 * u1, u4 < 0.5 ? 0 : 1
  }
}' > events.csv
awk -F, 'NR == 1 || NR % 3 == 0' events.csv > window.csv
# The features a, b, c as a plain 2-D .npy (float64, C order), for predict's unnamed-columns path.
python3 - <<'PY'
import struct
rows = [l.split(",") for l in open("events.csv").read().split("\n")[1:] if l]
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, 3), }" % len(rows)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open("events.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    for r in rows:
        f.write(struct.pack("<3d", float(r[1]), float(r[2]), float(r[3])))
PY

cat > config.json <<EOF
{"data": {"files": ["events.csv"], "features": ["a", "b", "c"], "label": "Label",
          "label_classes": {"b": 0, "s": 1}, "weight": "w",
          "missing": {"marker": -999.0, "indicators": true}, "balance_classes": true},
 "model": {"hidden": [8], "activation": "tanh"},
 "optimiser": {"name": "adam", "learning_rate": 0.01},
 "training": {"epochs": 4, "batch_size": 32, "seed": 3, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > dann.json <<EOF
{"method": "dann",
 "data": {"files": ["events.csv"], "features": ["a", "b"], "label": "Label",
          "label_classes": {"b": 0, "s": 1}, "domain": "dom"},
 "dann": {"target_signal_fraction": 0.3, "domain_hidden": [4]},
 "model": {"hidden": [6], "activation": "tanh"},
 "training": {"epochs": 2, "batch_size": 64, "seed": 5, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > cgan.json <<EOF
{"method": "cgan",
 "data": {"files": ["events.csv"], "features": ["xs"], "validation_fraction": 0.25},
 "cgan": {"conditions": ["xc"], "latent": 3, "generator_hidden": [8], "discriminator_hidden": [8],
          "blind": {"column": "xc", "range": [0.45, 0.55]}, "ensemble": {"members": 3, "keep": 2}},
 "training": {"epochs": 2, "batch_size": 64, "seed": 1, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > adnn.json <<EOF
{"method": "adnn",
 "data": {"files": ["events.csv"], "features": ["a", "b", "c"], "label": "Label",
          "label_classes": {"b": 0, "s": 1}, "domain": "dom"},
 "adnn": {"adversary_class": "s", "pretrain_classifier_epochs": 1, "pretrain_adversary_epochs": 1,
          "adversary_hidden": [4], "adversary_steps": 2},
 "model": {"hidden": [6], "activation": "tanh"},
 "training": {"epochs": 2, "batch_size": 64, "seed": 9, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > penalised.json <<EOF
{"data": {"files": ["events.csv"], "features": ["a", "b"], "label": "Label",
          "label_classes": {"b": 0, "s": 1}, "weight": "w"},
 "model": {"hidden": [6], "activation": "elu"},
 "optimiser": {"name": "adam", "learning_rate": 0.01},
 "soft_histogram": {"bins": 5},
 "systematics": [{"name": "bshift", "shift": {"feature": "b", "up": 0.2, "down": -0.2}, "penalty": 1},
                 {"name": "wvar", "weights": {"up": "xs", "down": "xc"}, "penalty": 0.5}],
 "training": {"epochs": 2, "batch_size": 100, "seed": 4, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > inferno.json <<EOF
{"data": {"files": ["events.csv"], "features": ["a", "b"], "label": "Label",
          "label_classes": {"b": 0, "s": 1}},
 "model": {"hidden": [6], "activation": "rectified"},
 "loss": "inference_aware",
 "inference_aware": {"expected_signal": 50, "expected_background": 1000, "outputs": 4,
                     "shape_systematics": ["bshift"]},
 "systematics": [{"name": "bshift", "shift": {"feature": "b", "up": 0.2, "down": -0.2}}],
 "optimiser": {"name": "adam", "learning_rate": 0.01},
 "training": {"epochs": 2, "batch_size": 200, "seed": 6, "threads": 1},
 "output": {"progress": "silent"}}
EOF
cat > sampling.json <<EOF
{"data": {"files": ["events.csv"], "weight": "w"},
 "variables": [{"name": "a", "bins": 10, "range": [-4, 4]}, {"name": "b", "bins": 8, "range": [-3, 4]},
               {"name": "xs", "edges": [0, 0.1, 0.3, 0.6, 1.3]}],
 "templates": [{"draw": ["a"]}, {"draw": ["b"], "given": ["a"]}, {"draw": ["xs"], "given": ["b"]}],
 "sampling": {"events": 2000, "seed": 7, "replacement": true}}
EOF
cat > ensemble.json <<EOF
{"variable": "m", "edges": [100, 105, 110, 115],
 "members": [[510, 320, 180], [498, 331, 176], [505, 318, 190], [520, 300, 185]],
 "observed": [512, 322, 181], "signal": [0, 12, 3]}
EOF
cat > space.json <<EOF
{"search": "grid", "objective": "validation_auc",
 "parameters": {"model.hidden": {"values": [[4], [6]]}, "optimiser.learning_rate": {"values": [0.01, 0.02]}}}
EOF

run train train config.json --out train
run train_dann train dann.json --out dann
run train_cgan train cgan.json --out cgan
run train_adnn train adnn.json --out adnn
run train_penalised train penalised.json --out penalised
run train_inferno train inferno.json --out inferno
run predict predict --model train/model.json --input events.csv --output scores.csv --keep id --keep Label
run predict_npy predict --model train/model.json --input events.npy --output scores_npy.csv
run inspect inspect train/model.json
run inspect_dann inspect dann/model.json
run export_lwtnn export train/model.json --format lwtnn --output model_lwtnn.json
run export_onnx export train/model.json --format onnx --output model.onnx
run export_header export train/model.json --format header --output tagger.hpp
run export_header_name export train/model.json --format header --output tagger2.hpp --name my_tagger
run export_dann_lwtnn export dann/model.json --format lwtnn --output dann_lwtnn.json
run export_dann_onnx export dann/model.json --format onnx --output dann.onnx
run import_onnx import dann.onnx --output imported_onnx.json --features a,b
run import_onnx_nofeatures import dann.onnx --output imported_onnx2.json
run import_lwtnn import dann_lwtnn.json --output imported_lwtnn.json
run import_lwtnn_rename import dann_lwtnn.json --output imported_lwtnn2.json --features p,q
run import_bad_onnx import model.onnx --output imported_bad.json
run predict_imported predict --model imported_onnx.json --input events.csv --output scores_imported.csv --keep Label
run sample sample sampling.json --output sampled.csv --validation validation.json
run sample_override sample sampling.json --events 500 --seed 3 --output sampled2.csv --validation validation2.json
run template template ensemble.json --pca 2 --output ws.json
run template_opts template ensemble.json --pca 1 --output ws2.json --channel sr --sample bkg --poi mu_s --background-norm none
run generate generate --model cgan/generator.json --conditions window.csv --output generated.csv --per-event 3 --seed 4
run generate_default generate --model cgan/generator.json --conditions window.csv --output generated1.csv
run template_gan template cgan/generator.json --conditions window.csv --column xs --bins 5:0:1 --where "xc>0.3" --pca 1 --per-event 4 --observed window.csv --signal window.csv --output ws_gan.json
run tune tune config.json --space space.json --trials 4 --out tune
# Errors that the tests check by message.
run err_unknown train --bogus
run err_missing_input predict --model m.json
run err_format export train/model.json --format tflite --output x
run err_pca template ensemble.json --pca x --output w.json
# The summary table of commands.
run usage --help
# history.json holds wall times; checkpoints too: kept, compared with times stripped.
exit 0
