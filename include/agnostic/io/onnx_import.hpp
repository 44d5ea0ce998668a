#pragma once
// An ONNX dense network (as torch.onnx.export writes a stack of Linear and activation modules,
// or as `agnostic export --format onnx` writes one) read into a model file, so that predict,
// inspect, infer/ and the exporters work on networks trained elsewhere.
//
// Accepted: one float input [N, F] and one output; a chain of nodes where each node's output
// feeds the next one only:
//   * before the first layer, element-wise Add/Sub/Mul/Div by constants (a standardisation; any
//     sequence of them is folded into lwtnn's (x + offset) * scale), Identity, Flatten(axis=1);
//   * a layer: Gemm (any alpha, beta, transB; transA = 0), or MatMul by a constant followed by an
//     optional Add/Sub of a constant bias;
//   * after a layer, one activation: Relu, LeakyRelu, Elu, Tanh, Sigmoid, Softplus, Softmax on the
//     last axis; Identity and Dropout pass through.
// Constants are initializers (raw_data or typed fields, float/double/int64) or Constant nodes.
// Anything else is refused with the operator's and the node's name. Feature names come from the
// caller (--features), else from agnostic's own metadata, else f0 ... f{F-1}; output labels from
// the metadata, else the graph output's name (name_0, name_1, ... for several columns).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "agnostic/io/onnx_proto.hpp"

namespace agnostic::io {

namespace onnx_import_detail {

inline const char* kSupported =
    "Gemm, MatMul (+ Add), Relu, LeakyRelu, Elu, Tanh, Sigmoid, Softplus, Softmax, Identity, Dropout, and "
    "Add/Sub/Mul/Div by constants before the first layer";

// Names from a JSON array in the metadata, or nothing when absent or malformed.
inline std::vector<std::string> metadata_names(const onnx::Model& m, const char* key) {
  const std::string text = m.metadata_value(key);
  if (text.empty()) return {};
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return {};
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) return {};
    out.push_back(e.get<std::string>());
  }
  return out;
}

inline std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (auto d : dims) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

inline bool supported_operator(const std::string& op) {
  for (const char* known : {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Identity", "Dropout", "Flatten",
                            "Relu", "Tanh", "Sigmoid", "Softplus", "LeakyRelu", "Elu", "Softmax", "Constant"})
    if (op == known) return true;
  return false;
}

[[noreturn]] inline void refuse_operator(const onnx::Node& n, const std::string& source) {
  std::string hint;
  if (n.op_type == "Equal" || n.op_type == "Where" || n.op_type == "IsNaN")
    hint =
        " (missing-value rules in an ONNX graph are not imported; import the network without them and "
        "declare "
        "the rules in the training config)";
  fail(source, ": operator '", n.op_type, "' (", n.describe(), ") is not supported", hint,
       "; agnostic imports ", kSupported);
}

}  // namespace onnx_import_detail

