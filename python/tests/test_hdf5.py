"""HDF5 data files written by h5py, read by the library (io/hdf5.hpp) in a build with AGNOSTIC_HDF5:
agnostic.read_data returns what h5py wrote, and training from the .h5 file equals training from the
same columns in memory."""

import numpy as np
import pytest

import agnostic

h5py = pytest.importorskip("h5py")
pytestmark = pytest.mark.skipif(not agnostic.has_hdf5, reason="built without AGNOSTIC_HDF5")


def columns(n=300, seed=4):
    rng = np.random.default_rng(seed)
    signal = rng.random(n) < 0.5
    return {
        "x0": rng.normal(size=n) + signal,
        "x1": rng.normal(size=n).astype(np.float32) - signal,
        "n": rng.integers(0, 5, size=n).astype(np.int16),
        "label": np.where(signal, b"s", b"b"),
    }


def test_columns_and_compound_layouts_read_back_exactly(tmp_path):
    data = columns()
    with h5py.File(tmp_path / "columns.h5", "w") as f:
        for name, values in data.items():
            f[name] = values
    structured = np.zeros(len(data["x0"]), dtype=[("x0", "<f8"), ("x1", ">f4"), ("n", "<i2"), ("label", "S1")])
    for name, values in data.items():
        structured[name] = values
    with h5py.File(tmp_path / "compound.hdf5", "w") as f:
        f["events"] = structured
    for path, order in ((tmp_path / "columns.h5", ["n", "x0", "x1", "label"]),
                        (tmp_path / "compound.hdf5", ["x0", "x1", "n", "label"])):
        read = agnostic.read_data(path)
        assert list(read) == order  # numeric columns first (name order, field order), then text
        for name in ("x0", "x1", "n"):
            assert read[name].dtype == np.float64
            np.testing.assert_array_equal(read[name], data[name].astype(np.float64))
        assert list(read["label"]) == [v.decode() for v in data["label"]]


def test_training_from_an_h5_file_equals_training_from_the_columns(tmp_path):
    data = columns()
    with h5py.File(tmp_path / "events.h5", "w") as f:
        for name, values in data.items():
            f[name] = values
    config = {
        "data": {"files": [str(tmp_path / "events.h5")], "features": ["x0", "x1", "n"], "label": "label",
                 "label_classes": {"b": 0, "s": 1}},
        "model": {"hidden": [4]},
        "training": {"epochs": 2, "batch_size": 50, "seed": 3, "threads": 1, "early_stopping": False},
        "output": {"progress": "silent"},
    }
    from_file = agnostic.train(config, out=tmp_path / "file")
    from_memory = agnostic.train(config, data=data, out=tmp_path / "memory")
    from_file.pop("model")
    from_memory.pop("model")
    assert from_file == from_memory
    assert (tmp_path / "file/model.json").read_text().split('"training"')[0] == \
        (tmp_path / "memory/model.json").read_text().split('"training"')[0]


def test_other_layouts_are_refused_by_name(tmp_path):
    with h5py.File(tmp_path / "nested.h5", "w") as f:
        f["jets/pt"] = np.ones(3)
    with pytest.raises(ValueError, match="'jets' is a group"):
        agnostic.read_data(tmp_path / "nested.h5")
    with h5py.File(tmp_path / "matrix.h5", "w") as f:
        f["x"] = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"dataset 'x' has 2 dimensions \(shape 4 x 2\)"):
        agnostic.read_data(tmp_path / "matrix.h5")
    with h5py.File(tmp_path / "flags.h5", "w") as f:
        f["ok"] = np.ones(3, dtype=bool)
    with pytest.raises(ValueError, match="dataset 'ok' is an enum .*0/1 integers"):
        agnostic.read_data(tmp_path / "flags.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="is not an HDF5 file"):
        agnostic.read_data(tmp_path / "text.h5")
