#pragma once
// Adam (Kingma and Ba), as PyTorch's torch.optim.Adam. With g the gradient (after clipping and
// the L2 term, which Adam adds to the gradient: "coupled" decay) and t the parameter's step number:
//   decoupled decay (AdamW, weight_decay = w):  theta <- theta - lr w theta     (first, as PyTorch)
//   m = beta1 m + (1 - beta1) g,    v = beta2 v + (1 - beta2) g^2
//   m_hat = m / (1 - beta1^t),      v_hat = v / (1 - beta2^t)
//   theta <- theta - lr m_hat / (sqrt(v_hat) + eps)
// Convention: eps is added to sqrt(v_hat) (PyTorch, Algorithm 1 of the paper). Keras/TensorFlow add
// "epsilon hat" to sqrt(v) before the bias correction, i.e. eps_here = eps_keras / sqrt(1 - beta2^t),
// and default to 1e-7. AdamW (adamw.hpp) is this class with weight_decay on by default.
#include <cmath>
#include <cstdint>
#include <string>

#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/optim/optimiser.hpp"

namespace agnostic {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double l2 = 0.0;            // coupled: added to the gradient
  double weight_decay = 0.0;  // decoupled: theta <- theta - lr * weight_decay * theta
  Clipping clip{};
  Schedule schedule{};
};

template <class T>
class Adam : public Optimiser<T> {
 public:
  explicit Adam(ParameterGroup<T> group, AdamOptions options = {})
      : Adam(std::move(group), options, "adam") {}

  const AdamOptions& options() const { return options_; }

 protected:
  Adam(ParameterGroup<T> group, AdamOptions options, std::string kind)
      : Optimiser<T>(std::move(group), {options.lr, options.l2, options.clip, options.schedule},
                     std::move(kind), {"exp_avg", "exp_avg_sq"}),
        options_(options) {
    this->check(options.beta1 >= 0.0 && options.beta1 < 1.0, "beta1 must be in [0, 1), got ", options.beta1);
    this->check(options.beta2 >= 0.0 && options.beta2 < 1.0, "beta2 must be in [0, 1), got ", options.beta2);
    this->check(std::isfinite(options.eps) && options.eps > 0.0, "eps must be > 0, got ", options.eps);
    this->check(std::isfinite(options.weight_decay) && options.weight_decay >= 0.0,
                "weight_decay must be >= 0, got ", options.weight_decay);
  }

  void update(std::size_t i, Parameter<T>& p, double lr, std::int64_t t) override {
    if (options_.weight_decay != 0.0) p.value *= static_cast<T>(1.0 - lr * options_.weight_decay);
    const double beta1 = options_.beta1, beta2 = options_.beta2;
    Matrix<T>& m = this->buffer(0, i);
    Matrix<T>& v = this->buffer(1, i);
    m = static_cast<T>(beta1) * m + static_cast<T>(1.0 - beta1) * p.grad;
    v = static_cast<T>(beta2) * v + static_cast<T>(1.0 - beta2) * p.grad.cwiseProduct(p.grad);
    const double correction1 = 1.0 - std::pow(beta1, static_cast<double>(t));
    const double correction2 = 1.0 - std::pow(beta2, static_cast<double>(t));
    const T step_size = static_cast<T>(lr / correction1);
    const T root_correction2 = static_cast<T>(std::sqrt(correction2));
    const T eps = static_cast<T>(options_.eps);
    p.value.array() -= step_size * m.array() / (v.array().sqrt() / root_correction2 + eps);
  }

 private:
  AdamOptions options_;
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class Adam<float>;
AGNOSTIC_INSTANCE class Adam<double>;
#endif

}  // namespace agnostic
