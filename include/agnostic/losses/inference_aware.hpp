#pragma once
// The inference-aware loss of INFERNO (de Castro & Dorigo, Comput. Phys. Commun. 244 (2019) 170):
// the expected variance of the signal strength, sigma^2(mu) = (I^-1)_mumu, from the Fisher
// information I of an Asimov binned Poisson likelihood built from per-bin expected counts.
//
// Input: a K x R matrix of counts (bins are rows; soft_counts in autodiff/soft_counts.hpp makes
// it), with R = 2 + 4 S columns:
//   0: signal s_k, 1: background b_k (both already scaled to the expected yields),
//   then per shape nuisance j: 2+4j signal up, 3+4j background up, 4+4j signal down,
//   5+4j background down (a class the variation does not touch repeats its nominal column), so
//   that the up and down counts of a shifted-feature variation, each from its own forward pass,
//   are two K x 2 blocks joined with concat_cols.
// Normalisation nuisances (class, relative size r) are constants of the node.
//
// Model, with mu the signal strength, alpha_j the shape and beta_m the normalisation nuisances:
//   nu_k = mu s_k(alpha) f_s(beta) + b_k(alpha) f_b(beta),
//   x_k(alpha) = x_k + sum_j alpha_j (x_up - x_k)   for alpha_j >= 0,
//              = x_k + sum_j alpha_j (x_k - x_down) for alpha_j <  0   (piecewise linear, pyhf code0),
//   f_c(beta) = prod_{m on class c} (1 + r_m)^beta_m                    (pyhf normsys code1 with
//                                                                         hi = 1 + r, lo = 1/(1 + r)),
// each nuisance with a unit Gaussian constraint. The Asimov point is mu = 1, alpha = beta = 0.
// There the piecewise-linear shape has a kink when up and down are asymmetric; the information
// uses the mean of the two one-sided slopes, (x_up - x_down) / 2, which is the slope at 0 of
// pyhf's default histosys interpolation code4p (agnostic fit's default), and is both slopes when
// the variation is symmetric. With D_ik = d nu_k / d theta_i at the Asimov point,
//   I = sum_k D_k D_k^T / nu_k + diag(0, 1, ..., 1),   loss = (I^-1)_00.
// Only first derivatives of the counts enter, so the node's gradient is analytic: with
// u = I^-1 e_0 and a_k = u.D_k / nu_k, dL/dnu_k = a_k^2 and dL/dD_ik = -2 u_i a_k.
// Bins with nu_k <= 0 (empty under a hard assignment) carry no information and are skipped. A
// singular information (no signal in any bin) is an Error, never an infinite or NaN loss.
#include <cmath>
#include <vector>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

// A normalisation nuisance: the yield of one class (signal or background) scaled by (1 + r)^beta.
struct NormalisationNuisance {
  bool on_signal = false;
  double relative = 0.0;  // r > 0
};

namespace detail {

// Node layout: input[0] = counts (K x R); indices = {S, M, on_signal of each normalisation...};
// buffer[0] = D (P x K), buffer[1] = I and its Cholesky factor (P x P), buffer[2] = P x 2
// (column 0: u = I^-1 e_0; column 1, first M rows: log(1 + r_m)). P = 1 + S + M.
template <class T>
void inference_aware_derivatives(const Matrix<T>& C, Index S, Index M, const std::vector<Index>& idx,
                                 const Matrix<T>& logs, Matrix<T>& D) {
  const Index K = C.rows(), P = 1 + S + M;
  D.resize(P, K);
  for (Index k = 0; k < K; ++k) {
    const T s = C(k, 0), b = C(k, 1);
    D(0, k) = s;
    for (Index j = 0; j < S; ++j)
      D(1 + j, k) = T(0.5) * (C(k, 2 + 4 * j) + C(k, 3 + 4 * j) - C(k, 4 + 4 * j) - C(k, 5 + 4 * j));
    for (Index m = 0; m < M; ++m)
      D(1 + S + m, k) = logs(m, 1) * (idx[static_cast<std::size_t>(2 + m)] ? s : b);
  }
}

template <class T>
void inference_aware_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int counts = n.input[0];
  if (!tape.needs_grad(counts)) return;
  const Matrix<T>& C = tape.value(counts);
  const Index S = n.indices[0], M = n.indices[1], K = C.rows(), R = C.cols();
  const Matrix<T>& D = n.buffer[0];
  const Matrix<T>& aux = n.buffer[2];
  const T g = n.grad(0, 0);
  // The normalisation nuisances' pull on each class: sum over m of u_m log(1 + r_m).
  T norm_s = T(0), norm_b = T(0);
  for (Index m = 0; m < M; ++m)
    (n.indices[static_cast<std::size_t>(2 + m)] ? norm_s : norm_b) += aux(1 + S + m, 0) * aux(m, 1);
  bool add = false;
  Matrix<T>& dC = tape.grad_target(counts, add);
  if (!add) dC.setZero(K, R);
  for (Index k = 0; k < K; ++k) {
    const T nu = C(k, 0) + C(k, 1);
    if (!(nu > T(0))) continue;
    T a = T(0);
    for (Index i = 0; i < D.rows(); ++i) a += aux(i, 0) * D(i, k);
    a /= nu;
    const T through_nu = g * a * a;
    dC(k, 0) += through_nu - T(2) * g * a * (aux(0, 0) + norm_s);
    dC(k, 1) += through_nu - T(2) * g * a * norm_b;
    for (Index j = 0; j < S; ++j) {
      const T c = -g * aux(1 + j, 0) * a;  // d/d(up) of D_jk = (up - down)/2 is 1/2
      dC(k, 2 + 4 * j) += c;
      dC(k, 3 + 4 * j) += c;
      dC(k, 4 + 4 * j) -= c;
      dC(k, 5 + 4 * j) -= c;
    }
  }
}

}  // namespace detail

