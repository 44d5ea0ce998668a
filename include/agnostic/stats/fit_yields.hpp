#pragma once
// Pre-fit and post-fit yields of a BinnedLikelihood per channel, sample and bin with the uncertainty
// band of their sum, and the correlation matrix of a fit: what a physicist looks at after a fit (the
// stacked templates against the data, and which parameters the data could not tell apart).
//
// The band is linear error propagation: sigma_b^2 = J_b C J_b^T with J_b = d nu_b / d theta (central
// differences of the unclipped sum of the samples) and C the parameters' covariance: post-fit, the
// fit's inverse Hessian; pre-fit, the constraint widths (Gaussian: sigma^2; Poisson gamma ~
// Poisson(gamma tau) / tau: 1 / tau) on the diagonal, 0 for unconstrained and fixed parameters (their
// pre-fit range is no uncertainty), as cabinetry does.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"

namespace agnostic::stats {

namespace fit_yields_detail {

// A fit with Hessian errors: a covariance of the model's size that is not all zero when something
// floated (a fit with no floating parameter has a zero covariance and is fine).
AGNOSTIC_COMPILED_WHEN_USED
inline bool has_covariance(const BinnedLikelihood& model, const FitResult& best) {
  if (best.covariance.rows() != model.n_params() || best.covariance.cols() != model.n_params() ||
      best.floating.size() != static_cast<std::size_t>(model.n_params()))
    return false;
  const bool any_floating =
      std::find(best.floating.begin(), best.floating.end(), true) != best.floating.end();
  return !any_floating || (best.covariance.size() > 0 && best.covariance.cwiseAbs().maxCoeff() > 0.0);
}

}  // namespace fit_yields_detail

struct ChannelYields {
  std::string name;
  std::vector<std::pair<std::string, Eigen::VectorXd>> samples;  // (sample name, yield per bin)
  Eigen::VectorXd total;                                         // sum of the samples per bin
  Eigen::VectorXd data;                                          // the main-bin data fitted
  Eigen::VectorXd uncertainty;                                   // 1 sigma band of `total` per bin
};

// d nu_b / d theta_i of the unclipped sum of the samples (one row per main bin), central differences
// with the step 1e-6 max(1, |theta_i|); parameters with `floating` false get a zero column.
AGNOSTIC_COMPILED_WHEN_USED
inline Eigen::MatrixXd yield_jacobian(const BinnedLikelihood& model, const Eigen::VectorXd& params,
                                      const std::vector<bool>& floating) {
  auto total = [&](const Eigen::VectorXd& x) {
    Eigen::VectorXd nu = Eigen::VectorXd::Zero(model.n_main());
    for (const auto& s : model.sample_yields(x)) nu.segment(s.offset, s.yields.size()) += s.yields;
    return nu;
  };
  Eigen::MatrixXd j = Eigen::MatrixXd::Zero(model.n_main(), model.n_params());
  for (int i = 0; i < model.n_params(); ++i) {
    if (!floating[static_cast<std::size_t>(i)]) continue;
    const double h = 1e-6 * std::max(1.0, std::abs(params[i]));
    Eigen::VectorXd up = params, down = params;
    up[i] += h;
    down[i] -= h;
    j.col(i) = (total(up) - total(down)) / (2.0 * h);
  }
  return j;
}

// The yields at `params` per channel and sample, with the band sqrt(diag(J C J^T)) of their sum.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ChannelYields> channel_yields(const BinnedLikelihood& model, const Data& data,
                                                 const Eigen::VectorXd& params,
                                                 const Eigen::MatrixXd& covariance) {
  require(covariance.rows() == model.n_params() && covariance.cols() == model.n_params(),
          "channel_yields: covariance is ", covariance.rows(), " x ", covariance.cols(), ", the model has ",
          model.n_params(), " parameters");
  require(data.main.size() == model.n_main(), "channel_yields: data has ", data.main.size(),
          " main bins, the model has ", model.n_main());
  std::vector<bool> floating(static_cast<std::size_t>(model.n_params()));
  for (int i = 0; i < model.n_params(); ++i)
    floating[static_cast<std::size_t>(i)] = covariance.row(i).cwiseAbs().maxCoeff() > 0.0;
  const Eigen::MatrixXd j = yield_jacobian(model, params, floating);
  const Eigen::VectorXd variance = (j * covariance * j.transpose()).diagonal();
  const auto samples = model.sample_yields(params);
  std::vector<ChannelYields> out;
  for (const auto& c : model.channels()) {
    ChannelYields y;
    y.name = c.name;
    y.total = Eigen::VectorXd::Zero(c.bins);
    for (const auto& s : samples)
      if (s.channel == c.name) {
        y.samples.emplace_back(s.name, s.yields);
        y.total += s.yields;
      }
    y.data = data.main.segment(c.offset, c.bins);
    y.uncertainty = variance.segment(c.offset, c.bins).cwiseMax(0.0).cwiseSqrt();
    out.push_back(std::move(y));
  }
  return out;
}

