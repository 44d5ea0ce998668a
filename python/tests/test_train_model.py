"""agnostic.train with in-memory columns, agnostic.Model: equal to `agnostic train/predict/export` on the
same events written as CSV; every method runs through it; numpy interop and errors by message."""

import json
from pathlib import Path

import numpy as np
import pytest

import agnostic


def events(n=600, seed=7):
    """Signal against background in three Gaussian features, with a domain (source/target) for DANN
    and a signal model (SM/BSM) for ADNN; labels as text, the way the Higgs data hold them."""
    rng = np.random.default_rng(seed)
    signal = rng.random(n) < 0.4
    x = rng.normal(size=(n, 3)) + np.where(signal, 0.8, -0.2)[:, None]
    return {
        "x0": x[:, 0], "x1": x[:, 1].astype(np.float32), "x2": x[:, 2],
        "label": np.where(signal, "s", "b"),
        "domain": np.where(rng.random(n) < 0.5, "source", "target"),
        "model": np.where(rng.random(n) < 0.5, "SM", "BSM"),
    }


def classifier_config(**extra):
    config = {
        "method": "classifier",
        "data": {"features": ["x0", "x1", "x2"], "label": "label", "label_classes": {"b": 0, "s": 1},
                 "validation_fraction": 0.25},
        "model": {"hidden": [8], "activation": "rectified"},
        "optimiser": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 3, "batch_size": 64, "seed": 2, "threads": 1, "early_stopping": False},
        "output": {"progress": "silent"},
    }
    config.update(extra)
    return config


def write_csv(path, columns):
    names = list(columns)
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in zip(*(columns[k] for k in names)):
            f.write(",".join(v if isinstance(v, str) else repr(float(v)) for v in row) + "\n")


def layers(directory):
    return json.loads((Path(directory) / "model.json").read_text())["layers"]


def scores(path):
    lines = Path(path).read_text().splitlines()
    column = lines[0].split(",").index("score")
    return np.array([float(line.split(",")[column]) for line in lines[1:]], dtype=np.float32)


@pytest.fixture
def trained(tmp_path):
    data = events()
    summary = agnostic.train(classifier_config(), data=data, out=tmp_path / "run")
    return tmp_path / "run", data, summary