// counts: K x (2 + 4 shape_nuisances) (layout above). Returns the 1 x 1 expected variance of mu.
template <class T>
Var<T> inference_aware_variance(Var<T> counts, Index shape_nuisances,
                                const std::vector<NormalisationNuisance>& normalisations = {}) {
  require(counts.valid(), "inference_aware_variance: the counts are an empty Var");
  require(shape_nuisances >= 0, "inference_aware_variance: shape_nuisances is ", shape_nuisances,
          "; must be >= 0");
  Tape<T>& tape = counts.tape();
  const Index S = shape_nuisances, M = static_cast<Index>(normalisations.size()), P = 1 + S + M;
  require(counts.cols() == 2 + 4 * S && counts.rows() >= 1, "inference_aware_variance: the counts are ",
          counts.rows(), " x ", counts.cols(), "; expected bins x ", 2 + 4 * S,
          " (signal, background, then signal up, background up, signal down, background down for each of ", S,
          " shape nuisances)");
  for (Index m = 0; m < M; ++m) {
    const double r = normalisations[static_cast<std::size_t>(m)].relative;
    require(r > 0.0 && std::isfinite(r), "inference_aware_variance: normalisation ", m, " has relative size ",
            r, "; must be > 0");
  }
  const int id = tape.push("inference_aware_variance", &detail::inference_aware_backward<T>,
                           tape.needs_grad(counts.id()));
  Node<T>& n = tape.node(id);
  n.input = {counts.id(), -1, -1};
  n.indices.resize(static_cast<std::size_t>(2 + M));
  n.indices[0] = S;
  n.indices[1] = M;
  Matrix<T>& aux = n.buffer[2];
  aux.setZero(P, 2);  // P > M always
  for (Index m = 0; m < M; ++m) {
    n.indices[static_cast<std::size_t>(2 + m)] =
        normalisations[static_cast<std::size_t>(m)].on_signal ? 1 : 0;
    aux(m, 1) = static_cast<T>(std::log1p(normalisations[static_cast<std::size_t>(m)].relative));
  }
  const Matrix<T>& C = tape.value(counts.id());
  Matrix<T>& D = n.buffer[0];
  detail::inference_aware_derivatives(C, S, M, n.indices, aux, D);
  // I = sum_k D_k D_k^T / nu_k + constraints, accumulated in double-free plain loops (P is small).
  Matrix<T>& L = n.buffer[1];
  L.setZero(P, P);
  for (Index k = 0; k < C.rows(); ++k) {
    const T nu = C(k, 0) + C(k, 1);
    if (!(nu > T(0))) continue;
    for (Index j = 0; j < P; ++j)
      for (Index i = j; i < P; ++i) L(i, j) += D(i, k) * D(j, k) / nu;
  }
  for (Index i = 1; i < P; ++i) L(i, i) += T(1);
  // In-place Cholesky I = L L^T (lower triangle), then u = I^-1 e_0 by two triangular solves.
  for (Index j = 0; j < P; ++j) {
    T d = L(j, j);
    for (Index q = 0; q < j; ++q) d -= L(j, q) * L(j, q);
    require(
        d > T(0) && std::isfinite(static_cast<double>(d)),
        "inference_aware_variance: the Fisher information is singular or not finite (no signal in any bin "
        "with a positive expected count, or non-finite counts); sigma^2(mu) is undefined");
    L(j, j) = std::sqrt(d);
    for (Index i = j + 1; i < P; ++i) {
      T v = L(i, j);
      for (Index q = 0; q < j; ++q) v -= L(i, q) * L(j, q);
      L(i, j) = v / L(j, j);
    }
  }
  for (Index i = 0; i < P; ++i) {  // L y = e_0
    T v = i == 0 ? T(1) : T(0);
    for (Index q = 0; q < i; ++q) v -= L(i, q) * aux(q, 0);
    aux(i, 0) = v / L(i, i);
  }
  for (Index i = P - 1; i >= 0; --i) {  // L^T u = y
    T v = aux(i, 0);
    for (Index q = i + 1; q < P; ++q) v -= L(q, i) * aux(q, 0);
    aux(i, 0) = v / L(i, i);
  }
  n.value.resize(1, 1);
  n.value(0, 0) = aux(0, 0);
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> inference_aware_variance<float>(Var<float>, Index,
                                                             const std::vector<NormalisationNuisance>&);
AGNOSTIC_INSTANCE Var<double> inference_aware_variance<double>(Var<double>, Index,
                                                               const std::vector<NormalisationNuisance>&);
#endif

}  // namespace agnostic
