#pragma once
// Pseudo-experiments ("toys") of a BinnedLikelihood and the bias study of Camaiani et al. (arXiv:2207.09293).
//
// A toy draws every main bin from Poisson(nu_b(truth)) and every auxiliary datum from its constraint:
// Gaussian aux ~ N(theta_true, sigma), Poisson aux (shapesys) ~ Poisson(gamma_true * tau), as pyhf does.
// Toy i is drawn from its own generator seeded by (seed, i), so an ensemble is the same whatever the
// number of threads and whatever order OpenMP runs the toys in.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/pull_summary.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

// The generator of toy `index` of the ensemble `seed`: both words are mixed (splitmix64 finaliser)
// so that neighbouring seeds and neighbouring indices give unrelated streams.
AGNOSTIC_COMPILED_WHEN_USED
inline Rng toy_rng(std::uint64_t seed, std::uint64_t index) {
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return Rng(mix(mix(seed + 0x9e3779b97f4a7c15ULL) ^ (index * 0xd1b54a32d192ed03ULL + 1)));
}

// One pseudo-experiment drawn around `truth`.
AGNOSTIC_COMPILED_WHEN_USED
inline Data sample_toy(const BinnedLikelihood& model, const Eigen::VectorXd& truth, Rng& rng) {
  const Data mean = asimov_data(model, truth);
  Data toy{Eigen::VectorXd(mean.main.size()), Eigen::VectorXd(mean.aux.size())};
  for (Index b = 0; b < mean.main.size(); ++b) toy.main[b] = static_cast<double>(rng.poisson(mean.main[b]));
  for (const auto& p : model.parameters()) {
    if (p.constraint == Constraint::gaussian) toy.aux[p.aux] = rng.normal(mean.aux[p.aux], p.sigma);
    if (p.constraint == Constraint::poisson)
      toy.aux[p.aux] = static_cast<double>(rng.poisson(mean.aux[p.aux]));
  }
  return toy;
}

namespace toys_detail {

// Runs body(i) for i in [0, n) on the agnostic thread count; body must write only slot i. The first
// error (by index) is rethrown after the loop, prefixed "<what> i: ", so exceptions never cross the
// OpenMP region. Also used for loops over parameters (impacts), curves (limits) and patches.
template <class Body>
void for_each_toy(int n, Body&& body, const char* what = "toy") {
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  const int threads = std::max(1, std::min(agnostic::threads(), n));
  const int chunk = n >= 64 * threads ? 8 : 1;  // few long items (curves, patches): one at a time
#pragma omp parallel for schedule(dynamic, chunk) num_threads(threads)
  for (int i = 0; i < n; ++i) {
    try {
      body(i);
    } catch (const std::exception& e) {
      errors[static_cast<std::size_t>(i)] = e.what();
      if (errors[static_cast<std::size_t>(i)].empty()) errors[static_cast<std::size_t>(i)] = "unknown error";
    }
  }
  for (int i = 0; i < n; ++i)
    if (!errors[static_cast<std::size_t>(i)].empty())
      fail(what, " ", i, ": ", errors[static_cast<std::size_t>(i)]);
}

}  // namespace toys_detail

struct ToyOptions {
  int n = 1000;
  int first = 0;  // the toys run are first, ..., first + n - 1 of the ensemble `seed` (a share of it)
  std::uint64_t seed = 1;
  FitOptions fit;  // per-toy fit settings; fit.hesse must stay on for pulls
};

struct ToyEnsemble {
  int n = 0;                       // toys generated
  int first = 0;                   // index of the first toy: row i is toy first + i
  int n_converged = 0;             // toys whose fit converged with a positive-definite Hessian
  Eigen::VectorXd truth;           // the generating parameters
  Eigen::MatrixXd values, errors;  // one row per toy, one column per parameter
  std::vector<bool> converged;     // per toy
  // Per parameter, over the converged toys: the pull summary (mean, width and their errors) of
  // pull = (fitted - truth) / error. Parameters that do not float (fixed in the model or in
  // ToyOptions::fit.fix) get count 0 and mean = width = 0.
  std::vector<PullSummary> pull_summaries;

  // An ensemble of n toys from index `first` around `truth`, its rows sized for `np` parameters and
  // not yet filled (every toy marked not converged).
  static ToyEnsemble sized(int n, int first, const Eigen::VectorXd& truth, int np) {
    ToyEnsemble e;
    e.n = n;
    e.first = first;
    e.truth = truth;
    e.values.resize(n, np);
    e.errors.resize(n, np);
    e.converged.assign(static_cast<std::size_t>(n), false);
    return e;
  }

  // (fitted - truth) / error of parameter p in row i; NaN when that toy's fit failed or gave no error.
  double pull(int i, int p) const {
    if (!converged[static_cast<std::size_t>(i)] || !(errors(i, p) > 0.0)) return std::nan("");
    return (values(i, p) - truth[p]) / errors(i, p);
  }
};

