#pragma once
// Approximate median significance (AMS).
//
// ams(s, b, sigma_b): Clavijo et al. (arXiv:2005.00568) eq. 5.1, summed over the bins of the classifier
// response,
//   AMS^2 = sum_i 2[(s_i + b_i) ln((s_i + b_i)/b0_i) - s_i - b_i + b0_i] + (b_i - b0_i)^2 / sigma_i^2,
//   b0_i  = (b_i - sigma_i^2 + sqrt((b_i - sigma_i^2)^2 + 4 (s_i + b_i) sigma_i^2)) / 2,
// i.e. the profile-likelihood discovery significance with a Gaussian constraint of width sigma_i on
// the background (b0_i is the background that best fits s_i + b_i under the background-only
// hypothesis). With sigma_b from background_uncertainty(): sigma_i^2 = (b_i - b_alt_i)^2 / 2 + (0.1 b_i)^2.
//
// ams_higgsml(s, b): the HiggsML challenge's sqrt(2((s + b + b_r) ln(1 + s/(b + b_r)) - s)), b_r = 10.
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/metric_input.hpp"
#include "agnostic/stats/roc.hpp"

namespace agnostic::stats {

// The squared AMS contribution of one bin (eq. 5.1a inside the sum).
inline double ams_squared_term(double s, double b, double sigma_b) {
  require(std::isfinite(s) && s >= 0.0, "ams: signal count ", s, " must be finite and >= 0");
  require(std::isfinite(b) && b >= 0.0, "ams: background count ", b, " must be finite and >= 0");
  require(std::isfinite(sigma_b) && sigma_b >= 0.0, "ams: background uncertainty sigma_b ", sigma_b,
          " must be finite and >= 0");
  if (s == 0.0) return 0.0;  // b0 = b: no excess, no pull
  const double var = sigma_b * sigma_b;
  if (var == 0.0) {
    require(b > 0.0, "ams: a bin has signal ", s,
            " but background 0 with sigma_b 0, so its AMS is infinite; merge bins or give sigma_b > 0");
    return 2.0 * ((s + b) * std::log1p(s / b) - s);
  }
  const double d = b - var;
  const double b0 = 0.5 * (d + std::sqrt(d * d + 4.0 * (s + b) * var));
  const double pull = b - b0;
  const double term = 2.0 * ((s + b) * std::log((s + b) / b0) - s - b + b0) + pull * pull / var;
  return std::max(0.0, term);  // >= 0 analytically; clip rounding below zero
}

template <class Signal, class Background, class Sigma>
double ams(const Eigen::DenseBase<Signal>& signal, const Eigen::DenseBase<Background>& background,
           const Eigen::DenseBase<Sigma>& sigma_b) {
  const std::vector<double> s = detail::to_doubles(signal, "ams", "signal count");
  const std::vector<double> b = detail::to_doubles(background, "ams", "background count");
  const std::vector<double> e = detail::to_doubles(sigma_b, "ams", "sigma_b");
  detail::require_not_empty("ams", "signal counts", s.size());
  detail::require_same_length("ams", "signal bins", s.size(), "background bins", b.size());
  detail::require_same_length("ams", "signal bins", s.size(), "sigma_b bins", e.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < s.size(); ++i) sum += ams_squared_term(s[i], b[i], e[i]);
  return std::sqrt(sum);
}

// sigma_b per bin as in Clavijo et al.: half the squared difference to the alternative background
// model plus a flat relative uncertainty (10 % there), added in quadrature.
template <class Background, class Alternative>
Vector<double> background_uncertainty(const Eigen::DenseBase<Background>& background,
                                      const Eigen::DenseBase<Alternative>& alternative,
                                      double flat_fraction = 0.1) {
  const std::vector<double> b =
      detail::to_doubles(background, "background_uncertainty", "background count", false);
  const std::vector<double> a =
      detail::to_doubles(alternative, "background_uncertainty", "alternative count", false);
  detail::require_same_length("background_uncertainty", "background bins", b.size(), "alternative bins",
                              a.size());
  require(std::isfinite(flat_fraction) && flat_fraction >= 0.0, "background_uncertainty: flat_fraction ",
          flat_fraction, " must be finite and >= 0");
  Vector<double> sigma(static_cast<Index>(b.size()));
  for (std::size_t i = 0; i < b.size(); ++i) {
    const double diff = b[i] - a[i], flat = flat_fraction * b[i];
    sigma(static_cast<Index>(i)) = std::sqrt(0.5 * diff * diff + flat * flat);
  }
  return sigma;
}

inline constexpr double kHiggsMLRegularisation = 10.0;

inline double ams_higgsml(double s, double b, double b_reg = kHiggsMLRegularisation) {
  require(std::isfinite(s) && s >= 0.0, "ams_higgsml: signal ", s, " must be finite and >= 0");
  require(std::isfinite(b) && b >= 0.0, "ams_higgsml: background ", b, " must be finite and >= 0");
  require(std::isfinite(b_reg) && b + b_reg > 0.0, "ams_higgsml: b + b_reg = ", b + b_reg, " must be > 0");
  const double bb = b + b_reg;
  return std::sqrt(std::max(0.0, 2.0 * ((s + bb) * std::log1p(s / bb) - s)));
}

// The cut on the score (keep score >= threshold) with the largest HiggsML AMS; s and b are the
// selected weights. Among equal maxima the highest threshold wins.
struct AmsCut {
  double threshold = 0.0, ams = 0.0, signal = 0.0, background = 0.0;
};

namespace detail {
inline AmsCut best_ams_cut(const RankedEvents& r, double b_reg) {
  const CutTable t = cut_table(r);
  AmsCut best;
  best.ams = -1.0;
  for (std::size_t k = 0; k < t.threshold.size(); ++k) {
    // Negative event weights can make a partial sum dip below zero; those cuts are not physical.
    if (t.signal[k] < 0.0 || t.background[k] < 0.0) continue;
    const double z = ams_higgsml(t.signal[k], t.background[k], b_reg);
    if (z > best.ams) best = {t.threshold[k], z, t.signal[k], t.background[k]};
  }
  require(best.ams >= 0.0, "best_ams_cut: no cut has non-negative selected signal and background weights");
  return best;
}
}  // namespace detail

template <class Scores, class Labels, class Weights>
AmsCut best_ams_cut(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                    const Eigen::DenseBase<Weights>& weights, double b_reg = kHiggsMLRegularisation) {
  return detail::best_ams_cut(detail::ranked(scores, labels, weights, "best_ams_cut"), b_reg);
}
template <class Scores, class Labels>
AmsCut best_ams_cut(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                    double b_reg = kHiggsMLRegularisation) {
  return detail::best_ams_cut(detail::ranked(scores, labels, "best_ams_cut"), b_reg);
}

}  // namespace agnostic::stats
