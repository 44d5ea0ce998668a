#pragma once
// soft_counts(p, w): per-bin counts of soft bin assignments, C = p^T w.
//
// p is events x K (each row one event's bin probabilities, e.g. a temperature softmax), w is
// events x R (one column per series of event weights: signal nominal, background nominal, a
// variation's weights, ...). The result is K x R: C(k, r) = sum_i w(i, r) p(i, k), the weighted
// soft count of bin k for series r. Bins are rows so that series from different forward passes
// (a shifted-feature variation) join with concat_cols. The inference-aware loss
// (losses/inference_aware.hpp) reads these counts. Under data-parallel training the counts are the
// whole batch's, summed over the processes that share it (core/batch_shard.hpp); scalar[0] holds
// the gradient scale (1 alone).
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/threads.hpp"

namespace agnostic {

namespace detail {

template <class T>
void soft_counts_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int p = n.input[0], w = n.input[1];
  // dL/dp = w dC^T (events x K); dL/dw = p dC (events x R)
  const T scale = n.scalar[0];
  const SingleThreadedEigenScope one_thread;  // products over all events, outside a chunk
  if (tape.needs_grad(p)) tape.add_grad(p, scale * (tape.value(w) * n.grad.transpose()));
  if (tape.needs_grad(w)) tape.add_grad(w, scale * (tape.value(p) * n.grad));
}

}  // namespace detail

// p: events x K, w: events x R (a Var or a plain matrix). Returns the K x R counts p^T w.
template <class T>
Var<T> soft_counts(Var<T> p, OperandOf<T> w) {
  require(p.valid(), "soft_counts: the probabilities are an empty Var");
  Tape<T>& tape = p.tape();
  require(w.present(), "soft_counts: no event weights given");
  const Var<T> wv = w.on(tape);
  require(wv.rows() == p.rows() && wv.cols() >= 1, "soft_counts: weights are ", wv.rows(), " x ", wv.cols(),
          " but the probabilities have ", p.rows(), " events (expected ", p.rows(), " x R)");
  const bool needs = tape.needs_grad(p.id()) || tape.needs_grad(wv.id());
  const int id = tape.push("soft_counts", &detail::soft_counts_backward<T>, needs);
  Node<T>& n = tape.node(id);
  n.input = {p.id(), wv.id(), -1};
  n.value.resize(p.cols(), wv.cols());
  const SingleThreadedEigenScope one_thread;
  n.value.noalias() = tape.value(p.id()).transpose() * tape.value(wv.id());
  batch_totals_matrix(n.value);
  n.scalar[0] = static_cast<T>(total_gradient_scale());
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> soft_counts<float>(Var<float>, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> soft_counts<double>(Var<double>, OperandOf<double>);
#endif

}  // namespace agnostic
