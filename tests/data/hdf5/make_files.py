"""Writes the HDF5 files tests/test_io_hdf5.cpp reads, with h5py (Debian's python3-h5py), the way a
physicist writes them. Run from anywhere: /usr/bin/python3 tests/data/hdf5/make_files.py
Each file's content is stated here; the C++ test checks the values in closed form."""

from pathlib import Path

import h5py
import numpy as np

here = Path(__file__).resolve().parent

# Columns: one 1-D dataset each; pt = 0.5 k, eta = k - 2 (float32), n = k (int16), label s/b alternating
# (fixed-length bytes), process as variable-length str. k = 0..4.
with h5py.File(here / "columns.h5", "w") as f:
    k = np.arange(5)
    f["pt"] = 0.5 * k
    f["eta"] = (k - 2).astype(np.float32)
    f["n"] = k.astype(np.int16)
    f["label"] = np.array([b"s", b"b", b"s", b"b", b"s"])
    f["process"] = np.array(["ttbar", "wjets", "ttbar", "zz", "h"], dtype=object)

# One compound dataset (a numpy structured array): x, y (int32), tag (3-byte strings, one empty).
events = np.zeros(4, dtype=[("x", "f8"), ("y", "i4"), ("tag", "S3")])
events["x"] = [1.0, 2.0, 3.0, 4.5]
events["y"] = [7, 8, 9, 10]
events["tag"] = [b"abc", b"d", b"", b"ef"]
with h5py.File(here / "compound.hdf5", "w") as f:
    f["events"] = events

# Layouts that are refused, one per file.
with h5py.File(here / "bad_group.h5", "w") as f:
    f.create_group("jets")
    f["pt"] = np.ones(3)
with h5py.File(here / "bad_2d.h5", "w") as f:
    f["m"] = np.ones((3, 2))
with h5py.File(here / "bad_lengths.h5", "w") as f:
    f["a"] = np.ones(3)
    f["b"] = np.ones(4)
with h5py.File(here / "bad_bool.h5", "w") as f:
    f["a"] = np.ones(3, dtype=bool)
with h5py.File(here / "bad_mixed.h5", "w") as f:
    f["events"] = events
    f["z"] = np.ones(4)
with h5py.File(here / "bad_empty.h5", "w") as f:
    pass
