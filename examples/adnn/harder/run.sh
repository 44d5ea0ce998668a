#!/usr/bin/env bash
# The harder ADNN analogue of issue 19 (docs/adnn.md, "The harder analogue"): generate.py's events
# (12 features, the signal from the SM and six alternative models), then for every setting and seed
# `agnostic train` (config.json with the setting's keys), `agnostic predict` on the test sample and
# evaluate.py (accuracy, mean K-S, the signal-strength bias of every alternative model, max |b|).
# Writes BUILD/examples/adnn-harder/results.jsonl (one line per run) and results.md (median and
# spread over the seeds, wall time per training).
#
#   examples/adnn/harder/run.sh [--quick] [BUILD_DIR] [SETTING...]
#
# SETTING: names from the table below (default: all). A setting's token @scale=F trains on its own
# events, generated with --scale F (the test sample stays the common one): with data.validation_fraction
# it gives more validation events per model at the same number of training events. --quick: one seed, a tenth of the events,
# 3 + 2 pre-training and 4 game epochs (seconds; only shows that everything runs).
# ADNN_ANALOGUE=redundant: the same study on ../redundant/generate.py's events (what ../redundant/run.sh
# does), written to BUILD/examples/adnn-redundant/.
# Every setting but `defaults` that does not set adnn.adversary_batch_size runs with it 0, and every one
# that does not set adnn.alpha with alpha 10 (issue 19's set-up): the tables' rows were measured when those
# were the defaults (8192 and 20 since 2026-12-06); `defaults` takes the library's; `defaults_a0` is the
# defaults before that day.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../example_common.sh"
need "$agnostic"
analogue=${ADNN_ANALOGUE:-harder}
[[ -f $here/../$analogue/generate.py ]] || { echo "run.sh: no generator examples/adnn/$analogue/generate.py" >&2; exit 1; }
out=$(output_dir "adnn-$analogue")

