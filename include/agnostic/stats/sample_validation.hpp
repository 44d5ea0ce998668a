#pragma once
// Validation of an ancestral-sampling model (Chisholm et al., arXiv:2112.00650 sec. 2.5): the sampled
// pseudo-events against the control-region data they were built from, per variable, and their linear
// correlations (Chisholm et al. fig. 4).
//
// Per variable: a two-sample chi^2 of the shapes in the variable's bins (both histograms normalised
// to unit area; each bin's variance is the sum of squared weights over the squared total, so weighted
// data are allowed), with ndf = (bins with content in either sample) - 1 and its p-value; and the
// two-sample K-S distance with its p-value (stats/ks.hpp). The binned chi^2 is the test of what the
// model claims: inside a bin the sampler draws uniformly, so with many events the K-S test also sees
// the shape inside each bin, which the templates by construction do not describe.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/histogram.hpp"
#include "agnostic/stats/ks.hpp"

namespace agnostic::stats {

// Q(a, x) = Gamma(a, x) / Gamma(a), the regularised upper incomplete gamma function (series for
// x < a + 1, Lentz's continued fraction otherwise).
AGNOSTIC_COMPILED_WHEN_USED
inline double upper_incomplete_gamma_ratio(double a, double x) {
  require(a > 0.0 && x >= 0.0 && std::isfinite(a),
          "upper_incomplete_gamma_ratio: needs a > 0 and x >= 0, got a = ", a, ", x = ", x);
  if (x == 0.0) return 1.0;
  if (std::isinf(x)) return 0.0;
  const double log_prefactor = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 10000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::abs(term) < std::abs(sum) * 1e-16) break;
    }
    return std::clamp(1.0 - sum * std::exp(log_prefactor), 0.0, 1.0);
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int n = 1; n < 10000; ++n) {
    const double an = -n * (n - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < 1e-16) break;
  }
  return std::clamp(std::exp(log_prefactor) * h, 0.0, 1.0);
}

// P(chi^2_ndf > x).
AGNOSTIC_COMPILED_WHEN_USED
inline double chi2_survival(double x, int ndf) {
  require(ndf >= 1, "chi2_survival: ndf must be >= 1, got ", ndf);
  return upper_incomplete_gamma_ratio(0.5 * ndf, 0.5 * std::max(0.0, x));
}

struct VariableComparison {
  std::string name;
  double chi2 = 0.0;
  int ndf = 0;
  double chi2_p_value = 1.0;
  double ks_distance = 0.0;
  double ks_p_value = 1.0;
  double mean_control = 0.0, mean_sampled = 0.0;
  double sd_control = 0.0, sd_sampled = 0.0;
};

struct SampleValidation {
  std::vector<VariableComparison> variables;
  double control_events = 0.0;  // sum of weights of the control events compared
  Index sampled_events = 0;
  MatrixD correlation_control, correlation_sampled;
  double max_correlation_difference = 0.0;
};

namespace sample_validation_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline MatrixD weighted_correlation(const MatrixD& x, const VectorD& w) {
  const double total = w.sum();
  const VectorD mean = (x.transpose() * w) / total;
  const MatrixD centred = x.rowwise() - mean.transpose();
  const MatrixD cov = centred.transpose() * w.asDiagonal() * centred / total;
  const VectorD sd = cov.diagonal().cwiseSqrt();
  MatrixD r = cov.cwiseQuotient(sd * sd.transpose());
  for (Index i = 0; i < r.rows(); ++i)
    for (Index j = 0; j < r.cols(); ++j)
      if (!std::isfinite(r(i, j))) r(i, j) = i == j ? 1.0 : 0.0;  // a constant variable
  return r;
}

}  // namespace sample_validation_detail

