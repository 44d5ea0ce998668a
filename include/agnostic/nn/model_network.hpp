#pragma once
// The bridge between a model file's layers (io::DenseWeights, io/model_types.hpp) and a trainable
// network (Sequential of Dense layers): the layers to store for a trained network, and a network
// with a stored model's weights to train further or to generate with. It sits in nn/, above io/,
// so that reading a model needs neither nn/ nor the tape; its functions keep the io:: names.
#include <optional>
#include <string>
#include <vector>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/io/model_types.hpp"
#include "agnostic/nn/dense_layer.hpp"
#include "agnostic/nn/sequential.hpp"

namespace agnostic::io {

// The layers of a network made of Dense layers, for a model file. A classifier trained on logits
// gets its output function here: `output` replaces the last layer's activation, which must then
// be the identity (pass std::nullopt to keep the network's own).
template <class T>
std::vector<DenseWeights<T>> dense_weights(const Sequential<T>& net,
                                           std::optional<LayerActivation> output = std::nullopt) {
  require(!net.empty(), "cannot store network '", net.name(), "': it has no layers");
  std::vector<DenseWeights<T>> out;
  for (std::size_t i = 0; i < net.size(); ++i) {
    const Dense<T>& d = net.dense_layer(i);
    out.push_back({d.weight.value, d.bias.value.row(0), {d.activation, false}});
  }
  if (output) {
    require(out.back().activation.elementwise == Activation::identity(), "cannot give network '", net.name(),
            "' the output function ", model_detail::describe_activation(*output),
            ": its last layer already has ", model_detail::describe_activation(out.back().activation));
    out.back().activation = *output;
  }
  return out;
}

// A Sequential with the weights of `layers`. With `logits` the last layer's sigmoid or softmax is
// dropped (set to linear), so the network gives logits for the training losses, as it did when
// it was trained. Softmax anywhere else has no Dense equivalent and is refused.
template <class T>
Sequential<T> to_sequential(const std::vector<DenseWeights<T>>& layers, bool logits,
                            const std::string& name = "classifier") {
  require(!layers.empty(), "cannot build a network from no layers");
  Sequential<T> net(name);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const bool last = i + 1 == layers.size();
    Activation f = l.activation.elementwise;
    if (last && logits) {
      require(l.activation.softmax || f == Activation::sigmoid() || f == Activation::identity(), "layers[", i,
              "]: the output layer's activation is ", model_detail::describe_activation(l.activation),
              "; training on logits needs sigmoid, softmax or linear");
      f = Activation::identity();
    } else {
      require(!l.activation.softmax, "layers[", i,
              "]: softmax is only supported as the output function of the last layer");
    }
    Dense<T> d(l.n_in(), l.n_out(), f);
    d.weight.value = l.weights;
    d.bias.value = l.bias;
    net.add(std::move(d));
  }
  return net;
}

}  // namespace agnostic::io
