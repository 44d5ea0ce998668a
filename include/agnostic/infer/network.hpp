#pragma once
// A network for trigger-level inference: the layer sizes are template parameters, so every buffer
// is sized at compile time, nothing is allocated and nothing is virtual (the pattern of hls4ml's
// CONFIG_T and of SOFIE's generated sessions):
//
//   auto net = infer::load_network<infer::Network<float, 26, 48, 48, 48, 48, 3>>(path);
//   net->evaluate(raw_features, outputs);   // noexcept, no allocation, const: safe from many threads
//
// Loading checks every size against the template (naming the layer that differs) and takes each
// layer's activation from the file (an element-wise function or softmax, dispatched once per
// layer). evaluate() reads the raw features in the order of ModelFile::feature_names() and applies
// the model's missing-value rules (a feature equal to its marker rounded to T, or NaN for a NaN
// marker, is replaced and its indicator set) and standardisation, in double as io::predict does,
// so the network's inputs are the bits predict sees. The layers then differ from predict only in
// the order of the float sums: docs/inference.md states the bound the tests check.
//
// Trigger code includes this with the standard library only: the model file is read by agnostic's
// own JSON reader into plain arrays (io/model_reader.hpp, io/model_record.hpp), so there is no
// Eigen, no nlohmann/json, no tape, no nn/, no OpenMP and no static initialiser.
// evaluate() writes only to its stack and its outputs, so many threads may evaluate one network at
// once (tests/infer_threads.cpp runs 8 under ThreadSanitizer); the host's threads, not agnostic's,
// spread events over cores.
//
// The weights live inside the object (about 33 kB for the W5 network): allocate it once, on the
// heap or statically, not on a small thread stack.
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/index.hpp"
#include "agnostic/infer/dense_kernel.hpp"
#include "agnostic/io/model_reader.hpp"
#include "agnostic/io/model_record.hpp"

namespace agnostic::infer {

template <class T, std::size_t... Sizes>
class Network {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "infer::Network is float or double");
  static_assert(sizeof...(Sizes) >= 2, "infer::Network needs at least an input and an output size");
  static_assert(((Sizes > 0) && ...), "infer::Network: every layer size must be positive");

 public:
  using value_type = T;
  static constexpr std::array<std::size_t, sizeof...(Sizes)> sizes{Sizes...};
  static constexpr std::size_t n_layers = sizeof...(Sizes) - 1;
  static constexpr std::size_t n_inputs = sizes.front();  // network inputs, indicators included
  static constexpr std::size_t n_outputs = sizes.back();

  // Checks `model` against the template sizes and copies its weights; recomputes the model's
  // test vector (if it has one) with evaluate() and refuses a disagreement.
  explicit Network(const io::ModelRecord<T>& model, const std::string& source = "(in memory)") {
    load(model, source);
  }
  // The same for a model in memory as an io::ModelFile<T> (io/model_types.hpp, which this header
  // does not include: io::record_from_model is found where the caller has it).
  template <class Model>
  requires requires(const Model& m) { record_from_model(m); }
  explicit Network(const Model& model, const std::string& source = "(in memory)") {
    load(record_from_model(model), source);
  }

