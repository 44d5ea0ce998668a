#pragma once
// Reading a model file: its JSON (lwtnn's conventions for the sequential part, agnostic's own
// additions under "agnostic"; docs/model-format.md) into an io::ModelRecord, refusing anything that
// is not a well-formed model with a message naming the file, the key and the value (and the line
// and column where the text is not JSON). It reads with agnostic's own JSON reader
// (io/json_reader.hpp) and builds no Eigen matrix: trigger code (infer/) compiles this and the
// plain records alone. Every reader of model files goes through it: io::read_model
// (io/model_file.hpp) turns the record into an io::ModelFile and recomputes the test vector with
// io::predict, infer::Network with its own kernel.
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/index.hpp"
#include "agnostic/io/input_transforms.hpp"
#include "agnostic/io/json_reader.hpp"
#include "agnostic/io/model_record.hpp"

namespace agnostic::io {

namespace model_detail {

inline constexpr const char* kActivationNames =
    "linear, rectified, sigmoid, tanh, softmax, elu, softplus, leakyrelu";

// A layer's activation: a name or {"function": name, "alpha": a}, the name lwtnn's or another of
// kActivationAliases ("relu" reads as "rectified").
inline LayerActivation activation_from_json(const JsonValue& j, const std::string& where) {
  std::string name, given;
  double alpha = 0.0;
  if (j.is_string()) {
    given = j.string();
    name = lwtnn_activation_name(given);
    if (name == "leakyrelu")
      fail(where, ": activation '", given, "' needs its slope: write {\"function\": \"", given,
           "\", \"alpha\": a}");
  } else if (j.is_object()) {
    if (const auto* key = j.first_key_not_in({"function", "alpha"}))
      fail(where, ": unknown key '", *key, "' in the activation; expected 'function' and 'alpha'");
    require(j.contains("function") && j["function"].is_string(), where,
            ": the activation object needs a string 'function' (one of ", kActivationNames, ")");
    given = j["function"].string();
    name = lwtnn_activation_name(given);
    if (j.contains("alpha")) {
      require(j["alpha"].is_number(), where, ": activation 'alpha' must be a number, found ",
              j["alpha"].dump());
      alpha = j["alpha"].number();
    }
    require(name != "leakyrelu" || j.contains("alpha"), where, ": activation '", given, "' needs 'alpha'");
  } else {
    fail(where, ": 'activation' must be a name (", kActivationNames,
         ") or {\"function\": name, \"alpha\": a}, found ", j.dump());
  }
  if (name == "softmax") return LayerActivation::softmax_over_outputs();
  static const char* known[] = {"linear", "rectified", "sigmoid", "tanh", "elu", "softplus", "leakyrelu"};
  bool ok = false;
  for (const char* k : known) ok = ok || name == k;
  require(ok, where, ": unknown activation '", given, "'; allowed: ", kActivationNames,
          " (also read: ", activation_alias_list(), ")");
  try {
    return {activation_from_name(name, alpha), false};
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

template <class T>
std::vector<T> numbers_from_json(const JsonValue& j, const std::string& where) {
  require(j.is_array(), where, " must be an array of numbers, found ", j.type_name());
  std::vector<T> out;
  out.reserve(j.size());
  for (std::size_t k = 0; k < j.size(); ++k) {
    require(j[k].is_number(), where, "[", k, "] must be a number, found ", j[k].dump());
    const double d = j[k].number();
    const T v = static_cast<T>(d);
    require(std::isfinite(static_cast<double>(v)), where, "[", k, "] = ", d, " is not a finite ",
            std::is_same_v<T, float> ? "float" : "double");
    out.push_back(v);
  }
  return out;
}

template <class T>
LayerRecord<T> layer_from_json(const JsonValue& j, Index n_in, const std::string& n_in_source,
                               const std::string& where) {
  require(j.is_object(), where,
          ": expected an object with 'architecture', 'weights', 'bias', 'activation', found ", j.type_name());
  if (const auto* key = j.first_key_not_in({"architecture", "weights", "bias", "activation"}))
    fail(where, ": unknown key '", *key, "'; expected 'architecture', 'weights', 'bias', 'activation'");
  for (const char* key : {"architecture", "weights", "bias", "activation"})
    require(j.contains(key), where, ": missing key '", key, "'");
  require(j["architecture"].is_string() && j["architecture"].string() == "dense", where, ": architecture ",
          j["architecture"].dump(), " is not supported; allowed: \"dense\"");
  LayerRecord<T> layer;
  layer.bias = numbers_from_json<T>(j["bias"], where + ".bias");
  layer.weights = numbers_from_json<T>(j["weights"], where + ".weights");
  layer.n_in = n_in;
  layer.n_out = static_cast<Index>(layer.bias.size());
  require(layer.n_out > 0, where, ".bias is empty; a layer needs at least one output");
  require(static_cast<Index>(layer.weights.size()) == layer.n_out * n_in, where, ".weights has ",
          layer.weights.size(), " entries, expected n_out x n_in = ", layer.n_out, " x ", n_in, " = ",
          layer.n_out * n_in, " (n_out from the bias, n_in from ", n_in_source, ")");
  layer.activation = activation_from_json(j["activation"], where + ".activation");
  return layer;
}

inline std::vector<std::string> names_from_json(const JsonValue& j, const std::string& where) {
  require(j.is_array(), where, " must be an array of names, found ", j.type_name());
  std::vector<std::string> out;
  for (std::size_t k = 0; k < j.size(); ++k) {
    require(j[k].is_string(), where, "[", k, "] must be a string, found ", j[k].dump());
    out.push_back(j[k].string());
  }
  return out;
}

template <class T>
std::vector<LayerRecord<T>> layers_from_json(const JsonValue& j, Index n_in, const std::string& n_in_source,
                                             const std::string& where) {
  require(j.is_array(), where, " must be an array of layers, found ", j.type_name());
  require(!j.empty(), where, " is empty; expected at least one layer");
  std::vector<LayerRecord<T>> out;
  for (std::size_t k = 0; k < j.size(); ++k) {
    out.push_back(layer_from_json<T>(j[k], n_in, k == 0 ? n_in_source : std::string("the layer before"),
                                     where + "[" + std::to_string(k) + "]"));
    n_in = out.back().n_out;
  }
  return out;
}

inline ModelTestVector test_vector_from_json(const JsonValue& j, Index n_features, Index n_outputs,
                                             const std::string& where) {
  require(j.is_object(), where, " must be an object with 'precision', 'features', 'outputs', found ",
          j.type_name());
  if (const auto* key = j.first_key_not_in({"precision", "features", "outputs"}))
    fail(where, ": unknown key '", *key, "'; expected 'precision', 'features', 'outputs'");
  for (const char* key : {"precision", "features", "outputs"})
    require(j.contains(key), where, ": missing key '", key, "'");
  ModelTestVector v;
  const auto& precision = j["precision"];
  require(precision.is_string() && (precision.string() == "float" || precision.string() == "double"), where,
          ".precision is ", precision.dump(), "; allowed: \"float\", \"double\"");
  v.precision = precision.string();
  const auto& f = j["features"];
  const auto& y = j["outputs"];
  require(f.is_array() && y.is_array() && f.size() == y.size() && !f.empty(), where,
          ": 'features' and 'outputs' must be arrays with one row per event, the same number of rows");
  v.n_events = static_cast<Index>(f.size());
  v.n_features = n_features;
  v.n_outputs = n_outputs;
  v.features.reserve(static_cast<std::size_t>(v.n_events * n_features));
  v.outputs.reserve(static_cast<std::size_t>(v.n_events * n_outputs));
  for (std::size_t k = 0; k < f.size(); ++k) {
    const std::string at = where + ".features[" + std::to_string(k) + "]";
    require(f[k].is_array() && static_cast<Index>(f[k].size()) == n_features, at, " must hold ", n_features,
            " numbers (one per feature), found ", f[k].dump());
    for (Index i = 0; i < n_features; ++i) {
      const auto& x = f[k][static_cast<std::size_t>(i)];
      require(x.is_number() || (x.is_string() && x.string() == "nan"), at, "[", i,
              "] must be a number or \"nan\", found ", x.dump());
      v.features.push_back(x.is_number() ? x.number() : std::nan(""));
    }
    const auto outs = numbers_from_json<double>(y[k], where + ".outputs[" + std::to_string(k) + "]");
    require(static_cast<Index>(outs.size()) == n_outputs, where, ".outputs[", k, "] holds ", outs.size(),
            " numbers, expected ", n_outputs, " (one per output)");
    v.outputs.insert(v.outputs.end(), outs.begin(), outs.end());
  }
  return v;
}

}  // namespace model_detail

// Reads a model from its JSON and checks everything a file can get wrong (keys, types, sizes,
// names, format version) except its test vector, which is read but not recomputed: the caller
// recomputes it with its own evaluator (io::read_model with io::predict, infer::Network with its
// kernel). `source` (a file name) starts every error message. A plain lwtnn file (no "agnostic"
// key) is accepted: it has no missing-value rules and no provenance.
template <class T>
ModelRecord<T> model_record_from_json(const JsonValue& j, const std::string& source, std::string_view text) {
  const std::string at = "model file '" + source + "'";
  require(j.is_object(), at, ": expected a JSON object with 'inputs', 'layers', 'outputs', found ",
          j.type_name());
  if (const auto* key =
          j.first_key_not_in({"inputs", "layers", "outputs", "agnostic", "defaults", "miscellaneous"}))
    fail(at, ": unknown top-level key '", *key,
         "'; expected 'inputs', 'layers', 'outputs', 'agnostic' (lwtnn's 'defaults' and 'miscellaneous' are "
         "ignored)");
  for (const char* key : {"inputs", "layers", "outputs"})
    require(j.contains(key), at, ": missing key '", key, "'");
  ModelRecord<T> model;
  try {
    model.inputs = standardisation_from_json(j["inputs"]);
  } catch (const Error& e) {
    fail(at, ": ", e.what());
  }
  require(model.inputs.size() > 0, at, ": 'inputs' is empty; expected at least one input");
  model.layers =
      model_detail::layers_from_json<T>(j["layers"], model.inputs.size(), "the inputs", at + ": layers");
  model.outputs = model_detail::names_from_json(j["outputs"], at + ": outputs");
  require(model.n_outputs() == model.layers.back().n_out, at, ": 'outputs' names ", model.n_outputs(),
          " labels but the last layer has ", model.layers.back().n_out, " outputs");

  if (!j.contains("agnostic")) return model;
  const auto& own = j["agnostic"];
  const std::string at_own = at + ": agnostic";
  require(own.is_object(), at_own, " must be an object, found ", own.type_name());
  if (const auto* key =
          own.first_key_not_in({"format_version", "missing_values", "training", "branches", "test_vector"}))
    fail(at_own, ": unknown key '", *key,
         "'; expected 'format_version', 'missing_values', 'training', 'branches', 'test_vector'");
  require(own.contains("format_version"), at_own, ": missing key 'format_version'");
  const auto& format_version = own["format_version"];
  require(format_version.is_integer(), at_own, ".format_version must be an integer, found ",
          format_version.dump());
  const auto version = format_version.integer();
  require(version >= 1 && version <= kModelFormatVersion, at_own, ".format_version is ", version,
          "; this agnostic reads versions 1 to ", kModelFormatVersion,
          version > kModelFormatVersion ? " (the file was written by a newer agnostic)" : "");
  if (own.contains("missing_values")) {
    try {
      model.missing_values = missing_value_rules_from_json(own["missing_values"]);
    } catch (const Error& e) {
      fail(at_own, ".missing_values: ", e.what());
    }
    for (const auto& rule : model.missing_values.rules) {
      bool found = false;
      for (const auto& n : model.inputs.names) found = found || n == rule.feature;
      require(found, at_own, ".missing_values: the rule for '", rule.feature, "' names no input");
      if (rule.indicator.empty()) continue;
      found = false;
      for (const auto& n : model.inputs.names) found = found || n == rule.indicator;
      require(found, at_own, ".missing_values: the indicator '", rule.indicator,
              "' is not one of the inputs");
    }
  }
  if (own.contains("training")) {
    const auto& training = own["training"];
    require(training.is_object(), at_own, ".training must be an object, found ", training.type_name());
    model.training_json =
        std::string(text.substr(training.text_begin(), training.text_end() - training.text_begin()));
  }
  if (own.contains("branches")) {
    const auto& branches = own["branches"];
    require(branches.is_array(), at_own, ".branches must be an array, found ", branches.type_name());
    for (std::size_t k = 0; k < branches.size(); ++k) {
      const auto& b = branches[k];
      const std::string where = at_own + ".branches[" + std::to_string(k) + "]";
      require(b.is_object(), where, " must be an object, found ", b.type_name());
      if (const auto* key = b.first_key_not_in({"name", "input_layer", "layers", "outputs"}))
        fail(where, ": unknown key '", *key, "'; expected 'name', 'input_layer', 'layers', 'outputs'");
      for (const char* key : {"name", "input_layer", "layers", "outputs"})
        require(b.contains(key), where, ": missing key '", key, "'");
      require(b["name"].is_string(), where, ".name must be a string");
      BranchRecord<T> branch;
      branch.name = b["name"].string();
      require(b["input_layer"].is_integer(), where, ".input_layer must be an integer");
      branch.input_layer = static_cast<Index>(b["input_layer"].integer());
      require(branch.input_layer >= 0 && branch.input_layer <= static_cast<Index>(model.layers.size()), where,
              ".input_layer is ", branch.input_layer, "; expected 0 (the inputs) to ", model.layers.size(),
              " (the last layer)");
      const Index n_in = branch.input_layer == 0
                             ? model.n_inputs()
                             : model.layers[static_cast<std::size_t>(branch.input_layer - 1)].n_out;
      branch.layers = model_detail::layers_from_json<T>(
          b["layers"], n_in,
          branch.input_layer == 0 ? std::string("the inputs")
                                  : "layers[" + std::to_string(branch.input_layer - 1) + "]",
          where + ".layers");
      branch.outputs = model_detail::names_from_json(b["outputs"], where + ".outputs");
      require(static_cast<Index>(branch.outputs.size()) == branch.layers.back().n_out, where,
              ".outputs names ", branch.outputs.size(), " labels but the branch's last layer has ",
              branch.layers.back().n_out, " outputs");
      model.branches.push_back(std::move(branch));
    }
  }
  if (own.contains("test_vector")) {
    model.test_vector = model_detail::test_vector_from_json(own["test_vector"],
                                                            static_cast<Index>(model.feature_names().size()),
                                                            model.n_outputs(), at_own + ".test_vector");
  }
  return model;
}

// The model in JSON text, checked as model_record_from_json checks it.
template <class T>
ModelRecord<T> model_record_from_text(std::string_view text, const std::string& source) {
  return model_record_from_json<T>(parse_json_text(text, "model file '" + source + "'"), source, text);
}

// The model in the file at `path`, checked as model_record_from_json checks it (the test vector
// read, not recomputed). "cannot open model file '<path>'" and "model file '<path>' is not valid
// JSON: line L, column C: ..." as every JSON reader of agnostic says them.
template <class T>
ModelRecord<T> read_model_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open model file '", path, "'");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  require(!in.bad(), "cannot read model file '", path, "'");
  return model_record_from_text<T>(text, path);
}

}  // namespace agnostic::io
