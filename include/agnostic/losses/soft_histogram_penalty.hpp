#pragma once
// The penalty Lambda of Wunsch et al. (arXiv:1907.11674) on a nominal and a varied soft histogram
// (autodiff/soft_histogram.hpp):
//   Lambda = (1/K) sum_k ((N_k(nominal) - N_k(varied)) / N_k(nominal))^2.
// Empty nominal bins: a bin with |N_k(nominal)| <= epsilon is skipped (its term and its gradient are
// 0; it still counts in the 1/K), so a bin the nominal sample does not populate can never give 0/0
// or an infinite ratio. epsilon defaults to 1e-6 in units of the summed event weights: far below
// one event of weight 1, and below any bin that the Gaussian tails of a batch fill. Several
// systematic variations add their penalties: L = L' + sum_l lambda_l Lambda_l.
#include <cmath>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

inline constexpr double kSoftHistogramPenaltyEpsilon = 1e-6;

namespace detail {

template <class T>
void soft_histogram_penalty_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int nominal = n.input[0], varied = n.input[1];
  const Matrix<T>& N = tape.value(nominal);
  const Matrix<T>& V = tape.value(varied);
  const Index K = N.cols();
  const T k = n.grad(0, 0) * T(2) / static_cast<T>(K);
  const T epsilon = n.scalar[0];
  bool add_n = false, add_v = false;
  Matrix<T>* dN = tape.needs_grad(nominal) ? &tape.grad_target(nominal, add_n) : nullptr;
  Matrix<T>* dV = tape.needs_grad(varied) ? &tape.grad_target(varied, add_v) : nullptr;
  for (Index b = 0; b < K; ++b) {
    // term = r^2 with r = 1 - v/n: dterm/dv = -2 r / n, dterm/dn = 2 r v / n^2
    T gn = T(0), gv = T(0);
    if (std::abs(N(0, b)) > epsilon) {
      const T ratio = T(1) - V(0, b) / N(0, b);
      gv = -k * ratio / N(0, b);
      gn = k * ratio * V(0, b) / (N(0, b) * N(0, b));
    }
    if (dN) (*dN)(0, b) = add_n ? (*dN)(0, b) + gn : gn;
    if (dV) (*dV)(0, b) = add_v ? (*dV)(0, b) + gv : gv;
  }
}

}  // namespace detail

// nominal, varied: 1 x K soft counts of the same bins. Returns the 1 x 1 penalty.
template <class T>
Var<T> soft_histogram_penalty(Var<T> nominal, Var<T> varied, double epsilon = kSoftHistogramPenaltyEpsilon) {
  Tape<T>& tape = same_tape(nominal, varied, "soft_histogram_penalty");
  require(nominal.rows() == 1 && nominal.cols() >= 1, "soft_histogram_penalty: the nominal histogram is ",
          nominal.rows(), " x ", nominal.cols(), ", expected 1 x K");
  require(varied.rows() == 1 && varied.cols() == nominal.cols(),
          "soft_histogram_penalty: the varied histogram is ", varied.rows(), " x ", varied.cols(),
          ", expected 1 x ", nominal.cols(), " (the nominal's bins)");
  require(epsilon >= 0.0, "soft_histogram_penalty: epsilon must be >= 0, got ", epsilon);
  const bool needs = tape.needs_grad(nominal.id()) || tape.needs_grad(varied.id());
  const int id = tape.push("soft_histogram_penalty", &detail::soft_histogram_penalty_backward<T>, needs);
  Node<T>& n = tape.node(id);
  n.input = {nominal.id(), varied.id(), -1};
  n.scalar[0] = static_cast<T>(epsilon);
  const Matrix<T>& N = tape.value(nominal.id());
  const Matrix<T>& V = tape.value(varied.id());
  T total = T(0);
  for (Index b = 0; b < N.cols(); ++b)
    if (std::abs(N(0, b)) > n.scalar[0]) {
      const T ratio = T(1) - V(0, b) / N(0, b);
      total += ratio * ratio;
    }
  n.value.resize(1, 1);
  n.value(0, 0) = total / static_cast<T>(N.cols());
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> soft_histogram_penalty<float>(Var<float>, Var<float>, double);
AGNOSTIC_INSTANCE Var<double> soft_histogram_penalty<double>(Var<double>, Var<double>, double);
#endif

}  // namespace agnostic
