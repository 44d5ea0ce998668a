#pragma once
// What a model file holds, as plain data: the inputs' missing-value rules and standardisation, the
// dense layers (weights as flat arrays), the output names, the provenance (as JSON text), the
// branches and the test vector. No Eigen, no nlohmann/json, no tape: trigger code (infer/) loads a
// network from a ModelRecord, and io::ModelFile (io/model_types.hpp, Eigen's matrices) is built
// from one, so every reader of a model file goes through the same checks (io/model_reader.hpp).
// docs/model-format.md describes the file.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/index.hpp"
#include "agnostic/io/input_transforms.hpp"

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

// One dense layer as stored: y = f(x W^T + b), W is n_out x n_in, row-major as in the file.
template <class T>
struct LayerRecord {
  Index n_in = 0, n_out = 0;
  std::vector<T> weights;  // weights[o * n_in + i] = W(o, i)
  std::vector<T> bias;     // n_out
  LayerActivation activation;
};

// A second head that reads the output of main layer `input_layer` (1-based; 0 = the standardised
// inputs), such as the adversary of an ADNN or the domain classifier of a DANN. Its layers are
// LayerRecord<T> here (BranchRecord) and Eigen's io::DenseWeights<T> in io::ModelFile (ModelBranch).
template <class Layer>
struct Branch {
  std::string name;
  Index input_layer = 0;
  std::vector<Layer> layers;
  std::vector<std::string> outputs;
};

template <class T>
using BranchRecord = Branch<LayerRecord<T>>;

// A few events (raw features in the order of the model's feature names, missing-value markers
// included) and the outputs the network gave for them, computed in `precision` ("float" or
// "double"), both row-major. Empty for a file written before test vectors existed.
struct ModelTestVector {
  Index n_events = 0, n_features = 0, n_outputs = 0;
  std::vector<double> features;  // features[k * n_features + j]
  std::vector<double> outputs;   // outputs[k * n_outputs + o]
  std::string precision = "double";

  bool empty() const { return n_events == 0; }
  double feature(Index k, Index j) const { return features[static_cast<std::size_t>(k * n_features + j)]; }
  double output(Index k, Index o) const { return outputs[static_cast<std::size_t>(k * n_outputs + o)]; }
};

// The feature columns a data file must provide: the inputs without the indicator columns, which
// the missing-value rules add.
inline std::vector<std::string> model_feature_names(const Standardisation& inputs,
                                                    const MissingValueRules& missing_values) {
  const auto indicators = missing_values.indicator_names();
  std::vector<std::string> out;
  for (const auto& name : inputs.names)
    if (std::find(indicators.begin(), indicators.end(), name) == indicators.end()) out.push_back(name);
  return out;
}

template <class T>
struct ModelRecord {
  Standardisation inputs;  // names (the features, then missing-value indicators), offset, scale
  std::vector<LayerRecord<T>> layers;
  std::vector<std::string> outputs;
  MissingValueRules missing_values;
  std::string training_json;  // the provenance object as written in the file; empty for none
  std::vector<BranchRecord<T>> branches;
  ModelTestVector test_vector;

  Index n_inputs() const { return inputs.size(); }
  Index n_outputs() const { return static_cast<Index>(outputs.size()); }
  std::vector<std::string> feature_names() const { return model_feature_names(inputs, missing_values); }
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

// Compares `computed` (n_events x n_outputs, row-major, from any evaluator: predict,
// infer::Network, ...) with the stored test vector; `source` and `evaluator` name the file and the
// code in the message.
inline void require_test_vector_agrees(const ModelTestVector& v, const std::vector<double>& computed,
                                       const std::vector<std::string>& output_names, bool reader_is_float,
                                       const std::string& source, const std::string& evaluator) {
  for (Index k = 0; k < v.n_events; ++k)
    for (Index o = 0; o < v.n_outputs; ++o) {
      const double stored = v.output(k, o), got = computed[static_cast<std::size_t>(k * v.n_outputs + o)];
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
