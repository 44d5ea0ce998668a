#pragma once
// lwtnn's JSON format for a sequential network (the file that `lwt::parse_json` reads and
// `lwt::LightweightNeuralNetwork` evaluates), written from a model file and read into one.
//
//   {"inputs":  [{"name", "offset", "scale"}],        lwtnn feeds (x + offset) * scale
//    "layers":  [{"architecture": "dense", "weights": [n_out * n_in, row-major], "bias": [n_out],
//                 "activation": "linear" | "rectified" | "sigmoid" | "tanh" | "softmax"
//                               | {"function": "elu" | "leakyrelu", "alpha": a}}],
//    "outputs": ["label", ...],
//    "defaults": {"input": value},  "miscellaneous": {"key": "text"}}
//
// lwtnn has no softplus and no missing-value markers. Export refuses softplus and missing-value
// indicators (lwtnn cannot compute an extra input from another one). A rule without an indicator
// is exact in lwtnn's own terms: its replacement becomes the input's entry in "defaults", which
// lwtnn's users substitute for an input that is absent, so the caller leaves out (or replaces with
// the default) any value equal to the marker; the marker is written in "miscellaneous". lwtnn's
// sigmoid is 0 below -30 and 1 above 30 (a difference below 1e-13 from the exact one).
//
// Import reads lwtnn's dense layers, including the activation-only layers (empty weights) that
// lwtnn's Keras converter writes for a separate Activation; maxout, highway, LSTM, GRU, embedding
// and lwtnn's hard_sigmoid, swish and abs are refused by name. "defaults" are kept in the
// provenance (`training.lwtnn_defaults`): they carry no marker, so they are no missing-value rule.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/io/model_file.hpp"

