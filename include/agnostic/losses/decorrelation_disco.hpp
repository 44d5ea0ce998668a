#pragma once
// DisCo: the squared distance correlation dCor^2(x, y) of a batch, as a tape operation
// (Kasieczka & Shih, arXiv:2001.05310): L = L_class + lambda dCor^2(score, variable) decorrelates a
// classifier's score from a variable such as the mass.
//
// Weighted form (the one of the authors' code, where the weights are normalised to mean 1; here to
// sum 1, which is the same): with w^_i = w_i / sum_k w_k,
//   a_ij = |x_i - x_j|,  abar_i = sum_j w^_j a_ij,  abar = sum_i w^_i abar_i,
//   A_ij = a_ij - abar_i - abar_j + abar                      (and B, bbar from y alike)
//   V(x, y) = sum_ij w^_i w^_j A_ij B_ij                      (the squared distance covariance)
//   dCor^2(x, y) = V(x, y) / sqrt(V(x, x) V(y, y)).
// Unit weights give Szekely's V-statistic dCor^2 of the batch. The value is 0 (with zero gradient)
// when the batch has fewer than 2 events, when the weights sum to 0, or when V(x, x) V(y, y) <= 0
// (a constant score or variable; with negative weights, a batch whose distance variances are not
// positive).
//
// Gradient (B does not depend on x, and sum_j w^_j A_ij = 0, so V(x, y) = sum_ij w^_i w^_j a_ij B_ij):
//   dV(x, y)/dx_k = 2 w^_k sum_j w^_j sign(x_k - x_j) B_kj,
//   dV(x, x)/dx_k = 4 w^_k sum_j w^_j sign(x_k - x_j) A_kj,
//   d dCor^2/dx_k = 2 w^_k sum_j w^_j sign(x_k - x_j) (B_kj / sqrt(V(x,x) V(y,y)) - dCor^2 A_kj / V(x,x)),
// and the same with x and y, A and B exchanged for y (when the variable is a Var that needs one).
// The weights receive no gradient (they are event weights, not parameters).
//
// The kernel is fused: no B x B matrix is stored. The forward pass makes two passes over the pairs
// (the row means abar_i, bbar_i; then each row's sums of w^_j A_ij B_ij, w^_j A_ij^2, w^_j B_ij^2,
// rebuilding row i of A and B into a scratch row), and the backward pass rebuilds each row once
// more, inside one fused expression per gradient. Rows are split over threads (core/threads.hpp); every row's
// sums are taken in the same order by whichever thread owns it and the per-row results are added serially in
// row order, so the value and the gradient are the same bits for every thread count. Memory: O(B) per event
// plus one scratch row of B values per thread.
//
// The penalty couples every pair of events in the batch, so it is not available under data-parallel
// training (core/batch_shard.hpp), where each process holds a part of the batch.
#include <cmath>
#include <limits>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/threads.hpp"

