#pragma once
// A model file as an ONNX graph (opset 13), so that ONNX Runtime, TMVA SOFIE, or any ONNX reader
// evaluates the network exactly as `agnostic predict` does:
//
//   features [N, F] (raw, in the model's feature order)
//     -> missing-value rules: Equal(features, markers) (Or IsNaN for NaN markers), Where(...,
//        replacements, features); indicator columns as Cast(missing, float) -> Gather -> Concat
//     -> standardisation: Sub(mean) then Mul(scale), i.e. lwtnn's (x + offset) * scale
//     -> per layer: Gemm(x, W, b, transB=1), then Relu / LeakyRelu / Elu / Tanh / Sigmoid /
//        Softplus / Softmax(axis=-1)
//   -> one output [N, n_outputs], named after the output label when there is one, else "scores".
//
// The feature names and output labels are stored in the model's metadata_props
// ("agnostic.feature_names", "agnostic.output_names", as JSON arrays) so that `agnostic import`
// gives them back. The ONNX graph computes in float32 throughout; `predict` standardises in double,
// so the two agree to float rounding (a few 1e-7 relative), not bit for bit. Branches (adversaries,
// domain classifiers) are not exported: the graph is the main network.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/onnx_proto.hpp"

namespace agnostic::io {

inline constexpr std::int64_t kOnnxOpset = 13;
inline constexpr const char* kOnnxFeatureNamesKey = "agnostic.feature_names";
inline constexpr const char* kOnnxOutputNamesKey = "agnostic.output_names";

namespace onnx_export_detail {

inline onnx::Tensor vector_tensor(const std::string& name, const std::vector<double>& values,
                                  int type = onnx::kFloat) {
  return {name, {static_cast<std::int64_t>(values.size())}, type, values};
}

inline onnx::Attribute int_attribute(const std::string& name, std::int64_t v) {
  onnx::Attribute a;
  a.name = name;
  a.type = onnx::kAttrInt;
  a.i = v;
  return a;
}

inline onnx::Attribute float_attribute(const std::string& name, double v) {
  onnx::Attribute a;
  a.name = name;
  a.type = onnx::kAttrFloat;
  a.f = static_cast<float>(v);
  return a;
}

}  // namespace onnx_export_detail

// The ONNX model of `model`'s main network.
inline onnx::Model onnx_model(const ModelFile<float>& model) {
  using namespace onnx_export_detail;
  require(!model.layers.empty(), "ONNX export: the model has no layers");
  const auto features = model.feature_names();
  const auto n_features = static_cast<std::int64_t>(features.size());
  onnx::Model m;
  m.ir_version = 7;  // the IR of opset 13 (ONNX 1.8)
  m.opsets = {{"", kOnnxOpset}};
  m.producer_name = "agnostic";
  m.producer_version = "0.1.0";
  m.doc_string = "dense network exported by `agnostic export --format onnx`";
  m.metadata.emplace_back(kOnnxFeatureNamesKey, nlohmann::json(features).dump());
  m.metadata.emplace_back(kOnnxOutputNamesKey, nlohmann::json(model.outputs).dump());
  onnx::Graph& g = m.graph;
  g.name = "agnostic";
  g.inputs.push_back({"features", onnx::kFloat, {-1, n_features}, {"N", ""}, true});

  auto add_node = [&](const std::string& op, std::vector<std::string> inputs, const std::string& output,
                      std::vector<onnx::Attribute> attributes = {}) {
    onnx::Node n;
    n.op_type = op;
    n.name = output;
    n.inputs = std::move(inputs);
    n.outputs = {output};
    n.attributes = std::move(attributes);
    g.nodes.push_back(std::move(n));
    return output;
  };
  std::string x = "features";

  // Missing-value rules, vectorised over the feature columns.
  if (!model.missing_values.empty()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> markers(features.size(), nan), replacements(features.size(), 0.0),
        nan_mask(features.size(), 0.0);
    bool any_nan_marker = false;
    for (std::size_t j = 0; j < features.size(); ++j) {
      const MissingValueRule* rule = model.missing_values.find(features[j]);
      if (!rule) continue;
      replacements[j] = rule->replacement;
      if (std::isnan(rule->marker)) {
        nan_mask[j] = 1.0;
        any_nan_marker = true;
      } else {
        markers[j] = rule->marker;
      }
    }
    g.initializers.push_back(vector_tensor("missing/markers", markers));
    g.initializers.push_back(vector_tensor("missing/replacements", replacements));
    std::string missing = add_node("Equal", {x, "missing/markers"}, "missing/equals_marker");
    if (any_nan_marker) {
      g.initializers.push_back(vector_tensor("missing/nan_marker", nan_mask, onnx::kBool));
      const auto is_nan = add_node("IsNaN", {x}, "missing/is_nan");
      const auto nan_missing = add_node("And", {is_nan, "missing/nan_marker"}, "missing/nan_missing");
      missing = add_node("Or", {missing, nan_missing}, "missing/is_missing");
    }
    const auto replaced = add_node("Where", {missing, "missing/replacements", x}, "missing/replaced");
    std::vector<double> indicator_columns;
    for (const auto& rule : model.missing_values.rules) {
      if (rule.indicator.empty()) continue;
      for (std::size_t j = 0; j < features.size(); ++j)
        if (features[j] == rule.feature) indicator_columns.push_back(static_cast<double>(j));
    }
    x = replaced;
    if (!indicator_columns.empty()) {
      g.initializers.push_back(vector_tensor("missing/indicator_columns", indicator_columns, onnx::kInt64));
      const auto as_float =
          add_node("Cast", {missing}, "missing/as_float", {int_attribute("to", onnx::kFloat)});
      const auto indicators = add_node("Gather", {as_float, "missing/indicator_columns"},
                                       "missing/indicators", {int_attribute("axis", 1)});
      x = add_node("Concat", {replaced, indicators}, "inputs", {int_attribute("axis", 1)});
    }
  }

  // Standardisation: (x + offset) * scale = (x - mean) * scale.
  std::vector<double> mean, scale;
  bool identity = true;
  for (Index i = 0; i < model.inputs.size(); ++i) {
    mean.push_back(-model.inputs.offset[static_cast<std::size_t>(i)]);
    scale.push_back(model.inputs.scale[static_cast<std::size_t>(i)]);
    identity = identity && mean.back() == 0.0 && scale.back() == 1.0;
  }
  if (!identity) {
    g.initializers.push_back(vector_tensor("standardisation/mean", mean));
    g.initializers.push_back(vector_tensor("standardisation/scale", scale));
    x = add_node("Sub", {x, "standardisation/mean"}, "standardisation/centred");
    x = add_node("Mul", {x, "standardisation/scale"}, "standardisation/scaled");
  }

  // The output is named after a single label unless that name is taken by the graph's own tensors.
  const bool label_free = model.outputs.size() == 1 && !model.outputs[0].empty() &&
                          model.outputs[0] != "features" && model.outputs[0] != "inputs" &&
                          model.outputs[0].find('/') == std::string::npos;
  const std::string output = label_free ? model.outputs[0] : std::string("scores");
  for (std::size_t k = 0; k < model.layers.size(); ++k) {
    const auto& layer = model.layers[k];
    const std::string at = "layer" + std::to_string(k);
    const bool last = k + 1 == model.layers.size();
    onnx::Tensor w{at + "/weight", {layer.n_out(), layer.n_in()}, onnx::kFloat, {}};
    for (Index o = 0; o < layer.n_out(); ++o)
      for (Index i = 0; i < layer.n_in(); ++i) w.values.push_back(layer.weights(o, i));
    std::vector<double> b(layer.bias.data(), layer.bias.data() + layer.bias.size());
    g.initializers.push_back(std::move(w));
    g.initializers.push_back(vector_tensor(at + "/bias", b));
    const auto& f = layer.activation;
    const bool linear = !f.softmax && f.elementwise.kind == ActivationKind::identity;
    x = add_node("Gemm", {x, at + "/weight", at + "/bias"}, last && linear ? output : at + "/gemm",
                 {int_attribute("transB", 1)});
    if (linear) continue;
    const std::string y = last ? output : at + "/activation";
    if (f.softmax) {
      x = add_node("Softmax", {x}, y, {int_attribute("axis", -1)});
      continue;
    }
    switch (f.elementwise.kind) {
      case ActivationKind::relu:
        x = add_node("Relu", {x}, y);
        break;
      case ActivationKind::leaky_relu:
        x = add_node("LeakyRelu", {x}, y, {float_attribute("alpha", f.elementwise.alpha)});
        break;
      case ActivationKind::elu:
        x = add_node("Elu", {x}, y, {float_attribute("alpha", f.elementwise.alpha)});
        break;
      case ActivationKind::tanh:
        x = add_node("Tanh", {x}, y);
        break;
      case ActivationKind::sigmoid:
        x = add_node("Sigmoid", {x}, y);
        break;
      case ActivationKind::softplus:
        x = add_node("Softplus", {x}, y);
        break;
      case ActivationKind::identity:
        break;
    }
  }
  g.outputs.push_back({output, onnx::kFloat, {-1, model.n_outputs()}, {"N", ""}, true});
  return m;
}

inline std::string onnx_bytes(const ModelFile<float>& model) {
  return onnx::encode(onnx_model(model));
}

inline void write_onnx(const std::string& path, const ModelFile<float>& model) {
  write_file_atomically(path, onnx_bytes(model));
}

}  // namespace agnostic::io