  // The raw features evaluate() reads: the network's inputs without the indicator columns.
  std::size_t n_features() const { return n_features_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::vector<std::string>& output_names() const { return output_names_; }

  // One event: raw_features[n_features()] -> outputs[n_outputs].
  void evaluate(const T* raw_features, T* outputs) const noexcept {
    alignas(64) T buffer_a[max_width], buffer_b[max_width];
    prepare_inputs(raw_features, buffer_a);
    forward<0>(buffer_a, buffer_b, outputs);
  }

  // Many events, row-major (event k's features at raw_features + k * n_features(), its outputs at
  // outputs + k * n_outputs), one after another on the calling thread; allocates nothing. To use
  // several cores, give each thread its own range of events: evaluate is const and thread-safe.
  void evaluate_batch(const T* raw_features, std::size_t n_events, T* outputs) const noexcept {
    for (std::size_t k = 0; k < n_events; ++k)
      evaluate(raw_features + k * n_features_, outputs + k * n_outputs);
  }

 private:
  static constexpr std::size_t max_width = [] {
    std::size_t m = 0;
    for (std::size_t s : sizes) m = s > m ? s : m;
    return m;
  }();
  static constexpr std::size_t weight_offset(std::size_t layer) {
    std::size_t n = 0;
    for (std::size_t l = 0; l < layer; ++l) n += sizes[l] * sizes[l + 1];
    return n;
  }
  static constexpr std::size_t bias_offset(std::size_t layer) {
    std::size_t n = 0;
    for (std::size_t l = 0; l < layer; ++l) n += sizes[l + 1];
    return n;
  }

  // Where network input j comes from.
  enum class Source : unsigned char { feature, feature_with_rule, indicator };
  struct Input {
    Source source = Source::feature;
    bool nan_marker = false;
    std::size_t feature = 0;  // index into the raw features
    T marker = T(0), replacement = T(0);
    double offset = 0.0, scale = 1.0;
  };

  template <std::size_t L>
  void forward(T* x, T* scratch, T* outputs) const noexcept {
    T* y = L + 1 == n_layers ? outputs : scratch;
    dense_forward<T, sizes[L], sizes[L + 1]>(weights_.data() + weight_offset(L),
                                             biases_.data() + bias_offset(L), activations_[L], x, y);
    if constexpr (L + 1 < n_layers) forward<L + 1>(y, x, outputs);
  }

  void prepare_inputs(const T* raw, T* x) const noexcept {
    if (plain_inputs_) {  // no missing-value rules: a loop the compiler vectorises
      for (std::size_t j = 0; j < n_inputs; ++j)
        x[j] = static_cast<T>((static_cast<double>(raw[j]) + offsets_[j]) * scales_[j]);
      return;
    }
    for (std::size_t j = 0; j < n_inputs; ++j) {
      const Input& in = inputs_[j];
      T v = raw[in.feature];
      if (in.source != Source::feature) {
        const bool missing = in.nan_marker ? std::isnan(v) : v == in.marker;
        if (in.source == Source::indicator)
          v = missing ? T(1) : T(0);
        else if (missing)
          v = in.replacement;
      }
      x[j] = static_cast<T>((static_cast<double>(v) + offsets_[j]) * scales_[j]);
    }
  }

  void load(const io::ModelRecord<T>& model, const std::string& source) {
    const std::string at = "infer::Network: model '" + source + "'";
    std::string template_sizes;
    for (std::size_t s : sizes) template_sizes += (template_sizes.empty() ? "" : ", ") + std::to_string(s);
    template_sizes = "Network<" + template_sizes + ">";
    require(model.layers.size() == n_layers, at, " has ", model.layers.size(), " layers but ", template_sizes,
            " has ", n_layers);
    require(static_cast<std::size_t>(model.n_inputs()) == n_inputs, at, " has ", model.n_inputs(),
            " inputs but ", template_sizes, " expects ", n_inputs);
    for (std::size_t l = 0; l < n_layers; ++l) {
      const auto& layer = model.layers[l];
      require(static_cast<std::size_t>(layer.n_in) == sizes[l] &&
                  static_cast<std::size_t>(layer.n_out) == sizes[l + 1],
              at, ": layers[", l, "] is ", layer.n_in, " -> ", layer.n_out, " but ", template_sizes,
              " expects ", sizes[l], " -> ", sizes[l + 1]);
      for (std::size_t o = 0; o < sizes[l + 1]; ++o) {
        biases_[bias_offset(l) + o] = layer.bias[o];
        for (std::size_t i = 0; i < sizes[l]; ++i)
          weights_[weight_offset(l) + i * sizes[l + 1] + o] = layer.weights[o * sizes[l] + i];
      }
      activations_[l] = {layer.activation.elementwise.kind, layer.activation.elementwise.alpha,
                         layer.activation.softmax};
    }
    feature_names_ = model.feature_names();
    output_names_ = model.outputs;
    n_features_ = feature_names_.size();
    plain_inputs_ = model.missing_values.empty();
    for (std::size_t j = 0; j < n_inputs; ++j) {
      Input& in = inputs_[j];
      const std::string& name = model.inputs.names[j];
      in.offset = offsets_[j] = model.inputs.offset[j];
      in.scale = scales_[j] = model.inputs.scale[j];
      in.source = Source::feature;
      in.feature = j;
      for (const auto& rule : model.missing_values.rules) {
        const bool is_feature = rule.feature == name,
                   is_indicator = !rule.indicator.empty() && rule.indicator == name;
        if (!is_feature && !is_indicator) continue;
        std::size_t f = 0;
        while (f < n_features_ && feature_names_[f] != rule.feature) ++f;
        require(f < n_features_, at, ": the missing-value rule for '", rule.feature, "' names no feature");
        in.source = is_feature ? Source::feature_with_rule : Source::indicator;
        in.feature = f;
        in.nan_marker = std::isnan(rule.marker);
        in.marker = static_cast<T>(rule.marker);
        in.replacement = static_cast<T>(rule.replacement);
      }
      require(in.source == Source::indicator || j < n_features_, at, ": input '", name,
              "' is neither a feature nor a missing-value indicator");
    }
    if (!model.test_vector.empty()) {
      const auto& v = model.test_vector;
      std::vector<double> computed;
      std::array<T, n_outputs> y{};
      std::vector<T> raw(n_features_);
      for (Index k = 0; k < v.n_events; ++k) {
        for (std::size_t j = 0; j < n_features_; ++j)
          raw[j] = static_cast<T>(v.feature(k, static_cast<Index>(j)));
        evaluate(raw.data(), y.data());
        for (std::size_t o = 0; o < n_outputs; ++o) computed.push_back(static_cast<double>(y[o]));
      }
      io::require_test_vector_agrees(v, computed, output_names_, std::is_same_v<T, float>, source,
                                     "infer::" + template_sizes);
    }
  }

  alignas(64) std::array<T, weight_offset(n_layers)> weights_{};
  alignas(64) std::array<T, bias_offset(n_layers)> biases_{};
  std::array<KernelActivation, n_layers> activations_{};
  alignas(64) std::array<double, n_inputs> offsets_{}, scales_{};
  std::array<Input, n_inputs> inputs_{};
  bool plain_inputs_ = true;
  std::size_t n_features_ = 0;
  std::vector<std::string> feature_names_, output_names_;
};

// Reads a model file and loads it into a Network of the given shape (on the heap: it holds the
// weights). The file is checked as io::read_model checks it, its test vector recomputed by the
// Network's own kernel. Errors name the file.
template <class NetworkType>
std::unique_ptr<NetworkType> load_network(const std::string& path) {
  return std::make_unique<NetworkType>(io::read_model_record<typename NetworkType::value_type>(path), path);
}

}  // namespace agnostic::infer