// Fills n_converged and the pull summaries from the rows: used by run_toys, and after joining the
// shares of an ensemble run on several processes (across_ranks.hpp).
AGNOSTIC_COMPILED_WHEN_USED
inline void summarise_pulls(ToyEnsemble& e) {
  const int np = static_cast<int>(e.truth.size());
  e.pull_summaries.clear();
  e.n_converged = static_cast<int>(std::count(e.converged.begin(), e.converged.end(), true));
  std::vector<double> pulls(static_cast<std::size_t>(e.n));
  for (int p = 0; p < np; ++p) {
    for (int i = 0; i < e.n; ++i) pulls[static_cast<std::size_t>(i)] = e.pull(i, p);
    e.pull_summaries.push_back(pull_summary(pulls));
  }
}

// Generates toys options.first, ..., options.first + options.n - 1 around `truth`, fits each one
// (starting at the truth), and summarises the pulls. Parallel over toys with OpenMP; toy i depends only
// on (truth, seed, i): the rows are the same whatever the thread count or the split into ranges.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyEnsemble run_toys(const BinnedLikelihood& model, const Eigen::VectorXd& truth,
                            const ToyOptions& options = {}) {
  require(options.n >= 1, "run_toys: the number of toys must be >= 1, got ", options.n);
  require(options.first >= 0, "run_toys: the first toy index must be >= 0, got ", options.first);
  require(options.fit.hesse, "run_toys: pulls need errors; ToyOptions::fit.hesse must be true");
  model.check_params(truth);
  (void)asimov_data(model, truth);  // a truth with a refused yield fails here, once, with its message
  const int np = model.n_params();
  ToyEnsemble e = ToyEnsemble::sized(options.n, options.first, truth, np);
  FitOptions fit_options = options.fit;
  fit_options.start = truth;
  std::vector<char> ok(static_cast<std::size_t>(options.n), 0);
  toys_detail::for_each_toy(options.n, [&](int i) {
    Rng rng =
        toy_rng(options.seed, static_cast<std::uint64_t>(options.first) + static_cast<std::uint64_t>(i));
    const Data toy = sample_toy(model, truth, rng);
    const FitResult r = fit(model, toy, fit_options);
    e.values.row(i) = r.values.transpose();
    e.errors.row(i) = r.errors.transpose();
    ok[static_cast<std::size_t>(i)] = r.converged && r.hessian_positive_definite;
  });

  for (int i = 0; i < options.n; ++i)
    e.converged[static_cast<std::size_t>(i)] = ok[static_cast<std::size_t>(i)];
  summarise_pulls(e);
  return e;
}

// -- toy-based discovery p-value
// ------------------------------------------------------------------------------

// q0 of each of n toys drawn around `truth` (seeded by (seed, i)).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> toy_q0_values(const BinnedLikelihood& model, const Eigen::VectorXd& truth, int n,
                                         std::uint64_t seed, const FitOptions& options = {}) {
  require(n >= 1, "toy_q0_values: the number of toys must be >= 1, got ", n);
  model.check_params(truth);
  std::vector<double> q(static_cast<std::size_t>(n), 0.0);
  FitOptions quick = options;
  quick.hesse = false;
  quick.start = truth;
  toys_detail::for_each_toy(n, [&](int i) {
    Rng rng = toy_rng(seed, static_cast<std::uint64_t>(i));
    q[static_cast<std::size_t>(i)] = q0(model, sample_toy(model, truth, rng), quick);
  });
  return q;
}

