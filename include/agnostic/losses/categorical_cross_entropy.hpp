#pragma once
// Weighted categorical cross-entropy from logits, one fused node (softmax + log + mean):
//   l_i = logsumexp(z_i) - z_{i, y_i}                  (integer labels y_i)
//   l_i = sum_c t_ic (logsumexp(z_i) - z_ic)           (one-hot or probability targets t)
//   L = sum_i w_i l_i / sum_i w_i
// (normalisation and the zero-weight rule: autodiff/weighted_mean.hpp). logsumexp subtracts the
// row maximum, so finite logits of any size (+-500 and beyond) give finite values; the gradient is
// dL/dz_ic = w_i (p_ic sum_c' t_ic' - t_ic) / W with p = softmax(z).
//
// Node layout (besides weighted_mean.hpp's): buffer[1] is events x (C + 1): the softmax
// probabilities, then logsumexp in the last column; integer labels are kept in node.indices.
#include <concepts>
#include <ranges>
#include <utility>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

// Fills probabilities and logsumexp (buffer[1]) for rows r; `scratch` is a column segment to use.
template <class T, class Scratch>
void softmax_and_logsumexp(const Matrix<T>& Z, Matrix<T>& P, RowRange r, Scratch&& scratch) {
  const Index classes = Z.cols();
  const auto z = Z.middleRows(r.begin, r.size()).array();
  auto p = P.block(r.begin, 0, r.size(), classes).array();
  auto lse = P.col(classes).segment(r.begin, r.size()).array();
  lse = z.rowwise().maxCoeff();
  p = (z.colwise() - lse).exp();  // the largest is exp(0) = 1: no overflow
  auto total = scratch.array();
  total = p.rowwise().sum();  // >= 1
  p.colwise() /= total;
  lse += total.log();
}

template <class T>
void cross_entropy_labels_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  const int x = n.input[0];
  if (!tape.needs_grad(x)) return;
  const Matrix<T>& P = n.buffer[1];
  const Index classes = P.cols() - 1, events = P.rows();
  bool add = false;
  Matrix<T>& d = tape.grad_target(x, add);
  parallel_chunks(events, chunk_count(events, events * classes * 2), [&](int, RowRange r) {
    const auto f = factor.segment(r.begin, r.size()).array();
    auto dz = d.middleRows(r.begin, r.size()).array();
    const auto p = P.block(r.begin, 0, r.size(), classes).array();
    if (add)
      dz += p.colwise() * f;
    else
      dz = p.colwise() * f;
    for (Index i = r.begin; i < r.end; ++i) d(i, n.indices[i]) -= factor(i);
  });
}

template <class T>
void cross_entropy_targets_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  const Matrix<T>& P = n.buffer[1];
  const Index classes = P.cols() - 1, events = P.rows();
  const int x = n.input[0], targets = n.input[1];
  const Matrix<T>& Z = tape.value(x);
  const Matrix<T>& Tm = tape.value(targets);
  bool add_x = false, add_t = false;
  Matrix<T>* dZ = tape.needs_grad(x) ? &tape.grad_target(x, add_x) : nullptr;
  Matrix<T>* dT = tape.needs_grad(targets) ? &tape.grad_target(targets, add_t) : nullptr;
  parallel_chunks(events, chunk_count(events, events * classes * 4), [&](int, RowRange r) {
    const auto f = factor.segment(r.begin, r.size()).array();
    const auto t = Tm.middleRows(r.begin, r.size()).array();
    if (dZ) {
      const auto p = P.block(r.begin, 0, r.size(), classes).array();
      auto dz = dZ->middleRows(r.begin, r.size()).array();
      // The row sums of t are not assumed to be 1 (label smoothing, unnormalised targets).
      for (Index j = 0; j < classes; ++j) {
        const auto e = f * (p.col(j) * t.rowwise().sum() - t.col(j));
        if (add_x)
          dz.col(j) += e;
        else
          dz.col(j) = e;
      }
    }
    if (dT) {
      const auto z = Z.middleRows(r.begin, r.size()).array();
      const auto lse = P.col(classes).segment(r.begin, r.size()).array();
      auto dt = dT->middleRows(r.begin, r.size()).array();
      for (Index j = 0; j < classes; ++j) {
        const auto e = f * (lse - z.col(j));
        if (add_t)
          dt.col(j) += e;
        else
          dt.col(j) = e;
      }
    }
  });
}

template <class T>
int push_cross_entropy(Tape<T>& tape, Var<T> logits, Var<T> t, Var<T> w,
                       typename Node<T>::Backward backward) {
  const bool needs = tape.needs_grad(logits.id()) || (t.valid() && tape.needs_grad(t.id())) ||
                     (w.valid() && tape.needs_grad(w.id()));
  const int id = tape.push("categorical_cross_entropy", backward, needs);
  tape.node(id).input = {logits.id(), t.valid() ? t.id() : -1, w.valid() ? w.id() : -1};
  tape.node(id).buffer[1].resize(logits.rows(), logits.cols() + 1);
  return id;
}

