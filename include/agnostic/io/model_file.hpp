#pragma once
// The model file: a trained network as JSON, written with lwtnn's conventions for the sequential
// part so that people and tools that know lwtnn read it at sight, and with agnostic's own
// additions under a key of their own. docs/model-format.md describes the format.
//
//   {
//     "inputs":  [{"name": "pt", "offset": -41.2, "scale": 0.05}, ...],   network sees (x + offset) * scale
//     "layers":  [{"architecture": "dense", "weights": [n_out * n_in, row-major], "bias": [n_out],
//                  "activation": "rectified" | {"function": "leakyrelu", "alpha": 0.1} | ...}, ...],
//     "outputs": ["signal"],
//     "agnostic": {"format_version": 1, "missing_values": [...], "training": {...}, "branches": [...],
//                  "test_vector": {"precision": "float", "features": [[...], ...], "outputs": [[...], ...]}}
//   }
//
// The test vector makes the file prove itself (frugally-deep's idea): a few events and the outputs
// the network gave for them when the file was written. Every reader recomputes them on load and
// refuses a file whose outputs disagree beyond float rounding, so a hand-edited, truncated or
// misread file fails loudly instead of giving wrong numbers. Files without one still load.
//
// Numbers are written so that reading them back gives the same T, bit for bit (float values are
// written with the fewest digits that still read back as the same float), so a loaded model
// reproduces the predictions of the model that was saved exactly.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/dense.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/standardisation.hpp"
#include "agnostic/nn/sequential.hpp"

namespace agnostic::io {

inline constexpr int kModelFormatVersion = 1;

// A layer's activation: an element-wise function, or softmax over the layer's outputs (lwtnn's
// "softmax", which has no element-wise form and so is not an agnostic::Activation).
struct LayerActivation {
  Activation elementwise = Activation::identity();
  bool softmax = false;

  static LayerActivation softmax_over_outputs() { return {Activation::identity(), true}; }
  bool operator==(const LayerActivation&) const = default;
};

// One dense layer as stored: y = f(x W^T + b), W is n_out x n_in, b is 1 x n_out.
template <class T>
struct DenseWeights {
  Matrix<T> weights;
  RowVector<T> bias;
  LayerActivation activation;

  Index n_in() const { return weights.cols(); }
  Index n_out() const { return weights.rows(); }
};

// A second head that reads the output of main layer `input_layer` (1-based; 0 = the standardised
// inputs), such as the adversary of an ADNN or the domain classifier of a DANN.
template <class T>
struct ModelBranch {
  std::string name;
  Index input_layer = 0;
  std::vector<DenseWeights<T>> layers;
  std::vector<std::string> outputs;
};

// A few events (raw features in the order of ModelFile::feature_names(), missing-value markers
// included) and the outputs the network gave for them, computed in `precision` ("float" or
// "double"). Empty for a file written before test vectors existed.
struct ModelTestVector {
  Matrix<double> features;  // events x features
  Matrix<double> outputs;   // events x outputs
  std::string precision = "double";

  bool empty() const { return features.rows() == 0; }
};

template <class T>
struct ModelFile {
  Standardisation inputs;  // names (the features, then missing-value indicators), offset, scale
  std::vector<DenseWeights<T>> layers;
  std::vector<std::string> outputs;
  MissingValueRules missing_values;
  nlohmann::json training = nlohmann::json::object();  // provenance: config, date, seed, ...
  std::vector<ModelBranch<T>> branches;
  ModelTestVector test_vector;  // as read from the file (write_model computes a fresh one)

  Index n_inputs() const { return inputs.size(); }
  Index n_outputs() const { return static_cast<Index>(outputs.size()); }

  // The feature columns a data file must provide: the inputs without the indicator columns,
  // which the missing-value rules add.
  std::vector<std::string> feature_names() const {
    const auto indicators = missing_values.indicator_names();
    std::vector<std::string> out;
    for (const auto& name : inputs.names) {
      bool is_indicator = false;
      for (const auto& i : indicators) is_indicator = is_indicator || i == name;
      if (!is_indicator) out.push_back(name);
    }
    return out;
  }

