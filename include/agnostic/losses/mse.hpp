#pragma once
// Weighted mean squared error, one fused node:
//   l_i = (1/C) sum_c (p_ic - t_ic)^2,   L = sum_i w_i l_i / sum_i w_i
// (the mean over outputs, as Keras defines it; normalisation and the zero-weight rule:
// autodiff/weighted_mean.hpp). dL/dp_ic = 2 w_i (p_ic - t_ic) / (C W) = -dL/dt_ic.
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

template <class T>
void mse_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  const int x = n.input[0], targets = n.input[1];
  const Matrix<T>& P = tape.value(x);
  const Matrix<T>& Tm = tape.value(targets);
  const Index events = P.rows(), outputs = P.cols();
  const T two_over_c = T(2) / static_cast<T>(outputs);
  bool add_x = false, add_t = false;
  Matrix<T>* dP = tape.needs_grad(x) ? &tape.grad_target(x, add_x) : nullptr;
  Matrix<T>* dT = tape.needs_grad(targets) ? &tape.grad_target(targets, add_t) : nullptr;
  parallel_chunks(events, chunk_count(events, events * outputs * 4), [&](int, RowRange r) {
    const auto f = factor.segment(r.begin, r.size()).array();
    for (Index j = 0; j < outputs; ++j) {
      const auto e =
          two_over_c * f *
          (P.col(j).segment(r.begin, r.size()).array() - Tm.col(j).segment(r.begin, r.size()).array());
      if (dP) {
        auto d = dP->col(j).segment(r.begin, r.size()).array();
        if (add_x)
          d += e;
        else
          d = e;
      }
      if (dT) {
        auto d = dT->col(j).segment(r.begin, r.size()).array();
        if (add_t)
          d -= e;
        else
          d = -e;
      }
    }
  });
}

}  // namespace detail

// predictions and targets: events x C (targets a Var or a plain matrix); weights: events x 1 or absent.
template <class T>
Var<T> mse(Var<T> predictions, OperandOf<T> targets, OperandOf<T> weights = {}) {
  require(predictions.valid(), "mse: the predictions are an empty Var");
  Tape<T>& tape = predictions.tape();
  const Index events = predictions.rows(), outputs = predictions.cols();
  require(outputs >= 1, "mse: predictions have no columns");
  require(targets.present(), "mse: the targets are missing");
  const Var<T> t = targets.on(tape);
  require(t.rows() == events && t.cols() == outputs, "mse: targets are ", t.rows(), " x ", t.cols(),
          ", expected ", events, " x ", outputs, " (the shape of the predictions)");
  const Var<T> w = weights.on(tape);
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "mse");
  const bool needs =
      tape.needs_grad(predictions.id()) || tape.needs_grad(t.id()) || (w.valid() && tape.needs_grad(w.id()));
  const int id = tape.push("mse", &detail::mse_backward<T>, needs);
  tape.node(id).input = {predictions.id(), t.id(), w.valid() ? w.id() : -1};
  const Matrix<T>& P = tape.value(predictions.id());
  const Matrix<T>& Tm = tape.value(t.id());
  const T inv_c = T(1) / static_cast<T>(outputs);
  detail::event_mean_forward(tape, id, events, outputs * 3, [&](RowRange r, auto l) {
    l = inv_c * (P.middleRows(r.begin, r.size()) - Tm.middleRows(r.begin, r.size())).rowwise().squaredNorm();
  });
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> mse<float>(Var<float>, OperandOf<float>, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> mse<double>(Var<double>, OperandOf<double>, OperandOf<double>);
#endif

}  // namespace agnostic
