#!/usr/bin/python3
"""An independent check of ONNX files for agnostic's tests.

    onnx_reference.py MODEL.onnx INPUT.json OUTPUT.json

Runs ONNX's own checker (onnx.checker.check_model with full_check, which also runs shape inference)
on MODEL.onnx, then evaluates the graph on the events of INPUT.json ({"features": [[...], ...]})
with a small numpy interpreter written here from the ONNX operator specification (no agnostic code,
no onnxruntime), and writes {"outputs": [[...]], "output_name": ..., "input_name": ..., "opset": ...,
"ops": [...]} to OUTPUT.json.

Exit code 77 (with a message) when python3-onnx or numpy is missing, so the caller can skip.
"""
import json
import sys

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as error:  # pragma: no cover
    print(f"onnx_reference.py: skipped: {error} (install python3-onnx python3-numpy)", file=sys.stderr)
    sys.exit(77)


def attribute(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def run_node(node, args, opset):
    op = node.op_type
    if op == "Gemm":
        a, b = args[0], args[1]
        if attribute(node, "transA", 0):
            a = a.T
        if attribute(node, "transB", 0):
            b = b.T
        y = attribute(node, "alpha", 1.0) * (a @ b)
        if len(args) > 2 and args[2] is not None:
            y = y + attribute(node, "beta", 1.0) * args[2]
        return [y]
    if op == "MatMul":
        return [args[0] @ args[1]]
    if op in ("Add", "Sub", "Mul", "Div"):
        f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
        return [f(args[0], args[1])]
    if op == "Abs":
        return [np.abs(args[0])]
    if op == "Relu":
        return [np.maximum(args[0], 0)]
    if op == "LeakyRelu":
        alpha = attribute(node, "alpha", 0.01)
        return [np.where(args[0] >= 0, args[0], alpha * args[0])]
    if op == "Elu":
        alpha = attribute(node, "alpha", 1.0)
        return [np.where(args[0] >= 0, args[0], alpha * np.expm1(np.minimum(args[0], 0)))]
    if op == "Tanh":
        return [np.tanh(args[0])]
    if op == "Sigmoid":
        return [sigmoid(args[0])]
    if op == "Softplus":
        return [np.logaddexp(0, args[0])]
    if op == "Softmax":
        axis = attribute(node, "axis", -1 if opset >= 13 else 1)
        z = args[0] - args[0].max(axis=axis, keepdims=True)
        e = np.exp(z)
        return [e / e.sum(axis=axis, keepdims=True)]
    if op == "Equal":
        return [args[0] == args[1]]
    if op == "IsNaN":
        return [np.isnan(args[0])]
    if op == "And":
        return [np.logical_and(args[0], args[1])]
    if op == "Or":
        return [np.logical_or(args[0], args[1])]
    if op == "Where":
        return [np.where(args[0], args[1], args[2])]
    if op == "Cast":
        to = attribute(node, "to", None)
        to_numpy = getattr(onnx.helper, "tensor_dtype_to_np_dtype", None)  # onnx >= 1.13
        dtype = to_numpy(to) if to_numpy else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[to]
        return [args[0].astype(dtype)]
    if op == "Gather":
        return [np.take(args[0], args[1], axis=attribute(node, "axis", 0))]
    if op == "Concat":
        return [np.concatenate(args, axis=attribute(node, "axis", None))]
    if op in ("Identity", "Dropout"):
        return [args[0]]
    if op == "Flatten":
        axis = attribute(node, "axis", 1)
        return [args[0].reshape(int(np.prod(args[0].shape[:axis])), -1)]
    if op == "Constant":
        return [numpy_helper.to_array(attribute(node, "value", None))]
    raise SystemExit(f"onnx_reference.py: operator {op} (node '{node.name}') not implemented here")


def evaluate(model, features):
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in values]
    assert len(inputs) == 1, f"expected one data input, found {inputs}"
    values[inputs[0]] = np.asarray(features, dtype=np.float32)
    for node in graph.node:  # ONNX requires topological order
        args = [values[name] if name else None for name in node.input]
        for name, value in zip(node.output, run_node(node, args, opset)):
            values[name] = value
    output = graph.output[0].name
    return inputs[0], output, values[output], opset


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    with open(input_path) as f:
        features = json.load(f)["features"]
    input_name, output_name, y, opset = evaluate(model, features)
    y = np.asarray(y, dtype=np.float64).reshape(len(features), -1)
    with open(output_path, "w") as f:
        json.dump({"outputs": y.tolist(), "output_name": output_name, "input_name": input_name,
                   "opset": opset, "ops": sorted({n.op_type for n in model.graph.node}),
                   "metadata": {p.key: p.value for p in model.metadata_props}}, f)


if __name__ == "__main__":
    main()