  Index parameter_count() const {
    Index n = 0;
    for (const auto& l : layers) n += l.weights.size() + l.bias.size();
    for (const auto& b : branches)
      for (const auto& l : b.layers) n += l.weights.size() + l.bias.size();
    return n;
  }
};

namespace model_detail {

inline std::string describe_activation(const LayerActivation& a) {
  if (a.softmax) return "softmax";
  std::ostringstream out;
  out << activation_name(a.elementwise);
  if (a.elementwise.kind == ActivationKind::leaky_relu || a.elementwise.kind == ActivationKind::elu)
    out << "(" << a.elementwise.alpha << ")";
  return out.str();
}

// The JSON number for a value of type T: for float, the shortest decimal that reads back as the
// same float (so the file shows 0.1, not 0.10000000149011612).
template <class T>
double json_number(T v, const std::string& where) {
  if (!std::isfinite(static_cast<double>(v)))
    fail("cannot write the model: ", where, " is ", static_cast<double>(v),
         "; a model file holds finite numbers only (the network has diverged?)");
  if constexpr (std::is_same_v<T, float>) {
    char buffer[64];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    double d = 0.0;
    std::from_chars(buffer, r.ptr, d);
    if (static_cast<float>(d) == v) return d;
  }
  return static_cast<double>(v);
}

template <class T>
nlohmann::json layer_to_json(const DenseWeights<T>& layer, const std::string& where) {
  nlohmann::json weights = nlohmann::json::array(), bias = nlohmann::json::array();
  for (Index o = 0; o < layer.n_out(); ++o)
    for (Index i = 0; i < layer.n_in(); ++i)
      weights.push_back(json_number(layer.weights(o, i), where + " weight"));
  for (Index o = 0; o < layer.bias.size(); ++o) bias.push_back(json_number(layer.bias(o), where + " bias"));
  nlohmann::json activation;
  const auto& a = layer.activation;
  if (a.softmax)
    activation = "softmax";
  else if (a.elementwise.kind == ActivationKind::leaky_relu ||
           (a.elementwise.kind == ActivationKind::elu && a.elementwise.alpha != 1.0))
    activation = {{"function", activation_name(a.elementwise)}, {"alpha", a.elementwise.alpha}};
  else
    activation = activation_name(a.elementwise);
  return {{"architecture", "dense"}, {"weights", weights}, {"bias", bias}, {"activation", activation}};
}

inline const char* kActivationNames = "linear, rectified, sigmoid, tanh, softmax, elu, softplus, leakyrelu";

inline LayerActivation activation_from_json(const nlohmann::json& j, const std::string& where) {
  std::string name;
  double alpha = 0.0;
  if (j.is_string()) {
    name = j.get<std::string>();
    if (name == "leakyrelu")
      fail(where,
           ": activation 'leakyrelu' needs its slope: write {\"function\": \"leakyrelu\", \"alpha\": a}");
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items())
      require(key == "function" || key == "alpha", where, ": unknown key '", key,
              "' in the activation; expected 'function' and 'alpha'");
    require(j.contains("function") && j["function"].is_string(), where,
            ": the activation object needs a string 'function' (one of ", kActivationNames, ")");
    name = j["function"].get<std::string>();
    if (j.contains("alpha")) {
      require(j["alpha"].is_number(), where, ": activation 'alpha' must be a number, found ",
              j["alpha"].dump());
      alpha = j["alpha"].get<double>();
    }
    require(name != "leakyrelu" || j.contains("alpha"), where, ": activation 'leakyrelu' needs 'alpha'");
  } else {
    fail(where, ": 'activation' must be a name (", kActivationNames,
         ") or {\"function\": name, \"alpha\": a}, found ", j.dump());
  }
  if (name == "softmax") return LayerActivation::softmax_over_outputs();
  static const char* known[] = {"linear", "rectified", "sigmoid", "tanh", "elu", "softplus", "leakyrelu"};
  bool ok = false;
  for (const char* k : known) ok = ok || name == k;
  require(ok, where, ": unknown activation '", name, "'; allowed: ", kActivationNames);
  try {
    return {activation_from_name(name, alpha), false};
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

template <class T>
std::vector<T> numbers_from_json(const nlohmann::json& j, const std::string& where) {
  require(j.is_array(), where, " must be an array of numbers, found ", j.type_name());
  std::vector<T> out;
  out.reserve(j.size());
  for (std::size_t k = 0; k < j.size(); ++k) {
    require(j[k].is_number(), where, "[", k, "] must be a number, found ", j[k].dump());
    const double d = j[k].get<double>();
    const T v = static_cast<T>(d);
    require(std::isfinite(static_cast<double>(v)), where, "[", k, "] = ", d, " is not a finite ",
            std::is_same_v<T, float> ? "float" : "double");
    out.push_back(v);
  }
  return out;
}

template <class T>
DenseWeights<T> layer_from_json(const nlohmann::json& j, Index n_in, const std::string& n_in_source,
                                const std::string& where) {
  require(j.is_object(), where,
          ": expected an object with 'architecture', 'weights', 'bias', 'activation', found ", j.type_name());
  for (const auto& [key, value] : j.items())
    require(key == "architecture" || key == "weights" || key == "bias" || key == "activation", where,
            ": unknown key '", key, "'; expected 'architecture', 'weights', 'bias', 'activation'");
  for (const char* key : {"architecture", "weights", "bias", "activation"})
    require(j.contains(key), where, ": missing key '", key, "'");
  require(j["architecture"] == "dense", where, ": architecture ", j["architecture"].dump(),
          " is not supported; allowed: \"dense\"");
  const auto bias = numbers_from_json<T>(j["bias"], where + ".bias");
  const auto weights = numbers_from_json<T>(j["weights"], where + ".weights");
  const auto n_out = static_cast<Index>(bias.size());
  require(n_out > 0, where, ".bias is empty; a layer needs at least one output");
  require(static_cast<Index>(weights.size()) == n_out * n_in, where, ".weights has ", weights.size(),
          " entries, expected n_out x n_in = ", n_out, " x ", n_in, " = ", n_out * n_in,
          " (n_out from the bias, n_in from ", n_in_source, ")");
  DenseWeights<T> layer;
  layer.weights.resize(n_out, n_in);
  layer.bias.resize(n_out);
  for (Index o = 0; o < n_out; ++o) {
    layer.bias(o) = bias[static_cast<std::size_t>(o)];
    for (Index i = 0; i < n_in; ++i) layer.weights(o, i) = weights[static_cast<std::size_t>(o * n_in + i)];
  }
  layer.activation = activation_from_json(j["activation"], where + ".activation");
  return layer;
}

inline std::vector<std::string> names_from_json(const nlohmann::json& j, const std::string& where) {
  require(j.is_array(), where, " must be an array of names, found ", j.type_name());
  std::vector<std::string> out;
  for (std::size_t k = 0; k < j.size(); ++k) {
    require(j[k].is_string(), where, "[", k, "] must be a string, found ", j[k].dump());
    out.push_back(j[k].get<std::string>());
  }
  return out;
}

template <class T>
std::vector<DenseWeights<T>> layers_from_json(const nlohmann::json& j, Index n_in,
                                              const std::string& n_in_source, const std::string& where) {
  require(j.is_array(), where, " must be an array of layers, found ", j.type_name());
  require(!j.empty(), where, " is empty; expected at least one layer");
  std::vector<DenseWeights<T>> out;
  for (std::size_t k = 0; k < j.size(); ++k) {
    out.push_back(layer_from_json<T>(j[k], n_in, k == 0 ? n_in_source : std::string("the layer before"),
                                     where + "[" + std::to_string(k) + "]"));
    n_in = out.back().n_out();
  }
  return out;
}

// Softmax over each row, with the row maximum subtracted so exp never overflows.
template <class T>
void softmax_rows(Matrix<T>& y) {
  for (Index r = 0; r < y.rows(); ++r) {
    auto row = y.row(r);
    row.array() = (row.array() - row.maxCoeff()).exp();
    row /= row.sum();
  }
}

}  // namespace model_detail

// The dense layer's forward pass, recorded on a tape with the same fused dense node that training
// uses, so a model file and the network it was written from give the same bits.
template <class T>
Matrix<T> apply_layer(const DenseWeights<T>& layer, const Matrix<T>& x) {
  require(x.cols() == layer.n_in(), "layer expects ", layer.n_in(), " inputs, got ", x.cols());
  const Matrix<T> bias = layer.bias;  // the node takes a 1 x n_out matrix
  Tape<T> tape;
  Matrix<T> y =
      dense(tape.input(x), tape.input(layer.weights), tape.input(bias), layer.activation.elementwise).value();
  if (layer.activation.softmax) model_detail::softmax_rows(y);
  return y;
}

// Outputs for `features`: one row per event, columns in the order of model.inputs (the features
// with missing values already replaced and indicators appended, see column_selection.hpp); the
// standardisation is applied here.
template <class T>
Matrix<T> predict(const ModelFile<T>& model, const Matrix<T>& features) {
  require(features.cols() == model.n_inputs(), "predict: the data have ", features.cols(),
          " columns but the model has ", model.n_inputs(), " inputs (", model.inputs.describe(), ")");
  Matrix<T> x = model.inputs.applied(features);
  for (const auto& layer : model.layers) x = apply_layer(layer, x);
  return x;
}

// The network's inputs for raw features (events x feature_names(), in that order, missing-value
// markers included): each rule replaces its marker (compared after rounding the marker to T, as
// the trigger-side code does) and sets its indicator column, appended after the features.
template <class T>
Matrix<T> model_inputs_from_features(const ModelFile<T>& model, const Matrix<T>& raw) {
  const auto features = model.feature_names();
  const auto n_features = static_cast<Index>(features.size());
  require(raw.cols() == n_features, "the events have ", raw.cols(), " features but the model reads ",
          n_features, " (", Standardisation{features, {}, {}}.describe(), ")");
  Matrix<T> x(raw.rows(), model.n_inputs());
  x.leftCols(n_features) = raw;
  Index indicator_col = n_features;
  for (const auto& rule : model.missing_values.rules) {
    Index j = 0;
    while (j < n_features && features[static_cast<std::size_t>(j)] != rule.feature) ++j;
    require(j < n_features, "the missing-value rule for '", rule.feature, "' names no feature of the model");
    const T marker = static_cast<T>(rule.marker);
    for (Index r = 0; r < raw.rows(); ++r) {
      const bool missing = std::isnan(rule.marker) ? std::isnan(raw(r, j)) : raw(r, j) == marker;
      if (missing) x(r, j) = static_cast<T>(rule.replacement);
      if (!rule.indicator.empty()) x(r, indicator_col) = missing ? T(1) : T(0);
    }
    if (!rule.indicator.empty()) ++indicator_col;
  }
  require(indicator_col == model.n_inputs(), "the model has ", model.n_inputs(), " inputs but its ",
          n_features, " features and ", indicator_col - n_features, " missing-value indicators make ",
          indicator_col);
  return x;
}

// The outputs for raw features: missing-value rules, standardisation, network.
template <class T>
Matrix<T> predict_features(const ModelFile<T>& model, const Matrix<T>& raw) {
  return predict(model, model_inputs_from_features(model, raw));
}

namespace model_detail {

// The test vector's events, derived from the standardisation alone so that they are reproducible:
// event k puts feature j at the training mean plus ((k + j) mod 5 - 2) / 2 standard deviations
// (rounded to float, so a float reader sees the same values). With missing-value rules there is a
// fifth event in which every feature with a rule holds its marker.
template <class T>
ModelTestVector make_test_vector(const ModelFile<T>& model) {
  const auto features = model.feature_names();
  const auto n_features = static_cast<Index>(features.size());
  const Index n_events = model.missing_values.empty() ? 4 : 5;
  Matrix<T> raw(n_events, n_features);
  for (Index j = 0; j < n_features; ++j) {
    Index input = 0;
    while (model.inputs.names[static_cast<std::size_t>(input)] != features[static_cast<std::size_t>(j)])
      ++input;
    const double offset = model.inputs.offset[static_cast<std::size_t>(input)];
    const double scale = model.inputs.scale[static_cast<std::size_t>(input)];
    for (Index k = 0; k < n_events; ++k) {
      const double steps = 0.5 * static_cast<double>((k + j) % 5 - 2);
      raw(k, j) = static_cast<T>(static_cast<float>(-offset + steps / scale));
    }
    if (const auto* rule = model.missing_values.find(features[static_cast<std::size_t>(j)]))
      raw(n_events - 1, j) =
          std::isnan(rule->marker) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(rule->marker);
  }
  ModelTestVector out;
  out.features = raw.template cast<double>();
  out.outputs = predict_features(model, raw).template cast<double>();
  out.precision = std::is_same_v<T, float> ? "float" : "double";
  return out;
}

inline nlohmann::json test_vector_to_json(const ModelTestVector& v) {
  nlohmann::json features = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (Index k = 0; k < v.features.rows(); ++k) {
    nlohmann::json row = nlohmann::json::array();
    for (Index j = 0; j < v.features.cols(); ++j) {
      const double x = v.features(k, j);
      if (std::isnan(x))
        row.push_back("nan");
      else if (v.precision == "float")
        row.push_back(json_number(static_cast<float>(x), "test vector feature"));
      else
        row.push_back(json_number(x, "test vector feature"));
    }
    features.push_back(row);
    row = nlohmann::json::array();
    for (Index o = 0; o < v.outputs.cols(); ++o) {
      if (v.precision == "float")
        row.push_back(json_number(static_cast<float>(v.outputs(k, o)), "test vector output"));
      else
        row.push_back(json_number(v.outputs(k, o), "test vector output"));
    }
    outputs.push_back(row);
  }
  return {{"precision", v.precision}, {"features", features}, {"outputs", outputs}};
}

inline ModelTestVector test_vector_from_json(const nlohmann::json& j, Index n_features, Index n_outputs,
                                             const std::string& where) {
  require(j.is_object(), where, " must be an object with 'precision', 'features', 'outputs', found ",
          j.type_name());
  for (const auto& [key, value] : j.items())
    require(key == "precision" || key == "features" || key == "outputs", where, ": unknown key '", key,
            "'; expected 'precision', 'features', 'outputs'");
  for (const char* key : {"precision", "features", "outputs"})
    require(j.contains(key), where, ": missing key '", key, "'");
  ModelTestVector v;
  require(j["precision"] == "float" || j["precision"] == "double", where, ".precision is ",
          j["precision"].dump(), "; allowed: \"float\", \"double\"");
  v.precision = j["precision"].get<std::string>();
  const auto& f = j["features"];
  const auto& y = j["outputs"];
  require(f.is_array() && y.is_array() && f.size() == y.size() && !f.empty(), where,
          ": 'features' and 'outputs' must be arrays with one row per event, the same number of rows");
  v.features.resize(static_cast<Index>(f.size()), n_features);
  v.outputs.resize(static_cast<Index>(y.size()), n_outputs);
  for (std::size_t k = 0; k < f.size(); ++k) {
    const std::string at = where + ".features[" + std::to_string(k) + "]";
    require(f[k].is_array() && static_cast<Index>(f[k].size()) == n_features, at, " must hold ", n_features,
            " numbers (one per feature), found ", f[k].dump());
    for (Index i = 0; i < n_features; ++i) {
      const auto& x = f[k][static_cast<std::size_t>(i)];
      require(x.is_number() || x == "nan", at, "[", i, "] must be a number or \"nan\", found ", x.dump());
      v.features(static_cast<Index>(k), i) = x.is_number() ? x.get<double>() : std::nan("");
    }
    const auto outs = numbers_from_json<double>(y[k], where + ".outputs[" + std::to_string(k) + "]");
    require(static_cast<Index>(outs.size()) == n_outputs, where, ".outputs[", k, "] holds ", outs.size(),
            " numbers, expected ", n_outputs, " (one per output)");
    for (Index o = 0; o < n_outputs; ++o)
      v.outputs(static_cast<Index>(k), o) = outs[static_cast<std::size_t>(o)];
  }
  return v;
}

}  // namespace model_detail

// How far a recomputed test-vector output may be from the stored one: float rounding (1e-4 of the
// output's size, at least 1e-4, as frugally-deep allows) when either side computed in float, else
// 1e-9. Anything further means the weights are not those that produced the stored outputs.
inline double test_vector_tolerance(const ModelTestVector& v, bool reader_is_float, double stored) {
  const double relative = (reader_is_float || v.precision == "float") ? 1e-4 : 1e-9;
  return relative * std::max(1.0, std::abs(stored));
}

// Compares `computed` (events x outputs, from any evaluator: predict, infer::Network, ...) with
// the stored test vector; `source` and `evaluator` name the file and the code in the message.
inline void require_test_vector_agrees(const ModelTestVector& v, const Matrix<double>& computed,
                                       const std::vector<std::string>& output_names, bool reader_is_float,
                                       const std::string& source, const std::string& evaluator) {
  for (Index k = 0; k < v.outputs.rows(); ++k)
    for (Index o = 0; o < v.outputs.cols(); ++o) {
      const double stored = v.outputs(k, o), got = computed(k, o);
      const double tolerance = test_vector_tolerance(v, reader_is_float, stored);
      if (!(std::abs(got - stored) <= tolerance))
        fail("model file '", source, "': its test vector disagrees with what ", evaluator,
             " computes from its weights: event ", k, ", output '", output_names[static_cast<std::size_t>(o)],
             "': stored ", stored, ", computed ", got, " (difference ", std::abs(got - stored),
             ", tolerance ", tolerance,
             "). The file was edited, truncated or misread after it was written; write it again ",
             "from the trained network (or delete agnostic.test_vector to load it unchecked)");
    }
}

// Recomputes the stored test vector (if any) with io::predict and refuses a disagreement.
template <class T>
void check_test_vector(const ModelFile<T>& model, const std::string& source) {
  if (model.test_vector.empty()) return;
  const Matrix<T> raw = model.test_vector.features.template cast<T>();
  const Matrix<double> computed = predict_features(model, raw).template cast<double>();
  require_test_vector_agrees(model.test_vector, computed, model.outputs, std::is_same_v<T, float>, source,
                             "agnostic's predict");
}

template <class T>
nlohmann::json model_to_json(const ModelFile<T>& model) {
  require(model.inputs.size() > 0, "cannot write the model: it has no inputs");
  require(!model.layers.empty(), "cannot write the model: it has no layers");
  require(model.layers.back().n_out() == model.n_outputs(), "cannot write the model: the last layer has ",
          model.layers.back().n_out(), " outputs but ", model.n_outputs(), " output labels are given");
  nlohmann::json j;
  nlohmann::json inputs = nlohmann::json::array();
  for (Index i = 0; i < model.inputs.size(); ++i) {
    const auto k = static_cast<std::size_t>(i);
    const std::string where = "input '" + model.inputs.names[k] + "'";
    inputs.push_back({{"name", model.inputs.names[k]},
                      {"offset", model_detail::json_number(model.inputs.offset[k], where + " offset")},
                      {"scale", model_detail::json_number(model.inputs.scale[k], where + " scale")}});
  }
  j["inputs"] = inputs;
  j["layers"] = nlohmann::json::array();
  for (std::size_t k = 0; k < model.layers.size(); ++k)
    j["layers"].push_back(model_detail::layer_to_json(model.layers[k], "layers[" + std::to_string(k) + "]"));
  j["outputs"] = model.outputs;
  nlohmann::json own;
  own["format_version"] = kModelFormatVersion;
  own["missing_values"] = model.missing_values;
  own["training"] = model.training;
  own["branches"] = nlohmann::json::array();
  for (const auto& b : model.branches) {
    nlohmann::json branch{{"name", b.name}, {"input_layer", b.input_layer}, {"outputs", b.outputs}};
    branch["layers"] = nlohmann::json::array();
    for (std::size_t k = 0; k < b.layers.size(); ++k)
      branch["layers"].push_back(model_detail::layer_to_json(
          b.layers[k], "branch '" + b.name + "' layers[" + std::to_string(k) + "]"));
    own["branches"].push_back(branch);
  }
  own["test_vector"] = model_detail::test_vector_to_json(model_detail::make_test_vector(model));
  j["agnostic"] = own;
  return j;
}

// Reads a model from its JSON; `source` (a file name) starts every error message. A plain lwtnn
// file (no "agnostic" key) is accepted: it has no missing-value rules and no provenance.
template <class T>
ModelFile<T> model_from_json(const nlohmann::json& j, const std::string& source) {
  const std::string at = "model file '" + source + "'";
  require(j.is_object(), at, ": expected a JSON object with 'inputs', 'layers', 'outputs', found ",
          j.type_name());
  for (const auto& [key, value] : j.items())
    require(
        key == "inputs" || key == "layers" || key == "outputs" || key == "agnostic" || key == "defaults" ||
            key == "miscellaneous",
        at, ": unknown top-level key '", key,
        "'; expected 'inputs', 'layers', 'outputs', 'agnostic' (lwtnn's 'defaults' and 'miscellaneous' are "
        "ignored)");
  for (const char* key : {"inputs", "layers", "outputs"})
    require(j.contains(key), at, ": missing key '", key, "'");
  ModelFile<T> model;
  try {
    from_json(j["inputs"], model.inputs);
  } catch (const Error& e) {
    fail(at, ": ", e.what());
  }
  require(model.inputs.size() > 0, at, ": 'inputs' is empty; expected at least one input");
  model.layers =
      model_detail::layers_from_json<T>(j["layers"], model.inputs.size(), "the inputs", at + ": layers");
  model.outputs = model_detail::names_from_json(j["outputs"], at + ": outputs");
  require(model.n_outputs() == model.layers.back().n_out(), at, ": 'outputs' names ", model.n_outputs(),
          " labels but the last layer has ", model.layers.back().n_out(), " outputs");

  if (!j.contains("agnostic")) return model;
  const auto& own = j["agnostic"];
  const std::string at_own = at + ": agnostic";
  require(own.is_object(), at_own, " must be an object, found ", own.type_name());
  for (const auto& [key, value] : own.items())
    require(key == "format_version" || key == "missing_values" || key == "training" || key == "branches" ||
                key == "test_vector",
            at_own, ": unknown key '", key,
            "'; expected 'format_version', 'missing_values', 'training', 'branches', 'test_vector'");
  require(own.contains("format_version"), at_own, ": missing key 'format_version'");
  require(own["format_version"].is_number_integer(), at_own, ".format_version must be an integer, found ",
          own["format_version"].dump());
  const int version = own["format_version"].get<int>();
  require(version >= 1 && version <= kModelFormatVersion, at_own, ".format_version is ", version,
          "; this agnostic reads versions 1 to ", kModelFormatVersion,
          version > kModelFormatVersion ? " (the file was written by a newer agnostic)" : "");
  if (own.contains("missing_values")) {
    try {
      from_json(own["missing_values"], model.missing_values);
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
    require(own["training"].is_object(), at_own, ".training must be an object, found ",
            own["training"].type_name());
    model.training = own["training"];
  }
  if (own.contains("branches")) {
    require(own["branches"].is_array(), at_own, ".branches must be an array, found ",
            own["branches"].type_name());
    for (std::size_t k = 0; k < own["branches"].size(); ++k) {
      const auto& b = own["branches"][k];
      const std::string where = at_own + ".branches[" + std::to_string(k) + "]";
      require(b.is_object(), where, " must be an object, found ", b.type_name());
      for (const auto& [key, value] : b.items())
        require(key == "name" || key == "input_layer" || key == "layers" || key == "outputs", where,
                ": unknown key '", key, "'; expected 'name', 'input_layer', 'layers', 'outputs'");
      for (const char* key : {"name", "input_layer", "layers", "outputs"})
        require(b.contains(key), where, ": missing key '", key, "'");
      require(b["name"].is_string(), where, ".name must be a string");
      ModelBranch<T> branch;
      branch.name = b["name"].get<std::string>();
      require(b["input_layer"].is_number_integer(), where, ".input_layer must be an integer");
      branch.input_layer = b["input_layer"].get<Index>();
      require(branch.input_layer >= 0 && branch.input_layer <= static_cast<Index>(model.layers.size()), where,
              ".input_layer is ", branch.input_layer, "; expected 0 (the inputs) to ", model.layers.size(),
              " (the last layer)");
      const Index n_in = branch.input_layer == 0
                             ? model.n_inputs()
                             : model.layers[static_cast<std::size_t>(branch.input_layer - 1)].n_out();
      branch.layers = model_detail::layers_from_json<T>(
          b["layers"], n_in,
          branch.input_layer == 0 ? std::string("the inputs")
                                  : "layers[" + std::to_string(branch.input_layer - 1) + "]",
          where + ".layers");
      branch.outputs = model_detail::names_from_json(b["outputs"], where + ".outputs");
      require(static_cast<Index>(branch.outputs.size()) == branch.layers.back().n_out(), where,
              ".outputs names ", branch.outputs.size(), " labels but the branch's last layer has ",
              branch.layers.back().n_out(), " outputs");
      model.branches.push_back(std::move(branch));
    }
  }
  if (own.contains("test_vector")) {
    model.test_vector = model_detail::test_vector_from_json(own["test_vector"],
                                                            static_cast<Index>(model.feature_names().size()),
                                                            model.n_outputs(), at_own + ".test_vector");
    check_test_vector(model, source);
  }
  return model;
}

// Writes through a temporary file in the same directory and renames it over `path`, so a reader
// (or a crash) never sees half a file.
inline void write_json_atomically(const std::string& path, const nlohmann::json& j, int indent = 1) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    require(out.good(), "cannot open '", temporary, "' for writing");
    out << j.dump(indent) << '\n';
    out.flush();
    require(out.good(), "writing '", temporary, "' failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  require(!ec, "cannot rename '", temporary, "' to '", path, "': ", ec.message());
}

template <class T>
void write_model(const std::string& path, const ModelFile<T>& model) {
  write_json_atomically(path, model_to_json(model));
}

template <class T>
ModelFile<T> read_model(const std::string& path) {
  return model_from_json<T>(read_json_file(path, "model file"), path);
}

// The layers of a network made of Dense layers, for a model file. A classifier trained on logits
// gets its output function here: `output` replaces the last layer's activation, which must then
// be the identity (pass std::nullopt to keep the network's own).
template <class T>
std::vector<DenseWeights<T>> dense_weights(const Sequential<T>& net,
                                           std::optional<LayerActivation> output = std::nullopt) {
  require(!net.empty(), "cannot store network '", net.name(), "': it has no layers");
  std::vector<DenseWeights<T>> out;
  for (std::size_t i = 0; i < net.size(); ++i) {
    const Dense<T>& d = net.dense_layer(i);
    out.push_back({d.weight.value, d.bias.value.row(0), {d.activation, false}});
  }
  if (output) {
    require(out.back().activation.elementwise == Activation::identity(), "cannot give network '", net.name(),
            "' the output function ", model_detail::describe_activation(*output),
            ": its last layer already has ", model_detail::describe_activation(out.back().activation));
    out.back().activation = *output;
  }
  return out;
}

// A Sequential with the weights of `layers`. With `logits` the last layer's sigmoid or softmax is
// dropped (set to linear), so the network gives logits for the training losses, as it did when
// it was trained. Softmax anywhere else has no Dense equivalent and is refused.
template <class T>
Sequential<T> to_sequential(const std::vector<DenseWeights<T>>& layers, bool logits,
                            const std::string& name = "classifier") {
  require(!layers.empty(), "cannot build a network from no layers");
  Sequential<T> net(name);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const bool last = i + 1 == layers.size();
    Activation f = l.activation.elementwise;
    if (last && logits) {
      require(l.activation.softmax || f == Activation::sigmoid() || f == Activation::identity(), "layers[", i,
              "]: the output layer's activation is ", model_detail::describe_activation(l.activation),
              "; training on logits needs sigmoid, softmax or linear");
      f = Activation::identity();
    } else {
      require(!l.activation.softmax, "layers[", i,
              "]: softmax is only supported as the output function of the last layer");
    }
    Dense<T> d(l.n_in(), l.n_out(), f);
    d.weight.value = l.weights;
    d.bias.value = l.bias;
    net.add(std::move(d));
  }
  return net;
}

}  // namespace agnostic::io
