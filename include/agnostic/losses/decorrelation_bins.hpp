#pragma once
// VariableBins: the bins of the variable a classifier must not sculpt (a mass, mT, pT), for the
// binned decorrelation penalties (losses/decorrelation_mode.hpp, losses/decorrelation_flatness.hpp)
// and the JSD figure (stats/decorrelation_metrics.hpp).
//
// K bins between K + 1 strictly increasing edges e_0 < ... < e_K. Bin k holds e_k <= v < e_{k+1};
// a value below e_0 falls into bin 0 and one at or above e_K into bin K - 1, so every finite value
// has a bin (a batch may reach past the range the edges were taken from).
//
// equal_population(values, K) puts the same number of the given values into every bin (the
// issue's "equal-population bins of the variable over the training set"): with the values sorted,
// v_(0) <= ... <= v_(n-1), edge k (0 < k < K) is the midpoint (v_(j-1) + v_(j)) / 2 with
// j = round(k n / K), so exactly j values lie below it; e_0 = v_(0) and e_K = v_(n-1). Counts are
// of events, not of weights.
//
// The Legendre coordinate of bin k (MoDe's fit) is its centre mapped onto [-1, 1] by the outer
// edges: x_k = 2 ((e_k + e_{k+1}) / 2 - e_0) / (e_K - e_0) - 1.
//
// Also here, what the binned penalties share: the checks of their inputs, and the backward of a
// penalty whose forward sweep already stored dL/ds_i.
#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/error.hpp"

namespace agnostic {

class VariableBins {
 public:
  explicit VariableBins(std::vector<double> edges) : edges_(std::move(edges)) {
    require(edges_.size() >= 2, "VariableBins: needs at least 2 edges (1 bin), got ", edges_.size());
    for (std::size_t k = 0; k < edges_.size(); ++k) {
      require(std::isfinite(edges_[k]), "VariableBins: edge ", k, " is ", edges_[k],
              ", expected a finite value");
      if (k > 0)
        require(edges_[k] > edges_[k - 1], "VariableBins: edges must increase strictly, but edge ", k, " (",
                edges_[k], ") <= edge ", k - 1, " (", edges_[k - 1], ")");
    }
  }

  // K bins holding the same number of `values` each (see the top of the file).
  static VariableBins equal_population(std::span<const double> values, int bins) {
    require(bins >= 1, "VariableBins::equal_population: needs at least 1 bin, got ", bins);
    const std::size_t n = values.size();
    require(n >= static_cast<std::size_t>(bins) && n >= 2, "VariableBins::equal_population: ", n,
            " values cannot fill ", bins, " bins; give at least as many values as bins (and at least 2)");
    std::vector<double> sorted(values.begin(), values.end());
    for (std::size_t i = 0; i < n; ++i)
      require(std::isfinite(sorted[i]), "VariableBins::equal_population: value ", i, " is ", sorted[i],
              "; the variable must be finite");
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> edges(static_cast<std::size_t>(bins) + 1);
    edges.front() = sorted.front();
    edges.back() = sorted.back();
    for (int k = 1; k < bins; ++k) {
      const auto j = static_cast<std::size_t>(
          std::llround(static_cast<double>(k) * static_cast<double>(n) / static_cast<double>(bins)));
      const double below = sorted[j - 1], above = sorted[j];
      if (!(above > below))
        fail("VariableBins::equal_population: the variable has too few distinct values for ", bins,
             " equal-population bins (the value ", below, " repeats across the boundary of bins ", k - 1,
             " and ", k, "); use fewer bins");
      edges[static_cast<std::size_t>(k)] = 0.5 * (below + above);
    }
    require(edges.back() > edges.front(), "VariableBins::equal_population: every value is ", edges.front(),
            "; a constant variable has no bins");
    return VariableBins(std::move(edges));
  }

  int bins() const { return static_cast<int>(edges_.size()) - 1; }
  const std::vector<double>& edges() const { return edges_; }

  // The bin of a value; values outside [e_0, e_K) go to the outer bins.
  int bin_of(double value) const {
    const auto interior_begin = edges_.begin() + 1, interior_end = edges_.end() - 1;
    return static_cast<int>(std::upper_bound(interior_begin, interior_end, value) - interior_begin);
  }

  // Bin k's centre on [-1, 1] (the argument of MoDe's Legendre polynomials).
  double coordinate(int k) const {
    const double centre =
        0.5 * (edges_[static_cast<std::size_t>(k)] + edges_[static_cast<std::size_t>(k) + 1]);
    return 2.0 * (centre - edges_.front()) / (edges_.back() - edges_.front()) - 1.0;
  }

 private:
  std::vector<double> edges_;
};

namespace detail {

// The inputs of the binned penalty `name`: the score events x 1 (the Var the penalty differentiates),
// the variable and the weights plain events x 1 columns (the weights may be absent), and the whole
// batch on this process (the bins' CDFs need every event of the batch).
template <class T>
void check_binned_penalty_inputs(const char* name, const Tape<T>& tape, const Var<T>& score, const Var<T>& m,
                                 const Var<T>& w) {
  const Index n = score.rows();
  require(score.cols() == 1, name, ": the score is ", score.rows(), " x ", score.cols(),
          ", expected events x 1 (one value per event)");
  require(m.valid() && m.rows() == n && m.cols() == 1, name, ": the variable is ", m.valid() ? m.rows() : 0,
          " x ", m.valid() ? m.cols() : 0, ", expected ", n, " x 1");
  require(!tape.needs_grad(m.id()), name,
          ": the variable is a Var that needs a gradient; it only chooses bins");
  if (w.valid()) {
    require(w.rows() == n && w.cols() == 1, name, ": the weights are ", w.rows(), " x ", w.cols(),
            ", expected ", n, " x 1 (one weight per event)");
    require(!tape.needs_grad(w.id()), name,
            ": the weights are a Var that needs a gradient; event weights receive none here (pass them as a "
            "plain column)");
  }
  require(!batch_shard().shared(), name,
          " needs the whole batch and is not available under data-parallel training; train on one process");
}

// Backward of a penalty node whose forward sweep stored dL/ds_i in buffer[0] (events x 1);
// input[0] is the score.
template <class T>
void stored_score_gradient_backward(Tape<T>& tape, int self) {
  Node<T>& node = tape.node(self);
  tape.add_grad(node.input[0], node.grad(0, 0) * node.buffer[0]);
}

}  // namespace detail

}  // namespace agnostic
