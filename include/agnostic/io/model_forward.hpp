#pragma once
// A model file's forward pass on many events: the missing-value rules, the standardisation and the
// dense layers, in the same row chunks and with the same arithmetic (core/dense_rows.hpp) as the
// tape's fused dense node that trained the network, so io::predict gives the bits of the network
// the file was written from, without a tape. The chunks run on agnostic's OpenMP threads
// (core/threads.hpp); trigger code evaluates one event at a time with infer::Network instead.
#include <cmath>
#include <string>
#include <vector>

#include "agnostic/core/dense_rows.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/io/standardisation.hpp"

namespace agnostic::io {

namespace model_detail {

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

// One dense layer on events x n_in inputs: the rows are split into the chunks the tape's dense node
// would use for this much work and each chunk runs dense_forward_rows, so the result is that node's,
// bit for bit, on any number of threads.
template <class T>
Matrix<T> apply_layer(const DenseWeights<T>& layer, const Matrix<T>& x) {
  require(x.cols() == layer.n_in(), "layer expects ", layer.n_in(), " inputs, got ", x.cols());
  const Index rows = x.rows();
  Matrix<T> y(rows, layer.n_out());
  const int chunks = chunk_count(rows, rows * x.cols() * layer.weights.rows());
  parallel_chunks(rows, chunks, [&](int, RowRange r) {
    dense_forward_rows(x.middleRows(r.begin, r.size()), layer.weights, &layer.bias,
                       layer.activation.elementwise, y.middleRows(r.begin, r.size()));
  });
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

}  // namespace agnostic::io
