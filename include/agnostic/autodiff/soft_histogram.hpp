#pragma once
// The differentiable ("soft") histogram of Wunsch et al. (arXiv:1907.11674): N weighted values -> K soft bin
// counts.
//
// Bin k, between edges e_k and e_{k+1}, has centre c_k = (e_k + e_{k+1}) / 2 and half-width
// h_k = (e_{k+1} - e_k) / 2. An event of value v and weight w adds w * G_k(v) to bin k, with the
// Gaussian G_k(v) = exp(-(v - c_k)^2 / (2 h_k^2)), normalised to peak 1 (not to area 1):
//   N_k = sum_b w_b exp(-(v_b - c_k)^2 / (2 h_k^2)).
// Every event adds to every bin (an event on an edge adds exp(-1/2) to both neighbours; one
// outside the range still adds its Gaussian tails), and the gradient is exact:
//   dN_k/dv_b = -w_b G_k(v_b) (v_b - c_k) / h_k^2,   dN_k/dw_b = G_k(v_b).
// Events are split over threads; each chunk keeps its own K partial counts and the chunks are
// added in order (deterministic for a given thread count). Under data-parallel training the counts
// are the whole batch's, summed over the processes that share it (core/batch_shard.hpp).
#include <cmath>
#include <utility>
#include <vector>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

// Node layout: input = {values, weights or -1}; buffer[0] = 2 x K (centres; 1 / h_k^2);
// buffer[1] = N x K (G_k(v_b), kept for the backward pass); buffer[2] = chunks x K partial counts;
// scalar[0] = the gradient scale (1 alone).
template <class T>
void soft_histogram_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int values = n.input[0], weights = n.input[1];
  const Matrix<T>& V = tape.value(values);
  const Matrix<T>* W = weights >= 0 ? &tape.value(weights) : nullptr;
  const Matrix<T>& shape = n.buffer[0];
  const Matrix<T>& G = n.buffer[1];
  const Matrix<T>& g = n.grad;  // 1 x K
  const T scale = n.scalar[0];
  const Index events = G.rows(), bins = G.cols();
  const bool need_v = tape.needs_grad(values), need_w = W && tape.needs_grad(weights);
  bool add_v = false, add_w = false;
  Matrix<T>* dV = need_v ? &tape.grad_target(values, add_v) : nullptr;
  Matrix<T>* dW = need_w ? &tape.grad_target(weights, add_w) : nullptr;
  parallel_chunks(events, chunk_count(events, events * bins * 6), [&](int, RowRange r) {
    const auto v = V.col(0).segment(r.begin, r.size()).array();
    if (dV) {
      auto d = dV->col(0).segment(r.begin, r.size()).array();
      if (!add_v) d.setZero();
      for (Index k = 0; k < bins; ++k) {
        const auto gk = G.col(k).segment(r.begin, r.size()).array();
        const T c = shape(0, k), inv_h2 = shape(1, k), gradient = g(0, k) * scale;
        if (W)
          d -= (gradient * inv_h2) * W->col(0).segment(r.begin, r.size()).array() * gk * (v - c);
        else
          d -= (gradient * inv_h2) * gk * (v - c);
      }
    }
    if (dW) {
      auto d = dW->col(0).segment(r.begin, r.size()).array();
      if (!add_w) d.setZero();
      for (Index k = 0; k < bins; ++k) d += (g(0, k) * scale) * G.col(k).segment(r.begin, r.size()).array();
    }
  });
}

}  // namespace detail

// The bins of a soft histogram (any strictly increasing edges); applying it to values records the
// soft counts on the tape.
class SoftHistogram {
 public:
  explicit SoftHistogram(std::vector<double> edges) : edges_(std::move(edges)) {
    require(edges_.size() >= 2, "SoftHistogram: needs at least 2 edges (1 bin), got ", edges_.size());
    for (size_t k = 0; k < edges_.size(); ++k) {
      require(std::isfinite(edges_[k]), "SoftHistogram: edge ", k, " is ", edges_[k],
              ", expected a finite value");
      if (k > 0)
        require(edges_[k] > edges_[k - 1], "SoftHistogram: edges must increase strictly, but edge ", k, " (",
                edges_[k], ") <= edge ", k - 1, " (", edges_[k - 1], ")");
    }
  }