// The pre-fit covariance: constraint widths squared on the diagonal (see the header comment).
AGNOSTIC_COMPILED_WHEN_USED
inline Eigen::MatrixXd prefit_covariance(const BinnedLikelihood& model) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(model.n_params(), model.n_params());
  for (int i = 0; i < model.n_params(); ++i) {
    const auto& p = model.parameter(i);
    if (model.fixed()[static_cast<std::size_t>(i)]) continue;
    if (p.constraint == Constraint::gaussian) c(i, i) = p.sigma * p.sigma;
    if (p.constraint == Constraint::poisson) c(i, i) = 1.0 / p.tau;
  }
  return c;
}

// Pre-fit: the model at its initial values with the pre-fit covariance.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ChannelYields> prefit_yields(const BinnedLikelihood& model, const Data& data) {
  return channel_yields(model, data, model.init(), prefit_covariance(model));
}

// Post-fit: the model at the best fit with the fit's covariance.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ChannelYields> postfit_yields(const BinnedLikelihood& model, const Data& data,
                                                 const FitResult& best) {
  require(fit_yields_detail::has_covariance(model, best),
          "postfit_yields: the fit has no covariance (FitOptions::hesse was false)");
  return channel_yields(model, data, best.values, best.covariance);
}

// One message per (channel, sample, bin) whose expected yield at `params` is negative, prefixed with
// `where` ("prefit", "postfit"): the likelihood uses the bin's total over the samples, and the clip
// policy replaces a total <= 0 by 1e-10 (likelihood.hpp), which the message says.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::string> negative_yield_warnings(const BinnedLikelihood& model,
                                                        const Eigen::VectorXd& params,
                                                        const std::string& where) {
  const auto samples = model.sample_yields(params);
  Eigen::VectorXd total = Eigen::VectorXd::Zero(model.n_main());
  for (const auto& s : samples) total.segment(s.offset, s.yields.size()) += s.yields;
  std::vector<std::string> out;
  for (const auto& s : samples)
    for (Eigen::Index b = 0; b < s.yields.size(); ++b) {
      if (!(s.yields[b] < 0.0)) continue;
      const double sum = total[s.offset + b];
      std::ostringstream m;
      m << where << ": channel '" << s.channel << "' sample '" << s.name << "' bin " << b
        << ": expected yield " << s.yields[b] << " is negative; the bin's total " << sum;
      if (sum <= kClipValue && model.options().non_positive == NonPositive::clip)
        m << " is clipped to " << kClipValue;
      else
        m << " is used";
      if (model.masked(s.offset + b)) m << " (the channel is masked)";
      out.push_back(m.str());
    }
  return out;
}

struct Correlation {
  std::vector<std::string> names;  // the parameters that floated in the fit, in model order
  Eigen::MatrixXd matrix;          // C_ij / sqrt(C_ii C_jj)
};

// The correlation matrix of the floating parameters of a fit, from its covariance (inverse Hessian).
AGNOSTIC_COMPILED_WHEN_USED
inline Correlation correlation(const BinnedLikelihood& model, const FitResult& best) {
  require(fit_yields_detail::has_covariance(model, best),
          "correlation: the fit has no covariance (FitOptions::hesse was false)");
  std::vector<int> idx;
  for (int i = 0; i < model.n_params(); ++i)
    if (best.floating[static_cast<std::size_t>(i)] && best.covariance(i, i) > 0.0) idx.push_back(i);
  Correlation r;
  const auto n = static_cast<Eigen::Index>(idx.size());
  r.matrix.resize(n, n);
  for (Eigen::Index a = 0; a < n; ++a) {
    const int i = idx[static_cast<std::size_t>(a)];
    r.names.push_back(model.names()[static_cast<std::size_t>(i)]);
    for (Eigen::Index b = 0; b < n; ++b) {
      const int k = idx[static_cast<std::size_t>(b)];
      r.matrix(a, b) = best.covariance(i, k) / std::sqrt(best.covariance(i, i) * best.covariance(k, k));
    }
  }
  return r;
}

}  // namespace agnostic::stats
