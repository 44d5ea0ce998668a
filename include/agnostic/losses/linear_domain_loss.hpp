#pragma once
// The linear domain loss of DANN set-up B (Clavijo et al., arXiv:2005.00568 eq. 4.4): the domain classifier
// has a linear output y_i, and
//   l_i = -y_i for a source event,  +y_i for a target event,   L = sum_i w_i l_i / sum_i w_i
// (normalisation and the zero-weight rule: autodiff/weighted_mean.hpp). Its gradient does not
// depend on y: dL/dy_i = -+ w_i / W, which is what made set-up B's training steadier in Clavijo et al.
#include <concepts>
#include <ranges>
#include <type_traits>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"

namespace agnostic {

namespace detail {

// node.indices holds the sign of each event's term: -1 (source) or +1 (target).
template <class T>
void linear_domain_loss_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const auto factor = event_mean_backward_factor(tape, n);
  const int y = n.input[0];
  if (!tape.needs_grad(y)) return;
  bool add = false;
  Matrix<T>& d = tape.grad_target(y, add);
  const Index events = d.rows();
  parallel_chunks(events, chunk_count(events, events), [&](int, RowRange r) {
    for (Index i = r.begin; i < r.end; ++i) {
      const T g = static_cast<T>(n.indices[static_cast<size_t>(i)]) * factor(i);
      d(i, 0) = add ? d(i, 0) + g : g;
    }
  });
}

}  // namespace detail

// outputs: events x 1 (the linear domain output); is_source: one entry per event, 1 for a source
// event and 0 for a target event (any range of integers, bools or numbers that are exactly 0 or 1);
// weights: events x 1 or absent.
template <class T, std::ranges::range Domains>
requires std::is_arithmetic_v<std::ranges::range_value_t<Domains>> Var<T> linear_domain_loss(
    Var<T> outputs, const Domains& is_source, OperandOf<T> weights = {}) {
  require(outputs.valid(), "linear_domain_loss: the outputs are an empty Var");
  Tape<T>& tape = outputs.tape();
  const Index events = outputs.rows();
  require(outputs.cols() == 1, "linear_domain_loss: outputs are ", outputs.rows(), " x ", outputs.cols(),
          ", expected ", events, " x 1 (a linear domain output, one per event)");
  const auto count = static_cast<Index>(std::ranges::distance(is_source));
  require(count == events, "linear_domain_loss: ", count, " domain flags for ", events,
          " events (one per event expected)");
  Index i = 0;
  for (const auto flag : is_source) {
    const double value = static_cast<double>(flag);
    require(value == 0.0 || value == 1.0, "linear_domain_loss: domain flag of event ", i, " is ", value,
            ", expected 1 (source) or 0 (target)");
    ++i;
  }
  const Var<T> w = weights.on(tape);
  detail::check_event_weights(tape, w.valid() ? w.id() : -1, events, "linear_domain_loss");
  const bool needs = tape.needs_grad(outputs.id()) || (w.valid() && tape.needs_grad(w.id()));
  const int id = tape.push("linear_domain_loss", &detail::linear_domain_loss_backward<T>, needs);
  Node<T>& n = tape.node(id);
  n.input = {outputs.id(), -1, w.valid() ? w.id() : -1};
  n.indices.resize(static_cast<size_t>(events));
  i = 0;
  for (const auto flag : is_source)
    n.indices[static_cast<size_t>(i++)] = static_cast<double>(flag) == 1.0 ? -1 : 1;
  const Matrix<T>& Y = tape.value(outputs.id());
  detail::event_mean_forward(tape, id, events, 1, [&](RowRange r, auto l) {
    for (Index e = r.begin; e < r.end; ++e)
      l(e - r.begin) = static_cast<T>(n.indices[static_cast<size_t>(e)]) * Y(e, 0);
  });
  return {&tape, id};
}

}  // namespace agnostic
