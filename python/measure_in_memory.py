"""Memory and time of agnostic.train on in-memory columns: 10^7 events x 10 columns (9 features and
the label) by default, float64 or float32, one epoch of a small network. Prints the peak resident memory
above what the arrays themselves take, and the wall time of the call.

    PYTHONPATH=build/python /usr/bin/python3 python/measure_in_memory.py [--rows N] [--dtype float32]
"""

import argparse
import os
import resource
import tempfile
import time

import numpy as np

import agnostic


def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    label = (rng.random(args.rows) < 0.5).astype(args.dtype)
    data = {f"x{j}": (rng.normal(size=args.rows) + label * 0.3).astype(args.dtype) for j in range(9)}
    data["label"] = label
    arrays_mib = sum(a.nbytes for a in data.values()) / 2**20
    config = {
        "method": "classifier",
        "data": {"features": [f"x{j}" for j in range(9)], "label": "label", "validation_fraction": 0.01},
        "model": {"hidden": [4]},
        "training": {"epochs": 1, "batch_size": 65536, "seed": 1, "threads": 1},
        "output": {"progress": "silent"},
    }
    before = resident_mib()
    start = time.perf_counter()
    fingerprint = getattr(agnostic, "_lent_table", None)
    with tempfile.TemporaryDirectory() as out:
        agnostic.train(config, data=data, out=os.path.join(out, "run"))
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.rows} rows x 10 {args.dtype} columns ({arrays_mib:.0f} MiB of arrays): "
          f"train {wall:.1f} s, peak RSS {peak - before:.0f} MiB above the arrays' {before:.0f} MiB")
    if fingerprint is not None:
        start = time.perf_counter()
        fingerprint(data)
        print(f"lending the columns and their data fingerprint: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
