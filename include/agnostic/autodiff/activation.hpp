#pragma once
// The derivatives of the activation functions of core/activation_function.hpp, for the backward
// passes of the activation operations and of the fused dense layer.
//
// Every derivative here is written in terms of the activation's OUTPUT y, so the backward pass of
// a layer needs only the values it already stored (no pre-activation copy).
#include <cmath>
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
      detail::apply_slope(g, y, [alpha](T gi, T yi) { return yi > T(0) ? gi : alpha * gi; });
      return;
    case ActivationKind::elu:
      detail::apply_slope(g, y, [alpha](T gi, T yi) { return yi > T(0) ? gi : gi * (yi + alpha); });
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
