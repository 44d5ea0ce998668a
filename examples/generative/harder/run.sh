#!/usr/bin/env bash
# The cGAN on a harder density (issue 19 item 4; README.md here): for each setting and seed, events
# of density.py (seed S, the window 0.45 <= xc <= 0.55 blinded in training), `agnostic train` of the
# setting's config (training.seed S), `agnostic generate` at xc = 0.1, at xc = 0.9 and at conditions
# uniform in the window, and the K-S distance and tail-fraction error of each against the exact law
# (density.py evaluate), one JSON line per run appended to BUILD_DIR/examples/generative-harder/results.jsonl.
# Then the table (median and min-max over the seeds) of every setting in that file.
#
#   examples/generative/harder/run.sh [--quick] [BUILD_DIR] [SETTING...]      (default: baseline)
#
# SETTINGS are named in the case below (each a list of config changes to cgan.json). Environment:
# SEEDS (default "1 2 3"), EVENTS (events before blinding, default 50000; the setting events200k
# and best*_events200k use 200 000). --quick: 5000
# events, 2 epochs, one seed (seconds; the figures mean nothing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../example_common.sh"
need "$agnostic"
out=$(output_dir generative-harder)
seeds=${SEEDS:-1 2 3} events=${EVENTS:-50000} rows=20000 per_event=5
$quick && { seeds=1; events=5000; rows=2000; per_event=1; }
names=("${example_args[@]}")
[[ ${#names[@]} -gt 0 ]] || names=(baseline)

# The trained set-up (docs/cgan.md, "A harder density"): the baseline with Adam 2e-4, beta1 0.5. The
# study's settings change it one thing at a time; `baseline` alone keeps Adam 1e-3.
trained='optimiser={"name":"adam","learning_rate":0.0002,"beta1":0.5}'
settings_of() {
  case $1 in
    baseline) ;;                                                      # cgan.json as it is
    adam2e-4_b0.5) echo "$trained" ;;
    members10) echo "$trained" cgan.ensemble='{"members":10,"keep":10}' ;;
    keep5of10) echo "$trained" cgan.ensemble='{"members":10,"keep":5}' ;;
    no_average) echo "$trained" cgan.generator_average=0 ;;
    average0.99) echo "$trained" cgan.generator_average=0.99 ;;
    last_epoch) echo "$trained" training.early_stopping=false ;;
    d128) echo "$trained" cgan.discriminator_hidden='[128,128,128]' ;;
    dsteps2) echo "$trained" cgan.discriminator_steps=2 ;;
    d128_dsteps2) echo "$trained" cgan.discriminator_hidden='[128,128,128]' cgan.discriminator_steps=2 ;;
    d128_dsteps2_epochs60) echo "$trained" cgan.discriminator_hidden='[128,128,128]' cgan.discriminator_steps=2 \
      training.epochs=60 ;;
    d128_dsteps2_epochs100) echo "$trained" cgan.discriminator_hidden='[128,128,128]' cgan.discriminator_steps=2 \
      training.epochs=100 ;;
    epochs60) echo "$trained" training.epochs=60 ;;
    batch128) echo "$trained" training.batch_size=128 ;;
    latent2) echo "$trained" cgan.latent=2 ;;
    events200k) echo "$trained" ;;                                  # and 200 000 events (below)
    best) echo "$trained" cgan.discriminator_hidden='[128,128,128]' cgan.discriminator_steps=2 \
      training.epochs=60 cgan.ensemble='{"members":5,"keep":2}' ;;   # the best set-up at 50 000 events
    best_events200k) settings_of best ;;                              # and 200 000 events (below)
    best1_events200k) settings_of best1 ;;                            # and 200 000 events (below)
    best1) settings_of best; echo cgan.ensemble='{"members":1,"keep":1}' ;;  # one member (= best's member 0)
    best1_no_average) settings_of best1; echo cgan.generator_average=0 ;;
    best1_dsteps5) settings_of best1; echo cgan.discriminator_steps=5 training.epochs=150 ;;  # as many G steps
    best1_batch128) settings_of best1; echo training.batch_size=128 ;;
    best1_dsteps3) settings_of best1_dsteps5; echo cgan.discriminator_steps=3 ;;  # 3 D steps, 150 epochs allowed
    best1_dsteps4) settings_of best1_dsteps5; echo cgan.discriminator_steps=4 ;;  # 4 D steps, 150 epochs allowed
    best_dsteps4) settings_of best1_dsteps4; echo cgan.ensemble='{"members":5,"keep":2}' ;;  # (ensemble.py: from members)
    best_dsteps5) settings_of best1_dsteps5; echo cgan.ensemble='{"members":5,"keep":2}' ;;  # (ensemble.py: from members)
    defaults) ;;  # the library's defaults: cgan.json less the keys they fill (below); = best_dsteps4
    chisholm) settings_of sgd; echo cgan.generator_hidden='[256,256,256,256,256]' \
      cgan.discriminator_hidden='[256,256,256,256,256]' cgan.discriminator_steps=1 \
      cgan.ensemble='{"members":1,"keep":1}' ;;  # the library's defaults until 2026-12-05 (Chisholm et al.'s)
    lr3e-4) echo "$trained" optimiser.learning_rate=0.0003 ;;
    lr_decay) echo "$trained" optimiser.schedule='{"name":"exponential","gamma":0.1,"steps":2000}' ;;
    sgd) echo optimiser='{"name":"sgd","learning_rate":0.001,"momentum":0.9,"nesterov":true,"l2":0.0001,"clip_value":1}' ;;
    torch) ;;                                                         # the baseline in PyTorch
    torch_last_epoch) echo --last-epoch ;;
    torch_adam2e-4_b0.5) echo --learning-rate 0.0002 --beta1 0.5 ;;
    *) echo "run.sh: no setting '$1' (see the case in $0)" >&2; return 1 ;;
  esac
}

