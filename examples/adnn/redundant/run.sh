#!/usr/bin/env bash
# The ADNN study of ../harder/run.sh (same settings, seeds, config.json and evaluate.py) on this folder's
# generate.py: the analogue where the alternative models shift features that are partly redundant for
# classification, so an invariant classifier loses little accuracy (docs/adnn.md, "The redundant analogue").
# Writes BUILD/examples/adnn-redundant/results.jsonl and results.md.
#
#   examples/adnn/redundant/run.sh [--quick] [BUILD_DIR] [SETTING...]
set -euo pipefail
ADNN_ANALOGUE=redundant exec "$(dirname "$0")/../harder/run.sh" "$@"