# name | keys set on config.json (derive_config KEY=JSON ...)
declare -A settings=(
  [dnn]="(the plain classifier, dnn.json)"
  [defaults]=""
  [defaults_a0]="adnn.adversary_batch_size=0"
  [last_epoch]="training.early_stopping=false"
  [output]="adnn.adversary_input=\"output\""
  [k10]="adnn.adversary_steps=10"
  [alpha3]="adnn.alpha=3"
  [adversary_lr]="adnn.adversary_optimiser={\"name\":\"adam\",\"learning_rate\":0.003}"
  [pretrain]="adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10"
  [linear]="adnn.alpha_schedule=\"linear\""
  [game150]="training.epochs=150"
  [output_last]="adnn.adversary_input=\"output\" training.early_stopping=false"
  [output_game150]="adnn.adversary_input=\"output\" training.early_stopping=false training.epochs=150"
  [output_alpha30]="adnn.adversary_input=\"output\" adnn.alpha=30"
  [output_k10]="adnn.adversary_input=\"output\" adnn.adversary_steps=10"
  [output_alpha1]="adnn.adversary_input=\"output\" adnn.alpha=1"
  [output_alpha3]="adnn.adversary_input=\"output\" adnn.alpha=3"
  [average]="adnn.classifier_average=\"exponential\""
  [average_uniform]="adnn.classifier_average=\"uniform\""
  [average_last]="adnn.classifier_average=\"exponential\" training.early_stopping=false"
  [average_game150]="adnn.classifier_average=\"exponential\" training.early_stopping=false training.epochs=150"
  [pretrain_average]="adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10 adnn.classifier_average=\"exponential\""
  [pretrain_alpha3]="adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10 adnn.alpha=3"
  [grl]="adnn.game_step=\"gradient_reversal\""
  [grl_k1]="adnn.game_step=\"gradient_reversal\" adnn.adversary_steps=1"
  [wide_adversary]="adnn.adversary_hidden=[64,64,64]"
  [average_fast]="adnn.classifier_average=\"exponential\" adnn.classifier_average_decay=0.99"
  [grl_pretrain]="adnn.game_step=\"gradient_reversal\" adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10"
  [grl_last]="adnn.game_step=\"gradient_reversal\" training.early_stopping=false"
  [grl_game150_last]="adnn.game_step=\"gradient_reversal\" training.early_stopping=false training.epochs=150"
  [grl_wide]="adnn.game_step=\"gradient_reversal\" adnn.adversary_hidden=[64,64,64]"
  [output_pretrain]="adnn.adversary_input=\"output\" adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10"
  [pretrain_average_fast]="adnn.pretrain_classifier_epochs=30 adnn.pretrain_adversary_epochs=10 adnn.classifier_average=\"exponential\" adnn.classifier_average_decay=0.99"
  [leaky]="model.activation=\"leakyrelu\""
  [output_leaky]="adnn.adversary_input=\"output\" model.activation=\"leakyrelu\""
  [alpha30]="adnn.alpha=30"
  [batch2048]="training.batch_size=2048"
  [batch4096]="training.batch_size=4096"
  [batch2048_leaky]="training.batch_size=2048 model.activation=\"leakyrelu\""
  [batch2048_k10]="training.batch_size=2048 adnn.adversary_steps=10"
  [batch2048_last]="training.batch_size=2048 training.early_stopping=false"
  [batch2048_game150_last]="training.batch_size=2048 training.early_stopping=false training.epochs=150"
  [batch8192]="training.batch_size=8192"
  [batch4096_last]="training.batch_size=4096 training.early_stopping=false"
  [batch4096_game150_last]="training.batch_size=4096 training.early_stopping=false training.epochs=150"
  [batch4096_game150_patience30]="training.batch_size=4096 training.epochs=150 training.early_stopping={\"patience\":30}"
  [output_batch2048]="adnn.adversary_input=\"output\" training.batch_size=2048"
  [own512_a4096]="adnn.adversary_batch_size=4096"
  [own512_a8192]="adnn.adversary_batch_size=8192"
  [own512_a16384]="adnn.adversary_batch_size=16384"
  [own512_a8192_game150_patience30]="adnn.adversary_batch_size=8192 training.epochs=150 training.early_stopping={\"patience\":30}"
  [own4096_a8192]="training.batch_size=4096 adnn.adversary_batch_size=8192"
  [own4096_a16384]="training.batch_size=4096 adnn.adversary_batch_size=16384"
  [own4096_a16384_validation]="training.batch_size=4096 adnn.adversary_batch_size=16384 data.validation_fraction=0.625 @scale=2"
  [batch4096_validation]="training.batch_size=4096 data.validation_fraction=0.625 @scale=2"
  [batch4096_validation_game150_patience30]="training.batch_size=4096 data.validation_fraction=0.625 @scale=2 training.epochs=150 training.early_stopping={\"patience\":30}"
  [batch2048_validation]="training.batch_size=2048 data.validation_fraction=0.625 @scale=2"
  [batch4096_alpha30]="training.batch_size=4096 adnn.alpha=30"
  [batch4096_average]="training.batch_size=4096 adnn.classifier_average=\"exponential\" adnn.classifier_average_decay=0.99"
  [own512_p8192]="adnn.penalty_batch_size=8192"
  [own512_a8192_p8192]="adnn.adversary_batch_size=8192 adnn.penalty_batch_size=8192"
  [own512_a8192_p16384]="adnn.adversary_batch_size=8192 adnn.penalty_batch_size=16384"
  [batch4096_p8192]="training.batch_size=4096 adnn.penalty_batch_size=8192"
  [batch4096_p16384]="training.batch_size=4096 adnn.penalty_batch_size=16384"
  [batch2048_p8192]="training.batch_size=2048 adnn.penalty_batch_size=8192"
  [own512_a8192_alpha20]="adnn.adversary_batch_size=8192 adnn.alpha=20"
  [own512_a8192_alpha20_game150_patience30]="adnn.adversary_batch_size=8192 adnn.alpha=20 training.epochs=150 training.early_stopping={\"patience\":30}"
  [own512_a8192_output]="adnn.adversary_batch_size=8192 adnn.adversary_input=\"output\""
  [own512_a8192_wide]="adnn.adversary_batch_size=8192 adnn.adversary_hidden=[64,64,64]"
  [own512_a8192_alpha5]="adnn.adversary_batch_size=8192 adnn.alpha=5"
  [own512_a8192_k10]="adnn.adversary_batch_size=8192 adnn.adversary_steps=10"
  [own512_a8192_k2]="adnn.adversary_batch_size=8192 adnn.adversary_steps=2"
  [batch4096_alpha20]="training.batch_size=4096 adnn.alpha=20"
  [batch4096_k10]="training.batch_size=4096 adnn.adversary_steps=10"
  [own512_a8192_cstep]="adnn.adversary_batch_size=8192 optimiser.schedule={\"name\":\"step\",\"steps\":2760,\"gamma\":0.3} adnn.adversary_optimiser={\"name\":\"adam\",\"learning_rate\":0.001}"
  [batch4096_cstep]="training.batch_size=4096 optimiser.schedule={\"name\":\"step\",\"steps\":360,\"gamma\":0.3} adnn.adversary_optimiser={\"name\":\"adam\",\"learning_rate\":0.001}"
  [batch4096_p8192_alpha20]="training.batch_size=4096 adnn.penalty_batch_size=8192 adnn.alpha=20"
  [batch4096_p8192_alpha30]="training.batch_size=4096 adnn.penalty_batch_size=8192 adnn.alpha=30"
  [batch4096_p8192_k10]="training.batch_size=4096 adnn.penalty_batch_size=8192 adnn.adversary_steps=10"
  [batch4096_p8192_cstep]="training.batch_size=4096 adnn.penalty_batch_size=8192 optimiser.schedule={\"name\":\"step\",\"steps\":360,\"gamma\":0.3} adnn.adversary_optimiser={\"name\":\"adam\",\"learning_rate\":0.001}"
  [batch1024_a8192_p8192]="training.batch_size=1024 adnn.adversary_batch_size=8192 adnn.penalty_batch_size=8192"
  [batch4096_a8192_p8192]="training.batch_size=4096 adnn.adversary_batch_size=8192 adnn.penalty_batch_size=8192"
  [own512_a8192_p8192_game150_patience30]="adnn.adversary_batch_size=8192 adnn.penalty_batch_size=8192 training.epochs=150 training.early_stopping={\"patience\":30}"
  [own512_a8192_p8192_cstep]="adnn.adversary_batch_size=8192 adnn.penalty_batch_size=8192 optimiser.schedule={\"name\":\"step\",\"steps\":2760,\"gamma\":0.3} adnn.adversary_optimiser={\"name\":\"adam\",\"learning_rate\":0.001}"
  [average_fast_game150_last]="adnn.classifier_average=\"exponential\" adnn.classifier_average_decay=0.99 training.early_stopping=false training.epochs=150"
)
order=(dnn defaults defaults_a0 last_epoch output output_last output_game150 output_alpha30 output_k10 k10 alpha3 adversary_lr
  pretrain linear game150 output_alpha1 output_alpha3 average average_uniform average_last average_game150
  pretrain_average pretrain_alpha3 grl grl_k1 wide_adversary average_fast grl_pretrain grl_last grl_game150_last
  grl_wide output_pretrain pretrain_average_fast average_fast_game150_last leaky output_leaky alpha30 batch2048
  output_batch2048 batch4096 batch2048_leaky batch2048_k10
  batch2048_last batch2048_game150_last batch8192 batch4096_last batch4096_game150_last
  batch4096_game150_patience30 own512_a4096 own512_a8192 own512_a16384 own512_a8192_game150_patience30 own4096_a8192 own4096_a16384
  own4096_a16384_validation batch4096_validation batch4096_validation_game150_patience30 batch2048_validation
  batch4096_alpha30 batch4096_average own512_p8192 own512_a8192_p8192 own512_a8192_p16384 batch4096_p8192
  batch4096_p16384 batch2048_p8192 own512_a8192_alpha20 own512_a8192_alpha20_game150_patience30 own512_a8192_output own512_a8192_wide own512_a8192_alpha5 own512_a8192_k10 own512_a8192_k2
  batch4096_alpha20 batch4096_k10 own512_a8192_cstep batch4096_cstep batch4096_p8192_alpha20 batch4096_p8192_alpha30
  batch4096_p8192_k10 batch4096_p8192_cstep batch1024_a8192_p8192 batch4096_a8192_p8192
  own512_a8192_p8192_game150_patience30 own512_a8192_p8192_cstep)
