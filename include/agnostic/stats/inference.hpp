#pragma once
// Profile-likelihood inference on a BinnedLikelihood, with the definitions of Cowan, Cranmer, Gross,
// Vitells (arXiv:1007.1727) as pyhf implements them:
//   t_mu      = -2 ln lambda(mu) = 2 [nll(mu, theta_hat_hat) - nll(mu_hat, theta_hat)]       (two-sided)
//   q_mu      = t_mu if mu_hat <= mu, else 0                                        (upper limits)
//   qtilde_mu = q_mu with mu_hat constrained to >= 0                                (upper limits)
//   q0        = t_0 if mu_hat >= 0, else 0                                          (discovery)
// mu_hat is always fitted inside the POI's bounds (pyhf's convention, which the ROOT references of
// ../shared/reference/pyhf-validation follow). Asimov data sets take the nuisance parameters from the
// conditional fit to the data at the Asimov POI value, so their auxiliary data move with them.
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/asymptotics.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"

namespace agnostic::stats {

// The Asimov data set of these parameters: main bins at their expectation, auxiliary data at what
// the parameters predict (theta for Gaussian constraints, gamma * tau for Poisson ones).
AGNOSTIC_COMPILED_WHEN_USED
inline Data asimov_data(const BinnedLikelihood& model, const Eigen::VectorXd& params) {
  model.check_params(params);
  return {model.expected(params), model.expected_aux(params)};
}

// The Asimov data of the workspace's nominal model (every parameter at its init value).
AGNOSTIC_COMPILED_WHEN_USED
inline Data nominal_asimov_data(const BinnedLikelihood& model) {
  return asimov_data(model, model.init());
}

namespace inference_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline const std::string& poi_name(const BinnedLikelihood& model) {
  return model.names()[static_cast<std::size_t>(model.poi())];
}

AGNOSTIC_COMPILED_WHEN_USED
inline void check_poi_value(const BinnedLikelihood& model, double mu, const char* what) {
  const int p = model.poi();
  require(std::isfinite(mu) && mu >= model.lower()[p] && mu <= model.upper()[p], what, ": POI '",
          poi_name(model), "' value ", mu, " is outside its bounds [", model.lower()[p], ", ",
          model.upper()[p], "]");
}

AGNOSTIC_COMPILED_WHEN_USED
inline void check_poi_floats(const BinnedLikelihood& model, const FitOptions& options, const char* what) {
  require(!model.fixed()[static_cast<std::size_t>(model.poi())], what, ": the POI '", poi_name(model),
          "' is fixed in the model; a test statistic needs it free");
  require(!options.fix.count(poi_name(model)), what, ": FitOptions::fix holds the POI '", poi_name(model),
          "'; the test statistic sets it itself");
}

}  // namespace inference_detail

// Conditional fit: the POI held at mu (no Hessian unless options.hesse).
AGNOSTIC_COMPILED_WHEN_USED
inline FitResult fit_fixed_poi(const BinnedLikelihood& model, const Data& data, double mu,
                               FitOptions options = {}) {
  inference_detail::check_poi_value(model, mu, "fit_fixed_poi");
  options.fix[inference_detail::poi_name(model)] = mu;
  return fit(model, data, options);
}

// -2 ln lambda(mu) with both fits kept; mu_hat is the unconditional best fit inside the POI's bounds.
struct LikelihoodRatio {
  double mu = 0.0;
  double mu_hat = 0.0;
  double t = 0.0;  // 2 (conditional.nll - free.nll), >= 0
  FitResult free, conditional;
};

// `free`, when given, must be the unconditional fit of the same model and data (it saves a fit).
AGNOSTIC_COMPILED_WHEN_USED
inline LikelihoodRatio likelihood_ratio(const BinnedLikelihood& model, const Data& data, double mu,
                                        const FitOptions& options = {}, const FitResult* free = nullptr) {
  inference_detail::check_poi_floats(model, options, "likelihood_ratio");
  inference_detail::check_poi_value(model, mu, "likelihood_ratio");
  FitOptions quick = options;
  quick.hesse = false;
  LikelihoodRatio r;
  r.mu = mu;
  r.free = free ? *free : fit(model, data, quick);
  // Warm start at the free fit with the POI moved: the conditional minimum is usually close.
  FitOptions conditional = quick;
  conditional.start = r.free.values;
  r.conditional = fit_fixed_poi(model, data, mu, conditional);
  // The free minimum can never lie above a conditional one; if the free fit stopped short, the
  // conditional fit is the better unconditional estimate.
  if (r.conditional.nll < r.free.nll) r.free = r.conditional;
  r.mu_hat = r.free.values[model.poi()];
  r.t = std::max(0.0, 2.0 * (r.conditional.nll - r.free.nll));  // rounding can make it -1e-12
  return r;
}

