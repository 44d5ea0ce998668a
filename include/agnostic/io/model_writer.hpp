#pragma once
// Writing a model file: an io::ModelFile as JSON (docs/model-format.md), numbers written so that
// reading them back gives the same T bit for bit, with a fresh test vector computed by io::predict
// (so the file proves itself to every reader), written atomically (core/atomic_file.hpp).
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/model_forward.hpp"
#include "agnostic/io/model_types.hpp"

namespace agnostic::io {

namespace model_detail {

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
  const Matrix<T> y = predict_features(model, raw);
  ModelTestVector out;
  out.n_events = n_events;
  out.n_features = n_features;
  out.n_outputs = y.cols();
  out.features = row_major_doubles(raw);
  out.outputs = row_major_doubles(y);
  out.precision = std::is_same_v<T, float> ? "float" : "double";
  return out;
}

inline nlohmann::json test_vector_to_json(const ModelTestVector& v) {
  nlohmann::json features = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (Index k = 0; k < v.n_events; ++k) {
    nlohmann::json row = nlohmann::json::array();
    for (Index j = 0; j < v.n_features; ++j) {
      const double x = v.feature(k, j);
      if (std::isnan(x))
        row.push_back("nan");
      else if (v.precision == "float")
        row.push_back(json_number(static_cast<float>(x), "test vector feature"));
      else
        row.push_back(json_number(x, "test vector feature"));
    }
    features.push_back(row);
    row = nlohmann::json::array();
    for (Index o = 0; o < v.n_outputs; ++o) {
      if (v.precision == "float")
        row.push_back(json_number(static_cast<float>(v.output(k, o)), "test vector output"));
      else
        row.push_back(json_number(v.output(k, o), "test vector output"));
    }
    outputs.push_back(row);
  }
  return {{"precision", v.precision}, {"features", features}, {"outputs", outputs}};
}

}  // namespace model_detail

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

// `j` as the whole file at `path`, indented by `indent`, with a final newline; written atomically
// (core/atomic_file.hpp: a temporary file beside it, fsynced, renamed over it).
inline void write_json_atomically(const std::string& path, const nlohmann::json& j, int indent = 1) {
  write_file_atomically(path, j.dump(indent) + '\n');
}

template <class T>
void write_model(const std::string& path, const ModelFile<T>& model) {
  write_json_atomically(path, model_to_json(model));
}

}  // namespace agnostic::io
