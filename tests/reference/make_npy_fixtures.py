#!/usr/bin/python3
"""Writes the .npy fixtures of tests/test_io_npy.cpp with numpy itself (the reference writer).

Run from the repository root:  /usr/bin/python3 tests/reference/make_npy_fixtures.py
Every valid file is listed in tests/data/npy/manifest.json with the shape and the values numpy
reads back (row-major, as floats), so the C++ test compares against numpy, not against itself.
Malformed files (bad_*.npy) are listed by name; the test says what each error message must contain.
"""
import json
import os

import numpy as np
from numpy.lib import format as npy_format

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "npy")

BASE = {
    "f4": [[0.5, -1.0], [2.0, 3.25], [-4.5, 1000.0]],
    "f8": [[0.5, -1.0], [2.0, 3.25], [-4.5, 0.1]],
    "i4": [[1, -2], [3, 4], [-5, 2**30]],
    "i8": [[1, -2], [3, 4], [-5, 2**40]],
    "b1": [[True, False], [False, True], [True, True]],
}

manifest = {"valid": [], "malformed": []}


def write(name, array, version):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        npy_format.write_array(f, array, version=version, allow_pickle=False)
    back = np.load(path)
    return path, back


def as_json(values):
    """JSON has no inf/nan: those are written as the strings "inf", "-inf", "nan"."""
    return [float(v) if np.isfinite(v) else str(float(v)) for v in values]


def record_plain(name, array, version):
    _, back = write(name, array, version)
    values = np.asarray(back, dtype=np.float64)
    manifest["valid"].append({
        "file": name,
        "shape": list(back.shape),
        "values": as_json(values.reshape(-1)),  # row-major
    })


def record_structured(name, array, version):
    _, back = write(name, array, version)
    names = [n for n in back.dtype.names]
    manifest["valid"].append({
        "file": name,
        "shape": [back.shape[0], len(names)],
        "names": names,
        "values": as_json([float(back[n][i]) for i in range(back.shape[0]) for n in names]),
    })


os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    if old.endswith(".npy"):
        os.remove(os.path.join(OUT, old))

# Every dtype x byte order x memory order, in format 1.0.
for code, rows in BASE.items():
    orders = ["|"] if code == "b1" else ["<", ">"]
    for endian in orders:
        dtype = np.dtype(endian + code if endian != "|" else "?")
        for layout in ("C", "F"):
            array = np.array(rows, dtype=dtype, order=layout)
            tag = {"<": "le", ">": "be", "|": "na"}[endian]
            record_plain(f"{code}_{tag}_{layout}_v1.npy", array, (1, 0))

# Versions 2.0 and 3.0 (4-byte header length); 3.0 with a UTF-8 field name.
record_plain("f8_le_C_v2.npy", np.array(BASE["f8"], dtype="<f8"), (2, 0))
record_plain("f4_be_F_v3.npy", np.array(BASE["f4"], dtype=">f4", order="F"), (3, 0))
record_plain("i8_le_C_v3.npy", np.array(BASE["i8"], dtype="<i8"), (3, 0))

# 1-D arrays become one column.
record_plain("f8_1d_v1.npy", np.array([1.0, -2.5, 1e-3, np.inf], dtype="<f8"), (1, 0))
record_plain("i4_1d_be_v2.npy", np.array([7, -8, 9], dtype=">i4"), (2, 0))

# Structured arrays: named fields of mixed types and byte orders; one with alignment padding.
mixed = np.dtype([("pt", "<f8"), ("njet", "<i4"), ("eta", ">f4"), ("is_signal", "?"), ("id", ">i8")])
rows = [(45.5, 2, -1.25, True, 100000), (30.0, 0, 2.5, False, 100001), (-999.0, 1, 0.0, True, 2**40)]
record_structured("structured_v1.npy", np.array(rows, dtype=mixed), (1, 0))
aligned = np.dtype([("a", "<i4"), ("b", "<f8")], align=True)
record_structured("structured_aligned_v1.npy", np.array([(1, 0.5), (2, -0.25)], dtype=aligned), (1, 0))
record_structured("structured_utf8_v3.npy", np.array([(1.0,), (2.0,)], dtype=[("\u03c4_pt", "<f8")]), (3, 0))


# Malformed files, each made from a valid one.
def malformed(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    manifest["malformed"].append(name)


def valid_bytes(array, version=(1, 0)):
    import io
    buffer = io.BytesIO()
    npy_format.write_array(buffer, array, version=version, allow_pickle=False)
    return buffer.getvalue()


good = valid_bytes(np.array(BASE["f8"], dtype="<f8"))
malformed("bad_magic.npy", b"\x93NUMPZ" + good[6:])
malformed("bad_version.npy", good[:6] + b"\x04\x00" + good[8:])
malformed("bad_truncated_header.npy", good[:40])
malformed("bad_truncated_data.npy", good[:-5])
# The header says 4 rows where the data hold 3 (a shorter header text is padded to keep the layout).
lying = good.replace(b"(3, 2)", b"(4, 2)")
malformed("bad_shape_too_big.npy", lying)
lying = good.replace(b"(3, 2)", b"(2, 2)")
malformed("bad_shape_too_small.npy", lying)
malformed("bad_dtype_complex.npy", valid_bytes(np.array([1 + 2j, 3 - 1j], dtype="<c16")))
malformed("bad_dtype_string.npy", valid_bytes(np.array(["s", "b"], dtype="<U1")))
malformed("bad_3d.npy", valid_bytes(np.zeros((2, 2, 2), dtype="<f8")))
malformed("bad_subarray.npy", valid_bytes(np.zeros(2, dtype=[("v", "<f8", (3,))])))

with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1)
    f.write("\n")
print(len(manifest["valid"]), "valid and", len(manifest["malformed"]), "malformed fixtures in", OUT)
