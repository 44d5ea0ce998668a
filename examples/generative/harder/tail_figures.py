#!/usr/bin/env python3
"""Can a quality figure see the cGAN's low-xc tail? (issue 19 item 4; docs/cgan.md, "A harder density")

For every member of the given run.sh runs (RUN_DIR/gan: each member's best averaged generator, read from
member<k>_checkpoint.json, so members that `keep` dropped count too), this script

  1. generates, one member alone, 20 000 events (x --per-event) at xc = 0.1, at xc = 0.9 and in the window (run.sh's
     conditions files) and measures the true figures: K-S distance to the exact law and the relative error
     of the tail fraction x > 1 (density.py);
  2. stands in for the held-out events with a fresh sample of the law of the same size, outside the window
     (--held-out; a held-out set IS such a sample), generates one event at each of its conditions, and
     computes candidate quality figures of that member, as the library would from its held-out events:
       chi2_10x10   the library's quality_chi2 (10 x 10 cells at the held-out quantiles, cgan.hpp)
       chi2_tails   the same with the feature's cell edges at the quantiles 1 2 5 10 20 ... 80 90 95 98 99 %
                    (more cells in the tails)
       slice_tails  per condition decile, the events below the data's 5 % and above its 95 % quantile of that
                    decile: sum over the 20 counts of (n_data - n_gen)^2 / (n_data + n_gen), divided by 20
  3. prints one line per member (and the 4 largest terms of its chi2_10x10), and per run the members each figure would keep (the best KEEP) with the
     ensemble's tail error at xc = 0.1 that gives (members take turns, so it is the mean of theirs), next to
     the best possible choice (the KEEP members with the truly smallest |tail error| at xc = 0.1).

    tail_figures.py --agnostic BUILD/tools/agnostic --conditions-dir BUILD/examples/generative-harder \
        [--held-out 11269] [--keep 2] [--per-event 1] RUN_DIR...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import density  # noqa: E402

TAIL_QUANTILES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]


def members_of(run):
    """One-member generator.json dicts of the run's members (best averaged generator of each)."""
    template = json.load(open(f"{run}/gan/generator.json"))
    files = []
    while os.path.exists(f"{run}/gan/member{len(files)}_checkpoint.json"):
        files.append(f"{run}/gan/member{len(files)}_checkpoint.json")
    out = []
    for k, checkpoint_file in enumerate(files or [f"{run}/gan/checkpoint.json"]):  # the members, or the one
        checkpoint = json.load(open(checkpoint_file))
        parameters = {p["name"]: p["data"] for p in checkpoint["best"]["parameters"]}
        layers = []
        for i, layer in enumerate(template["members"][0]["layers"]):
            layer = dict(layer)
            layer["weights"] = parameters[f"generator_average.{i}.weight"]
            layer["bias"] = parameters[f"generator_average.{i}.bias"]
            layers.append(layer)
        one = dict(template)
        one["members"] = [{"seed": k, "quality_chi2": checkpoint["history"]["best_value"], "layers": layers}]
        out.append(one)
    return out


def generate(agnostic, model, conditions_csv, output, per_event=1):
    subprocess.run([agnostic, "generate", "--model", model, "--conditions", conditions_csv, "--per-event", str(per_event),
                    "--seed", "7", "--output", output], check=True, capture_output=True)
    return np.loadtxt(output, delimiter=",", skiprows=1)


