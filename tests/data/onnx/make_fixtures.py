#!/usr/bin/python3
"""Makes the ONNX and lwtnn fixtures of tests/test_io_exchange.cpp (run once; the outputs are committed).

    /usr/bin/python3 tests/data/onnx/make_fixtures.py      (Debian: python3-torch python3-onnx python3-numpy)

ONNX: small PyTorch MLPs exported with torch.onnx.export (opset 13), and the outputs PyTorch itself
gives for a fixed batch of events, in expected.json. One fixture has its initializers rewritten as
typed fields (float_data) instead of raw_data; one uses an operator agnostic refuses (Abs).
lwtnn: a network written here in lwtnn's schema (an ELU given as {"function", "alpha"}, an
activation-only softmax layer as lwtnn's Keras converter writes it, "defaults"), with the outputs of
the independent evaluator ../lwtnn/lwtnn_reference.py.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from torch import nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "lwtnn"))
import lwtnn_reference  # noqa: E402
import onnx_reference  # noqa: E402

torch.manual_seed(20261130)


class MatMulNet(nn.Module):
    """x -> (x - mean) / std -> x @ W1 + b1 -> tanh -> x @ W2 + b2 -> softmax: MatMul + Add, Sub + Div."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([10.0, -2.0, 0.5, 100.0]))
        self.register_buffer("std", torch.tensor([3.0, 0.5, 2.0, 40.0]))
        self.w1 = nn.Parameter(torch.randn(4, 6) * 0.6)
        self.b1 = nn.Parameter(torch.randn(6) * 0.1)
        self.w2 = nn.Parameter(torch.randn(6, 3) * 0.6)
        self.b2 = nn.Parameter(torch.randn(3) * 0.1)

    def forward(self, x):
        h = (x - self.mean) / self.std
        h = torch.tanh(torch.matmul(h, self.w1) + self.b1)
        return torch.softmax(torch.matmul(h, self.w2) + self.b2, dim=1)


class AbsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.b = nn.Linear(4, 1)

    def forward(self, x):
        return self.b(torch.abs(self.a(x)))


networks = {
    "gemm_relu_tanh_softmax": (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(),
                                             nn.Linear(6, 3), nn.Softmax(dim=1)), 4, "probs"),
    "gemm_elu_leaky_sigmoid": (nn.Sequential(nn.Linear(5, 7), nn.ELU(alpha=0.7), nn.Linear(7, 4),
                                             nn.LeakyReLU(0.2), nn.Linear(4, 1), nn.Sigmoid()), 5, "signal"),
    "matmul_add_standardised": (MatMulNet(), 4, "scores"),
    "unsupported_abs": (AbsNet(), 3, "y"),
}


def to_typed_fields(path):
    """Rewrites every initializer with float_data (a typed field) instead of raw_data."""
    model = onnx.load(path)
    for t in model.graph.initializer:
        array = onnx.numpy_helper.to_array(t)
        typed = onnx.helper.make_tensor(t.name, t.data_type, array.shape, array.flatten().tolist(), raw=False)
        t.CopyFrom(typed)
    onnx.save(model, path)


expected = {}
for name, (net, n_in, output_name) in networks.items():
    net.eval()
    path = os.path.join(here, name + ".onnx")
    example = torch.randn(2, n_in)
    torch.onnx.export(net, example, path, input_names=["x"], output_names=[output_name], opset_version=13,
                      dynamic_axes={"x": {0: "N"}, output_name: {0: "N"}})
    x = torch.randn(6, n_in) * 2.0
    if name == "matmul_add_standardised":
        x = x * net.std + net.mean
    with torch.no_grad():
        y = net(x).double().numpy()
    model = onnx.load(path)
    _, _, ours, _ = onnx_reference.evaluate(model, x.numpy())
    assert np.allclose(ours, y, atol=1e-6), f"{name}: onnx_reference disagrees with torch"
    expected[name] = {"features": x.double().numpy().tolist(), "outputs": y.tolist(), "output_name": output_name,
                      "ops": sorted({n.op_type for n in model.graph.node})}

# The first network again, with typed fields.
typed = os.path.join(here, "gemm_typed_fields.onnx")
with open(os.path.join(here, "gemm_relu_tanh_softmax.onnx"), "rb") as f, open(typed, "wb") as g:
    g.write(f.read())
to_typed_fields(typed)
expected["gemm_typed_fields"] = dict(expected["gemm_relu_tanh_softmax"])
assert not any(t.raw_data for t in onnx.load(typed).graph.initializer)

with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump({"producer": f"torch {torch.__version__}, onnx {onnx.__version__}", "fixtures": expected}, f,
              indent=1)

# lwtnn: 3 inputs -> 5 (elu 0.8) -> 4 (rectified) -> 2 (linear, then an activation-only softmax layer).
rng = np.random.default_rng(7)


def dense(n_in, n_out, act):
    return {"architecture": "dense", "weights": [round(v, 6) for v in rng.normal(0, 0.7, n_in * n_out)],
            "bias": [round(v, 6) for v in rng.normal(0, 0.1, n_out)], "activation": act}


network = {
    "inputs": [{"name": "pt", "offset": -40.0, "scale": 0.05}, {"name": "eta", "offset": 0.0, "scale": 0.4},
               {"name": "mass", "offset": -91.0, "scale": 0.1}],
    "layers": [dense(3, 5, {"function": "elu", "alpha": 0.8}), dense(5, 4, "rectified"), dense(4, 2, "linear"),
               {"architecture": "dense", "weights": [], "bias": [], "activation": "softmax"}],
    "outputs": ["light", "heavy"],
    "defaults": {"mass": 91.0},
    "miscellaneous": {"made_by": "tests/data/onnx/make_fixtures.py"},
}
lwtnn_dir = os.path.join(here, "..", "lwtnn")
with open(os.path.join(lwtnn_dir, "keras_style.json"), "w") as f:
    json.dump(network, f, indent=1)
features = (rng.normal(0, 1, (5, 3)) * [20, 1.5, 15] + [40, 0, 91]).round(4).tolist()
outputs = [lwtnn_reference.evaluate(network, dict(zip(["pt", "eta", "mass"], row))).tolist() for row in features]
with open(os.path.join(lwtnn_dir, "keras_style_expected.json"), "w") as f:
    json.dump({"names": ["pt", "eta", "mass"], "features": features, "outputs": outputs}, f, indent=1)
print("fixtures written:", ", ".join(sorted(expected)), "and lwtnn/keras_style.json")
