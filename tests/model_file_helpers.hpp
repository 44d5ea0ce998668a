#pragma once
// What the model-file tests (test_infer, test_io_exchange, test_io_model_file) share to build small
// models in memory: a dense layer with random weights, and the message of the agnostic::Error an
// action throws. Each test file keeps its own model shapes and its own spreads (weight and bias
// standard deviations), so its numbers are those it was written with.
#include <functional>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/io/model_file.hpp"

namespace agnostic::test {

// n_in -> n_out with activation f: weights ~ N(0, weight_sigma), biases ~ N(0, bias_sigma), drawn
// output by output (that output's weights, then its bias).
template <class T>
io::DenseWeights<T> random_layer(Index n_in, Index n_out, io::LayerActivation f, Rng& rng,
                                 double weight_sigma, double bias_sigma) {
  io::DenseWeights<T> l;
  l.weights.resize(n_out, n_in);
  l.bias.resize(n_out);
  for (Index o = 0; o < n_out; ++o) {
    for (Index i = 0; i < n_in; ++i) l.weights(o, i) = static_cast<T>(rng.normal(0.0, weight_sigma));
    l.bias(o) = static_cast<T>(rng.normal(0.0, bias_sigma));
  }
  l.activation = f;
  return l;
}

// The message of the agnostic::Error `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace agnostic::test
