#!/usr/bin/python3
"""An independent evaluator of lwtnn's sequential-network JSON, for agnostic's tests.

    lwtnn_reference.py NETWORK.json INPUT.json OUTPUT.json

Follows what lwt::parse_json and lwt::LightweightNeuralNetwork do with a file (lwtnn's source,
read for the schema; no lwtnn code here): each input is looked up by name in a value map and fed
as (value + offset) * scale; each "dense" layer multiplies by the row-major n_out x n_in matrix
"weights" (skipped when empty), adds "bias" (skipped when empty) and applies "activation" (a name,
or {"function", "alpha"}); lwtnn's sigmoid is 0 below -30 and 1 above 30; the outputs are a map
from the "outputs" labels. Keys lwtnn ignores are ignored; anything lwtnn would reject is
rejected. INPUT.json: {"names": [...], "features": [[...], ...]} (one value map per row; a value of
null means the input is absent and its entry in "defaults" is used, as lwtnn's users do).
OUTPUT.json: {"outputs": [[...]], "labels": [...]}.

Exit code 77 when numpy is missing.
"""
import json
import math
import sys

try:
    import numpy as np
except ImportError as error:  # pragma: no cover
    print(f"lwtnn_reference.py: skipped: {error} (install python3-numpy)", file=sys.stderr)
    sys.exit(77)


def activation(spec):
    if spec is None:
        return lambda v: v
    if isinstance(spec, dict):
        name, alpha = spec["function"], float(spec["alpha"])
    else:
        name, alpha = spec, float("nan")

    def sigmoid(x):
        return 0.0 if x < -30 else 1.0 if x > 30 else 1.0 / (1.0 + math.exp(-x))

    table = {
        "linear": lambda v: v,
        "rectified": lambda v: np.where(v > 0, v, 0.0),
        "sigmoid": lambda v: np.vectorize(sigmoid)(v),
        "tanh": np.tanh,
        "elu": lambda v: np.where(v >= 0, v, alpha * (np.exp(np.minimum(v, 0)) - 1)),
        "leakyrelu": lambda v: np.where(v > 0, v, alpha * v),
        "softmax": lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(),
    }
    if name not in table:
        raise SystemExit(f"lwtnn_reference.py: activation {name} is not one lwtnn evaluates here")
    return table[name]


def evaluate(config, value_map):
    x = []
    for entry in config["inputs"]:
        value = value_map.get(entry["name"])
        if value is None:
            value = config["defaults"][entry["name"]]  # KeyError: lwtnn would refuse too
        x.append((float(value) + float(entry["offset"])) * float(entry["scale"]))
    x = np.array(x, dtype=np.float64)
    for layer in config["layers"]:
        if layer["architecture"] != "dense":
            raise SystemExit(f"lwtnn_reference.py: architecture {layer['architecture']} not handled")
        if layer["weights"]:
            w = np.array(layer["weights"], dtype=np.float64)
            assert w.size % x.size == 0, "weights not divisible by the number of inputs"
            x = w.reshape(-1, x.size) @ x
        if layer["bias"]:
            b = np.array(layer["bias"], dtype=np.float64)
            assert b.size == x.size, "bias size differs from the layer's outputs"
            x = x + b
        x = activation(layer.get("activation"))(x)
    assert x.size == len(config["outputs"]), "output labels differ from the network's outputs"
    return x


def main():
    network_path, input_path, output_path = sys.argv[1:4]
    with open(network_path) as f:
        config = json.load(f)
    with open(input_path) as f:
        data = json.load(f)
    rows = [evaluate(config, dict(zip(data["names"], row))).tolist() for row in data["features"]]
    with open(output_path, "w") as f:
        json.dump({"outputs": rows, "labels": config["outputs"]}, f)


if __name__ == "__main__":
    main()
