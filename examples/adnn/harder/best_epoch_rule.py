#!/usr/bin/python3
"""A best-epoch rule that does not pick on noise (docs/adnn.md, "A best-epoch rule within the noise"), applied
to finished runs: for each history.json, the trainer's best epoch (the lowest validation mean_ks among the game
epochs whose validation_loss, L(C), is within 5 % of the lowest; reproduced here as a check) and, for each DELTA,
the earliest eligible game epoch whose mean_ks is within DELTA of that lowest. The test figures of an epoch E come
from training the same config to E (training.epochs = E - the pre-training epochs, training.early_stopping
false), which gives the run's weights at E bit for bit.

Usage: best_epoch_rule.py [--delta D ...] RUN_DIR...   (RUN_DIR holds history.json)"""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--delta", type=float, action="append", help="tolerance on mean_ks (default 0.002, 0.005)")
parser.add_argument("--tolerance", type=float, default=0.05, help="L(C)'s relative tolerance (the default's)")
parser.add_argument("runs", nargs="+")
args = parser.parse_args()
deltas = args.delta or [0.002, 0.005]

print("run | trainer best | reproduced | " + " | ".join(f"delta {d}" for d in deltas) + " | last epoch")
for run in args.runs:
    with open(os.path.join(run, "history.json"), encoding="utf-8") as f:
        history = json.load(f)
    game = [e for e in history["epochs"] if e["phase"] == 3.0]
    lowest_loss = min(e["validation_loss"] for e in game)
    eligible = [e for e in game if e["validation_loss"] <= lowest_loss + args.tolerance * abs(lowest_loss)]
    best = min(eligible, key=lambda e: e["mean_ks"])
    picks = [min(e["epoch"] for e in eligible if e["mean_ks"] <= best["mean_ks"] + d) for d in deltas]
    print(f"{run} | {history['best_epoch']} | {best['epoch']} | " + " | ".join(map(str, picks)) +
          f" | {history['epochs'][-1]['epoch']}")
