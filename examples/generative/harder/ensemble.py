#!/usr/bin/env python3
"""An ensemble assembled from one-member runs, as `agnostic train` would write it (issue 19 item 4).

Member k of an ensemble trained with training.seed S is a one-member run with training.seed S + k and
data.split_seed S on the same events (the library seeds member k's initialisation and batches with S + k
and splits the data with data.split_seed, or with training.seed when it is not set; checked: member 1 of a
2-member run and such a one-member run have the same best weights and quality chi2, bit for bit). So the
members of an N-member ensemble can be trained one at a time, as they come, and reused for every N and keep.

This script takes the one-member runs of one data seed (RUN/gan/generator.json or RUN/generator.json each;
the first is member 0),
checks that they saw the same data (same scaling), writes the generator.json that "ensemble": {"members": N,
"keep": M} writes (the M members of lowest quality chi2, best first, ties in member order), generates with it
at xc = 0.1, at xc = 0.9 and in the window as run.sh does (5 events per row, seed 7; the members take turns)
and prints density.py's evaluation as one JSON line (plus "members" and "keep").

    ensemble.py --agnostic BUILD/tools/agnostic --conditions-dir BUILD/examples/generative-harder \
        --keep M --setting NAME --seed S [--wall SECONDS] [--output DIR] RUN_0 RUN_1 ...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import density  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agnostic", required=True)
    parser.add_argument("--conditions-dir", required=True)
    parser.add_argument("--keep", type=int, required=True)
    parser.add_argument("--setting", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--wall", type=float, default=0.0, help="the members' training seconds, summed")
    parser.add_argument("--per-event", type=int, default=5)
    parser.add_argument("--output", help="where generator.json and the generated events go (default: a temporary folder)")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    if not 1 <= args.keep <= len(args.runs):
        sys.exit(f"ensemble.py: --keep {args.keep} with {len(args.runs)} member run(s)")
    def generator_of(run):  # a run.sh run folder (RUN/gan/generator.json) or an output folder
        path = f"{run}/gan/generator.json" if os.path.exists(f"{run}/gan/generator.json") else f"{run}/generator.json"
        return json.load(open(path, encoding="utf-8"))

    generators = [generator_of(run) for run in args.runs]
    for run, g in zip(args.runs, generators):
        if len(g["members"]) != 1:
            sys.exit(f"ensemble.py: {run}/gan/generator.json has {len(g['members'])} members, not 1")
        if g["scaling"] != generators[0]["scaling"]:
            sys.exit(f"ensemble.py: {run} was trained on other data than {args.runs[0]} (its scaling differs)")
    for k, g in enumerate(generators):
        if g["members"][0]["seed"] != generators[0]["members"][0]["seed"] + k:
            sys.exit(f"ensemble.py: {args.runs[k]} has training seed {g['members'][0]['seed']}, member {k} needs "
                     f"{generators[0]['members'][0]['seed'] + k}")
    order = sorted(range(len(generators)), key=lambda k: generators[k]["members"][0]["quality_chi2"])
    model = dict(generators[0])
    model["members"] = [generators[k]["members"][0] for k in order[: args.keep]]
    out = args.output or tempfile.mkdtemp(prefix="ensemble_")
    os.makedirs(out, exist_ok=True)
    json.dump(model, open(f"{out}/generator.json", "w", encoding="utf-8"), indent=1)
    for _, stem, _ in density.regions():
        subprocess.run([args.agnostic, "generate", "--model", f"{out}/generator.json", "--conditions",
                        f"{args.conditions_dir}/{stem}.csv", "--per-event", str(args.per_event), "--seed", "7",
                        "--output", f"{out}/gen_{stem}.csv"], check=True, capture_output=True)
    result = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "density.py"),
                             "evaluate", "--directory", out, "--setting", args.setting, "--seed", str(args.seed),
                             "--wall", str(args.wall)], check=True, capture_output=True, text=True)
    line = json.loads(result.stdout)
    line["members"], line["keep"] = len(generators), args.keep
    line["kept"] = [generators[k]["members"][0]["seed"] for k in order[: args.keep]]
    print(json.dumps(line))
    if not args.output:
        for name in os.listdir(out):
            os.remove(f"{out}/{name}")
        os.rmdir(out)


if __name__ == "__main__":
    sys.exit(main())
