#pragma once
// The weighted mean over events, L = sum_i w_i l_i / sum_i w_i, that every loss ends with, and the
// weighted_mean operation itself.
//
// Normalisation rule (all losses): the per-event values are weighted and divided by the sum of the
// weights, so a loss does not change when all weights are multiplied by a constant, and events of
// weight 0 (the DANN gate: target events in the label loss) do not count at all. If the weights
// sum to exactly 0 (a batch with no weighted event) the mean is defined as 0 and every gradient
// through it is 0: the batch contributes nothing instead of a NaN. Negative weights are allowed
// (Monte Carlo weights); only their sum is used to normalise.
//
// Data-parallel training (core/batch_shard.hpp): sum_i w_i l_i and W are the whole batch's, summed
// over the processes that share it, so every process holds one process's loss; the gradient into
// this process's rows is multiplied by total_gradient_scale().
//
// Node layout shared by these nodes: input = {prediction, target or -1, weights or -1};
// buffer[0] is events x 2 (column 0: the per-event values l_i, column 1: the backward factor
// G w_i / W); buffer[1] belongs to the loss; buffer[2] holds the per-chunk partial sums;
// scalar[0] = 1 / W (0 when W == 0), scalar[1] = W, scalar[2] = the gradient scale (1 alone).
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

// Checks that the weights of an event mean are a column of one weight per event.
template <class T>
void check_event_weights(Tape<T>& tape, int weights, Index events, const char* op) {
  if (weights < 0) return;
  const Matrix<T>& w = tape.value(weights);
  require(w.rows() == events && w.cols() == 1, op, ": weights are ", w.rows(), " x ", w.cols(), ", expected ",
          events, " x 1 (one weight per event)");
}

// Runs fill(RowRange r, l) for every chunk of events (l: the per-event values of rows r, to be
// written) and sets the node's value to the weighted mean of l.
template <class T, class Fill>
void event_mean_forward(Tape<T>& tape, int id, Index events, long cost_per_event, Fill&& fill) {
  Node<T>& n = tape.node(id);
  const Matrix<T>* w = n.input[2] >= 0 ? &tape.value(n.input[2]) : nullptr;
  Matrix<T>& per_event = n.buffer[0];
  per_event.resize(events, 2);
  const int chunks = chunk_count(events, events * cost_per_event);
  Matrix<T>& partial = n.buffer[2];
  partial.resize(chunks, 2);
  parallel_chunks(events, chunks, [&](int c, RowRange r) {
    auto l = per_event.col(0).segment(r.begin, r.size());
    fill(r, l);
    if (w) {
      const auto wr = w->col(0).segment(r.begin, r.size());
      partial(c, 0) = wr.dot(l);
      partial(c, 1) = wr.sum();
    } else {
      partial(c, 0) = l.sum();
      partial(c, 1) = static_cast<T>(r.size());
    }
  });
  T total = T(0), weight = T(0);
  for (int c = 0; c < chunks; ++c) {
    total += partial(c, 0);
    weight += partial(c, 1);
  }
  double totals[2] = {static_cast<double>(total), static_cast<double>(weight)};  // exact round trip alone
  batch_totals(totals);
  total = static_cast<T>(totals[0]);
  weight = static_cast<T>(totals[1]);
  n.scalar[2] = static_cast<T>(total_gradient_scale());
  n.scalar[1] = weight;
  n.scalar[0] = weight == T(0) ? T(0) : T(1) / weight;
  n.value.resize(1, 1);
  n.value(0, 0) = total * n.scalar[0];
}

// First half of every event-mean backward: writes the factor G w_i / W into column 1 of buffer[0]
// and adds the gradient of the weights, dL/dw_i = (l_i - L) / W. Returns the factor column.
template <class T>
auto event_mean_backward_factor(Tape<T>& tape, Node<T>& n) {
  const T k = n.grad(0, 0) * n.scalar[0] * n.scalar[2];
  const int weights = n.input[2];
  const Matrix<T>* w = weights >= 0 ? &tape.value(weights) : nullptr;
  Matrix<T>& per_event = n.buffer[0];
  const Index events = per_event.rows();
  for_each_chunk(events, 1, [&](int, RowRange r) {
    auto f = per_event.col(1).segment(r.begin, r.size());
    if (w)
      f = k * w->col(0).segment(r.begin, r.size());
    else
      f.setConstant(k);
  });
  if (w && tape.needs_grad(weights)) {
    const T mean = n.value(0, 0);
    const T* l = per_event.data();
    accumulate_grad(tape, weights, 1,
                    [&](RowRange r) { return k * (ConstFlatArray<T>(l + r.begin, r.size()) - mean); });
  }
  return per_event.col(1);
}

template <class T>
void weighted_mean_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  accumulate_grad(tape, n.input[0], 1,
                  [&](RowRange r) { return ConstFlatArray<T>(factor.data() + r.begin, r.size()); });
}

}  // namespace detail

// sum_i w_i v_i / sum_i w_i for events x 1 values v and events x 1 weights w (a Var, a plain
// column, or absent for the plain mean); 0 with zero gradient when the weights sum to 0.
template <class T>
Var<T> weighted_mean(Var<T> values, OperandOf<T> weights = {}) {
  require(values.valid(), "weighted_mean: the values are an empty Var");
  Tape<T>& tape = values.tape();
  const Var<T> w = weights.on(tape);
  const Index events = values.rows();
  require(values.cols() == 1, "weighted_mean: values are ", values.rows(), " x ", values.cols(),
          ", expected ", events, " x 1 (one value per event)");
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "weighted_mean");
  const bool needs = tape.needs_grad(values.id()) || (w.valid() && tape.needs_grad(w.id()));
  const int id = tape.push("weighted_mean", &detail::weighted_mean_backward<T>, needs);
  tape.node(id).input = {values.id(), -1, w.valid() ? w.id() : -1};
  const Matrix<T>& v = tape.value(values.id());
  detail::event_mean_forward(tape, id, events, 1,
                             [&](RowRange r, auto l) { l = v.col(0).segment(r.begin, r.size()); });
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> weighted_mean<float>(Var<float>, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> weighted_mean<double>(Var<double>, OperandOf<double>);
#endif

}  // namespace agnostic
