#pragma once
// A model file in memory for everything but trigger code: io::ModelRecord (io/model_record.hpp)
// with the layers' weights as Eigen matrices and the provenance as nlohmann/json, as io::predict,
// the exporters, the commands and training use them. The conversions to and from a ModelRecord
// are exact (the same numbers, copied); io/model_file.hpp gathers the reader, the writer and the
// forward pass. docs/model-format.md describes the file.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/model_record.hpp"
#include "agnostic/io/standardisation.hpp"

namespace agnostic::io {

// One dense layer as stored: y = f(x W^T + b), W is n_out x n_in, b is 1 x n_out.
template <class T>
struct DenseWeights {
  Matrix<T> weights;
  RowVector<T> bias;
  LayerActivation activation;

  Index n_in() const { return weights.cols(); }
  Index n_out() const { return weights.rows(); }
};

// A second head (io::Branch, io/model_record.hpp) with Eigen's matrices.
template <class T>
using ModelBranch = Branch<DenseWeights<T>>;

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
  std::vector<std::string> feature_names() const { return model_feature_names(inputs, missing_values); }

  Index parameter_count() const {
    Index n = 0;
    for (const auto& l : layers) n += l.weights.size() + l.bias.size();
    for (const auto& b : branches)
      for (const auto& l : b.layers) n += l.weights.size() + l.bias.size();
    return n;
  }
};

namespace model_detail {

// A matrix as the records hold one (io::ModelTestVector): row after row, in double.
template <class T>
std::vector<double> row_major_doubles(const Matrix<T>& m) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(m.size()));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) out.push_back(static_cast<double>(m(r, c)));
  return out;
}

template <class T>
DenseWeights<T> dense_weights_from_record(const LayerRecord<T>& r) {
  DenseWeights<T> layer;
  layer.weights.resize(r.n_out, r.n_in);
  layer.bias.resize(r.n_out);
  for (Index o = 0; o < r.n_out; ++o) {
    layer.bias(o) = r.bias[static_cast<std::size_t>(o)];
    for (Index i = 0; i < r.n_in; ++i)
      layer.weights(o, i) = r.weights[static_cast<std::size_t>(o * r.n_in + i)];
  }
  layer.activation = r.activation;
  return layer;
}

template <class T>
LayerRecord<T> record_from_dense_weights(const DenseWeights<T>& layer) {
  LayerRecord<T> r;
  r.n_in = layer.n_in();
  r.n_out = layer.n_out();
  r.bias.assign(layer.bias.data(), layer.bias.data() + layer.bias.size());
  r.weights.reserve(static_cast<std::size_t>(r.n_out * r.n_in));
  for (Index o = 0; o < r.n_out; ++o)
    for (Index i = 0; i < r.n_in; ++i) r.weights.push_back(layer.weights(o, i));
  r.activation = layer.activation;
  return r;
}

}  // namespace model_detail

// The ModelFile of a record read from a file (the same numbers).
template <class T>
ModelFile<T> model_from_record(ModelRecord<T>&& record) {
  ModelFile<T> model;
  model.inputs = std::move(record.inputs);
  for (const auto& l : record.layers) model.layers.push_back(model_detail::dense_weights_from_record(l));
  model.outputs = std::move(record.outputs);
  model.missing_values = std::move(record.missing_values);
  if (!record.training_json.empty()) model.training = nlohmann::json::parse(record.training_json);
  for (auto& b : record.branches) {
    ModelBranch<T> branch;
    branch.name = std::move(b.name);
    branch.input_layer = b.input_layer;
    for (const auto& l : b.layers) branch.layers.push_back(model_detail::dense_weights_from_record(l));
    branch.outputs = std::move(b.outputs);
    model.branches.push_back(std::move(branch));
  }
  model.test_vector = std::move(record.test_vector);
  return model;
}

// The record of a model in memory (for infer::Network, which loads records; the same numbers).
template <class T>
ModelRecord<T> record_from_model(const ModelFile<T>& model) {
  ModelRecord<T> record;
  record.inputs = model.inputs;
  for (const auto& l : model.layers) record.layers.push_back(model_detail::record_from_dense_weights(l));
  record.outputs = model.outputs;
  record.missing_values = model.missing_values;
  if (!model.training.empty()) record.training_json = model.training.dump();
  for (const auto& b : model.branches) {
    BranchRecord<T> branch{b.name, b.input_layer, {}, b.outputs};
    for (const auto& l : b.layers) branch.layers.push_back(model_detail::record_from_dense_weights(l));
    record.branches.push_back(std::move(branch));
  }
  record.test_vector = model.test_vector;
  return record;
}

}  // namespace agnostic::io
