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
#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

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

}  // namespace agnostic