def cells_chi2(data, generated, condition_edges, feature_edges, worst=None):
    """sum over cells with events of (n_d - n_g)^2 / (n_d + n_g), / cells; columns (xc, x). `worst`: a list that
    gets the 4 largest terms as (term, condition cell, feature cell, n_data, n_generated)."""
    def counts(events):
        i = np.searchsorted(condition_edges, events[:, 0], side="right")
        j = np.searchsorted(feature_edges, events[:, 1], side="right")
        return np.bincount(i * (len(feature_edges) + 1) + j, minlength=(len(condition_edges) + 1) *
                           (len(feature_edges) + 1)).astype(float)
    nd, ng = counts(data), counts(generated)
    used = nd + ng > 0
    if worst is not None:
        terms = np.where(used, (nd - ng) ** 2 / np.maximum(nd + ng, 1), 0.0)
        for k in np.argsort(terms)[::-1][:4]:
            worst.append((round(float(terms[k]), 1), int(k // (len(feature_edges) + 1)), int(k % (len(feature_edges) + 1)),
                          int(nd[k]), int(ng[k])))
    return float(np.sum((nd[used] - ng[used]) ** 2 / (nd[used] + ng[used])) / used.sum())


def quantile_edges(column, quantiles):
    """The library's edges: the sorted column's element at index floor(q * n)."""
    s = np.sort(column)
    return np.array([s[int(np.floor(q * len(s) + 1e-9))] for q in quantiles])


def figures(data, generated, worst):
    ten = [b / 10 for b in range(1, 10)]
    c_edges = quantile_edges(data[:, 0], ten)
    out = {"chi2_10x10": cells_chi2(data, generated, c_edges, quantile_edges(data[:, 1], ten), worst),
           "chi2_tails": cells_chi2(data, generated, c_edges, quantile_edges(data[:, 1], TAIL_QUANTILES))}
    slices_d = np.searchsorted(c_edges, data[:, 0], side="right")
    slices_g = np.searchsorted(c_edges, generated[:, 0], side="right")
    terms = []
    for s in range(10):
        xd, xg = data[slices_d == s, 1], generated[slices_g == s, 1]
        low, high = np.quantile(xd, [0.05, 0.95])
        for nd, ng in (((xd < low).sum(), (xg < low).sum()), ((xd > high).sum(), (xg > high).sum())):
            terms.append((nd - ng) ** 2 / (nd + ng) if nd + ng > 0 else 0.0)
    out["slice_tails"] = float(np.mean(terms))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agnostic", required=True)
    parser.add_argument("--conditions-dir", required=True)
    parser.add_argument("--held-out", type=int, default=11269)
    parser.add_argument("--keep", type=int, default=2)
    parser.add_argument("--per-event", type=int, default=1, help="events per row of the conditions files")
    parser.add_argument("--law-seed", type=int, default=99)
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    names = ["chi2_10x10", "chi2_tails", "slice_tails"]
    tmp = tempfile.mkdtemp(prefix="tail_figures_")
    print("run member epoch_chi2 " + " ".join(names) + " ks_0.1 tail_0.1% ks_0.9 tail_0.9% ks_window tail_window%")
    summary = []
    for run in args.runs:
        # the stand-in held-out set: xc uniform outside the window, x from the law
        rng = np.random.default_rng(args.law_seed + zlib.crc32(os.path.basename(run).encode()) % 1000)
        xc = rng.random(3 * args.held_out)
        xc = xc[(xc < density.WINDOW[0]) | (xc > density.WINDOW[1])][: args.held_out]
        data = np.column_stack([xc, density.draw(rng, xc)])
        density.write(f"{tmp}/held_out_conditions.csv", xc, "xc")
        rows = []
        for k, one in enumerate(members_of(run)):
            json.dump(one, open(f"{tmp}/one.json", "w"))
            row = {"member": k, "epoch_chi2": one["members"][0]["quality_chi2"]}
            worst = []
            generated = generate(args.agnostic, f"{tmp}/one.json", f"{tmp}/held_out_conditions.csv", f"{tmp}/gen.csv")
            row.update(figures(data, generated, worst))
            for name, stem, law in density.regions():
                x = generate(args.agnostic, f"{tmp}/one.json", f"{args.conditions_dir}/{stem}.csv",
                             f"{tmp}/gen.csv", args.per_event)[:, 1]
                true_tail = 1.0 - float(law(np.array([density.TAIL_CUT]))[0])
                row[f"ks_{name}"] = density.ks_distance(x, law)
                row[f"tail_{name}"] = 100.0 * ((x > density.TAIL_CUT).mean() - true_tail) / true_tail
            rows.append(row)
            print(os.path.basename(run), k, " ".join("%.3f" % row[n] for n in ["epoch_chi2"] + names),
                  " ".join("%.3f %.1f" % (row[f"ks_{r}"], row[f"tail_{r}"]) for r, _, _ in density.regions()),
                  flush=True)
            print("   largest chi2_10x10 terms (term, condition decile, feature decile, n_data, n_generated):", worst)
        choice = {}
        for n in names + ["epoch_chi2"]:
            kept = sorted(rows, key=lambda r: r[n])[: args.keep]
            choice[n] = float(np.mean([r["tail_edge_0.1"] for r in kept]))
        best = sorted(rows, key=lambda r: abs(r["tail_edge_0.1"]))[: args.keep]
        choice["best_possible"] = float(np.mean([r["tail_edge_0.1"] for r in best]))
        summary.append(choice)
        print(os.path.basename(run), f"keep {args.keep}: tail at xc = 0.1 (%) by",
              " ".join(f"{n} {v:.1f}" for n, v in choice.items()), flush=True)
        if len(rows) < 3:
            continue
        # rank correlation of each figure with the member's |tail error| at xc = 0.1
        true_rank = np.argsort(np.argsort([abs(r["tail_edge_0.1"]) for r in rows]))
        print(os.path.basename(run), "Spearman with |tail 0.1|:", " ".join(
            "%s %.2f" % (n, np.corrcoef(np.argsort(np.argsort([r[n] for r in rows])), true_rank)[0, 1])
            for n in names + ["epoch_chi2"]), flush=True)
    print("median over runs, keep", args.keep, ":", " ".join(
        f"{n} {np.median([c[n] for c in summary]):.1f}" for n in summary[0]))


if __name__ == "__main__":
    main()
