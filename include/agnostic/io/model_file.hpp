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
//
// This header is the whole model-file API: the types (io/model_types.hpp), the reader
// (io/model_reader.hpp), the forward pass io::predict (io/model_forward.hpp), the writer
// (io/model_writer.hpp), and here the readers that recompute the test vector. None of them needs
// the tape or nn/; the bridge to a trainable Sequential is nn/model_network.hpp.
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/matrix.hpp"
#include "agnostic/io/model_forward.hpp"
#include "agnostic/io/model_reader.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/model_writer.hpp"

namespace agnostic::io {

// Recomputes the stored test vector (if any) with io::predict and refuses a disagreement.
template <class T>
void check_test_vector(const ModelFile<T>& model, const std::string& source) {
  const auto& v = model.test_vector;
  if (v.empty()) return;
  Matrix<T> raw(v.n_events, v.n_features);
  for (Index k = 0; k < v.n_events; ++k)
    for (Index j = 0; j < v.n_features; ++j) raw(k, j) = static_cast<T>(v.feature(k, j));
  require_test_vector_agrees(v, model_detail::row_major_doubles(predict_features(model, raw)), model.outputs,
                             std::is_same_v<T, float>, source, "agnostic's predict");
}

namespace model_detail {

// The model reader's pieces for JSON already in memory as nlohmann/json (generator files, lwtnn
// files): the value is written out and read back by the model reader (the numbers survive the
// round trip exactly), so their checks and messages are the model file's.
inline JsonValue json_value_of(const nlohmann::json& j, const std::string& where) {
  return parse_json_text(j.dump(), where);
}

inline LayerActivation activation_from_json(const nlohmann::json& j, const std::string& where) {
  return activation_from_json(json_value_of(j, where), where);
}

template <class T>
std::vector<T> numbers_from_json(const nlohmann::json& j, const std::string& where) {
  return numbers_from_json<T>(json_value_of(j, where), where);
}

inline std::vector<std::string> names_from_json(const nlohmann::json& j, const std::string& where) {
  return names_from_json(json_value_of(j, where), where);
}

template <class T>
DenseWeights<T> layer_from_json(const nlohmann::json& j, Index n_in, const std::string& n_in_source,
                                const std::string& where) {
  return dense_weights_from_record(layer_from_json<T>(json_value_of(j, where), n_in, n_in_source, where));
}

}  // namespace model_detail

// A model from JSON already in memory, checked as a model file is (io/model_reader.hpp) except
// for the test vector. `source` starts every error message.
template <class T>
ModelFile<T> model_from_json_unchecked(const nlohmann::json& j, const std::string& source) {
  return model_from_record(model_record_from_text<T>(j.dump(), source));
}

// The model in the file at `path`, checked except for its test vector.
template <class T>
ModelFile<T> read_model_unchecked(const std::string& path) {
  return model_from_record(read_model_record<T>(path));
}

// Reads a model from its JSON (model_from_json_unchecked's checks) and recomputes its test vector;
// `source` (a file name) starts every error message.
template <class T>
ModelFile<T> model_from_json(const nlohmann::json& j, const std::string& source) {
  ModelFile<T> model = model_from_json_unchecked<T>(j, source);
  check_test_vector(model, source);
  return model;
}

// The model in the file at `path`, with its test vector recomputed by io::predict.
template <class T>
ModelFile<T> read_model(const std::string& path) {
  ModelFile<T> model = read_model_unchecked<T>(path);
  check_test_vector(model, path);
  return model;
}

}  // namespace agnostic::io