// The upper-limit statistic of a LikelihoodRatio: 0 when the data prefer more signal than mu.
AGNOSTIC_COMPILED_WHEN_USED
inline double upper_limit_statistic(const LikelihoodRatio& r) {
  return r.mu_hat > r.mu ? 0.0 : r.t;
}

AGNOSTIC_COMPILED_WHEN_USED
inline double t_mu(const BinnedLikelihood& model, const Data& data, double mu,
                   const FitOptions& options = {}) {
  return likelihood_ratio(model, data, mu, options).t;
}

AGNOSTIC_COMPILED_WHEN_USED
inline double q_mu(const BinnedLikelihood& model, const Data& data, double mu,
                   const FitOptions& options = {}) {
  return upper_limit_statistic(likelihood_ratio(model, data, mu, options));
}

namespace inference_detail {

// q_mu or qtilde_mu; for qtilde a negative mu_hat (possible only when the POI's lower bound is
// negative) is replaced by the conditional fit at 0, the constrained maximum for a unimodal profile.
AGNOSTIC_COMPILED_WHEN_USED
inline LikelihoodRatio upper_limit_ratio(const BinnedLikelihood& model, const Data& data, double mu,
                                         TestStatistic statistic, const FitOptions& options,
                                         const FitResult* free) {
  LikelihoodRatio r = likelihood_ratio(model, data, mu, options, free);
  if (statistic == TestStatistic::qtilde && r.mu_hat < 0.0) {
    require(mu >= 0.0, "qtilde_mu: the tested mu must be >= 0, got ", mu);
    FitOptions quick = options;
    quick.hesse = false;
    quick.start = r.free.values;
    r.free = fit_fixed_poi(model, data, 0.0, quick);
    r.mu_hat = 0.0;
    r.t = std::max(0.0, 2.0 * (r.conditional.nll - r.free.nll));
  }
  return r;
}

}  // namespace inference_detail

AGNOSTIC_COMPILED_WHEN_USED
inline double qtilde_mu(const BinnedLikelihood& model, const Data& data, double mu,
                        const FitOptions& options = {}) {
  return upper_limit_statistic(
      inference_detail::upper_limit_ratio(model, data, mu, TestStatistic::qtilde, options, nullptr));
}

// Discovery statistic q0 (tests mu = 0; 0 when the data prefer a negative signal).
AGNOSTIC_COMPILED_WHEN_USED
inline double q0(const BinnedLikelihood& model, const Data& data, const FitOptions& options = {},
                 const FitResult* free = nullptr) {
  const LikelihoodRatio r = likelihood_ratio(model, data, 0.0, options, free);
  return r.mu_hat < 0.0 ? 0.0 : r.t;
}

// -- asymptotic CLs
// -------------------------------------------------------------------------------------------

struct ClsResult {
  double mu = 0.0;  // the tested POI value
  TestStatistic statistic = TestStatistic::qtilde;
  double mu_hat = 0.0;
  double q_obs = 0.0;     // the statistic on the data
  double q_asimov = 0.0;  // the statistic on the background-only (mu = 0) Asimov data
  double cls_obs = 1.0, clsb_obs = 1.0, clb_obs = 1.0;
  std::array<double, 5> cls_exp{};  // -2 sigma, -1 sigma, median, +1 sigma, +2 sigma
};

// The pieces of asymptotic CLs that do not depend on the tested mu, computed once: the free fit to
// the data, the background-only (mu = 0) conditional fit to the data, its Asimov data and the free fit
// to those. at(mu) then costs two conditional fits (data and Asimov), q_asimov(mu) one. Upper limits
// and CLs scans evaluate many mu values with one calculator; its methods are const and thread-safe.
class AsymptoticClsCalculator {
 public:
  // `free`, when given, must be the unconditional fit of the same model and data.
  AGNOSTIC_COMPILED_WHEN_USED
  AsymptoticClsCalculator(const BinnedLikelihood& model, Data data,
                          TestStatistic statistic = TestStatistic::qtilde, FitOptions options = {},
                          const FitResult* free = nullptr)
      : model_(model), data_(std::move(data)), statistic_(statistic), options_(std::move(options)) {
    inference_detail::check_poi_floats(model, options_, "asymptotic_cls");
    inference_detail::check_poi_value(model, 0.0, "asymptotic_cls (background-only Asimov data)");
    options_.hesse = false;
    free_ = free ? *free : fit(model, data_, options_);
    background_ = fit_fixed_poi(model, data_, 0.0, options_);
    asimov_ = asimov_data(model, background_.values);
    FitOptions at_truth = options_;
    at_truth.start = background_.values;  // the Asimov minimum is at the generating parameters
    asimov_free_ = fit(model, asimov_, at_truth);
  }