template <class T>
void check_logits(const Var<T>& logits) {
  require(logits.valid(), "categorical_cross_entropy: the logits are an empty Var");
  require(logits.cols() >= 1, "categorical_cross_entropy: logits have no columns (one per class expected)");
}

}  // namespace detail

// logits: events x C; labels: one class index in [0, C) per event (std::vector<int>,
// Eigen::VectorXi, any range of integers); weights: events x 1 or absent.
template <class T, std::ranges::range Labels>
requires std::integral<std::ranges::range_value_t<Labels>> Var<T> categorical_cross_entropy(
    Var<T> logits, const Labels& labels, OperandOf<T> weights = {}) {
  detail::check_logits(logits);
  Tape<T>& tape = logits.tape();
  const Index events = logits.rows(), classes = logits.cols();
  const auto count = static_cast<Index>(std::ranges::distance(labels));
  require(count == events, "categorical_cross_entropy: ", count, " labels for ", events,
          " events (one label per event expected)");
  Index i = 0;
  for (const auto label : labels) {
    require(std::cmp_greater_equal(label, 0) && std::cmp_less(label, classes),
            "categorical_cross_entropy: label of event ", i, " is ", static_cast<long long>(label),
            ", expected 0 <= label < ", classes);
    ++i;
  }
  const Var<T> w = weights.on(tape);
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "categorical_cross_entropy");
  const int id =
      detail::push_cross_entropy(tape, logits, Var<T>{}, w, &detail::cross_entropy_labels_backward<T>);
  Node<T>& n = tape.node(id);
  n.indices.resize(static_cast<size_t>(events));
  i = 0;
  for (const auto label : labels) n.indices[static_cast<size_t>(i++)] = static_cast<Index>(label);
  const Matrix<T>& Z = tape.value(logits.id());
  Matrix<T>& P = n.buffer[1];
  detail::event_mean_forward(tape, id, events, classes * 12, [&](RowRange r, auto l) {
    detail::softmax_and_logsumexp(Z, P, r, n.buffer[0].col(1).segment(r.begin, r.size()));
    for (Index e = r.begin; e < r.end; ++e) l(e - r.begin) = P(e, classes) - Z(e, n.indices[e]);
  });
  return {&tape, id};
}

// logits: events x C; targets: events x C one-hot rows or probability rows (non-negative; a Var
// gets the gradient -w_i log softmax(z_i) / W); weights: events x 1 or absent.
template <class T>
Var<T> categorical_cross_entropy(Var<T> logits, OperandOf<T> targets, OperandOf<T> weights = {}) {
  detail::check_logits(logits);
  Tape<T>& tape = logits.tape();
  const Index events = logits.rows(), classes = logits.cols();
  require(targets.present(), "categorical_cross_entropy: the targets are missing");
  const Var<T> t = targets.on(tape);
  require(t.rows() == events && t.cols() == classes, "categorical_cross_entropy: targets are ", t.rows(),
          " x ", t.cols(), ", expected ", events, " x ", classes,
          " (one row per event, one column per class; for class indices pass a std::vector<int>)");
  {
    const Matrix<T>& tv = t.value();
    if (!(tv.array() >= T(0)).all())
      for (Index j = 0; j < classes; ++j)
        for (Index e = 0; e < events; ++e)
          require(tv(e, j) >= T(0), "categorical_cross_entropy: target (", e, ", ", j, ") is ", tv(e, j),
                  ", expected a non-negative probability");
  }
  const Var<T> w = weights.on(tape);
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "categorical_cross_entropy");
  const int id = detail::push_cross_entropy(tape, logits, t, w, &detail::cross_entropy_targets_backward<T>);
  Node<T>& n = tape.node(id);
  const Matrix<T>& Z = tape.value(logits.id());
  const Matrix<T>& Tm = tape.value(t.id());
  Matrix<T>& P = n.buffer[1];
  detail::event_mean_forward(tape, id, events, classes * 14, [&](RowRange r, auto l) {
    detail::softmax_and_logsumexp(Z, P, r, n.buffer[0].col(1).segment(r.begin, r.size()));
    const auto tr = Tm.middleRows(r.begin, r.size()).array();
    const auto zr = Z.middleRows(r.begin, r.size()).array();
    l.array() =
        P.col(classes).segment(r.begin, r.size()).array() * tr.rowwise().sum() - (tr * zr).rowwise().sum();
  });
  return {&tape, id};
}

// The short name used in the design sketch: cross_entropy(logits, labels or targets, weights).
template <class T, class Labels>
Var<T> cross_entropy(Var<T> logits, const Labels& labels, OperandOf<T> weights = {}) {
  return categorical_cross_entropy(logits, labels, weights);
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> categorical_cross_entropy<float>(Var<float>, OperandOf<float>, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> categorical_cross_entropy<double>(Var<double>, OperandOf<double>,
                                                                OperandOf<double>);
#endif

}  // namespace agnostic
