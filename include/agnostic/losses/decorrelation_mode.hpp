#pragma once
// MoDe: moment decorrelation (Kitouni, Nachman, Weisser & Williams, arXiv:2010.09745) as tape
// operations: the score's conditional distribution in bins of a variable m is held to a Legendre
// polynomial of order 0, 1 or 2 in m (0: flat; 1 and 2 allow a controlled slope or curvature).
// Two forms, for a batch of events with scores s_i, variable values m_i and weights w_i, in the bins
// of a VariableBins (losses/decorrelation_bins.hpp; bin b has coordinate x_b in [-1, 1]), over the
// bins with W_b = sum_{i in b} w_i > 0, with P_0 = 1, P_1 = x, P_2 = (3 x^2 - 1) / 2, and the weighted
// least-squares fit of values y_b, fit_b(y) = sum_{k<=n} c_k P_k(x_b) with
// c = argmin_c sum_b W_b (y_b - sum_k c_k P_k(x_b))^2 (what numpy's
// `legendre.legfit(x, y, n, w=sqrt(W))` minimises); a batch whose populated bins number at most n + 1
// is fitted exactly and gives 0.
//
// moment_decorrelation_cdf_penalty: the paper's MoDe, on the whole conditional CDF:
//   F_b(s) = sum_{i in b, s_i <= s} w_i / W_b,   r_b(s) = F_b(s) - fit_b(F(s)),
//   L = integral sum_b (W_b / W) r_b(s)^2 ds,   W = sum_b W_b.
// The integral runs over the score (ds), as the paper's; with it L is a continuous, piecewise linear
// function of every score with an exact gradient (the paper uses a surrogate): the fit is a fixed
// projection r = (1 - H) F, so moving s_i (bin b) moves F_b by w_i / W_b and
//   dL/ds_i = -(w_i / W) (r_b(s_i^-) + r_b(s_i^+)),
// r just below and just above s_i. For order 0 the fit is F itself and L is the flatness loss
// (losses/decorrelation_flatness.hpp). One sort and one sweep, updating the K residuals at each
// event: O(n log n + n K).
//
// moment_decorrelation_penalty: the first moment only, the conditional mean,
//   mu_b = sum_{i in b} w_i s_i / W_b,   r_b = mu_b - fit_b(mu),   L = sum_b W_b r_b^2 / W,
// which controls the mean score's dependence on m and not the shape. Order 0 makes it the weighted
// variance of the bins' mean scores. Gradient: dL/ds_i = 2 w_i r_{b(i)} / W.
//
// Neither the variable nor the weights receive a gradient. Sums are taken in double.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/losses/decorrelation_bins.hpp"

