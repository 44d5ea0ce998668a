#pragma once
// Weighted binary cross-entropy from logits, one fused node:
//   l_i = -t_i log sigmoid(z_i) - (1 - t_i) log(1 - sigmoid(z_i)) = max(z_i, 0) - t_i z_i +
//   log1p(exp(-|z_i|)), L = sum_i w_i l_i / sum_i w_i
// (normalisation and the zero-weight rule: autodiff/weighted_mean.hpp). Written with log1p of a
// non-positive exponent, it stays finite for any finite logit; dL/dz_i = w_i (sigmoid(z_i) - t_i) / W.
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

template <class T>
void binary_cross_entropy_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  const Matrix<T>& Z = tape.value(n.input[0]);
  const Matrix<T>& t = tape.value(n.input[1]);
  const T* f = factor.data();
  accumulate_grad(tape, n.input[0], 12, [&](RowRange r) {
    return ConstFlatArray<T>(f + r.begin, r.size()) * (flat(Z, r).logistic() - flat(t, r));
  });
  accumulate_grad(tape, n.input[1], 1,
                  [&](RowRange r) { return -ConstFlatArray<T>(f + r.begin, r.size()) * flat(Z, r); });
}

}  // namespace detail

// logits: events x 1; targets: events x 1 in [0, 1] (0/1 labels, or probabilities); weights:
// events x 1 or absent. Targets and weights may be Vars (they then get gradients) or plain columns.
template <class T>
Var<T> binary_cross_entropy(Var<T> logits, OperandOf<T> targets, OperandOf<T> weights = {}) {
  require(logits.valid(), "binary_cross_entropy: the logits are an empty Var");
  Tape<T>& tape = logits.tape();
  const Index events = logits.rows();
  require(logits.cols() == 1, "binary_cross_entropy: logits are ", logits.rows(), " x ", logits.cols(),
          ", expected ", events,
          " x 1 (one logit per event; for several classes use categorical_cross_entropy)");
  require(targets.present(), "binary_cross_entropy: the targets are missing");
  const Var<T> t = targets.on(tape);
  const Var<T> w = weights.on(tape);
  require(t.rows() == events && t.cols() == 1, "binary_cross_entropy: targets are ", t.rows(), " x ",
          t.cols(), ", expected ", events, " x 1 (one per event)");
  {
    const auto tv = t.value().array();
    if (!(tv >= T(0) && tv <= T(1)).all())
      for (Index i = 0; i < events; ++i)
        require(tv(i) >= T(0) && tv(i) <= T(1), "binary_cross_entropy: target of event ", i, " is ", tv(i),
                ", expected a value in [0, 1]");
  }
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "binary_cross_entropy");
  const bool needs =
      tape.needs_grad(logits.id()) || tape.needs_grad(t.id()) || (w.valid() && tape.needs_grad(w.id()));
  const int id = tape.push("binary_cross_entropy", &detail::binary_cross_entropy_backward<T>, needs);
  tape.node(id).input = {logits.id(), t.id(), w.valid() ? w.id() : -1};
  const Matrix<T>& Z = tape.value(logits.id());
  const Matrix<T>& target = tape.value(t.id());
  detail::event_mean_forward(tape, id, events, 16, [&](RowRange r, auto l) {
    const auto z = Z.col(0).segment(r.begin, r.size()).array();
    const auto y = target.col(0).segment(r.begin, r.size()).array();
    l.array() = z.cwiseMax(T(0)) - y * z + (-z.abs()).exp().log1p();
  });
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> binary_cross_entropy<float>(Var<float>, OperandOf<float>, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> binary_cross_entropy<double>(Var<double>, OperandOf<double>, OperandOf<double>);
#endif

}  // namespace agnostic
