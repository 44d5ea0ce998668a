#pragma once
// The W5 network of ../shared/BENCHMARKS.md as a model file: 26 inputs -> 48 -> 48 -> 48 -> 48 ReLU
// -> 3 softmax, He-initialised weights and a standardisation with offsets and scales of realistic
// size, all from a fixed seed so every build times the same numbers.
#include <cmath>
#include <string>

#include "agnostic/core/rng.hpp"
#include "agnostic/io/model_file.hpp"

inline agnostic::io::ModelFile<float> w5_model_file() {
  using namespace agnostic;
  Rng rng(20261130);
  io::ModelFile<float> m;
  for (int i = 0; i < 26; ++i) {
    std::string name = std::to_string(i);
    name.insert(0, "feature_");
    m.inputs.names.push_back(name);
    m.inputs.offset.push_back(rng.normal(0.0, 40.0));
    m.inputs.scale.push_back(rng.uniform(0.02, 1.0));
  }
  const int sizes[] = {26, 48, 48, 48, 48, 3};
  for (int l = 0; l < 5; ++l) {
    io::DenseWeights<float> layer;
    layer.weights.resize(sizes[l + 1], sizes[l]);
    layer.bias.resize(sizes[l + 1]);
    const double sigma = std::sqrt(2.0 / sizes[l]);
    for (Index o = 0; o < layer.n_out(); ++o) {
      for (Index i = 0; i < layer.n_in(); ++i)
        layer.weights(o, i) = static_cast<float>(rng.normal(0.0, sigma));
      layer.bias(o) = static_cast<float>(rng.normal(0.0, 0.1));
    }
    layer.activation =
        l < 4 ? io::LayerActivation{Activation::relu(), false} : io::LayerActivation::softmax_over_outputs();
    m.layers.push_back(layer);
  }
  m.outputs = {"background", "signal_a", "signal_b"};
  return m;
}