namespace agnostic {

// P_k(x), k = 0, 1, 2.
AGNOSTIC_COMPILED_WHEN_USED
inline double legendre_polynomial(int k, double x) {
  if (k == 0) return 1.0;
  if (k == 1) return x;
  return 0.5 * (3.0 * x * x - 1.0);
}

namespace detail {

// Node layout: input = {score, variable, weights or -1}; indices = each event's bin;
// buffer[0] = K x 3: W_b, mu_b, r_b (r_b = 0 for an unused bin); scalar[0] = 1 / sum_b W_b over the
// bins used (0 when the value is the degenerate 0).
template <class T>
void moment_decorrelation_backward(Tape<T>& tape, int self) {
  Node<T>& node = tape.node(self);
  if (node.scalar[0] == T(0)) return;
  const int score = node.input[0];
  const Matrix<T>* weights = node.input[2] >= 0 ? &tape.value(node.input[2]) : nullptr;
  const Matrix<T>& per_bin = node.buffer[0];
  const T factor = T(2) * node.grad(0, 0) * node.scalar[0];
  const Index n = static_cast<Index>(node.indices.size());
  bool add = false;
  Matrix<T>& d = tape.grad_target(score, add);
  for (Index i = 0; i < n; ++i) {
    const T w = weights ? (*weights)(i, 0) : T(1);
    const T g = factor * w * per_bin(node.indices[static_cast<std::size_t>(i)], 2);
    d(i, 0) = add ? d(i, 0) + g : g;
  }
}

}  // namespace detail

// The MoDe penalty L of the scores (events x 1) against the variable (events x 1, a plain column)
// in `bins`, with a Legendre fit of `order` 0, 1 or 2 and events x 1 `weights` (a plain column, or
// absent for unit weights); 1 x 1.
template <class T>
Var<T> moment_decorrelation_penalty(Var<T> score, OperandOf<T> variable, const VariableBins& bins, int order,
                                    OperandOf<T> weights = {}) {
  require(score.valid(), "moment_decorrelation_penalty: the score is an empty Var");
  require(order >= 0 && order <= 2, "moment_decorrelation_penalty: the Legendre order is ", order,
          "; allowed: 0, 1 or 2");
  Tape<T>& tape = score.tape();
  const Var<T> m = variable.on(tape);
  const Var<T> w = weights.on(tape);
  const Index n = score.rows();
  detail::check_binned_penalty_inputs("moment_decorrelation_penalty", tape, score, m, w);
  const int id = tape.push("moment_decorrelation_penalty", &detail::moment_decorrelation_backward<T>,
                           tape.needs_grad(score.id()));
  Node<T>& node = tape.node(id);
  node.input = {score.id(), m.id(), w.valid() ? w.id() : -1};
  const Matrix<T>& S = tape.value(score.id());
  const Matrix<T>& M = tape.value(m.id());
  const Matrix<T>* W = w.valid() ? &tape.value(w.id()) : nullptr;
  const int K = bins.bins();
  std::vector<double> bin_weight(static_cast<std::size_t>(K), 0.0), bin_sum(bin_weight);
  node.indices.resize(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const double mi = static_cast<double>(M(i, 0));
    require(std::isfinite(mi), "moment_decorrelation_penalty: the variable of event ", i, " is ", mi,
            "; it must be finite");
    const int b = bins.bin_of(mi);
    node.indices[static_cast<std::size_t>(i)] = b;
    const double wi = W ? static_cast<double>((*W)(i, 0)) : 1.0;
    bin_weight[static_cast<std::size_t>(b)] += wi;
    bin_sum[static_cast<std::size_t>(b)] += wi * static_cast<double>(S(i, 0));
  }
  Matrix<T>& per_bin = node.buffer[0];
  per_bin.setZero(K, 3);
  node.scalar[0] = T(0);
  node.value.setZero(1, 1);
  const int terms = order + 1;
  int used = 0;
  double used_weight = 0.0;
  Eigen::MatrixXd normal = Eigen::MatrixXd::Zero(terms, terms);
  Eigen::VectorXd right = Eigen::VectorXd::Zero(terms);
  std::vector<double> mean(static_cast<std::size_t>(K), 0.0);
  for (int b = 0; b < K; ++b) {
    const std::size_t bb = static_cast<std::size_t>(b);
    if (!(bin_weight[bb] > 0.0)) continue;
    ++used;
    used_weight += bin_weight[bb];
    mean[bb] = bin_sum[bb] / bin_weight[bb];
    per_bin(b, 0) = static_cast<T>(bin_weight[bb]);
    per_bin(b, 1) = static_cast<T>(mean[bb]);
    const double x = bins.coordinate(b);
    for (int k = 0; k < terms; ++k) {
      right(k) += bin_weight[bb] * legendre_polynomial(k, x) * mean[bb];
      for (int l = 0; l < terms; ++l)
        normal(k, l) += bin_weight[bb] * legendre_polynomial(k, x) * legendre_polynomial(l, x);
    }
  }
  if (used <= terms) return {&tape, id};  // the fit goes through every populated bin: L = 0
  const Eigen::VectorXd coefficients = normal.ldlt().solve(right);
  double total = 0.0;
  for (int b = 0; b < K; ++b) {
    const std::size_t bb = static_cast<std::size_t>(b);
    if (!(bin_weight[bb] > 0.0)) continue;
    double fit = 0.0;
    for (int k = 0; k < terms; ++k) fit += coefficients(k) * legendre_polynomial(k, bins.coordinate(b));
    const double residual = mean[bb] - fit;
    per_bin(b, 2) = static_cast<T>(residual);
    total += bin_weight[bb] * residual * residual;
  }
  node.scalar[0] = static_cast<T>(1.0 / used_weight);
  node.value(0, 0) = static_cast<T>(total / used_weight);
  return {&tape, id};
}

namespace detail {

// The residual projector 1 - H of the weighted Legendre fit over the bins `used` (their weights and
// coordinates): r = (1 - H) y for values y of those bins. K_used x K_used, in double.
AGNOSTIC_COMPILED_WHEN_USED
inline Eigen::MatrixXd legendre_residual_projector(const std::vector<double>& weight,
                                                   const std::vector<double>& coordinate, int order) {
  const auto K = static_cast<Index>(weight.size());
  const int terms = order + 1;
  Eigen::MatrixXd P(K, terms);
  for (Index b = 0; b < K; ++b)
    for (int k = 0; k < terms; ++k) P(b, k) = legendre_polynomial(k, coordinate[static_cast<std::size_t>(b)]);
  const Eigen::VectorXd w = Eigen::Map<const Eigen::VectorXd>(weight.data(), K);
  const Eigen::MatrixXd normal = P.transpose() * w.asDiagonal() * P;
  // H = P (P^T W P)^-1 P^T W
  const Eigen::MatrixXd hat = P * normal.ldlt().solve(P.transpose() * w.asDiagonal());
  return Eigen::MatrixXd::Identity(K, K) - hat;
}

}  // namespace detail

// MoDe on the conditional CDF (see the top of the file): the penalty L of the scores (events x 1)
// against the variable (events x 1, a plain column) in `bins`, with a Legendre fit of `order` 0, 1 or
// 2 and events x 1 `weights` (a plain column, or absent for unit weights); 1 x 1.
template <class T>
Var<T> moment_decorrelation_cdf_penalty(Var<T> score, OperandOf<T> variable, const VariableBins& bins,
                                        int order, OperandOf<T> weights = {}) {
  require(score.valid(), "moment_decorrelation_cdf_penalty: the score is an empty Var");
  require(order >= 0 && order <= 2, "moment_decorrelation_cdf_penalty: the Legendre order is ", order,
          "; allowed: 0, 1 or 2");
  Tape<T>& tape = score.tape();
  const Var<T> m = variable.on(tape);
  const Var<T> w = weights.on(tape);
  const Index n = score.rows();
  detail::check_binned_penalty_inputs("moment_decorrelation_cdf_penalty", tape, score, m, w);
  const int id = tape.push("moment_decorrelation_cdf_penalty", &detail::stored_score_gradient_backward<T>,
                           tape.needs_grad(score.id()));
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
  std::vector<double> bin_weight(static_cast<std::size_t>(K), 0.0);
  for (Index i = 0; i < n; ++i) {
    const double mi = static_cast<double>(M(i, 0));
    require(std::isfinite(mi), "moment_decorrelation_cdf_penalty: the variable of event ", i, " is ", mi,
            "; it must be finite");
    require(std::isfinite(static_cast<double>(S(i, 0))),
            "moment_decorrelation_cdf_penalty: the score of event ", i, " is ", S(i, 0),
            "; it must be finite");
    indices[static_cast<std::size_t>(i)] = bins.bin_of(mi);
    bin_weight[static_cast<std::size_t>(indices[static_cast<std::size_t>(i)])] += weight(i);
  }
  // The bins used (W_b > 0), renumbered 0..used-1; -1 for the others.
  std::vector<int> slot(static_cast<std::size_t>(K), -1);
  std::vector<double> used_weight, used_coordinate;
  double total = 0.0;
  for (int b = 0; b < K; ++b)
    if (bin_weight[static_cast<std::size_t>(b)] > 0.0) {
      slot[static_cast<std::size_t>(b)] = static_cast<int>(used_weight.size());
      used_weight.push_back(bin_weight[static_cast<std::size_t>(b)]);
      used_coordinate.push_back(bins.coordinate(b));
      total += bin_weight[static_cast<std::size_t>(b)];
    }
  Matrix<T>& gradient = node.buffer[0];
  gradient.setZero(n, 1);
  node.value.setZero(1, 1);
  const auto used = static_cast<Index>(used_weight.size());
  if (n < 2 || used <= order + 1) return {&tape, id};  // the fit goes through every populated bin: L = 0
  const Eigen::MatrixXd projector = detail::legendre_residual_projector(used_weight, used_coordinate, order);

  const auto order_begin = indices.begin() + n;
  std::iota(order_begin, indices.end(), Index{0});
  std::sort(order_begin, indices.end(),
            [&](Index a, Index b) { return S(a, 0) < S(b, 0) || (S(a, 0) == S(b, 0) && a < b); });
  Eigen::VectorXd residual = Eigen::VectorXd::Zero(used);  // r(s) = (1 - H) F(s) after the events swept
  double value = 0.0;
  for (Index t = 0; t < n; ++t) {
    const Index i = order_begin[t];
    const int b = slot[static_cast<std::size_t>(indices[static_cast<std::size_t>(i)])];
    if (b >= 0) {
      const double wi = weight(i);
      const double before = residual(b);
      residual += (wi / used_weight[static_cast<std::size_t>(b)]) * projector.col(b);
      gradient(i, 0) = static_cast<T>(-(wi / total) * (before + residual(b)));
    }
    if (t + 1 < n) {
      const double gap = static_cast<double>(S(order_begin[t + 1], 0)) - static_cast<double>(S(i, 0));
      if (gap > 0.0) {
        double squares = 0.0;
        for (Index k = 0; k < used; ++k)
          squares += used_weight[static_cast<std::size_t>(k)] * residual(k) * residual(k);
        value += gap * squares / total;
      }
    }
  }
  node.value(0, 0) = static_cast<T>(value);
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> moment_decorrelation_penalty<float>(Var<float>, OperandOf<float>,
                                                                 const VariableBins&, int, OperandOf<float>);
AGNOSTIC_INSTANCE Var<float> moment_decorrelation_cdf_penalty<float>(Var<float>, OperandOf<float>,
                                                                     const VariableBins&, int,
                                                                     OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> moment_decorrelation_penalty<double>(Var<double>, OperandOf<double>,
                                                                   const VariableBins&, int,
                                                                   OperandOf<double>);
AGNOSTIC_INSTANCE Var<double> moment_decorrelation_cdf_penalty<double>(Var<double>, OperandOf<double>,
                                                                       const VariableBins&, int,
                                                                       OperandOf<double>);
#endif

}  // namespace agnostic
