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

#include <nlohmann/json.hpp>

#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/model_forward.hpp"
#include "agnostic/io/model_reader.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/model_writer.hpp"

namespace agnostic::io {

// Recomputes the stored test vector (if any) with io::predict and refuses a disagreement.
template <class T>
void check_test_vector(const ModelFile<T>& model, const std::string& source) {
  if (model.test_vector.empty()) return;
  const Matrix<T> raw = model.test_vector.features.template cast<T>();
  const Matrix<double> computed = predict_features(model, raw).template cast<double>();
  require_test_vector_agrees(model.test_vector, computed, model.outputs, std::is_same_v<T, float>, source,
                             "agnostic's predict");
}

// Reads a model from its JSON (model_from_json_unchecked's checks) and recomputes its test vector;
// `source` (a file name) starts every error message.
template <class T>
ModelFile<T> model_from_json(const nlohmann::json& j, const std::string& source) {
  ModelFile<T> model = model_from_json_unchecked<T>(j, source);
  check_test_vector(model, source);
  return model;
}

template <class T>
ModelFile<T> read_model(const std::string& path) {
  return model_from_json<T>(read_json_file(path, "model file"), path);
}

}  // namespace agnostic::io
