#pragma once
// The flatness loss of Rogozhnikov, Bukva, Gligorov, Ustyuzhanin & Williams (arXiv:1410.4140, the
// uBoost paper's "FL"), as a tape operation: a Cramer-von Mises-type distance between the score's
// distribution in each bin of a variable m and its distribution over all the events,
//   L = sum_b (W_b / W) * integral (F_b(s) - F(s))^2 ds,
// where F_b is the weighted empirical CDF of the scores of the events in bin b of m (bins of a
// VariableBins, losses/decorrelation_bins.hpp), F the one of every event, W_b the bin's weight
// sum and W = sum_b W_b. The integral runs over the score (ds), as in the paper's FL, not over
// dF as in the classical Cramer-von Mises statistic: with ds the loss is a continuous, piecewise
// linear function of every score, with an exact gradient. (The paper also has a k-nearest-neighbour
// variant; this one uses bins.)
//
// Value: with the scores sorted, s_(0) <= ... <= s_(n-1), the integrand is constant between
// neighbours; after the first t + 1 events it equals sum_b C_b^2 / (W_b W) - (C / W)^2, where C_b and
// C are the weights taken so far in bin b and in all, since sum_b (W_b / W) F_b = F. So
//   L = sum_t (s_(t+1) - s_(t)) (sum_b C_b^2 / (W_b W) - C^2 / W^2),
// one sort and one sweep: O(n log n).
// Gradient: moving s_i by ds moves the step of event i in every D_b = F_b - F; with Dbar_b the mean
// of D_b just below and just above s_i, dL/ds_i = -2 sum_b (W_b / W) c_ib Dbar_b(s_i), where event i's
// step in D_b is c_ib = w_i / W_b - w_i / W in its own bin and -w_i / W elsewhere. As
// sum_b (W_b / W) D_b = 0 everywhere this is
//   dL/ds_i = -2 (w_i / W) Dbar_{b(i)}(s_i),
// exact wherever no two scores are equal (at a tie, one of the one-sided derivatives).
// Events whose bin has weight sum 0 take no part. The weights and the variable receive no gradient.
// Sums are taken in double.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/losses/decorrelation_bins.hpp"

namespace agnostic {

// The flatness loss L of the scores (events x 1) in the bins of the variable (events x 1, a plain
// column), with events x 1 `weights` (a plain column, or absent for unit weights); 1 x 1.
template <class T>
Var<T> flatness_penalty(Var<T> score, OperandOf<T> variable, const VariableBins& bins,
                        OperandOf<T> weights = {}) {
  require(score.valid(), "flatness_penalty: the score is an empty Var");
  Tape<T>& tape = score.tape();
  const Var<T> m = variable.on(tape);
  const Var<T> w = weights.on(tape);
  const Index n = score.rows();
  detail::check_binned_penalty_inputs("flatness_penalty", tape, score, m, w);
  const int id =
      tape.push("flatness_penalty", &detail::stored_score_gradient_backward<T>, tape.needs_grad(score.id()));
  Node<T>& node = tape.node(id);
  node.input = {score.id(), m.id(), w.valid() ? w.id() : -1};
  const Matrix<T>& S = tape.value(score.id());
  const Matrix<T>& M = tape.value(m.id());
  const Matrix<T>* W = w.valid() ? &tape.value(w.id()) : nullptr;
  auto weight = [&](Index i) { return W ? static_cast<double>((*W)(i, 0)) : 1.0; };

  // Each event's bin (node.indices[0, n)) and the score order (node.indices[n, 2n)).
  const int K = bins.bins();
  std::vector<Index>& indices = node.indices;
  indices.resize(2 * static_cast<std::size_t>(n));
  std::vector<double> bin_weight(static_cast<std::size_t>(K), 0.0), taken(bin_weight);
  for (Index i = 0; i < n; ++i) {
    const double mi = static_cast<double>(M(i, 0));
    require(std::isfinite(mi), "flatness_penalty: the variable of event ", i, " is ", mi,
            "; it must be finite");
    require(std::isfinite(static_cast<double>(S(i, 0))), "flatness_penalty: the score of event ", i, " is ",
            S(i, 0), "; it must be finite");
    indices[static_cast<std::size_t>(i)] = bins.bin_of(mi);
    bin_weight[static_cast<std::size_t>(indices[static_cast<std::size_t>(i)])] += weight(i);
  }
  const auto order = indices.begin() + n;
  std::iota(order, indices.end(), Index{0});
  std::sort(order, indices.end(),
            [&](Index a, Index b) { return S(a, 0) < S(b, 0) || (S(a, 0) == S(b, 0) && a < b); });
  double total = 0.0;
  for (double bw : bin_weight)
    if (bw != 0.0) total += bw;

  Matrix<T>& gradient = node.buffer[0];
  gradient.setZero(n, 1);
  node.value.setZero(1, 1);
  if (n < 2 || total == 0.0) return {&tape, id};
  double so_far = 0.0, squares = 0.0, value = 0.0;  // C, sum_b C_b^2 / W_b, L
  for (Index t = 0; t < n; ++t) {
    const Index i = order[t];
    const auto b = static_cast<std::size_t>(indices[static_cast<std::size_t>(i)]);
    if (bin_weight[b] != 0.0) {
      const double wi = weight(i);
      const double before = taken[b] / bin_weight[b] - so_far / total;
      squares += ((taken[b] + wi) * (taken[b] + wi) - taken[b] * taken[b]) / bin_weight[b];
      taken[b] += wi;
      so_far += wi;
      const double after = taken[b] / bin_weight[b] - so_far / total;
      gradient(i, 0) = static_cast<T>(-(wi / total) * (before + after));
    }
    if (t + 1 < n) {
      const double gap = static_cast<double>(S(order[t + 1], 0)) - static_cast<double>(S(i, 0));
      const double fraction = so_far / total;
      value += gap * (squares / total - fraction * fraction);
    }
  }
  node.value(0, 0) = static_cast<T>(value);
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> flatness_penalty<float>(Var<float>, OperandOf<float>, const VariableBins&,
                                                     OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> flatness_penalty<double>(Var<double>, OperandOf<double>, const VariableBins&,
                                                       OperandOf<double>);
#endif

}  // namespace agnostic
