#pragma once
// Dense<T>: a fully connected layer y = f(x W^T + b), recorded as one fused dense() node.
//
// The weight is n_out x n_in (lwtnn's layout, one row per output unit) and the bias 1 x n_out.
// Parameters are named "<name>.weight" and "<name>.bias".
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/dense.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/nn/initialisers.hpp"
#include "agnostic/nn/layer.hpp"

namespace agnostic {

template <class T>
class Dense : public Layer<T> {
 public:
  Parameter<T> weight;  // n_out x n_in
  Parameter<T> bias;    // 1 x n_out
  Activation activation;

  // Zero weights and bias, for a model reader to fill in.
  Dense(Index n_in, Index n_out, Activation f = Activation::identity(), const std::string& name = "dense")
      : activation(f) {
    require(n_in > 0 && n_out > 0, "Dense: sizes must be positive, got n_in = ", n_in, ", n_out = ", n_out);
    weight = Parameter<T>(name + ".weight", n_out, n_in);
    bias = Parameter<T>(name + ".bias", 1, n_out);
  }

  // Weights and bias drawn from rng (weights first, then bias).
  Dense(Index n_in, Index n_out, Activation f, Rng& rng,
        Initialiser weight_init = Initialiser::glorot_uniform(), Initialiser bias_init = Initialiser::zeros(),
        const std::string& name = "dense")
      : Dense(n_in, n_out, f, name) {
    weight_init.fill(weight.value, rng);
    bias_init.fill(bias.value, rng);
  }

  Var<T> operator()(Tape<T>& tape, Var<T> x) override {
    return dense(x, tape.parameter(weight), tape.parameter(bias), activation);
  }

  std::vector<Parameter<T>*> parameters() override { return {&weight, &bias}; }
  Index input_size() const override { return weight.value.cols(); }
  Index output_size() const override { return weight.value.rows(); }
  std::string describe() const override {
    std::ostringstream out;
    out << "dense " << input_size() << " -> " << output_size() << ", " << activation_name(activation);
    if (activation.kind == ActivationKind::leaky_relu || activation.kind == ActivationKind::elu)
      out << "(" << activation.alpha << ")";
    return out.str();
  }
  std::unique_ptr<Layer<T>> clone() const override {
    auto copy = std::make_unique<Dense<T>>(*this);
    copy->weight.zero_grad();
    copy->bias.zero_grad();
    return copy;
  }
  void set_name(const std::string& prefix) override {
    weight.name = prefix + ".weight";
    bias.name = prefix + ".bias";
  }
  void set_frozen(bool frozen) override {
    weight.frozen = frozen;
    bias.frozen = frozen;
  }
  Index parameter_count() const { return weight.size() + bias.size(); }
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class Dense<float>;
AGNOSTIC_INSTANCE class Dense<double>;
#endif

}  // namespace agnostic
