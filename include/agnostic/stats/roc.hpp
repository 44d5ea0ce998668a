#pragma once
// Curves from a cut on a classifier score, weighted: the ROC curve and its area (AUC), and signal
// purity versus signal efficiency (Clavijo et al., arXiv:2005.00568, Fig. 7). An event passes a cut t when
// score >= t. Tied scores move together: a group of tied signal and background events is one diagonal step of
// the ROC curve, so in the AUC a tied signal/background pair counts one half.
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/metric_input.hpp"

namespace agnostic::stats {

// Cumulative signal/background weight above each distinct score, highest score first.
struct CutTable {
  std::vector<double> threshold, signal, background;
  double total_signal = 0.0, total_background = 0.0;
};

namespace detail {
inline CutTable cut_table(const RankedEvents& r) {
  CutTable t;
  t.total_signal = r.total_signal;
  t.total_background = r.total_background;
  double s = 0.0, b = 0.0;
  for (std::size_t k = 0; k < r.score.size(); ++k) {
    (r.signal[k] ? s : b) += r.weight[k];
    // Close a group only after its last tied event.
    if (k + 1 == r.score.size() || r.score[k + 1] != r.score[k]) {
      t.threshold.push_back(r.score[k]);
      t.signal.push_back(s);
      t.background.push_back(b);
    }
  }
  return t;
}
}  // namespace detail

template <class Scores, class Labels, class Weights>
CutTable cut_table(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                   const Eigen::DenseBase<Weights>& weights) {
  return detail::cut_table(detail::ranked(scores, labels, weights, "cut_table"));
}

// True and false positive rates at each distinct threshold, starting at (0, 0) with threshold +inf
// and ending at (1, 1); sklearn's roc_curve with drop_intermediate=False.
struct RocCurve {
  std::vector<double> threshold, false_positive_rate, true_positive_rate;
};

namespace detail {
inline RocCurve roc_curve(const RankedEvents& r, const char* function) {
  require_both_classes(r, function);
  const CutTable t = cut_table(r);
  RocCurve c;
  c.threshold.push_back(std::numeric_limits<double>::infinity());
  c.false_positive_rate.push_back(0.0);
  c.true_positive_rate.push_back(0.0);
  for (std::size_t k = 0; k < t.threshold.size(); ++k) {
    c.threshold.push_back(t.threshold[k]);
    c.false_positive_rate.push_back(t.background[k] / t.total_background);
    c.true_positive_rate.push_back(t.signal[k] / t.total_signal);
  }
  return c;
}

// Trapezoids under the curve: exact for the step function with ties counted one half.
inline double area(const RocCurve& c) {
  double a = 0.0;
  for (std::size_t k = 1; k < c.threshold.size(); ++k)
    a += (c.false_positive_rate[k] - c.false_positive_rate[k - 1]) *
         (c.true_positive_rate[k] + c.true_positive_rate[k - 1]) * 0.5;
  return a;
}
}  // namespace detail

template <class Scores, class Labels>
RocCurve roc_curve(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels) {
  return detail::roc_curve(detail::ranked(scores, labels, "roc_curve"), "roc_curve");
}
template <class Scores, class Labels, class Weights>
RocCurve roc_curve(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                   const Eigen::DenseBase<Weights>& weights) {
  return detail::roc_curve(detail::ranked(scores, labels, weights, "roc_curve"), "roc_curve");
}

// Area under the ROC curve: the probability that a random signal event scores above a random
// background event (weighted), ties counting one half.
template <class Scores, class Labels>
double roc_auc(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels) {
  return detail::area(detail::roc_curve(detail::ranked(scores, labels, "roc_auc"), "roc_auc"));
}
template <class Scores, class Labels, class Weights>
double roc_auc(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
               const Eigen::DenseBase<Weights>& weights) {
  return detail::area(detail::roc_curve(detail::ranked(scores, labels, weights, "roc_auc"), "roc_auc"));
}

// Signal purity s/(s+b) and efficiency s/S above each distinct threshold, highest threshold first.
struct PurityCurve {
  std::vector<double> threshold, efficiency, purity;
};

struct PurityOptions {
  // When set, signal and background are rescaled so that their totals are in the ratio f : (1 - f)
  // (Clavijo et al. uses the expected 5 : 95); otherwise the weights are taken as they are.
  std::optional<double> signal_fraction;
};

namespace detail {
inline PurityCurve purity_curve(const RankedEvents& r, const PurityOptions& options) {
  const char* function = "purity_efficiency_curve";
  require_both_classes(r, function);
  double scale_s = 1.0, scale_b = 1.0;
  if (options.signal_fraction) {
    const double f = *options.signal_fraction;
    require(f > 0.0 && f < 1.0, function, ": signal_fraction is ", f, "; must lie in (0, 1)");
    scale_s = f / r.total_signal;
    scale_b = (1.0 - f) / r.total_background;
  }
  const CutTable t = cut_table(r);
  PurityCurve c;
  for (std::size_t k = 0; k < t.threshold.size(); ++k) {
    const double s = t.signal[k] * scale_s, b = t.background[k] * scale_b;
    require(s + b > 0.0, function, ": selected weight s + b = ", s + b, " at threshold ", t.threshold[k],
            "; purity needs a positive selected weight (check negative event weights)");
    c.threshold.push_back(t.threshold[k]);
    c.efficiency.push_back(t.signal[k] / t.total_signal);
    c.purity.push_back(s / (s + b));
  }
  return c;
}
}  // namespace detail

template <class Scores, class Labels>
PurityCurve purity_efficiency_curve(const Eigen::DenseBase<Scores>& scores,
                                    const Eigen::DenseBase<Labels>& labels,
                                    const PurityOptions& options = {}) {
  return detail::purity_curve(detail::ranked(scores, labels, "purity_efficiency_curve"), options);
}
template <class Scores, class Labels, class Weights>
PurityCurve purity_efficiency_curve(const Eigen::DenseBase<Scores>& scores,
                                    const Eigen::DenseBase<Labels>& labels,
                                    const Eigen::DenseBase<Weights>& weights,
                                    const PurityOptions& options = {}) {
  return detail::purity_curve(detail::ranked(scores, labels, weights, "purity_efficiency_curve"), options);
}

// Purity at a given signal efficiency, linear between the points of the curve (Clavijo et al. quotes p_sig at
// efficiency 0.5).
inline double purity_at_efficiency(const PurityCurve& curve, double efficiency) {
  require(!curve.efficiency.empty(), "purity_at_efficiency: the curve is empty");
  require(efficiency >= curve.efficiency.front() && efficiency <= curve.efficiency.back(),
          "purity_at_efficiency: efficiency ", efficiency, " outside the curve's range [",
          curve.efficiency.front(), ", ", curve.efficiency.back(), "]");
  for (std::size_t k = 1; k < curve.efficiency.size(); ++k) {
    if (curve.efficiency[k] < efficiency) continue;
    const double e0 = curve.efficiency[k - 1], e1 = curve.efficiency[k];
    if (e1 == e0) return curve.purity[k];
    const double t = (efficiency - e0) / (e1 - e0);
    return curve.purity[k - 1] + t * (curve.purity[k] - curve.purity[k - 1]);
  }
  return curve.purity.front();
}

}  // namespace agnostic::stats
