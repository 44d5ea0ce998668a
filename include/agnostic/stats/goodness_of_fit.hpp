#pragma once
// Goodness of fit of a binned likelihood by the saturated model (Baker and Cousins, Nucl. Instrum.
// Meth. 221 (1984) 437; combine's "saturated" algorithm, cabinetry's goodness_of_fit): the saturated
// model predicts every main bin exactly (nu_b = n_b) and every auxiliary datum exactly (each
// constraint term at its best fit), so
//   saturated_q = 2 (-log L(theta_hat) + log L_saturated) = 2 * objective(theta_hat)
// (BinnedLikelihood::objective is -log L minus exactly those saturated terms), less the constraint
// terms of parameters that did not float (constants of the fit). Asymptotically q is
// chi^2-distributed with ndof = (main bins in the likelihood) + (auxiliary data of floating
// parameters) - (floating parameters) = unmasked bins - floating unconstrained parameters. With toys
// (drawn from the best fit, each refitted) the p-value is the fraction of converged toys whose q is
// at least the observed one. Per channel: that channel's Poisson terms, against its bin count.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/sample_validation.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

struct ChannelGoodnessOfFit {
  std::string channel;
  bool masked = false;       // left out of the fit (ModelOptions::masked_channels): q still computed
  double saturated_q = 0.0;  // 2 sum over the channel's bins of (nu - n - n ln(nu / n))
  int ndof = 0;              // the channel's bins
  double p_value = 0.0;      // chi^2 survival of q with ndof
  double p_value_toys = std::numeric_limits<double>::quiet_NaN();  // with toys: fraction with q_toy >= q
};

struct GoodnessOfFit {
  double saturated_q = 0.0;
  int ndof = 0;
  double p_value = std::numeric_limits<double>::quiet_NaN();  // NaN when ndof < 1
  int toys = 0, toys_converged = 0;
  double p_value_toys = std::numeric_limits<double>::quiet_NaN();  // NaN without toys
  std::vector<ChannelGoodnessOfFit> per_channel;
};

namespace goodness_of_fit_detail {

// 2 (nu - n - n ln(nu / n)), the saturated deviance of one Poisson bin (2 nu for n = 0).
AGNOSTIC_COMPILED_WHEN_USED
inline double bin_deviance(double nu, double n) {
  return 2.0 * (n > 0.0 ? nu - n - n * std::log(nu / n) : nu);
}

// 2 x the constraint term of parameter i at `params` above its saturated value (0).
AGNOSTIC_COMPILED_WHEN_USED
inline double constraint_deviance(const BinnedLikelihood& model, const Data& data,
                                  const Eigen::VectorXd& params, int i) {
  const auto& p = model.parameter(i);
  if (p.constraint == Constraint::gaussian) {
    const double z = (data.aux[p.aux] - params[i]) / p.sigma;
    return z * z;
  }
  if (p.constraint == Constraint::poisson)
    return bin_deviance(std::max(params[i] * p.tau, kClipValue), data.aux[p.aux]);
  return 0.0;
}

// q of the whole likelihood and of each channel at `params`. The constraint terms of parameters that
// did not float (`floating` false) are constants of the fit and are left out.
AGNOSTIC_COMPILED_WHEN_USED
inline void saturated_q_values(const BinnedLikelihood& model, const Data& data, const Eigen::VectorXd& params,
                               const std::vector<bool>& floating, double& total,
                               std::vector<double>& per_channel) {
  double value = 0.0;
  require(model.objective(params, data, value, nullptr, nullptr),
          "goodness of fit: the likelihood cannot be evaluated at the best fit (a non-positive yield)");
  total = 2.0 * value;
  for (int i = 0; i < model.n_params(); ++i)
    if (!floating[static_cast<std::size_t>(i)]) total -= constraint_deviance(model, data, params, i);
  const Eigen::VectorXd nu = model.expected(params);
  per_channel.assign(model.channels().size(), 0.0);
  for (std::size_t c = 0; c < model.channels().size(); ++c) {
    const auto& info = model.channels()[c];
    for (int b = info.offset; b < info.offset + info.bins; ++b)
      per_channel[c] += bin_deviance(nu[b], data.main[b]);
  }
}

// Floating parameters without a constraint term (normfactors, shapefactors, ...).
AGNOSTIC_COMPILED_WHEN_USED
inline int floating_unconstrained(const BinnedLikelihood& model, const FitResult& best) {
  int n = 0;
  for (int i = 0; i < model.n_params(); ++i)
    if (best.floating[static_cast<std::size_t>(i)] && model.parameter(i).constraint == Constraint::none) ++n;
  return n;
}

}  // namespace goodness_of_fit_detail

