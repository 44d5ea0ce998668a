"""summarise.py OUT_DIR: the waiting table (medians over rounds) from OUT_DIR/runs.jsonl of table.sh."""
import json
import statistics
import sys

out = sys.argv[1]
runs = [json.loads(line) for line in open(out + "/runs.jsonl") if line.strip()]
rows, columns, workloads = [], [], []
cells = {}
for r in runs:
    row, col, w = r["row"], r["column"], r["result"]["workload"]
    for seq, x in ((rows, row), (columns, col), (workloads, w)):
        if x not in seq:
            seq.append(x)
    cells.setdefault((w, row, col), []).append(r["result"]["events_per_s"])


def fmt(x):
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


for w in workloads:
    print(f"\n{w}, 2 threads, events/s (median of rounds; min-max in brackets)\n")
    print("| row | " + " | ".join(columns) + " | new / best of passive, spin | new / new idle |")
    print("|" + " --- |" * (len(columns) + 3))
    idle = statistics.median(cells[(w, rows[0], "new")]) if (w, rows[0], "new") in cells else None
    for row in rows:
        med = {}
        text = []
        for col in columns:
            v = cells.get((w, row, col), [])
            if not v:
                text.append("")
                continue
            med[col] = statistics.median(v)
            text.append(f"{fmt(med[col])} [{fmt(min(v))}-{fmt(max(v))}]")
        best = max([med[c] for c in ("passive", "spin") if c in med], default=None)
        ratio = f"{med['new'] / best:.2f}" if best and "new" in med else ""
        slow = f"{idle / med['new']:.2f}x slower" if idle and "new" in med else ""
        print(f"| {row} | " + " | ".join(text) + f" | {ratio} | {slow} |")

for w in workloads:
    print(f"\n{w}: each column's slowdown against its own idle row (median / median)\n")
    print("| row | " + " | ".join(columns) + " |")
    print("|" + " --- |" * (len(columns) + 1))
    for row in rows[1:]:
        text = []
        for col in columns:
            here, idle = cells.get((w, row, col)), cells.get((w, rows[0], col))
            text.append(f"{statistics.median(idle) / statistics.median(here):.2f}x" if here and idle else "")
        print(f"| {row} | " + " | ".join(text) + " |")

print("\nspin of the new pool at the end of each run (ns), and the rule's choice:\n")
for r in runs:
    res = r["result"]
    if r["column"] == "new" or r["column"].startswith("chunks"):
        print(f"- {res['workload']} {r['row']} round {r['round']} {r['column']}: {res.get('thread_waiting', '?')}")
    elif r["column"] == "rule":
        print(f"- {res['workload']} {r['row']} round {r['round']} rule: {res.get('openmp_waiting', '?')}")
