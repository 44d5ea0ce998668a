#pragma once
// What a model file holds, in memory: the inputs' standardisation, the dense layers, the output
// names, the missing-value rules, the provenance, the branches (adversaries, domain classifiers)
// and the test vector, plus the comparison every evaluator makes against that test vector. These
// types need neither the tape nor nn/, so trigger code (infer/) and the tools that only read a
// model see them alone; io/model_file.hpp gathers the reader, the writer and the forward pass.
// docs/model-format.md describes the file.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/standardisation.hpp"

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

// "rectified", "leakyrelu(0.1)", "softmax": for messages and `agnostic inspect`.
inline std::string describe_activation(const LayerActivation& a) {
  if (a.softmax) return "softmax";
  std::ostringstream out;
  out << activation_name(a.elementwise);
  if (a.elementwise.kind == ActivationKind::leaky_relu || a.elementwise.kind == ActivationKind::elu)
    out << "(" << a.elementwise.alpha << ")";
  return out.str();
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

}  // namespace agnostic::io
