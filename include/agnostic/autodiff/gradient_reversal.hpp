#pragma once
// The gradient reversal node of DANN (Clavijo et al., arXiv:2005.00568): identity in the forward pass,
// -lambda * gradient in the backward pass. Behind it the domain classifier minimises its loss while the
// feature extractor in front of it receives dL_y/dtheta_F - lambda dL_d/dtheta_F (Clavijo et al. eq. 4.2).
//
// lambda is read when the node is recorded; the graph is recorded anew every step, so changing
// GradientReversal::lambda between steps (a schedule) takes effect at the next step.
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

template <class T>
void gradient_reversal_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const T factor = -n.scalar[0];
  const Matrix<T>& G = n.grad;
  accumulate_grad(tape, n.input[0], 1, [&](RowRange r) { return factor * flat(G, r); });
}

}  // namespace detail

// y = x forward; dL/dx = -lambda dL/dy backward. lambda >= 0 (0 cuts the adversary off).
template <class T>
Var<T> reverse_gradient(Var<T> x, double lambda) {
  require(x.valid(), "reverse_gradient: the operand is an empty Var");
  require(lambda >= 0.0, "reverse_gradient: lambda must be >= 0 (the sign is already reversed), got ",
          lambda);
  Tape<T>& tape = x.tape();
  const int id =
      tape.push("gradient_reversal", &detail::gradient_reversal_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.scalar[0] = static_cast<T>(lambda);
  // A copy: a pointer to x's value would dangle when the node vector grows on the first step.
  const Matrix<T>& X = tape.value(x.id());
  n.value.resize(X.rows(), X.cols());
  detail::for_each_chunk(X.size(), 1,
                         [&](int, RowRange r) { detail::flat(n.value, r) = detail::flat(X, r); });
  return {&tape, id};
}

// A gradient reversal layer whose lambda the user (or a schedule) sets between steps.
struct GradientReversal {
  double lambda = 1.0;

  GradientReversal() = default;
  explicit GradientReversal(double initial_lambda) : lambda(initial_lambda) {
    require(lambda >= 0.0, "GradientReversal: lambda must be >= 0, got ", lambda);
  }

  template <class T>
  Var<T> operator()(Var<T> x) const {
    return reverse_gradient(x, lambda);
  }
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> reverse_gradient<float>(Var<float>, double);
AGNOSTIC_INSTANCE Var<double> reverse_gradient<double>(Var<double>, double);
#endif

}  // namespace agnostic