namespace agnostic::io {

template <class T>
nlohmann::json lwtnn_json(const ModelFile<T>& model) {
  for (const auto& rule : model.missing_values.rules)
    require(rule.indicator.empty(), "lwtnn export: feature '", rule.feature,
            "' has the missing-value indicator '", rule.indicator,
            "', an input computed from another input, which lwtnn cannot express; export to ONNX or a C++ "
            "header instead, or train without indicators");
  nlohmann::json j = model_to_json(model);
  j.erase("agnostic");
  for (std::size_t k = 0; k < model.layers.size(); ++k) {
    const auto& a = model.layers[k].activation;
    if (a.softmax) continue;
    const auto kind = a.elementwise.kind;
    require(
        kind != ActivationKind::softplus, "lwtnn export: layers[", k,
        "] uses softplus, which lwtnn does not have (it has linear, rectified, sigmoid, tanh, softmax, elu, "
        "leakyrelu); export to ONNX or a C++ header instead");
    if (kind == ActivationKind::elu || kind == ActivationKind::leaky_relu)
      j["layers"][k]["activation"] = {{"function", activation_name(a.elementwise)},
                                      {"alpha", a.elementwise.alpha}};
  }
  nlohmann::json defaults = nlohmann::json::object(), misc = nlohmann::json::object();
  for (const auto& rule : model.missing_values.rules) {
    defaults[rule.feature] = rule.replacement;
    std::ostringstream marker;
    marker.precision(17);
    marker << rule.marker;
    misc["missing_marker:" + rule.feature] = marker.str();
  }
  if (!defaults.empty()) j["defaults"] = defaults;
  misc["producer"] = "agnostic export --format lwtnn";
  for (const auto& b : model.branches)
    misc["not_exported_branch:" + b.name] = "branch not part of this network";
  j["miscellaneous"] = misc;
  return j;
}

// Reads an lwtnn file; a file with agnostic's own "agnostic" key is read as a model file.
inline ModelFile<float> import_lwtnn(const nlohmann::json& j, const std::string& source) {
  if (j.is_object() && j.contains("agnostic")) return model_from_json<float>(j, source);
  const std::string at = "lwtnn file '" + source + "'";
  require(j.is_object(), at, ": expected a JSON object with 'inputs', 'layers', 'outputs', found ",
          j.type_name());
  for (const char* key : {"inputs", "layers", "outputs"})
    require(j.contains(key), at, ": missing key '", key, "'");
  ModelFile<float> model;
  try {
    from_json(j["inputs"], model.inputs);
  } catch (const Error& e) {
    fail(at, ": ", e.what());
  }
  require(model.inputs.size() > 0, at, ": 'inputs' is empty");
  require(j["layers"].is_array() && !j["layers"].empty(), at, ": 'layers' must be a non-empty array");
  Index n_in = model.inputs.size();
  for (std::size_t k = 0; k < j["layers"].size(); ++k) {
    const auto& l = j["layers"][k];
    const std::string where = at + ": layers[" + std::to_string(k) + "]";
    require(l.is_object(), where, ": expected an object, found ", l.type_name());
    require(l.contains("architecture") && l["architecture"].is_string(), where,
            ": missing the string 'architecture'");
    const auto arch = l["architecture"].get<std::string>();
    require(arch == "dense", where, ": architecture '", arch,
            "' is not supported (agnostic imports lwtnn's dense layers only)");
    LayerActivation f;
    if (l.contains("activation")) {
      const auto& a = l["activation"];
      const std::string name = a.is_string() ? a.get<std::string>()
                               : a.is_object() && a.contains("function") && a["function"].is_string()
                                   ? a["function"].get<std::string>()
                                   : std::string();
      require(name != "hard_sigmoid" && name != "swish" && name != "abs", where, ": lwtnn activation '", name,
              "' has no agnostic equivalent");
      nlohmann::json ours = a;
      if (a.is_string() && name == "elu") ours = {{"function", "elu"}, {"alpha", 1.0}};
      f = model_detail::activation_from_json(ours, where + ".activation");
    }
    const auto weights = model_detail::numbers_from_json<float>(l.value("weights", nlohmann::json::array()),
                                                                where + ".weights");
    const auto bias =
        model_detail::numbers_from_json<float>(l.value("bias", nlohmann::json::array()), where + ".bias");
    if (weights.empty() && bias.empty()) {  // an activation-only layer
      require(!model.layers.empty(), where, ": an activation-only layer (no weights) before any dense layer");
      auto& previous = model.layers.back().activation;
      require(previous == LayerActivation{}, where,
              ": an activation-only layer after a layer that already has an activation is not supported");
      previous = f;
      continue;
    }
    const auto n_out = static_cast<Index>(bias.size());
    require(n_out > 0 && static_cast<Index>(weights.size()) == n_out * n_in, where, ": 'weights' has ",
            weights.size(), " entries and 'bias' ", bias.size(), "; expected n_out x n_in = ", n_out, " x ",
            n_in);
    DenseWeights<float> layer;
    layer.weights.resize(n_out, n_in);
    layer.bias.resize(n_out);
    for (Index o = 0; o < n_out; ++o) {
      layer.bias(o) = bias[static_cast<std::size_t>(o)];
      for (Index i = 0; i < n_in; ++i) layer.weights(o, i) = weights[static_cast<std::size_t>(o * n_in + i)];
    }
    layer.activation = f;
    model.layers.push_back(std::move(layer));
    n_in = n_out;
  }
  require(!model.layers.empty(), at, ": no dense layer with weights");
  model.outputs = model_detail::names_from_json(j["outputs"], at + ": outputs");
  require(model.n_outputs() == model.layers.back().n_out(), at, ": 'outputs' names ", model.n_outputs(),
          " labels but the last layer has ", model.layers.back().n_out(), " outputs");
  model.training = {{"imported_from", source}, {"format", "lwtnn"}};
  if (j.contains("defaults")) model.training["lwtnn_defaults"] = j["defaults"];
  return model;
}

// Reads the lwtnn file at `path` (import_lwtnn); `feature_names`, when given, rename its inputs (one
// name per input; not for a model with missing-value rules, whose rules name the features).
inline ModelFile<float> read_lwtnn(const std::string& path,
                                   const std::vector<std::string>& feature_names = {}) {
  ModelFile<float> model = import_lwtnn(read_json_file(path, "lwtnn file"), path);
  if (feature_names.empty()) return model;
  require(static_cast<Index>(feature_names.size()) == model.n_inputs(),
          "feature names: ", feature_names.size(), " given but '", path, "' has ", model.n_inputs(),
          " inputs");
  require(model.missing_values.empty(), "feature names cannot rename the inputs of '", path,
          "', a model with missing-value rules");
  model.inputs.names = feature_names;
  return model;
}

}  // namespace agnostic::io
