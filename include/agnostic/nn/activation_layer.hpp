#pragma once
// ActivationLayer<T>: a layer that only applies an element-wise activation.
//
// Sequential::add folds an activation layer into the Dense layer before it when that layer's own
// activation is the identity: the fused dense node then computes f(x W^T + b) in one pass, and
// the pair counts as one layer (one intermediate output). An activation layer that cannot be
// folded (first in the stack, or after a layer that already has an activation) is recorded on its
// own, as the tape's element-wise activation() node.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/nn/layer.hpp"

namespace agnostic {

template <class T>
class ActivationLayer : public Layer<T> {
 public:
  Activation activation;

  explicit ActivationLayer(Activation f) : activation(f) {}

  Var<T> operator()(Tape<T>&, Var<T> x) override { return agnostic::activation(x, activation); }
  std::vector<Parameter<T>*> parameters() override { return {}; }
  Index input_size() const override { return 0; }
  Index output_size() const override { return 0; }
  std::string describe() const override {
    std::ostringstream out;
    out << activation_name(activation);
    if (activation.kind == ActivationKind::leaky_relu || activation.kind == ActivationKind::elu)
      out << "(" << activation.alpha << ")";
    return out.str();
  }
  std::unique_ptr<Layer<T>> clone() const override { return std::make_unique<ActivationLayer<T>>(*this); }
  void set_name(const std::string&) override {}
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class ActivationLayer<float>;
AGNOSTIC_INSTANCE class ActivationLayer<double>;
#endif

}  // namespace agnostic