// control: one row per control-region event, one column per variable (weights: one per event);
// sampled: the pseudo-events, same columns; axes: each variable's binning. Only control events inside
// every axis' range are compared when `inside_only` (the events a Flow::drop sampler was built from).
AGNOSTIC_COMPILED_WHEN_USED
inline SampleValidation compare_samples(const MatrixD& control, const VectorD& weights,
                                        const MatrixD& sampled, const std::vector<std::string>& names,
                                        const std::vector<Axis>& axes, bool inside_only = true) {
  using sample_validation_detail::weighted_correlation;
  const Index n_vars = static_cast<Index>(names.size());
  require(control.cols() == n_vars && sampled.cols() == n_vars && static_cast<Index>(axes.size()) == n_vars,
          "compare_samples: ", names.size(), " variables but control has ", control.cols(),
          " columns, sampled ", sampled.cols(), ", and ", axes.size(), " axes are given");
  require(weights.size() == control.rows(), "compare_samples: ", control.rows(), " control events but ",
          weights.size(), " weights");
  require(sampled.rows() > 1, "compare_samples: needs at least 2 sampled events, got ", sampled.rows());
  std::vector<Index> rows;
  for (Index r = 0; r < control.rows(); ++r) {
    bool keep = weights(r) != 0.0;
    for (Index v = 0; keep && inside_only && v < n_vars; ++v) {
      const Index bin = axes[static_cast<std::size_t>(v)].locate(control(r, v));
      keep = bin >= 0 && bin < axes[static_cast<std::size_t>(v)].bins();
    }
    if (keep) rows.push_back(r);
  }
  require(rows.size() > 1, "compare_samples: fewer than 2 control events lie inside the variables' ranges");
  MatrixD c(static_cast<Index>(rows.size()), n_vars);
  VectorD cw(static_cast<Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    c.row(static_cast<Index>(k)) = control.row(rows[k]);
    cw(static_cast<Index>(k)) = weights(rows[k]);
  }
  const VectorD sw = VectorD::Ones(sampled.rows());

  SampleValidation out;
  out.control_events = cw.sum();
  out.sampled_events = sampled.rows();
  for (Index v = 0; v < n_vars; ++v) {
    const Axis& axis = axes[static_cast<std::size_t>(v)];
    Histogram hc(axis, Flow::drop), hs(axis, Flow::drop);
    hc.fill(c.col(v), cw);
    hs.fill(sampled.col(v), sw);
    VariableComparison cmp;
    cmp.name = names[static_cast<std::size_t>(v)];
    const VectorD vc = hc.values(), ec = hc.variances(), vs = hs.values(), es = hs.variances();
    const double tc = vc.sum(), ts = vs.sum();
    int filled = 0;
    for (Index b = 0; b < vc.size(); ++b) {
      const double variance = (tc > 0.0 ? ec(b) / (tc * tc) : 0.0) + (ts > 0.0 ? es(b) / (ts * ts) : 0.0);
      if (variance <= 0.0) continue;
      const double diff = (tc > 0.0 ? vc(b) / tc : 0.0) - (ts > 0.0 ? vs(b) / ts : 0.0);
      cmp.chi2 += diff * diff / variance;
      ++filled;
    }
    cmp.ndf = std::max(1, filled - 1);
    cmp.chi2_p_value = chi2_survival(cmp.chi2, cmp.ndf);
    const KsResult ks = ks_test(c.col(v), sampled.col(v), cw, sw);
    cmp.ks_distance = ks.statistic;
    cmp.ks_p_value = ks.p_value;
    cmp.mean_control = c.col(v).dot(cw) / cw.sum();
    cmp.mean_sampled = sampled.col(v).mean();
    cmp.sd_control = std::sqrt((c.col(v).array() - cmp.mean_control).square().matrix().dot(cw) / cw.sum());
    cmp.sd_sampled = std::sqrt((sampled.col(v).array() - cmp.mean_sampled).square().mean());
    out.variables.push_back(cmp);
  }
  out.correlation_control = weighted_correlation(c, cw);
  out.correlation_sampled = weighted_correlation(sampled, sw);
  out.max_correlation_difference = (out.correlation_control - out.correlation_sampled).cwiseAbs().maxCoeff();
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json to_json(const SampleValidation& v) {
  nlohmann::json vars = nlohmann::json::array();
  std::vector<std::string> names;
  for (const auto& c : v.variables) {
    names.push_back(c.name);
    vars.push_back({{"name", c.name},
                    {"chi2", c.chi2},
                    {"ndf", c.ndf},
                    {"chi2_p_value", c.chi2_p_value},
                    {"ks_distance", c.ks_distance},
                    {"ks_p_value", c.ks_p_value},
                    {"mean_control", c.mean_control},
                    {"mean_sampled", c.mean_sampled},
                    {"sd_control", c.sd_control},
                    {"sd_sampled", c.sd_sampled}});
  }
  auto matrix = [](const MatrixD& m) {
    nlohmann::json rows = nlohmann::json::array();
    for (Index i = 0; i < m.rows(); ++i) {
      nlohmann::json row = nlohmann::json::array();
      for (Index j = 0; j < m.cols(); ++j) row.push_back(m(i, j));
      rows.push_back(row);
    }
    return rows;
  };
  return {{"control_events", v.control_events},
          {"sampled_events", v.sampled_events},
          {"variables", vars},
          {"correlation",
           {{"names", names},
            {"control", matrix(v.correlation_control)},
            {"sampled", matrix(v.correlation_sampled)},
            {"max_abs_difference", v.max_correlation_difference}}}};
}

}  // namespace agnostic::stats