def test_train_from_columns_equals_the_command_on_the_csv(tmp_path, cli, trained):
    run, data, summary = trained
    write_csv(tmp_path / "events.csv", data)
    config = classifier_config()
    config["data"]["files"] = ["events.csv"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    cli("train", tmp_path / "config.json", "--output", tmp_path / "cli", parse=False)
    assert layers(run) == layers(tmp_path / "cli")  # weights bit for bit
    assert (run / "predictions.csv").read_text() == (tmp_path / "cli/predictions.csv").read_text()
    expected = json.loads((tmp_path / "cli/summary.json").read_text())
    assert summary.pop("model") == str(run / "model.json") and expected.pop("model") == str(tmp_path / "cli/model.json")
    assert summary == expected


def test_any_container_of_columns_trains_the_same_network(tmp_path, trained):
    run, data, _ = trained
    structured = np.zeros(len(data["x0"]), dtype=[("x0", "f8"), ("x1", "f4"), ("x2", "f8"), ("label", "U1")])
    for name in ("x0", "x1", "x2", "label"):
        structured[name] = data[name]
    agnostic.train(classifier_config(), data=structured, out=tmp_path / "structured")
    assert layers(tmp_path / "structured") == layers(run)

    class Frame:  # what a pandas DataFrame offers: keys() and columns by name
        def __init__(self, columns):
            self.columns = columns

        def keys(self):
            return list(self.columns)

        def __getitem__(self, name):
            return list(self.columns[name])

    strided = {k: np.repeat(v, 2)[::2] for k, v in data.items()}  # non-contiguous: read in place
    agnostic.train(classifier_config(), data=strided, out=tmp_path / "strided")
    agnostic.train(classifier_config(), data=Frame(data), out=tmp_path / "frame")
    assert layers(tmp_path / "strided") == layers(run) and layers(tmp_path / "frame") == layers(run)


def test_train_errors_name_what_is_wrong(tmp_path):
    data = events(100)
    with pytest.raises(ValueError, match=r"data: column 'x0' must be a 1-D array, got shape \(100, 2\)"):
        agnostic.train(classifier_config(), data=dict(data, x0=np.zeros((100, 2))), out=tmp_path / "a")
    with pytest.raises(ValueError, match="data: .*x2"):
        agnostic.train(classifier_config(), data=dict(data, x2=np.zeros(99)), out=tmp_path / "b")
    with pytest.raises(ValueError, match="no column named 'x3' in '.data given to agnostic.train.'"):
        config = classifier_config()
        config["data"]["features"].append("x3")
        agnostic.train(config, data=data, out=tmp_path / "c")
    with pytest.raises(ValueError, match="dtype complex128"):
        agnostic.train(classifier_config(), data=dict(data, x0=np.zeros(100, complex)), out=tmp_path / "d")
    with pytest.raises(TypeError, match="expected a dict of 1-D arrays"):
        agnostic.train(classifier_config(), data=np.zeros((100, 3)), out=tmp_path / "e")
    with pytest.raises(FileNotFoundError, match="config file '.*nope.json' does not exist"):
        agnostic.train(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="key 'data.files' is missing"):  # without data, the config needs files
        agnostic.train(classifier_config(), out=tmp_path / "f")
    agnostic.train(classifier_config(), data=data, out=tmp_path / "g")
    with pytest.raises(ValueError, match="is not empty .*--resume"):
        agnostic.train(classifier_config(), data=data, out=tmp_path / "g")
    agnostic.train(classifier_config(), data=data, out=tmp_path / "g", force=True)


METHODS = {
    "dann": {"method": "dann", "data": {"domain": "domain", "domain_classes": {"source": 0, "target": 1}},
             "dann": {"lambda": 1, "setup": "A", "domain_weights": "none"}},
    "adnn": {"method": "adnn", "data": {"domain": "model", "domain_classes": {"SM": 0, "BSM": 1}},
             "adnn": {"adversary_class": "s", "alpha": 1, "adversary_hidden": [4], "adversary_steps": 1,
                      "pretrain_classifier_epochs": 1, "pretrain_adversary_epochs": 1,
                      "adversary_batch_size": 0}},
    "systematics": {"soft_histogram": {"bins": 4, "range": [0, 1]},
                    "systematics": [{"name": "x2", "shift": {"feature": "x2", "up": 0.2, "down": -0.2},
                                     "classes": [0], "penalty": 1}]},
    "inference_aware": {"loss": "inference_aware",
                        "inference_aware": {"signal_class": 1, "expected_signal": 50, "expected_background": 500,
                                            "outputs": 4, "temperature": 0.1},
                        "training": {"epochs": 2, "batch_size": 150, "seed": 2, "threads": 1,
                                     "early_stopping": False}},
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_trains_from_columns(tmp_path, method):
    config = classifier_config()
    for key, value in METHODS[method].items():
        if key == "data":
            config["data"].update(value)
        else:
            config[key] = value
    summary = agnostic.train(config, data=events(), out=tmp_path / method)
    assert (tmp_path / method / "model.json").exists()
    assert json.loads((tmp_path / method / "summary.json").read_text()) == summary


def test_cgan_trains_from_columns(tmp_path):
    rng = np.random.default_rng(3)
    xc = rng.random(400)
    data = {"xc": xc, "xs": rng.normal(xc, 0.1)}
    config = {
        "method": "cgan",
        "data": {"features": ["xs"], "validation_fraction": 0.25},
        "cgan": {"conditions": ["xc"], "generator_hidden": [4], "discriminator_hidden": [4],
                 "discriminator_steps": 1, "ensemble": {"members": 1}},
        "training": {"epochs": 1, "batch_size": 64, "seed": 1, "threads": 1, "early_stopping": False},
        "output": {"progress": "silent"},
    }
    agnostic.train(config, data=data, out=tmp_path / "gan")
    assert (tmp_path / "gan" / "generator.json").exists()


def test_progress_lines_go_to_python(tmp_path, capsys):
    config = classifier_config()
    config["output"]["progress"] = "epochs"
    agnostic.train(config, data=events(200), out=tmp_path / "run")
    assert "epoch" in capsys.readouterr().out


def test_model_predicts_as_the_command(tmp_path, cli, trained):
    run, data, _ = trained
    model = agnostic.Model.load(run / "model.json")
    assert model.feature_names == ["x0", "x1", "x2"] and model.inputs == model.feature_names
    assert len(model.outputs) == 1 and model.n_parameters == 3 * 8 + 8 + 8 + 1
    write_csv(tmp_path / "events.csv", data)
    cli("predict", "--model", run / "model.json", "--input", tmp_path / "events.csv", "--output", tmp_path / "y.csv",
        parse=False)
    expected = scores(tmp_path / "y.csv")
    by_name = model.predict(data)  # other columns (label, domain) are ignored
    assert by_name.dtype == np.float32 and by_name.shape == (600, 1)
    np.testing.assert_array_equal(by_name[:, 0], expected)
    matrix = np.column_stack([data["x0"], data["x1"], data["x2"]])
    np.testing.assert_array_equal(model.predict(matrix)[:, 0], expected)
    np.testing.assert_array_equal(model.predict(np.asfortranarray(matrix))[:, 0], expected)
    with pytest.raises(ValueError, match=r"2-D array of 3 columns .*x0.*got shape \(600, 2\)"):
        model.predict(matrix[:, :2])
    with pytest.raises(ValueError, match="X has no column 'x2'"):
        model.predict({"x0": data["x0"], "x1": data["x1"]})
    with pytest.raises(FileNotFoundError, match="model file"):
        agnostic.Model.load(tmp_path / "none.json")


@pytest.mark.parametrize("format, name", [("onnx", "model.onnx"), ("lwtnn", "lwtnn.json"), ("header", "net.hpp")])
def test_model_exports_as_the_command(tmp_path, cli, trained, format, name):
    run, _, _ = trained
    agnostic.Model.load(run / "model.json").export(format, tmp_path / name)
    (tmp_path / "cli").mkdir()
    cli("export", run / "model.json", "--format", format, "--output", tmp_path / "cli" / name, parse=False)
    assert (tmp_path / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    with pytest.raises(ValueError, match="unknown format 'root'"):
        agnostic.Model.load(run / "model.json").export("root", tmp_path / "x")


def test_resume_with_columns_reads_the_checkpoint_of_its_directory(tmp_path, trained):
    """resume=True with in-memory columns: the same config and columns continue the run in its directory
    (here a finished one: the checkpoint is read back and the network stays the one the run ended with);
    another config, or a directory without a checkpoint, is refused by message."""
    directory, data, summary = trained
    before = layers(directory)
    resumed = agnostic.train(classifier_config(), data=data, out=directory, resume=True)
    assert layers(directory) == before
    assert resumed["epochs"] == summary["epochs"] == 3
    assert resumed["validation_auc"] == summary["validation_auc"]
    longer = classifier_config()
    longer["training"]["epochs"] = 4
    with pytest.raises(ValueError, match="the config differs from the one the checkpoint was written with"):
        agnostic.train(longer, data=data, out=directory, resume=True)
    with pytest.raises(ValueError, match="there is no checkpoint"):
        agnostic.train(classifier_config(), data=data, out=tmp_path / "fresh", resume=True)


def address(array):
    return array.__array_interface__["data"][0]


def test_float_columns_are_read_in_place_and_other_dtypes_converted():
    """float32/float64 arrays (contiguous, a column of a 2-D array, a structured array's field) are the
    memory the data layer reads: its column addresses are the arrays' own; other dtypes are converted."""
    x = np.arange(30.0).reshape(10, 3)
    packed = np.zeros(10, dtype=[("a", "<f4"), ("b", "<f8")])  # packed: field b is unaligned
    packed["b"] = np.linspace(0, 1, 10)
    data = {"f64": np.linspace(0, 1, 10), "f32": np.ones(10, dtype=np.float32), "column": x[:, 1],
            "reversed": x[::-1, 2], "field": packed["b"], "i64": np.arange(10),
            "big_endian": np.arange(10, dtype=">f8")}
    columns = agnostic._lent_table(data)["columns"]
    for name in ("f64", "f32", "column", "reversed", "field"):
        assert columns[name][0] == address(data[name]), name
    assert columns["f64"][1:] == ("float64", 8)
    assert columns["f32"][1:] == ("float32", 4)
    assert columns["column"][1:] == ("float64", 24)
    assert columns["reversed"][1:] == ("float64", -24)
    assert columns["field"][1:] == ("float64", 12)
    for name in ("i64", "big_endian"):
        assert columns[name][0] != address(data[name]) and columns[name][1:] == ("float64", 8), name


class FreshArrays:
    """A DataFrame-like object whose __getitem__ makes a new array on every call: the table then holds
    the only reference to each array, which must stay alive (and unchanged) until training ends."""

    def __init__(self, columns):
        self.columns = columns

    def keys(self):
        return list(self.columns)

    def __getitem__(self, name):
        return np.array(self.columns[name], copy=True)


def test_columns_read_in_place_stay_alive_while_training(tmp_path, trained):
    run, data, _ = trained
    agnostic.train(classifier_config(), data=FreshArrays(data), out=tmp_path / "fresh")
    assert layers(tmp_path / "fresh") == layers(run)


def fnv1a64(data, h=0xCBF29CE484222325):
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def field(text):
    raw = text if isinstance(text, bytes) else str(text).encode()
    return str(len(raw)).encode() + b":" + raw


def expected_fingerprint(numeric, text):
    """The data fingerprint computed here from its definition (io/fingerprint.hpp): "table", then each
    numeric column's name, type, length and value bytes, then each text column's name, "text", length
    and values."""
    stream = field("table")
    for name, values in numeric.items():
        values = np.ascontiguousarray(values)
        stream += field(name) + field(values.dtype.name) + field(len(values)) + values.tobytes()
    for name, values in text.items():
        stream += field(name) + field("text") + field(len(values)) + b"".join(field(v) for v in values)
    return "fnv1a64:%016x" % fnv1a64(stream)


def test_data_fingerprint_hashes_names_types_lengths_and_values():
    x = np.array([[0.5, -1.0], [2.0, 3.25], [1e-3, 7.0]])
    data = {"a": x[:, 0], "b": x[:, 1].astype(np.float32), "label": np.array(["s", "b", "s"])}
    fingerprint = agnostic._lent_table(data)["fingerprint"]
    assert fingerprint == expected_fingerprint({"a": x[:, 0], "b": x[:, 1].astype(np.float32)},
                                               {"label": ["s", "b", "s"]})
    # The layout does not count (a strided view and its contiguous copy), the content does.
    assert agnostic._lent_table({**data, "a": x[:, 0].copy()})["fingerprint"] == fingerprint
    changed = x[:, 0].copy()
    changed[2] = np.nextafter(changed[2], 1.0)
    others = [{**data, "a": changed}, {**data, "a": x[:, 0].astype(np.float32)}, {"A": data["a"], "b": data["b"], "label": data["label"]},
              {**data, "label": np.array(["s", "b", "b"])}, {k: v[:2] for k, v in data.items()}]
    assert len({agnostic._lent_table(d)["fingerprint"] for d in others} | {fingerprint}) == len(others) + 1


def test_resume_on_other_columns_is_refused_by_their_fingerprints(tmp_path, trained):
    directory, data, summary = trained
    other = dict(data, x0=data["x0"] + 1e-9)
    saved, now = agnostic._lent_table(data)["fingerprint"], agnostic._lent_table(other)["fingerprint"]
    checkpoint = json.loads((directory / "checkpoint.json").read_text())
    assert checkpoint["data_fingerprint"] == saved != now
    with pytest.raises(ValueError, match=f"the run was trained on data with fingerprint {saved} but the data "
                                         f"given now have fingerprint {now} .*resume=False"):
        agnostic.train(classifier_config(), data=other, out=directory, resume=True)
    # A checkpoint written before fingerprints existed resumes unchecked, as it did.
    del checkpoint["data_fingerprint"]
    (directory / "checkpoint.json").write_text(json.dumps(checkpoint))
    resumed = agnostic.train(classifier_config(), data=other, out=directory, resume=True)
    assert resumed["epochs"] == summary["epochs"]