  const BinnedLikelihood& model() const { return model_; }
  const Data& data() const { return data_; }
  TestStatistic statistic() const { return statistic_; }
  const FitResult& free_fit() const { return free_; }
  const FitResult& background_fit() const { return background_; }
  const Data& background_asimov() const { return asimov_; }

  // The statistic on the background-only Asimov data at mu (enough for the expected band).
  AGNOSTIC_COMPILED_WHEN_USED
  double q_asimov(double mu) const {
    inference_detail::check_poi_value(model_, mu, "asymptotic_cls");
    return upper_limit_statistic(
        inference_detail::upper_limit_ratio(model_, asimov_, mu, statistic_, options_, &asimov_free_));
  }

  // Observed CLs (with CLs+b, CLb) and the expected band at mu.
  AGNOSTIC_COMPILED_WHEN_USED
  ClsResult at(double mu) const {
    inference_detail::check_poi_value(model_, mu, "asymptotic_cls");
    ClsResult r;
    r.mu = mu;
    r.statistic = statistic_;
    const LikelihoodRatio observed =
        inference_detail::upper_limit_ratio(model_, data_, mu, statistic_, options_, &free_);
    r.mu_hat = observed.mu_hat;
    r.q_obs = upper_limit_statistic(observed);
    r.q_asimov = q_asimov(mu);
    const ClsValues v = asymptotic_cls_values(r.q_obs, r.q_asimov, statistic_);
    r.cls_obs = v.cls;
    r.clsb_obs = v.clsb;
    r.clb_obs = v.clb;
    r.cls_exp = asymptotic_cls_band(r.q_asimov);
    return r;
  }

 private:
  const BinnedLikelihood& model_;
  Data data_;
  TestStatistic statistic_;
  FitOptions options_;
  FitResult free_, background_, asimov_free_;
  Data asimov_;
};

// Asymptotic CLs of the POI value mu. The background-only Asimov data take the nuisance parameters of
// the conditional fit to `data` at mu = 0. `free` may carry the unconditional fit to `data`.
AGNOSTIC_COMPILED_WHEN_USED
inline ClsResult asymptotic_cls(const BinnedLikelihood& model, const Data& data, double mu,
                                TestStatistic statistic = TestStatistic::qtilde,
                                const FitOptions& options = {}, const FitResult* free = nullptr) {
  inference_detail::check_poi_floats(model, options, "asymptotic_cls");
  inference_detail::check_poi_value(model, mu, "asymptotic_cls");
  return AsymptoticClsCalculator(model, data, statistic, options, free).at(mu);
}

// -- discovery
// ------------------------------------------------------------------------------------------------

struct DiscoveryResult {
  double mu_hat = 0.0;
  double q0_obs = 0.0, z_obs = 0.0, p0_obs = 0.5;  // observed Z0 = sqrt(q0), p0 = Phi(-Z0)
  double q0_asimov = 0.0, z_exp = 0.0;             // median expected Z0 from the signal Asimov data
  std::array<double, 5> p0_exp{};                  // expected p0 band, same order as the CLs band
};

// Observed and median expected discovery significance. The expected one uses the Asimov data at
// POI = mu_signal (1 by default) with the nuisance parameters of the conditional fit to `data` there.
AGNOSTIC_COMPILED_WHEN_USED
inline DiscoveryResult discovery(const BinnedLikelihood& model, const Data& data,
                                 const FitOptions& options = {}, double mu_signal = 1.0,
                                 const FitResult* free = nullptr) {
  inference_detail::check_poi_floats(model, options, "discovery");
  inference_detail::check_poi_value(model, 0.0, "discovery (the background-only hypothesis mu = 0)");
  inference_detail::check_poi_value(model, mu_signal, "discovery (the signal hypothesis)");
  DiscoveryResult r;
  const LikelihoodRatio observed = likelihood_ratio(model, data, 0.0, options, free);
  r.mu_hat = observed.mu_hat;
  r.q0_obs = observed.mu_hat < 0.0 ? 0.0 : observed.t;
  r.z_obs = significance_from_q0(r.q0_obs);
  r.p0_obs = asymptotic_p0(r.q0_obs);

  FitOptions quick = options;
  quick.hesse = false;
  const FitResult signal = fit_fixed_poi(model, data, mu_signal, quick);
  FitOptions at_truth = quick;
  at_truth.start = signal.values;
  r.q0_asimov = q0(model, asimov_data(model, signal.values), at_truth);
  r.z_exp = significance_from_q0(r.q0_asimov);
  r.p0_exp = asymptotic_p0_band(r.q0_asimov);
  return r;
}

}  // namespace agnostic::stats
