#pragma once
// The single-event dense layer of the trigger-side networks: y = f(W x + b) for one event, with
// the layer's sizes known at compile time, so every loop has a constant trip count that the
// compiler unrolls and vectorises and every buffer lives on the stack. No Eigen, no heap, no
// virtual calls.
//
// The weights are stored input-major (W transposed: row i holds the weights of input i for all
// outputs), so the product is a sum of broadcasts, acc[:] += x[i] * Wt[i][:], whose accumulators
// (one per output; 48 floats are three AVX-512 registers) stay in registers over the whole layer.
// The bias starts the accumulators and the activation is applied before they are stored: one pass
// per layer.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "agnostic/autodiff/activation.hpp"

namespace agnostic::infer {

// What a layer applies to its outputs: an element-wise function or softmax over them.
struct KernelActivation {
  ActivationKind kind = ActivationKind::identity;
  double alpha = 0.0;
  bool softmax = false;
};

namespace kernel_detail {

template <class T, std::size_t N>
inline void apply_activation(const KernelActivation& f, T* y) noexcept {
  const T alpha = static_cast<T>(f.alpha);
  if (f.softmax) {
    T top = y[0];
    for (std::size_t o = 1; o < N; ++o) top = std::max(top, y[o]);
    T sum = T(0);
    for (std::size_t o = 0; o < N; ++o) {
      y[o] = std::exp(y[o] - top);
      sum += y[o];
    }
    const T inverse = T(1) / sum;
    for (std::size_t o = 0; o < N; ++o) y[o] *= inverse;
    return;
  }
  switch (f.kind) {
    case ActivationKind::identity:
      return;
    case ActivationKind::relu:
      for (std::size_t o = 0; o < N; ++o) y[o] = std::max(y[o], T(0));
      return;
    case ActivationKind::leaky_relu:
      for (std::size_t o = 0; o < N; ++o) y[o] = std::max(y[o], T(0)) + alpha * std::min(y[o], T(0));
      return;
    case ActivationKind::elu:
      for (std::size_t o = 0; o < N; ++o) y[o] = y[o] > T(0) ? y[o] : alpha * std::expm1(y[o]);
      return;
    case ActivationKind::tanh:
      for (std::size_t o = 0; o < N; ++o) y[o] = std::tanh(y[o]);
      return;
    case ActivationKind::sigmoid:
      for (std::size_t o = 0; o < N; ++o) y[o] = activate(Activation::sigmoid(), y[o]);
      return;
    case ActivationKind::softplus:
      for (std::size_t o = 0; o < N; ++o) y[o] = std::max(y[o], T(0)) + std::log1p(std::exp(-std::abs(y[o])));
      return;
  }
}

}  // namespace kernel_detail

// y = f(W x + b) for In inputs and Out outputs; `weights` is In x Out, input-major.
template <class T, std::size_t In, std::size_t Out>
inline void dense_forward(const T* __restrict weights, const T* __restrict bias, const KernelActivation& f,
                          const T* __restrict x, T* __restrict y) noexcept {
  alignas(64) T acc[Out];
  for (std::size_t o = 0; o < Out; ++o) acc[o] = bias[o];
  for (std::size_t i = 0; i < In; ++i) {
    const T xi = x[i];
    const T* w = weights + i * Out;
#pragma GCC unroll 64
    for (std::size_t o = 0; o < Out; ++o) acc[o] += xi * w[o];
  }
  kernel_detail::apply_activation<T, Out>(f, acc);
  for (std::size_t o = 0; o < Out; ++o) y[o] = acc[o];
}

}  // namespace agnostic::infer
