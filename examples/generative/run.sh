#!/usr/bin/env bash
# The cGAN background model (Chisholm et al., arXiv:2112.00650 sec. 3; docs/cgan.md) from the command
# line, on events of generate.py (a bump at xc = 0.5, high xs, over a background whose xs shape moves
# with xc):
#   1. `agnostic train cgan.json`: an ensemble of cGANs learns p(xs | xc) on the sidebands (the window
#      0.45 <= xc <= 0.55 is blinded: never read);
#   2. `agnostic generate`: background events at the window's conditions (gen.csv);
#   3. `agnostic template`: the ensemble's histograms of xc in the window for xs > 0.8 -> nominal
#      template + 1 PCA shape modifier + the signal and the observed counts -> a pyhf workspace;
#   4. `agnostic fit` of that workspace. Headline: the fitted signal strength mu (truth 1) with its
#      error, and the kept members' quality chi2 (about 2 for a perfect generator).
# The ensemble test of Chisholm et al. (pulls over many pseudo-experiments) is the example study
# cgan-ensemble (examples/generative/README.md).
#
#   examples/generative/run.sh [--quick] [BUILD_DIR] [KEY=JSON...]        (default: build)
#
# --quick: 4000 background events, 4 epochs (seconds; the figures are rough). SEED (environment, default
# 1) seeds the events and the training; KEY=JSON changes cgan.json (dotted keys, e.g.
# cgan.discriminator_steps=1), as README.md's table does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../example_common.sh"
need "$agnostic"
out=$(output_dir generative)

seed=${SEED:-1} background=40000 signal=300 settings=(training.seed=$seed "${example_args[@]}")
$quick && { background=4000; signal=60; settings+=(training.epochs=4); }
"$python" "$here/generate.py" --background $background --signal $signal --seed $seed --directory "$out"
derive_config "$here/cgan.json" "$out/cgan.json" "${settings[@]}"
echo "== 1. agnostic train (method cgan, window blinded) =="
"$agnostic" train "$out/cgan.json" --data "$out/events.csv" --out "$out/gan" --force > "$out/train.log"
tail -n 2 "$out/train.log"
echo "== 2. agnostic generate: 10 events per window condition =="
"$agnostic" generate --model "$out/gan/generator.json" --conditions "$out/window.csv" --per-event 10 \
  --seed 4 --output "$out/gen.csv"
echo "wrote $(($(wc -l <"$out/gen.csv") - 1)) generated events to $out/gen.csv"
echo "== 3. agnostic template: xc in the window for xs > 0.8, one PCA component =="
"$agnostic" template "$out/gan/generator.json" --conditions "$out/window.csv" --column xc --bins 5:0.45:0.55 \
  --where "xs>0.8" --pca 1 --per-event 10 --observed "$out/events.csv" --signal "$out/signal.csv" \
  --output "$out/ws.json"
echo "== 4. agnostic fit =="
"$agnostic" fit "$out/ws.json" > "$out/fit.json"
echo "headline: mu = $(json_value "$out/fit.json" '"%.2f +- %.2f (truth 1)" % (d["bestfit"]["mu"], d["errors"]["mu"])'); kept members' quality chi2: $(json_value "$out/gan/summary.json" '", ".join("%.2f" % m["quality_chi2"] for m in d["members"] if m["kept"])')"
draw "$out/gan" "$out/ws.json" "$out/fit.json"
