#pragma once
// RMSProp, as PyTorch's torch.optim.RMSprop (rho is PyTorch's alpha). With g the gradient (after
// clipping and the L2 term):
//   v = rho v + (1 - rho) g^2
//   centred:  a = rho a + (1 - rho) g,   s = v - a^2          otherwise s = v
//   d = g / (sqrt(s) + eps)
//   momentum mu > 0:  b = mu b + d,  theta <- theta - lr b;   otherwise theta <- theta - lr d
// Conventions: epsilon is added after the square root (PyTorch, and Keras 3). TensorFlow's
// ApplyRMSProp kernel, which the Keras of Clavijo et al. (arXiv:2005.00568) used, puts it inside, d = g /
// sqrt(s + eps), and keeps the learning rate inside the momentum buffer; Keras' default epsilon is 1e-7.
// Defaults here are those of Clavijo et al. (lr 0.001, rho 0.9) with PyTorch's eps 1e-8. In the centred form
// s is clamped at 0 before the square root (rounding can push v - a^2 a hair below zero).
#include <cmath>
#include <cstdint>

#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/optim/optimiser.hpp"

namespace agnostic {

struct RMSPropOptions {
  double lr = 1e-3;
  double rho = 0.9;
  double eps = 1e-8;
  double momentum = 0.0;
  bool centred = false;
  double l2 = 0.0;
  Clipping clip{};
  Schedule schedule{};
};

template <class T>
class RMSProp : public Optimiser<T> {
 public:
  explicit RMSProp(ParameterGroup<T> group, RMSPropOptions options = {})
      : Optimiser<T>(std::move(group), {options.lr, options.l2, options.clip, options.schedule}, "rmsprop",
                     {"square_avg", "grad_avg", "momentum_buffer"}),
        options_(options) {
    this->check(options.rho >= 0.0 && options.rho < 1.0, "rho must be in [0, 1), got ", options.rho);
    this->check(std::isfinite(options.eps) && options.eps > 0.0, "eps must be > 0, got ", options.eps);
    this->check(std::isfinite(options.momentum) && options.momentum >= 0.0, "momentum must be >= 0, got ",
                options.momentum);
  }

  const RMSPropOptions& options() const { return options_; }

 protected:
  void update(std::size_t i, Parameter<T>& p, double lr, std::int64_t) override {
    const T rho = static_cast<T>(options_.rho), one_minus_rho = static_cast<T>(1.0 - options_.rho);
    const T eps = static_cast<T>(options_.eps), rate = static_cast<T>(lr);
    Matrix<T>& v = this->buffer(0, i);
    Matrix<T>& a = this->buffer(1, i);
    Matrix<T>& b = this->buffer(2, i);
    v = rho * v + one_minus_rho * p.grad.cwiseProduct(p.grad);
    // p.grad is zeroed after the update, so it holds d here.
    if (options_.centred) {
      a = rho * a + one_minus_rho * p.grad;
      p.grad.array() /= (v.array() - a.array().square()).cwiseMax(T(0)).sqrt() + eps;
    } else {
      p.grad.array() /= v.array().sqrt() + eps;
    }
    if (options_.momentum > 0.0) {
      b = static_cast<T>(options_.momentum) * b + p.grad;
      p.value -= rate * b;
    } else {
      p.value -= rate * p.grad;
    }
  }

 private:
  RMSPropOptions options_;
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class RMSProp<float>;
AGNOSTIC_INSTANCE class RMSProp<double>;
#endif

}  // namespace agnostic