inline ModelFile<float> import_onnx(const onnx::Model& m, const std::string& source,
                                    const std::vector<std::string>& feature_names = {}) {
  using namespace onnx_import_detail;
  const onnx::Graph& g = m.graph;

  std::map<std::string, const onnx::Tensor*> constants;
  for (const auto& t : g.initializers) constants[t.name] = &t;
  for (const auto& n : g.nodes) {
    if (n.op_type != "Constant") continue;
    const onnx::Attribute* value = n.attribute("value");
    require(value && value->t && n.outputs.size() == 1, source, ": ", n.describe(),
            ": only Constant nodes with a tensor 'value' are supported");
    constants[n.outputs[0]] = &*value->t;
  }
  auto constant = [&](const onnx::Node& n, const std::string& name) -> const onnx::Tensor& {
    const auto it = constants.find(name);
    require(it != constants.end(), source, ": ", n.describe(), ": input '", name,
            "' must be a constant (an initializer or a Constant node); only chains of layers with constant "
            "weights are supported");
    require(it->second->data_type == onnx::kFloat || it->second->data_type == onnx::kDouble, source, ": ",
            n.describe(), ": constant '", name, "' has type ", onnx::data_type_name(it->second->data_type),
            "; expected float or double");
    return *it->second;
  };

  // The one graph input that is not a constant, and the one output.
  std::vector<const onnx::ValueInfo*> inputs;
  for (const auto& v : g.inputs)
    if (!constants.count(v.name)) inputs.push_back(&v);
  if (inputs.size() != 1) {
    std::string names;
    for (const auto* v : inputs) names += (names.empty() ? "'" : ", '") + v->name + "'";
    fail(source, ": the graph has ", inputs.size(), " inputs (", names,
         "); agnostic imports networks with one input of shape [N, features]");
  }
  require(g.outputs.size() == 1, source, ": the graph has ", g.outputs.size(),
          " outputs; agnostic imports networks with one output of shape [N, classes]");
  const onnx::ValueInfo& input = *inputs[0];
  require(input.elem_type == onnx::kFloat || input.elem_type == 0, source, ": input '", input.name,
          "' has type ", onnx::data_type_name(input.elem_type), "; expected float");
  require(!input.has_shape || input.dims.size() == 2, source, ": input '", input.name, "' has shape ",
          shape_text(input.dims), "; expected two dimensions [N, features]");
  const std::string& output = g.outputs[0].name;

  // Which nodes read which tensor (constants aside).
  std::map<std::string, std::vector<const onnx::Node*>> readers;
  std::size_t n_compute_nodes = 0;
  for (const auto& n : g.nodes) {
    if (n.op_type == "Constant") continue;
    ++n_compute_nodes;
    require(n.domain.empty() || n.domain == "ai.onnx", source, ": ", n.describe(), " is in domain '",
            n.domain, "'; only standard ONNX operators are supported");
    for (const auto& in : n.inputs)
      if (!in.empty() && !constants.count(in)) readers[in].push_back(&n);
  }

  for (const auto& n : g.nodes)
    if (!supported_operator(n.op_type)) refuse_operator(n, source);

  ModelFile<float> model;
  // Affine preprocessing y = x * s + t, per feature (empty = not yet sized).
  std::vector<double> pre_scale, pre_shift;
  bool layer_open = false;    // the last layer has no activation yet
  bool bias_pending = false;  // the last layer came from MatMul: an Add may give its bias
  std::size_t visited = 0;
  std::string current = input.name;

  auto broadcast = [&](const onnx::Node& n, const onnx::Tensor& c, std::int64_t width,
                       const char* what) -> std::vector<double> {
    require(c.size() >= 1, source, ": ", n.describe(), ": ", what, " '", c.name, "' is empty");
    require(c.size() == width || c.size() == 1, source, ": ", n.describe(), ": ", what, " '", c.name,
            "' has shape ", shape_text(c.dims), "; expected ", width, " values (one per column) or one");
    if (c.size() == 1) return std::vector<double>(static_cast<std::size_t>(width), c.values[0]);
    return c.values;
  };
  // The preprocessing's width grows from scalars to the widest constant (bounded by the file's size,
  // never by a declared dimension).
  auto preprocess_width = [&](const onnx::Node& n, const onnx::Tensor& c) {
    const auto width = std::max<std::size_t>(static_cast<std::size_t>(c.size()), pre_scale.size());
    if (pre_scale.empty()) {
      pre_scale.assign(width, 1.0);
      pre_shift.assign(width, 0.0);
    } else if (pre_scale.size() == 1 && width > 1) {
      pre_scale.assign(width, pre_scale[0]);
      pre_shift.assign(width, pre_shift[0]);
    }
    return broadcast(n, c, static_cast<std::int64_t>(pre_scale.size()), "constant");
  };
  auto open_layer = [&](const onnx::Node& n, Matrix<float> w) {
    require(!layer_open || !model.layers.empty(), source, ": ", n.describe(), ": internal state");
    if (!model.layers.empty())
      require(w.cols() == model.layers.back().n_out(), source, ": ", n.describe(), " takes ", w.cols(),
              " inputs but the layer before it gives ", model.layers.back().n_out());
    DenseWeights<float> layer;
    layer.weights = std::move(w);
    layer.bias = RowVector<float>::Zero(layer.weights.rows());
    model.layers.push_back(std::move(layer));
    layer_open = true;
  };
  auto set_activation = [&](const onnx::Node& n, LayerActivation f) {
    require(!model.layers.empty(), source, ": ", n.describe(),
            " comes before any Gemm/MatMul layer; activations are supported only after a layer");
    require(layer_open, source, ": ", n.describe(),
            " follows another activation; one activation per layer is supported");
    model.layers.back().activation = f;
    layer_open = false;
    bias_pending = false;
  };

  while (current != output) {
    const auto it = readers.find(current);
    require(it != readers.end() && !it->second.empty(), source, ": tensor '", current,
            "' is read by no node and is not the graph output '", output, "'");
    if (it->second.size() != 1) {
      std::string names;
      for (const auto* n : it->second) names += (names.empty() ? "" : ", ") + n->describe();
      fail(source, ": tensor '", current, "' feeds ", it->second.size(), " nodes (", names,
           "); only a chain of layers is supported");
    }
    const onnx::Node& n = *it->second.front();
    ++visited;
    require(visited <= n_compute_nodes, source, ": the graph has a cycle through ", n.describe());
    require(!n.outputs.empty() && !n.inputs.empty(), source, ": ", n.describe(), " has no inputs or outputs");
    require(n.inputs[0] == current || n.op_type == "Add" || n.op_type == "Mul", source, ": ", n.describe(),
            ": the data '", current, "' must be its first input");
    const std::string& op = n.op_type;
    std::string other;  // the constant operand of a binary node
    for (const auto& in : n.inputs)
      if (in != current) other = in;

    if (op == "Gemm") {
      require(n.inputs.size() >= 2, source, ": ", n.describe(), " needs at least two inputs");
      const auto* trans_a = n.attribute("transA");
      require(!trans_a || trans_a->i == 0, source, ": ", n.describe(), ": transA = 1 is not supported");
      const auto* trans_b_attr = n.attribute("transB");
      const bool trans_b = trans_b_attr && trans_b_attr->i != 0;
      const double alpha = n.attribute("alpha") ? n.attribute("alpha")->f : 1.0;
      const double beta = n.attribute("beta") ? n.attribute("beta")->f : 1.0;
      const onnx::Tensor& b = constant(n, n.inputs[1]);
      require(b.dims.size() == 2 && b.dims[0] > 0 && b.dims[1] > 0, source, ": ", n.describe(), ": weight '",
              b.name, "' has shape ", shape_text(b.dims), "; expected a non-empty matrix");
      const Index n_out = trans_b ? b.dims[0] : b.dims[1], n_in = trans_b ? b.dims[1] : b.dims[0];
      Matrix<float> w(n_out, n_in);
      for (Index o = 0; o < n_out; ++o)
        for (Index i = 0; i < n_in; ++i)
          w(o, i) = static_cast<float>(
              alpha * b.values[static_cast<std::size_t>(trans_b ? o * n_in + i : i * n_out + o)]);
      if (layer_open) set_activation(n, {});  // a linear layer followed directly by another
      open_layer(n, std::move(w));
      if (n.inputs.size() >= 3 && !n.inputs[2].empty()) {
        const auto c = broadcast(n, constant(n, n.inputs[2]), n_out, "bias");
        for (Index o = 0; o < n_out; ++o)
          model.layers.back().bias(o) = static_cast<float>(beta * c[static_cast<std::size_t>(o)]);
      }
      bias_pending = false;
    } else if (op == "MatMul") {
      require(n.inputs.size() == 2 && n.inputs[0] == current, source, ": ", n.describe(),
              ": the data must be the first operand (x @ W)");
      const onnx::Tensor& b = constant(n, n.inputs[1]);
      require(b.dims.size() == 2 && b.dims[0] > 0 && b.dims[1] > 0, source, ": ", n.describe(), ": weight '",
              b.name, "' has shape ", shape_text(b.dims), "; expected a non-empty matrix");
      const Index n_in = b.dims[0], n_out = b.dims[1];
      Matrix<float> w(n_out, n_in);
      for (Index o = 0; o < n_out; ++o)
        for (Index i = 0; i < n_in; ++i)
          w(o, i) = static_cast<float>(b.values[static_cast<std::size_t>(i * n_out + o)]);
      if (layer_open) set_activation(n, {});
      open_layer(n, std::move(w));
      bias_pending = true;
    } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      require(n.inputs.size() == 2 && !other.empty(), source, ": ", n.describe(),
              ": expected the data and one constant");
      require(op == "Add" || op == "Mul" || n.inputs[0] == current, source, ": ", n.describe(),
              ": the constant must be the second operand");
      const onnx::Tensor& c = constant(n, other);
      if (bias_pending && (op == "Add" || op == "Sub")) {
        auto& layer = model.layers.back();
        const auto v = broadcast(n, c, layer.n_out(), "bias");
        for (Index o = 0; o < layer.n_out(); ++o)
          layer.bias(o) += static_cast<float>(op == "Add" ? v[static_cast<std::size_t>(o)]
                                                          : -v[static_cast<std::size_t>(o)]);
        bias_pending = false;
      } else {
        require(model.layers.empty(), source, ": ", n.describe(), ": ", op,
                " by a constant is supported before the first layer (a standardisation) or as the bias "
                "after a MatMul, not here");
        const auto v = preprocess_width(n, c);
        for (std::size_t j = 0; j < v.size(); ++j) {
          if (op == "Add") pre_shift[j] += v[j];
          if (op == "Sub") pre_shift[j] -= v[j];
          if (op == "Mul") pre_scale[j] *= v[j], pre_shift[j] *= v[j];
          if (op == "Div") {
            require(v[j] != 0.0, source, ": ", n.describe(), ": division by zero in column ", j);
            pre_scale[j] /= v[j], pre_shift[j] /= v[j];
          }
        }
      }
    } else if (op == "Identity" || op == "Dropout") {
      // pass through
    } else if (op == "Flatten") {
      const auto* axis = n.attribute("axis");
      require(model.layers.empty() && (!axis || axis->i == 1), source, ": ", n.describe(),
              ": only Flatten(axis=1) on the [N, features] input is supported");
    } else if (op == "Relu") {
      set_activation(n, {Activation::relu(), false});
    } else if (op == "Tanh") {
      set_activation(n, {Activation::tanh(), false});
    } else if (op == "Sigmoid") {
      set_activation(n, {Activation::sigmoid(), false});
    } else if (op == "Softplus") {
      set_activation(n, {Activation::softplus(), false});
    } else if (op == "LeakyRelu" || op == "Elu") {
      const auto* a = n.attribute("alpha");
      const double alpha = a ? a->f : op == "Elu" ? 1.0 : 0.01;
      try {
        set_activation(n, {op == "Elu" ? Activation::elu(alpha) : Activation::leaky_relu(alpha), false});
      } catch (const Error& e) {
        fail(source, ": ", n.describe(), ": ", e.what());
      }
    } else if (op == "Softmax") {
      const auto* axis = n.attribute("axis");
      const std::int64_t a = axis ? axis->i : (m.opset() >= 13 ? -1 : 1);
      require(a == -1 || a == 1, source, ": ", n.describe(), ": softmax over axis ", a,
              " is not supported; expected the class axis (1 or -1)");
      set_activation(n, LayerActivation::softmax_over_outputs());
    } else {
      refuse_operator(n, source);
    }
    current = n.outputs[0];
  }
  require(visited == n_compute_nodes, source, ": the graph has ", n_compute_nodes,
          " nodes but the chain from '", input.name, "' to '", output, "' uses ", visited,
          "; side branches are not supported");
  require(!model.layers.empty(), source, ": the graph has no Gemm or MatMul layer");

  // Inputs: names, then the folded standardisation.
  const Index n_in = model.layers.front().n_in();
  // require() builds its message eagerly: read the declared width only where a shape was given.
  const std::int64_t declared_in = input.has_shape ? input.dims[1] : 0;
  require(declared_in <= 0 || declared_in == n_in, source, ": input '", input.name, "' has ", declared_in,
          " columns but the first layer takes ", n_in);
  std::vector<std::string> names = feature_names;
  if (names.empty()) names = metadata_names(m, kOnnxFeatureNamesKey);
  if (names.empty() || static_cast<Index>(names.size()) != n_in) {
    require(feature_names.empty(), source, ": --features names ", feature_names.size(),
            " features but the network takes ", n_in);
    names.clear();
    for (Index i = 0; i < n_in; ++i) names.push_back("f" + std::to_string(i));
  }
  if (pre_scale.empty()) {
    pre_scale.assign(static_cast<std::size_t>(n_in), 1.0);
    pre_shift.assign(static_cast<std::size_t>(n_in), 0.0);
  } else if (pre_scale.size() == 1 && n_in > 1) {  // only scalar constants, input width unknown
    pre_scale.assign(static_cast<std::size_t>(n_in), pre_scale[0]);
    pre_shift.assign(static_cast<std::size_t>(n_in), pre_shift[0]);
  }
  require(static_cast<Index>(pre_scale.size()) == n_in, source, ": the input preprocessing has ",
          pre_scale.size(), " columns but the first layer takes ", n_in);
  for (Index i = 0; i < n_in; ++i) {
    const auto k = static_cast<std::size_t>(i);
    require(pre_scale[k] != 0.0 && std::isfinite(pre_scale[k]) && std::isfinite(pre_shift[k]), source,
            ": the input preprocessing gives column ", i, " scale ", pre_scale[k], " and shift ",
            pre_shift[k], "; expected a finite, non-zero scale");
    model.inputs.names.push_back(names[k]);
    model.inputs.offset.push_back(pre_shift[k] / pre_scale[k]);  // x*s + t = (x + t/s) * s
    model.inputs.scale.push_back(pre_scale[k]);
  }

  // Outputs.
  const Index n_out = model.layers.back().n_out();
  const auto* out_info = &g.outputs[0];
  require(!out_info->has_shape || out_info->dims.size() != 2 || out_info->dims[1] <= 0 ||
              out_info->dims[1] == n_out,
          source, ": output '", output, "' is declared with ",
          out_info->dims.size() == 2 ? out_info->dims[1] : 0, " columns but the last layer gives ", n_out);
  model.outputs = metadata_names(m, kOnnxOutputNamesKey);
  if (static_cast<Index>(model.outputs.size()) != n_out) {
    model.outputs.clear();
    if (n_out == 1)
      model.outputs.push_back(output);
    else
      for (Index o = 0; o < n_out; ++o) model.outputs.push_back(output + "_" + std::to_string(o));
  }
  for (std::size_t k = 0; k < model.layers.size(); ++k)
    for (Index o = 0; o < model.layers[k].n_out(); ++o) {
      bool finite = std::isfinite(model.layers[k].bias(o));
      for (Index i = 0; i < model.layers[k].n_in(); ++i)
        finite = finite && std::isfinite(model.layers[k].weights(o, i));
      require(finite, source, ": layer ", k, " has a weight or bias that is not a finite float");
    }
  model.training = {{"imported_from", source},
                    {"format", "onnx"},
                    {"producer", m.producer_name + " " + m.producer_version},
                    {"opset", m.opset()}};
  return model;
}

inline ModelFile<float> import_onnx_bytes(std::string_view bytes, const std::string& source,
                                          const std::vector<std::string>& feature_names = {}) {
  return import_onnx(onnx::decode_model(bytes, source), source, feature_names);
}

inline ModelFile<float> read_onnx(const std::string& path,
                                  const std::vector<std::string>& feature_names = {}) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open ONNX file '", path, "'");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return import_onnx_bytes(bytes, path, feature_names);
}

}  // namespace agnostic::io
