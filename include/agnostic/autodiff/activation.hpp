#pragma once
// The derivatives of the activation functions of core/activation_function.hpp, for the backward
// passes of the activation operations and of the fused dense layer.
//
// Every derivative here is written in terms of the activation's OUTPUT y, so the backward pass of
// a layer needs only the values it already stored (no pre-activation copy).
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic {

// dy/dx expressed through y = f(x).
template <class T>
inline T activation_slope(const Activation& a, T y) {
  switch (a.kind) {
    case ActivationKind::identity:
      return T(1);
    case ActivationKind::relu:
      return y > T(0) ? T(1) : T(0);
    case ActivationKind::leaky_relu:
      return y > T(0) ? T(1) : T(a.alpha);
    case ActivationKind::elu:
      return y > T(0) ? T(1) : y + T(a.alpha);
    case ActivationKind::tanh:
      return T(1) - y * y;
    case ActivationKind::sigmoid:
      return y * (T(1) - y);
    case ActivationKind::softplus:
      return -std::expm1(-y);  // sigmoid(x) = 1 - exp(-softplus(x))
  }
  return T(1);
}

namespace detail {
// condition ? a : b chosen on the bits, so that a loop of it vectorises: a and b are both computed
// before, and GCC does not turn a choice between floating-point results into a blend when one of
// them is computed on one branch only (under -ftrapping-math it may not compute it for both).
template <class T>
inline T choose_bits(bool condition, T a, T b) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits mask = Bits(0) - static_cast<Bits>(condition);
  return std::bit_cast<T>((std::bit_cast<Bits>(a) & mask) | (std::bit_cast<Bits>(b) & ~mask));
}

// g(i, j) = rule(g(i, j), y(i, j)) column by column: a plain loop the compiler vectorises with masks.
template <class GradBlock, class ValueBlock, class Rule>
inline void apply_slope(GradBlock& g, const ValueBlock& y, Rule rule) {
  for (Index j = 0; j < g.cols(); ++j) {
    auto* gj = &g.coeffRef(0, j);
    const auto* yj = &y.coeff(0, j);
    for (Index i = 0; i < g.rows(); ++i) gj[i] = rule(gj[i], yj[i]);
  }
}
}  // namespace detail

// g <- g * f'(x), with f'(x) taken from y = f(x). Both blocks have contiguous columns.
template <class GradBlock, class ValueBlock>
inline void multiply_by_slope(const Activation& a, GradBlock&& g, const ValueBlock& y) {
  using T = typename std::decay_t<GradBlock>::Scalar;
  const T alpha = static_cast<T>(a.alpha);
  switch (a.kind) {
    case ActivationKind::identity:
      return;
    case ActivationKind::relu:
      detail::apply_slope(g, y, [](T gi, T yi) { return yi > T(0) ? gi : T(0); });
      return;
    case ActivationKind::leaky_relu:
      detail::apply_slope(g, y,
                          [alpha](T gi, T yi) { return gi * detail::choose_bits(yi > T(0), T(1), alpha); });
      return;
    case ActivationKind::elu:
      detail::apply_slope(
          g, y, [alpha](T gi, T yi) { return gi * detail::choose_bits(yi > T(0), T(1), yi + alpha); });
      return;
    case ActivationKind::tanh:
      g = g.array() * (T(1) - y.array().square());
      return;
    case ActivationKind::sigmoid:
      g = g.array() * y.array() * (T(1) - y.array());
      return;
    case ActivationKind::softplus:
      g = g.array() * (-(-y.array()).expm1());
      return;
  }
}

}  // namespace agnostic