// Linear-interpolation quantile of sorted values (numpy's default), level in [0, 1].
AGNOSTIC_COMPILED_WHEN_USED
inline double sorted_quantile(const std::vector<double>& sorted, double level) {
  require(!sorted.empty(), "sorted_quantile: no values");
  const double position = std::clamp(level, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

struct ToyDiscovery {
  double q0_obs = 0.0;
  double p0_obs = 1.0;             // fraction of background-only toys with q0 >= q0_obs
  std::array<double, 5> p0_exp{};  // p0 at the quantiles Phi(-2), Phi(-1), 0.5, Phi(1), Phi(2) of the
                                   // signal toys' p0 values (pyhf's ToyCalculator band), increasing
  int n_background = 0, n_signal = 0;
};

// Toy-based discovery p-value: background-only toys (mu = 0) and signal toys (mu = mu_signal), each with
// the nuisance parameters of the conditional fit to `data` at that mu.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyDiscovery toy_discovery(const BinnedLikelihood& model, const Data& data, int n, std::uint64_t seed,
                                  const FitOptions& options = {}, double mu_signal = 1.0) {
  FitOptions quick = options;
  quick.hesse = false;
  ToyDiscovery r;
  r.q0_obs = q0(model, data, quick);
  const FitResult background = fit_fixed_poi(model, data, 0.0, quick);
  const FitResult signal = fit_fixed_poi(model, data, mu_signal, quick);
  std::vector<double> q_b = toy_q0_values(model, background.values, n, seed, quick);
  // a different stream for the signal toys: the ensemble seed is shifted by a fixed odd constant
  const std::vector<double> q_s = toy_q0_values(model, signal.values, n, seed ^ 0x5851f42d4c957f2dULL, quick);
  std::sort(q_b.begin(), q_b.end());
  auto p_value = [&](double q) {  // fraction of background toys at or above q
    const auto first = std::lower_bound(q_b.begin(), q_b.end(), q);
    return static_cast<double>(q_b.end() - first) / static_cast<double>(q_b.size());
  };
  r.p0_obs = p_value(r.q0_obs);
  std::vector<double> p_s;
  p_s.reserve(q_s.size());
  for (double q : q_s) p_s.push_back(p_value(q));
  std::sort(p_s.begin(), p_s.end());
  for (std::size_t k = 0; k < 5; ++k) r.p0_exp[k] = sorted_quantile(p_s, normal_cdf(-kBandOffsets[k]));
  r.n_background = r.n_signal = n;
  return r;
}

// -- bias study (Camaiani et al., eq. 10-12)
// -----------------------------------------------------------------------

struct BiasResult {
  double mu_tilde = 0.0;      // eq. 11: alternative yield / nominal yield of the sample (the unbiased answer)
  double mu_hat = 0.0;        // eq. 10: the POI fitted with the nominal templates
  double mu_hat_error = 0.0;  // its Hessian error
  double bias = 0.0;          // eq. 12: (mu_hat - mu_tilde) / mu_tilde
  FitResult fit;
};

// Builds the Asimov data of the model with `sample`'s nominal template replaced by `alternative`
// (channel name -> one value per bin; channels not listed keep the nominal), every parameter at its
// init and the POI at 1, then fits the nominal model to it.
AGNOSTIC_COMPILED_WHEN_USED
inline BiasResult bias_study(const Workspace& workspace, const std::string& sample,
                             const std::map<std::string, std::vector<double>>& alternative,
                             const ModelOptions& model_options = {}, const FitOptions& fit_options = {}) {
  require(!alternative.empty(), "bias_study: no alternative template given for sample '", sample, "'");
  Workspace changed = workspace;
  double nominal_total = 0.0, alternative_total = 0.0;
  for (const auto& [channel_name, values] : alternative) {
    bool found_channel = false, found_sample = false;
    for (auto& c : changed.channels) {
      if (c.name != channel_name) continue;
      found_channel = true;
      for (auto& s : c.samples) {
        if (s.name != sample) continue;
        found_sample = true;
        require(values.size() == s.data.size(), "bias_study: alternative template for sample '", sample,
                "' in channel '", channel_name, "' has ", values.size(), " bins, the channel has ",
                s.data.size());
        for (std::size_t b = 0; b < values.size(); ++b) {
          require(std::isfinite(values[b]) && values[b] >= 0.0, "bias_study: alternative template of '",
                  sample, "' in channel '", channel_name, "' bin ", b, " is ", values[b],
                  ", expected a finite yield >= 0");
          // histosys templates follow the sample; their shift is irrelevant at alpha = 0 but must stay valid
          for (auto& m : s.modifiers)
            if (m.type == "histosys") {
              const double ratio = s.data[b] > 0.0 ? values[b] / s.data[b] : 1.0;
              m.hi_data[b] *= ratio;
              m.lo_data[b] *= ratio;
            }
          nominal_total += s.data[b];
          alternative_total += values[b];
          s.data[b] = values[b];
        }
      }
    }
    require(found_channel, "bias_study: the workspace has no channel '", channel_name, "'");
    require(found_sample, "bias_study: channel '", channel_name, "' has no sample '", sample, "'");
  }
  require(nominal_total > 0.0, "bias_study: the nominal yield of sample '", sample,
          "' in the given channels is 0; mu_tilde = N_alternative / N_nominal is undefined");
  require(alternative_total > 0.0, "bias_study: the alternative template of sample '", sample,
          "' is empty; the bias b = (mu_hat - mu_tilde) / mu_tilde needs mu_tilde > 0");

  const BinnedLikelihood nominal(workspace, model_options);
  const BinnedLikelihood replaced(changed, model_options);
  Eigen::VectorXd truth = nominal.init();
  truth[nominal.poi()] = 1.0;
  // Main bins from the alternative; auxiliary data from the nominal model (identical at init anyway).
  const Data asimov{replaced.expected(truth), nominal.expected_aux(truth)};

  BiasResult r;
  r.mu_tilde = alternative_total / nominal_total;
  FitOptions options = fit_options;
  options.hesse = true;
  r.fit = fit(nominal, asimov, options);
  r.mu_hat = r.fit.values[nominal.poi()];
  r.mu_hat_error = r.fit.errors[nominal.poi()];
  r.bias = (r.mu_hat - r.mu_tilde) / r.mu_tilde;
  return r;
}

}  // namespace agnostic::stats
