#!/usr/bin/env bash
# regress.sh BUILD OUT: runs a fixed set of agnostic commands (train with every method, predict, export,
# import, generate, fit in ten modes) with BUILD/tools/agnostic; OUT holds every output. Run it with two
# builds (the last landing and the change) and compare with compare.sh OUT_A OUT_B: a refactoring must
# leave every file byte-identical apart from date stamps.
set -euo pipefail
build=$(readlink -f "$1"); out=$2; rm -rf "$out"; mkdir -p "$out"; out=$(readlink -f "$out")
A=$build/tools/agnostic
here=$(cd "$(dirname "$0")" && pwd); src=$(cd "$here/../.." && pwd)
export OMP_NUM_THREADS=2
/usr/bin/python3 "$here/gen_data.py" "$out"
"$build/examples/higgs/higgs-generate" --output "$out/higgs.csv" --signal 2000 --background 2000 --seed 1 > /dev/null
cd "$out"; export AGNOSTIC_SRC=$src
/usr/bin/python3 - <<'PY'
import json, re
def load(p):
    t = open(p).read()
    t = re.sub(r'^\s*//.*$', '', t, flags=re.M)
    return json.loads(t)
import os; src = os.environ["AGNOSTIC_SRC"] + "/examples"
c = load(src + "/higgs/config.json"); c["data"]["files"] = ["higgs.csv"]; c["training"]["epochs"] = 4
c["output"]["directory"] = "o_classifier"; json.dump(c, open("classifier.json", "w"))
s = load(src + "/systematics/config.json"); s["data"]["files"] = ["higgs.csv"]; s["training"]["epochs"] = 3
s["data"]["weight"] = "Weight"; s["systematics"] = [{"name": "tau_pt", "shift": {"feature": "PRI_tau_pt", "up": 1.03, "down": 0.97, "mode": "scale"}, "penalty": 5}]
json.dump(s, open("systematics.json", "w"))
d = load(src + "/dann/config.json"); d["data"]["files"] = ["dann.csv"]; d["data"]["features"] = ["x0","x1","x2","x3","x4","x5"]
d["training"]["epochs"] = 4; d["data"]["weight"] = "w"; json.dump(d, open("dann.json", "w"))
a = {"method": "adnn", "data": {"files": ["adnn.csv"], "features": ["x0","x1","x2","x3","x4"], "label": "process",
     "label_classes": {"bkg": 0, "ggh": 1, "sig": 2}, "domain": "model", "domain_classes": {"sm": 0, "bsm1": 1, "bsm2": 2}},
     "model": {"hidden": [16, 16], "activation": "rectified"}, "optimiser": {"name": "adam", "learning_rate": 0.001},
     "adnn": {"adversary_class": "sig", "alpha": 10, "adversary_steps": 2, "adversary_hidden": [8],
              "pretrain_classifier_epochs": 2, "pretrain_adversary_epochs": 1},
     "training": {"epochs": 3, "batch_size": 128, "seed": 3}}
json.dump(a, open("adnn.json", "w"))
g = {"method": "cgan", "data": {"files": ["cgan.csv"], "features": ["xs"], "validation_fraction": 0.25},
     "cgan": {"conditions": ["xc"], "blind": {"column": "xc", "range": [0.45, 0.55]}, "ensemble": {"members": 2, "keep": 2},
              "generator_hidden": [16, 16], "discriminator_hidden": [16, 16]},
     "training": {"epochs": 3, "batch_size": 256, "seed": 1}}
json.dump(g, open("cgan.json", "w"))
i = load(src + "/inferno/inferno_b0.json"); i["data"]["files"] = ["dann.csv"]; i["data"]["features"] = ["x0","x1","x2"]
i["training"]["epochs"] = 3; i["training"].pop("early_stopping", None); json.dump(i, open("inferno.json", "w"))
PY
run() { local name=$1; shift; echo "== $name: $*" >> commands.log; "$A" "$@" > "$name.stdout" 2> "$name.stderr" || echo "exit $?" >> "$name.stdout"; }
run classifier train classifier.json --out o_classifier
run systematics train systematics.json --out o_systematics
run dann train dann.json --out o_dann
run adnn train adnn.json --out o_adnn
run cgan train cgan.json --out o_cgan
run inferno train inferno.json --out o_inferno
run predict predict --model o_classifier/model.json --input higgs.csv --output pred.csv
run predict_dann predict --model o_dann/model.json --input dann.csv --output pred_dann.csv --keep label
run inspect inspect o_dann/model.json
run export_lwtnn export o_dann/model.json --format lwtnn --output lwtnn.json
run export_onnx export o_classifier/model.json --format onnx --output model.onnx
run export_header export o_classifier/model.json --format header --output net.hpp
for ws in $src/tests/data/pyhf/example_bkgonly.json $src/../shared/reference/w6-workspace.json; do
  b=$(basename $ws .json)
  run fit_$b fit $ws
  run fit_minos_$b fit $ws --minos
  run fit_toys_$b fit $ws --toys 20
  run fit_cls_$b fit $ws --cls 1
  run fit_ul_$b fit $ws --upper-limit
  run fit_scan_$b fit $ws --scan 0:2:11
  run fit_impacts_$b fit $ws --impacts
  run fit_clsscan_$b fit $ws --cls-scan 0.5:2:4 --toys 30
  run fit_asimov_$b fit $ws --asimov --scan
done
run import import lwtnn.json --output imported.json
run gen generate --model o_cgan/generator.json --conditions cgan.csv --output gen.csv --seed 3
ls -R o_cgan > cgan_files.txt
