#pragma once
// The single-event dense layer of the trigger-side networks: y = f(W x + b) for one event, with
// the layer's sizes known at compile time, so every loop has a constant trip count that the
// compiler unrolls and vectorises and every buffer lives on the stack. No Eigen, no heap, no
// virtual calls.
//
// The weights are stored input-major (W transposed: row i holds the weights of input i for all
// outputs), so the product is a sum of broadcasts, acc[:] += x[i] * Wt[i][:], whose accumulators
// (one per output; 48 floats are three AVX-512 registers) stay in registers over the whole layer.
// They are kept as four partial sums over the inputs, so that one event's chain of dependent
// multiply-adds is a quarter of the layer's width (what bounds the latency of a single event).
// The bias starts the accumulators and the activation is applied before they are stored: one pass
// per layer.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "agnostic/core/activation_function.hpp"

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

namespace kernel_detail {

#if defined(__GNUC__)
#define AGNOSTIC_INFER_VECTOR_KERNEL 1
// W lanes of T in one value that GCC and clang keep in one SIMD register (GCC's vector extension,
// which clang shares: GCC 12 alone vectorises the plain loop below with 128-bit or scalar
// operations, and spills partial sums kept in plain arrays).
template <class T, std::size_t W>
using Lanes [[gnu::vector_size(W * sizeof(T))]] = T;

template <class T, std::size_t Out>
constexpr std::size_t lane_width() {
#if defined(__AVX512F__)
  constexpr std::size_t bytes = 64;
#elif defined(__AVX__)
  constexpr std::size_t bytes = 32;
#else
  constexpr std::size_t bytes = 16;
#endif
  constexpr std::size_t w = bytes / sizeof(T);
  return Out % w == 0 ? w : 0;
}

// How many independent partial sums a layer's product keeps (inputs i, i + P, i + 2P, ... go to
// partial sum i mod P): the chain of dependent multiply-adds, which bounds one event's latency, is
// In / P long instead of In. 4 was the fastest of 1, 2, 4, 6, 8 on W5 (benchmarks/README.md).
inline constexpr std::size_t partial_sums = 4;

// acc = b + W x with the Out accumulators held as Out / W vectors of W lanes, in `partial_sums`
// partial sums (the first starts at the bias) added at the end.
template <class T, std::size_t In, std::size_t Out, std::size_t W>
inline void vector_product(const T* __restrict weights, const T* __restrict bias, const T* __restrict x,
                           T* __restrict acc) noexcept {
  using V = Lanes<T, W>;
  constexpr std::size_t n = Out / W, P = partial_sums;
  static_assert(P == 4, "the final sum below adds four partial sums");
  V part[P][n];
  for (std::size_t v = 0; v < n; ++v) {
    __builtin_memcpy(&part[0][v], bias + v * W, sizeof(V));
    for (std::size_t p = 1; p < P; ++p) part[p][v] = V{};
  }
  constexpr std::size_t full = In / P * P;
#pragma GCC unroll 64
  for (std::size_t i = 0; i < full; i += P) {
#pragma GCC unroll 8
    for (std::size_t p = 0; p < P; ++p) {
      const T xi = x[i + p];
      const T* w = weights + (i + p) * Out;
#pragma GCC unroll 16
      for (std::size_t v = 0; v < n; ++v) {
        V wv;
        __builtin_memcpy(&wv, w + v * W, sizeof(V));
        part[p][v] += xi * wv;
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t i = full; i < In; ++i) {
    const T xi = x[i];
    const T* w = weights + i * Out;
#pragma GCC unroll 16
    for (std::size_t v = 0; v < n; ++v) {
      V wv;
      __builtin_memcpy(&wv, w + v * W, sizeof(V));
      part[i - full][v] += xi * wv;
    }
  }
  for (std::size_t v = 0; v < n; ++v) {
    const V sum = (part[0][v] + part[1][v]) + (part[2][v] + part[3][v]);
    __builtin_memcpy(acc + v * W, &sum, sizeof(V));
  }
}
#endif

}  // namespace kernel_detail

// y = f(W x + b) for In inputs and Out outputs; `weights` is In x Out, input-major.
template <class T, std::size_t In, std::size_t Out>
inline void dense_forward(const T* __restrict weights, const T* __restrict bias, const KernelActivation& f,
                          const T* __restrict x, T* __restrict y) noexcept {
  alignas(64) T acc[Out];
#if defined(AGNOSTIC_INFER_VECTOR_KERNEL)
  if constexpr (kernel_detail::lane_width<T, Out>() > 0) {
    kernel_detail::vector_product<T, In, Out, kernel_detail::lane_width<T, Out>()>(weights, bias, x, acc);
  } else
#endif
  {  // the same four partial sums, in plain loops (widths that are not a multiple of the lanes)
    constexpr std::size_t full = In / 4 * 4;
    T part[4][Out];
    for (std::size_t o = 0; o < Out; ++o) {
      part[0][o] = bias[o];
      part[1][o] = part[2][o] = part[3][o] = T(0);
    }
    for (std::size_t i = 0; i < full; i += 4)
      for (std::size_t p = 0; p < 4; ++p)
        for (std::size_t o = 0; o < Out; ++o) part[p][o] += x[i + p] * weights[(i + p) * Out + o];
    for (std::size_t i = full; i < In; ++i)
      for (std::size_t o = 0; o < Out; ++o) part[i - full][o] += x[i] * weights[i * Out + o];
    for (std::size_t o = 0; o < Out; ++o) acc[o] = (part[0][o] + part[1][o]) + (part[2][o] + part[3][o]);
  }
  kernel_detail::apply_activation<T, Out>(f, acc);
  for (std::size_t o = 0; o < Out; ++o) y[o] = acc[o];
}

}  // namespace agnostic::infer