namespace agnostic {

namespace detail {

// Node layout: input = {x, y, weights or -1};
// buffer[0] = events x 6: w^, abar_i, bbar_i, then row i's sums of w^_j A_ij B_ij, w^_j A_ij^2, w^_j B_ij^2;
// buffer[1] = events x (2 chunks): each chunk's scratch rows of A and B;
// buffer[2] = 1 x 7: abar, bbar, V(x,y), V(x,x), V(y,y), dCor^2, 1 when the value is not the
// degenerate 0.
enum DiscoColumn : Index {
  kDiscoWeight = 0,
  kDiscoRowMeanX,
  kDiscoRowMeanY,
  kDiscoRowXY,
  kDiscoRowXX,
  kDiscoRowYY
};
enum DiscoScalar : Index {
  kDiscoMeanX = 0,
  kDiscoMeanY,
  kDiscoCovXY,
  kDiscoVarX,
  kDiscoVarY,
  kDiscoValue,
  kDiscoValid
};

// About the scalar operations per pair of events of one pass.
inline constexpr long kDiscoWorkPerPair = 16;

// Rows i of the double-centred A and B: a_j = |x_j - x_i| - abar_j - (abar_i - abar).
template <class T, class Out>
void disco_centred_row(const Matrix<T>& v, const Matrix<T>& per_event, Index mean_column, T grand_mean,
                       Index i, Out&& out) {
  const auto values = v.col(0).array();
  const auto means = per_event.col(mean_column).array();
  out = (values - values(i)).abs() - means - (means(i) - grand_mean);
}

template <class T>
void distance_correlation_forward(Tape<T>& tape, int id) {
  Node<T>& node = tape.node(id);
  const Matrix<T>& X = tape.value(node.input[0]);
  const Matrix<T>& Y = tape.value(node.input[1]);
  const Matrix<T>* weights = node.input[2] >= 0 ? &tape.value(node.input[2]) : nullptr;
  const Index n = X.rows();
  Matrix<T>& per_event = node.buffer[0];
  Matrix<T>& scalars = node.buffer[2];
  per_event.resize(n, 6);
  scalars.setZero(1, 7);
  node.value.setZero(1, 1);
  double total = 0.0;
  for (Index i = 0; i < n; ++i) total += weights ? static_cast<double>((*weights)(i, 0)) : 1.0;
  if (n < 2 || total == 0.0) return;
  if (weights)
    per_event.col(kDiscoWeight) = weights->col(0) / static_cast<T>(total);
  else
    per_event.col(kDiscoWeight).setConstant(static_cast<T>(1.0 / total));

  const int chunks = chunk_count(n, n * n * kDiscoWorkPerPair);
  const auto w = per_event.col(kDiscoWeight).array();
  // Pass 1: the weighted row means of a and b.
  parallel_chunks(n, chunks, [&](int, RowRange r) {
    const auto x = X.col(0).array(), y = Y.col(0).array();
    for (Index i = r.begin; i < r.end; ++i) {
      per_event(i, kDiscoRowMeanX) = (w * (x - x(i)).abs()).sum();
      per_event(i, kDiscoRowMeanY) = (w * (y - y(i)).abs()).sum();
    }
  });
  const T mean_x = (w * per_event.col(kDiscoRowMeanX).array()).sum();
  const T mean_y = (w * per_event.col(kDiscoRowMeanY).array()).sum();
  // Pass 2: each row's weighted sums of A B, A^2 and B^2.
  Matrix<T>& scratch = node.buffer[1];
  scratch.resize(n, 2 * chunks);
  parallel_chunks(n, chunks, [&](int c, RowRange r) {
    auto a = scratch.col(2 * c).array();
    auto b = scratch.col(2 * c + 1).array();
    for (Index i = r.begin; i < r.end; ++i) {
      disco_centred_row(X, per_event, kDiscoRowMeanX, mean_x, i, a);
      disco_centred_row(Y, per_event, kDiscoRowMeanY, mean_y, i, b);
      per_event(i, kDiscoRowXY) = (w * a * b).sum();
      per_event(i, kDiscoRowXX) = (w * a.square()).sum();
      per_event(i, kDiscoRowYY) = (w * b.square()).sum();
    }
  });
  const T cov = (w * per_event.col(kDiscoRowXY).array()).sum();
  const T var_x = (w * per_event.col(kDiscoRowXX).array()).sum();
  const T var_y = (w * per_event.col(kDiscoRowYY).array()).sum();
  scalars(0, kDiscoMeanX) = mean_x;
  scalars(0, kDiscoMeanY) = mean_y;
  scalars(0, kDiscoCovXY) = cov;
  scalars(0, kDiscoVarX) = var_x;
  scalars(0, kDiscoVarY) = var_y;
  if (!(var_x > T(0) && var_y > T(0))) return;
  const T value = cov / std::sqrt(var_x * var_y);
  scalars(0, kDiscoValue) = value;
  scalars(0, kDiscoValid) = T(1);
  node.value(0, 0) = value;
}

template <class T>
void distance_correlation_backward(Tape<T>& tape, int self) {
  Node<T>& node = tape.node(self);
  const Matrix<T>& scalars = node.buffer[2];
  if (scalars(0, kDiscoValid) == T(0)) return;  // the degenerate 0: no gradient
  const int xid = node.input[0], yid = node.input[1];
  const Matrix<T>& X = tape.value(xid);
  const Matrix<T>& Y = tape.value(yid);
  const Matrix<T>& per_event = node.buffer[0];
  const Index n = X.rows();
  const T g = node.grad(0, 0);
  const T var_x = scalars(0, kDiscoVarX), var_y = scalars(0, kDiscoVarY), value = scalars(0, kDiscoValue);
  const T inverse_norm = T(1) / std::sqrt(var_x * var_y);
  const T over_var_x = value / var_x, over_var_y = value / var_y;
  const T mean_x = scalars(0, kDiscoMeanX), mean_y = scalars(0, kDiscoMeanY);
  bool add_x = false, add_y = false;
  Matrix<T>* dX = tape.needs_grad(xid) ? &tape.grad_target(xid, add_x) : nullptr;
  Matrix<T>* dY = tape.needs_grad(yid) ? &tape.grad_target(yid, add_y) : nullptr;
  const int chunks = chunk_count(n, n * n * kDiscoWorkPerPair);
  const auto w = per_event.col(kDiscoWeight).array();
  // sign(d) as d / max(|d|, smallest normal): exactly +-1 (IEEE division of equal magnitudes) or 0, and,
  // unlike Eigen's sign(), vectorised (5x faster here).
  const T tiny = std::numeric_limits<T>::min();
  const auto x = X.col(0).array(), y = Y.col(0).array();
  const auto mean_row_x = per_event.col(kDiscoRowMeanX).array(),
             mean_row_y = per_event.col(kDiscoRowMeanY).array();
  // Row k of A and B as expressions: each gradient is one fused pass over the row, nothing stored.
  parallel_chunks(n, chunks, [&](int, RowRange r) {
    for (Index k = r.begin; k < r.end; ++k) {
      const auto a = (x - x(k)).abs() - mean_row_x - (mean_row_x(k) - mean_x);
      const auto b = (y - y(k)).abs() - mean_row_y - (mean_row_y(k) - mean_y);
      const T factor = T(2) * g * w(k);
      if (dX) {
        const auto d = x(k) - x;
        const T gx = factor * (w * (d / d.abs().max(tiny)) * (inverse_norm * b - over_var_x * a)).sum();
        (*dX)(k, 0) = add_x ? (*dX)(k, 0) + gx : gx;
      }
      if (dY) {
        const auto d = y(k) - y;
        const T gy = factor * (w * (d / d.abs().max(tiny)) * (inverse_norm * a - over_var_y * b)).sum();
        (*dY)(k, 0) = add_y ? (*dY)(k, 0) + gy : gy;
      }
    }
  });
}

}  // namespace detail

// dCor^2(x, y) over the events of a batch (events x 1 each) with events x 1 `weights` (a plain
// column, or absent for unit weights); 1 x 1. `variable` is a plain column (the usual case: the mass)
// or a Var, which then also receives its gradient.
template <class T>
Var<T> distance_correlation_squared(Var<T> x, OperandOf<T> variable, OperandOf<T> weights = {}) {
  require(x.valid(), "distance_correlation_squared: the score is an empty Var");
  Tape<T>& tape = x.tape();
  const Var<T> y = variable.on(tape);
  require(y.valid(), "distance_correlation_squared: the variable is missing");
  const Var<T> w = weights.on(tape);
  const Index n = x.rows();
  require(x.cols() == 1, "distance_correlation_squared: the score is ", x.rows(), " x ", x.cols(),
          ", expected events x 1 (one value per event)");
  require(y.rows() == n && y.cols() == 1, "distance_correlation_squared: the variable is ", y.rows(), " x ",
          y.cols(), ", expected ", n, " x 1 (one value per event)");
  if (w.valid()) {
    require(w.rows() == n && w.cols() == 1, "distance_correlation_squared: the weights are ", w.rows(), " x ",
            w.cols(), ", expected ", n, " x 1 (one weight per event)");
    require(!tape.needs_grad(w.id()),
            "distance_correlation_squared: the weights are a Var that needs a gradient; event weights "
            "receive none here (pass them as a plain column)");
  }
  require(!batch_shard().shared(),
          "distance_correlation_squared (DisCo) couples every pair of events of the batch and is not "
          "available under data-parallel training; train on one process");
  const bool needs = tape.needs_grad(x.id()) || tape.needs_grad(y.id());
  const int id = tape.push("distance_correlation_squared", &detail::distance_correlation_backward<T>, needs);
  tape.node(id).input = {x.id(), y.id(), w.valid() ? w.id() : -1};
  detail::distance_correlation_forward(tape, id);
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> distance_correlation_squared<float>(Var<float>, OperandOf<float>,
                                                                 OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> distance_correlation_squared<double>(Var<double>, OperandOf<double>,
                                                                   OperandOf<double>);
#endif

}  // namespace agnostic
