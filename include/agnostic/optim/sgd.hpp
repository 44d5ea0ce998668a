#pragma once
// Stochastic gradient descent with optional momentum (heavy ball or Nesterov), as PyTorch's
// torch.optim.SGD. With g the gradient (after clipping and the L2 term), mu the momentum and
// tau the dampening:
//   b_1 = g,   b_t = mu b_{t-1} + (1 - tau) g                      (momentum buffer)
//   d = g + mu b_t  (Nesterov)   or   d = b_t   (heavy ball)       or   d = g  (mu = 0)
//   theta <- theta - lr d
// Convention: the learning rate multiplies the buffer, it is not inside it (Sutskever et al. and
// Keras keep v = mu v - lr g); with a constant rate both give the same trajectory, with a changing
// rate they differ. The Nesterov step is the "look-ahead" form above, not an extra evaluation.
#include <cstdint>

#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/optim/optimiser.hpp"

namespace agnostic {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double l2 = 0.0;
  Clipping clip{};
  Schedule schedule{};
};

template <class T>
class SGD : public Optimiser<T> {
 public:
  explicit SGD(ParameterGroup<T> group, SGDOptions options = {})
      : Optimiser<T>(std::move(group), {options.lr, options.l2, options.clip, options.schedule}, "sgd",
                     {"momentum_buffer"}),
        options_(options) {
    this->check(std::isfinite(options.momentum) && options.momentum >= 0.0, "momentum must be >= 0, got ",
                options.momentum);
    this->check(options.dampening >= 0.0 && options.dampening <= 1.0, "dampening must be in [0, 1], got ",
                options.dampening);
    this->check(!options.nesterov || (options.momentum > 0.0 && options.dampening == 0.0),
                "Nesterov momentum needs momentum > 0 and dampening = 0, got momentum = ", options.momentum,
                ", dampening = ", options.dampening);
  }

  const SGDOptions& options() const { return options_; }

 protected:
  void update(std::size_t i, Parameter<T>& p, double lr, std::int64_t t) override {
    const T rate = static_cast<T>(lr);
    if (options_.momentum == 0.0) {
      p.value -= rate * p.grad;
      return;
    }
    const T mu = static_cast<T>(options_.momentum);
    Matrix<T>& b = this->buffer(0, i);
    if (t == 1)
      b = p.grad;
    else
      b = mu * b + static_cast<T>(1.0 - options_.dampening) * p.grad;
    if (options_.nesterov)
      p.value -= rate * (p.grad + mu * b);
    else
      p.value -= rate * b;
  }

 private:
  SGDOptions options_;
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class SGD<float>;
AGNOSTIC_INSTANCE class SGD<double>;
#endif

}  // namespace agnostic