  // `bins` equal bins between low and high.
  static SoftHistogram uniform(int bins, double low, double high) {
    require(bins >= 1, "SoftHistogram::uniform: needs at least 1 bin, got ", bins);
    require(high > low, "SoftHistogram::uniform: needs low < high, got [", low, ", ", high, "]");
    std::vector<double> edges(static_cast<size_t>(bins) + 1);
    for (int k = 0; k <= bins; ++k) edges[static_cast<size_t>(k)] = low + (high - low) * k / bins;
    return SoftHistogram(std::move(edges));
  }

  int bins() const { return static_cast<int>(edges_.size()) - 1; }
  const std::vector<double>& edges() const { return edges_; }
  double centre(int k) const { return 0.5 * (edges_[k] + edges_[k + 1]); }
  double half_width(int k) const { return 0.5 * (edges_[k + 1] - edges_[k]); }

  // The 1 x K soft counts of events x 1 `values` with events x 1 `weights` (a Var, a plain column,
  // or absent for weight 1). Both values and weights receive their exact gradient.
  template <class T>
  Var<T> operator()(Var<T> values, OperandOf<T> weights = {}) const {
    require(values.valid(), "SoftHistogram: the values are an empty Var");
    Tape<T>& tape = values.tape();
    const Var<T> w = weights.on(tape);
    const Index events = values.rows();
    const Index K = bins();
    require(values.cols() == 1, "SoftHistogram: values are ", values.rows(), " x ", values.cols(),
            ", expected ", events, " x 1 (one value per event)");
    if (w.valid())
      require(w.rows() == events && w.cols() == 1, "SoftHistogram: weights are ", w.rows(), " x ", w.cols(),
              ", expected ", events, " x 1 (one weight per event)");
    const bool needs = tape.needs_grad(values.id()) || (w.valid() && tape.needs_grad(w.id()));
    const int id = tape.push("soft_histogram", &detail::soft_histogram_backward<T>, needs);
    Node<T>& n = tape.node(id);
    n.input = {values.id(), w.valid() ? w.id() : -1, -1};
    Matrix<T>& shape = n.buffer[0];
    shape.resize(2, K);
    for (int k = 0; k < K; ++k) {
      shape(0, k) = static_cast<T>(centre(k));
      shape(1, k) = static_cast<T>(1.0 / (half_width(k) * half_width(k)));
    }
    const Matrix<T>& V = tape.value(values.id());
    const Matrix<T>* W = w.valid() ? &tape.value(w.id()) : nullptr;
    Matrix<T>& G = n.buffer[1];
    G.resize(events, K);
    const int chunks = chunk_count(events, events * K * 12);
    Matrix<T>& partial = n.buffer[2];
    partial.resize(chunks, K);
    parallel_chunks(events, chunks, [&](int c, RowRange r) {
      const auto v = V.col(0).segment(r.begin, r.size()).array();
      for (Index k = 0; k < K; ++k) {
        auto gk = G.col(k).segment(r.begin, r.size()).array();
        gk = (T(-0.5) * shape(1, k) * (v - shape(0, k)).square()).exp();
        partial(c, k) = W ? W->col(0).segment(r.begin, r.size()).dot(gk.matrix()) : gk.sum();
      }
    });
    n.value.resize(1, K);
    n.value.row(0) = partial.row(0);
    for (int c = 1; c < chunks; ++c) n.value.row(0) += partial.row(c);
    batch_totals_matrix(n.value);
    n.scalar[0] = static_cast<T>(total_gradient_scale());
    return {&tape, id};
  }

 private:
  std::vector<double> edges_;
};

// soft_histogram(values, histogram, weights): the same as histogram(values, weights).
template <class T>
Var<T> soft_histogram(Var<T> values, const SoftHistogram& histogram, OperandOf<T> weights = {}) {
  return histogram(values, weights);
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> soft_histogram<float>(Var<float>, const SoftHistogram&, OperandOf<float>);
AGNOSTIC_INSTANCE Var<double> soft_histogram<double>(Var<double>, const SoftHistogram&, OperandOf<double>);
#endif

}  // namespace agnostic