chosen=("${example_args[@]}")
[[ ${#chosen[@]} -gt 0 ]] || chosen=("${order[@]}")
seeds=(${ADNN_SEEDS:-1 2 3})  # ADNN_SEEDS="1 2": fewer seeds
scale=1
quick_keys=()
if $quick; then
  seeds=(1)
  scale=0.1
  quick_keys=(adnn.pretrain_classifier_epochs=3 adnn.pretrain_adversary_epochs=2 training.epochs=4)
fi

data="$out/data"
[[ -f $data/test.csv ]] || "$python" "$here/../$analogue/generate.py" "$data" --scale $scale
for name in "${chosen[@]}"; do
  [[ -v settings[$name] ]] || { echo "run.sh: no setting '$name'; known: ${order[*]}" >&2; exit 1; }
  for seed in "${seeds[@]}"; do
    run="$out/$name-s$seed"
    # A setting and seed already in results.jsonl is not run again (delete its line to rerun it).
    if [[ -f $out/results.jsonl ]] && grep -q "\"label\": \"$name\",.*\"seed\": $seed," "$out/results.jsonl"; then
      continue
    fi
    if [[ $name == dnn ]]; then
      derive_config "$here/dnn.json" "$run.json" training.seed=$seed
      files=(--data "$data/train_dnn.csv")
    else
      keys=()
      events=$data
      for token in ${settings[$name]}; do
        case $token in
          @scale=*)
            events="$out/data-scale${token#@scale=}"
            [[ -f $events/train_adnn.csv ]] ||
              "$python" "$here/../$analogue/generate.py" "$events" --scale "$(echo "$scale * ${token#@scale=}" | bc)"
            ;;
          *) keys+=("$token") ;;
        esac
      done
      [[ $name == defaults || " ${settings[$name]}" == *" adnn.adversary_batch_size="* ]] ||
        keys+=(adnn.adversary_batch_size=0)
      [[ $name == defaults || " ${settings[$name]}" == *" adnn.alpha="* ]] || keys+=(adnn.alpha=10)
      derive_config "$here/config.json" "$run.json" training.seed=$seed "${keys[@]}" "${quick_keys[@]}"
      files=(--data "$events/train_adnn.csv")
    fi
    start=$(date +%s.%N)
    "$agnostic" train "$run.json" "${files[@]}" --out "$run" --force > "$run.log"
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    "$agnostic" predict --model "$run/model.json" --input "$data/test.csv" --output "$run/test-scores.csv" \
      --keep process --keep model >> "$run.log"
    "$python" "$here/evaluate.py" "$run/test-scores.csv" "$name" |
      "$python" -c 'import json, sys; d = json.load(sys.stdin); d.update(seed=int(sys.argv[1]), seconds=float(sys.argv[2])); print(json.dumps(d))' \
        "$seed" "$seconds" | tee -a "$out/results.jsonl"
  done
done
"$python" "$here/summarise.py" "$out/results.jsonl" > "$out/results.md"
cat "$out/results.md"