// The saturated-model goodness of fit of `best` (a fit of `model` to `data`); with toys > 0, also the
// toy p-values from `toys` toys drawn around best.values (toy i seeded by (seed, i), as run_toys).
AGNOSTIC_COMPILED_WHEN_USED
inline GoodnessOfFit goodness_of_fit(const BinnedLikelihood& model, const Data& data, const FitResult& best,
                                     int toys = 0, std::uint64_t seed = 1) {
  using namespace goodness_of_fit_detail;
  require(best.values.size() == model.n_params() &&
              best.floating.size() == static_cast<std::size_t>(model.n_params()),
          "goodness_of_fit: the FitResult does not belong to this model");
  require(toys >= 0, "goodness_of_fit: the number of toys must be >= 0, got ", toys);
  GoodnessOfFit g;
  std::vector<double> channel_q;
  saturated_q_values(model, data, best.values, best.floating, g.saturated_q, channel_q);
  g.ndof = model.n_unmasked() - floating_unconstrained(model, best);
  if (g.ndof >= 1) g.p_value = chi2_survival(g.saturated_q, g.ndof);
  for (std::size_t c = 0; c < model.channels().size(); ++c) {
    const auto& info = model.channels()[c];
    ChannelGoodnessOfFit ch;
    ch.channel = info.name;
    ch.masked = model.masked(info.offset);
    ch.saturated_q = channel_q[c];
    ch.ndof = info.bins;
    ch.p_value = chi2_survival(ch.saturated_q, ch.ndof);
    g.per_channel.push_back(ch);
  }
  if (toys == 0) return g;

  g.toys = toys;
  const std::size_t nc = model.channels().size();
  std::vector<double> q(static_cast<std::size_t>(toys)), qc(static_cast<std::size_t>(toys) * nc);
  std::vector<char> ok(static_cast<std::size_t>(toys), 0);
  FitOptions quick;
  quick.hesse = false;
  quick.start = best.values;
  for (int i = 0; i < model.n_params(); ++i)  // held where the fit held them
    if (!best.floating[static_cast<std::size_t>(i)] && !model.fixed()[static_cast<std::size_t>(i)])
      quick.fix[model.names()[static_cast<std::size_t>(i)]] = best.values[i];
  toys_detail::for_each_toy(toys, [&](int i) {
    Rng rng = toy_rng(seed, static_cast<std::uint64_t>(i));
    const Data toy = sample_toy(model, best.values, rng);
    const FitResult r = fit(model, toy, quick);
    const auto k = static_cast<std::size_t>(i);
    if (!r.converged) return;
    std::vector<double> per_channel;
    saturated_q_values(model, toy, r.values, r.floating, q[k], per_channel);
    for (std::size_t c = 0; c < nc; ++c) qc[k * nc + c] = per_channel[c];
    ok[k] = 1;
  });
  std::vector<int> above_channel(nc, 0);
  int above = 0;
  for (std::size_t k = 0; k < static_cast<std::size_t>(toys); ++k) {
    if (!ok[k]) continue;
    ++g.toys_converged;
    if (q[k] >= g.saturated_q) ++above;
    for (std::size_t c = 0; c < nc; ++c)
      if (qc[k * nc + c] >= g.per_channel[c].saturated_q) ++above_channel[c];
  }
  if (g.toys_converged > 0) {
    g.p_value_toys = static_cast<double>(above) / g.toys_converged;
    for (std::size_t c = 0; c < nc; ++c)
      g.per_channel[c].p_value_toys = static_cast<double>(above_channel[c]) / g.toys_converged;
  }
  return g;
}

}  // namespace agnostic::stats