"$python" "$here/density.py" conditions --rows $rows --directory "$out"
for name in "${names[@]}"; do
  settings=$(settings_of "$name")
  for seed in $seeds; do
    run="$out/$name-$seed"
    # a setting and seed already in results.jsonl is not run again (delete the line to rerun it)
    grep -qs "\"setting\": \"$name\", \"seed\": $seed," "$out/results.jsonl" && continue
    mkdir -p "$run"
    n=$events
    [[ $name = *events200k ]] && ! $quick && n=200000
    "$python" "$here/density.py" events --events $n --seed $seed --output "$run/events.csv"
    # shellcheck disable=SC2086
    [[ $name = torch* ]] || derive_config "$here/cgan.json" "$run/cgan.json" training.seed=$seed $settings \
      $($quick && echo training.epochs=2)
    # `defaults`: every key the library's cGAN defaults fill is left out (--quick keeps its 2 epochs)
    [[ $name = defaults ]] && "$python" - "$run/cgan.json" $quick <<'PY'
import json, sys
path, quick = sys.argv[1], sys.argv[2] == "true"
config = json.load(open(path, encoding="utf-8"))
for section, key in [("optimiser", None), ("cgan", "generator_hidden"), ("cgan", "discriminator_hidden"),
                     ("cgan", "discriminator_steps"), ("cgan", "generator_average"), ("cgan", "latent"),
                     ("cgan", "ensemble"), ("training", "batch_size"), ("data", "validation_fraction")] + \
        ([] if quick else [("training", "epochs")]):
    if key is None:
        config.pop(section, None)
    else:
        config[section].pop(key, None)
json.dump(config, open(path, "w", encoding="utf-8"), indent=1)
PY
    start=$(date +%s.%N)
    if [[ $name = torch* ]]; then  # the PyTorch reference (benchmarks/peers/cgan_torch.py), its options
      # shellcheck disable=SC2086
      "$python" "$here/../../../benchmarks/peers/cgan_torch.py" --events "$run/events.csv" --conditions-dir "$out" \
        --output "$run" --seed $seed --per-event $per_event $($quick && echo --epochs 2) $settings >"$run/train.log"
    else
      "$agnostic" train "$run/cgan.json" --data "$run/events.csv" --out "$run/gan" --force >"$run/train.log"
    fi
    wall=$("$python" -c "print(round($(date +%s.%N) - $start, 1))")
    for region in edge_0.1 edge_0.9 window; do
      [[ $name = torch* ]] && break
      "$agnostic" generate --model "$run/gan/generator.json" --conditions "$out/$region.csv" \
        --per-event $per_event --seed 7 --output "$run/gen_$region.csv" >/dev/null
    done
    "$python" "$here/density.py" evaluate --directory "$run" --setting "$name" --seed $seed --wall "$wall" \
      | tee -a "$out/results.jsonl"
    rm -f "$run/events.csv" "$run"/gen_*.csv
  done
done
"$python" "$here/density.py" table "$out/results.jsonl"
