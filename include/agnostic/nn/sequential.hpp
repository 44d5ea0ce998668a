#pragma once
// Sequential<T>: a stack of layers applied one after the other, that can hand out any
// intermediate output.
//
// Layer i's parameters are named "<name>.<i>.weight" / "<name>.<i>.bias". Layers live on the heap,
// so moving a Sequential keeps every Parameter where it is (groups taken from it stay valid);
// copying it copies the layers and their values (not their gradients).
//
// Intermediate outputs: forward(tape, x, first, last) runs layers [first, last), so a network can
// be cut anywhere, and forward_tapped returns the final output together with the output of one
// chosen layer. The ADNN adversary, which reads the classifier's second-to-last layer, reads:
//
//   auto [scores, representation] = classifier.forward_tapped(tape, x, classifier.size() - 2);
//   auto domain = adversary(tape, representation);
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/nn/activation_layer.hpp"
#include "agnostic/nn/dense_layer.hpp"
#include "agnostic/nn/initialisers.hpp"
#include "agnostic/nn/layer.hpp"

namespace agnostic {

template <class T>
class Sequential {
 public:
  explicit Sequential(std::string name = "sequential") : name_(std::move(name)) {}

  // A multi-layer perceptron: sizes {n_in, h1, ..., n_out} give sizes.size() - 1 Dense layers,
  // `hidden` on every layer but the last, `last` on the last one. Weights from `weight_init`
  // (drawn layer by layer from rng), biases zero.
  Sequential(const std::vector<Index>& sizes, Activation hidden, Activation last, Rng& rng,
             Initialiser weight_init = Initialiser::glorot_uniform(), std::string name = "sequential")
      : name_(std::move(name)) {
    require(sizes.size() >= 2, "Sequential '", name_,
            "': needs at least two sizes (inputs and outputs), got ", sizes.size());
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i)
      add(Dense<T>(sizes[i], sizes[i + 1], i + 2 == sizes.size() ? last : hidden, rng, weight_init,
                   Initialiser::zeros()));
  }

  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;
  Sequential(const Sequential& other) : name_(other.name_) {
    for (const auto& layer : other.layers_) layers_.push_back(layer->clone());
  }
  Sequential& operator=(const Sequential& other) {
    if (this != &other) *this = Sequential(other);
    return *this;
  }

  // Appends a layer (any class derived from Layer<T>). An ActivationLayer that follows a Dense
  // layer with the identity activation is folded into it (see activation_layer.hpp).
  template <class L>
  requires std::is_base_of_v<Layer<T>, std::decay_t<L>> Sequential& add(L&& layer) {
    return add(std::unique_ptr<Layer<T>>(std::make_unique<std::decay_t<L>>(std::forward<L>(layer))));
  }
  Sequential& add(std::unique_ptr<Layer<T>> layer) {
    require(layer != nullptr, "Sequential '", name_, "': cannot add a null layer");
    if (auto* act = dynamic_cast<ActivationLayer<T>*>(layer.get()); act && !layers_.empty()) {
      if (auto* previous = dynamic_cast<Dense<T>*>(layers_.back().get());
          previous && previous->activation == Activation::identity()) {
        previous->activation = act->activation;
        return *this;
      }
    }
    const Index in = layer->input_size();
    const Index before = output_size();
    require(in == 0 || before == 0 || in == before, "Sequential '", name_, "': layer ", layers_.size(), " (",
            layer->describe(), ") takes ", in, " inputs but the layer before it gives ", before);
    layer->set_name(name_ + "." + std::to_string(layers_.size()));
    layers_.push_back(std::move(layer));
    return *this;
  }

  // The whole stack.
  Var<T> operator()(Tape<T>& tape, Var<T> x) { return forward(tape, x, 0, size()); }

  // Layers [first, last) applied to x (last defaults to the end): forward(tape, x, 0, k) is the
  // output of layer k - 1, and forward(tape, h, k) continues from it.
  Var<T> forward(Tape<T>& tape, Var<T> x, std::size_t first, std::size_t last) {
    require(first <= last && last <= size(), "Sequential '", name_, "': layer range [", first, ", ", last,
            ") is not inside [0, ", size(), "]");
    for (std::size_t i = first; i < last; ++i) x = (*layers_[i])(tape, x);
    return x;
  }
  Var<T> forward(Tape<T>& tape, Var<T> x, std::size_t first = 0) { return forward(tape, x, first, size()); }

  // The final output and the output of layer `tap` (0-based), recorded in one pass.
  struct Tapped {
    Var<T> output;
    Var<T> tapped;
  };
  Tapped forward_tapped(Tape<T>& tape, Var<T> x, std::size_t tap) {
    require(tap < size(), "Sequential '", name_, "': cannot tap layer ", tap, ", it has ", size(), " layers");
    Var<T> tapped = forward(tape, x, 0, tap + 1);
    return {forward(tape, tapped, tap + 1, size()), tapped};
  }

  std::size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }
  const std::string& name() const { return name_; }
  // Renames the network and its parameters.
  void set_name(std::string name) {
    name_ = std::move(name);
    for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i]->set_name(name_ + "." + std::to_string(i));
  }

  Layer<T>& layer(std::size_t i) const {
    require(i < size(), "Sequential '", name_, "': no layer ", i, " (it has ", size(), ")");
    return *layers_[i];
  }
  // Layer i as a Dense layer; an Error if it is another kind.
  Dense<T>& dense_layer(std::size_t i) const {
    auto* d = dynamic_cast<Dense<T>*>(&layer(i));
    require(d != nullptr, "Sequential '", name_, "': layer ", i, " is ", layers_[i]->describe(),
            ", not a dense layer");
    return *d;
  }

  // Input and output widths: of the first and last layer that fixes one (0 if none does).
  Index input_size() const {
    for (const auto& l : layers_)
      if (l->input_size() > 0) return l->input_size();
    return 0;
  }
  Index output_size() const {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it)
      if ((*it)->output_size() > 0) return (*it)->output_size();
    return 0;
  }

  // Every parameter, layer by layer, in a group named after the network.
  ParameterGroup<T> parameters() const {
    ParameterGroup<T> group(name_);
    for (const auto& l : layers_)
      for (Parameter<T>* p : l->parameters()) group.add(p);
    return group;
  }
  Index parameter_count() const { return parameters().parameter_count(); }

  // Freezes (unfreezes) every parameter, without building a group: cheap enough for every step of a
  // two-step (ADNN) training. Freeze before recording the graph (see parameter_group.hpp).
  void freeze() const {
    for (const auto& l : layers_) l->set_frozen(true);
  }
  void unfreeze() const {
    for (const auto& l : layers_) l->set_frozen(false);
  }

  // One line per layer, then the parameter count.
  std::string describe() const {
    std::ostringstream out;
    out << name_ << ":\n";
    for (std::size_t i = 0; i < layers_.size(); ++i)
      out << "  " << i << ": " << layers_[i]->describe() << "\n";
    out << "  " << parameter_count() << " parameters\n";
    return out.str();
  }

 private:
  std::string name_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class Sequential<float>;
AGNOSTIC_INSTANCE class Sequential<double>;
#endif

}  // namespace agnostic
