#pragma once
// pull_summary: the mean and width of a set of pulls, (fitted - true) / error, with their standard
// errors — the figures of a bias study over toys or over synthetic data sets (`fit --toys`,
// stats/toys.hpp; examples/generative and examples/ancestral, Chisholm et al.'s (arXiv:2112.00650) ensemble
// tests).
//
// Over the n pulls that are not NaN (a NaN marks a fit that failed; it is counted in `skipped`):
//   mean        = sum p / n
//   width       = sqrt( (sum p^2 - n mean^2) / (n - 1) )       the sample standard deviation
//   mean_error  = width / sqrt(n)
//   width_error = width / sqrt(2 (n - 1))                      exact for Gaussian pulls as n grows
// The sums run in the order given, so the same pulls give the same bits. With n = 1 the width and
// both errors are 0; with n = 0 everything is 0. A negative rounding residue under the root is 0.
#include <algorithm>
#include <cmath>

namespace agnostic::stats {

struct PullSummary {
  int count = 0;    // pulls used
  int skipped = 0;  // NaN pulls left out
  double mean = 0.0, mean_error = 0.0;
  double width = 0.0, width_error = 0.0;

  bool operator==(const PullSummary&) const = default;
};

// `pulls`: any range of numbers (a std::vector<double>, a column of an Eigen matrix, ...).
template <class Range>
PullSummary pull_summary(const Range& pulls) {
  PullSummary s;
  double sum = 0.0, sum2 = 0.0;
  for (const auto& value : pulls) {
    const double p = static_cast<double>(value);
    if (std::isnan(p)) {
      ++s.skipped;
      continue;
    }
    sum += p;
    sum2 += p * p;
    ++s.count;
  }
  if (s.count == 0) return s;
  const double n = static_cast<double>(s.count);
  s.mean = sum / n;
  if (s.count == 1) return s;
  s.width = std::sqrt(std::max(0.0, (sum2 - n * s.mean * s.mean) / (n - 1.0)));
  s.mean_error = s.width / std::sqrt(n);
  s.width_error = s.width / std::sqrt(2.0 * (n - 1.0));
  return s;
}

}  // namespace agnostic::stats
