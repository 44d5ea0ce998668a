#pragma once
// Upper limits on the POI with the CLs method: the POI value where CLs falls to 1 - cl, observed and
// for each edge of the expected band, asymptotically (AsymptoticClsCalculator, formulas of
// arXiv:1007.1727) or from toys (pyhf's ToyCalculator convention). Also the CLs curve on a grid of mu
// values (the "Brazil plot").
//
// Asymptotic limits are roots, not grid interpolations: a starting value from the Asimov curvature
// (sigma_A = mu / sqrt(q_A(mu)) makes each band edge a closed form), a bracket grown from it, then
// Brent's method to a relative tolerance (default 1e-5). The search range is [max(POI lower bound,
// 0), POI upper bound]; a crossing outside it is reported as not found (value NaN, found = false,
// and a note saying which side), never as the bound.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/stats/asymptotics.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

// Brent's method on a bracket [a, b] with f(a), f(b) of opposite signs (or one of them 0): inverse
// quadratic interpolation or secant steps, bisection whenever those do not shrink the bracket fast
// enough. Stops when the bracket is narrower than xtol_rel * |x| (plus 1e-12 absolute) or after
// max_evaluations calls of f; `evaluations` counts them.
template <class F>
double brent_root(F&& f, double a, double fa, double b, double fb, double xtol_rel, int max_evaluations,
                  int& evaluations) {
  require(std::isfinite(a) && std::isfinite(b) && std::isfinite(fa) && std::isfinite(fb),
          "brent_root: bracket [", a, ", ", b, "] or its values (", fa, ", ", fb, ") are not finite");
  require(fa * fb <= 0.0, "brent_root: f(", a, ") = ", fa, " and f(", b, ") = ", fb,
          " have the same sign; no bracketed root");
  if (fa == 0.0) return a;
  if (fb == 0.0) return b;
  double c = a, fc = fa, step = b - a, previous_step = step;
  for (int iter = 0; iter < max_evaluations; ++iter) {
    if ((fb > 0.0) == (fc > 0.0)) {  // keep the root between b and c
      c = a, fc = fa;
      step = previous_step = b - a;
    }
    if (std::abs(fc) < std::abs(fb)) {  // b is the best estimate
      a = b, b = c, c = a;
      fa = fb, fb = fc, fc = fa;
    }
    const double tol =
        2.0 * std::numeric_limits<double>::epsilon() * std::abs(b) + 0.25 * xtol_rel * std::abs(b) + 1e-12;
    const double half = 0.5 * (c - b);
    if (std::abs(half) <= tol || fb == 0.0) return b;
    if (std::abs(previous_step) >= tol && std::abs(fa) > std::abs(fb)) {
      double p = 0.0, q = 0.0;
      const double s = fb / fa;
      if (a == c) {  // secant
        p = 2.0 * half * s;
        q = 1.0 - s;
      } else {  // inverse quadratic interpolation through a, b, c
        const double qa = fa / fc, rb = fb / fc;
        p = s * (2.0 * half * qa * (qa - rb) - (b - a) * (rb - 1.0));
        q = (qa - 1.0) * (rb - 1.0) * (s - 1.0);
      }
      if (p > 0.0)
        q = -q;
      else
        p = -p;
      if (2.0 * p < std::min(3.0 * half * q - std::abs(tol * q), std::abs(previous_step * q))) {
        previous_step = step;
        step = p / q;
      } else {
        step = previous_step = half;
      }
    } else {
      step = previous_step = half;
    }
    a = b, fa = fb;
    b += std::abs(step) > tol ? step : (half > 0.0 ? tol : -tol);
    fb = f(b);
    ++evaluations;
    require(std::isfinite(fb), "brent_root: f(", b, ") is not finite");
  }
  return b;
}

struct UpperLimitOptions {
  double cl = 0.95;          // confidence level; the limit is where CLs = 1 - cl
  double rtol = 1e-5;        // relative tolerance on each limit
  int max_evaluations = 60;  // per crossing
};

struct UpperLimit {
  double cl = 0.95;
  TestStatistic statistic = TestStatistic::qtilde;
  double obs = std::numeric_limits<double>::quiet_NaN();
  std::array<double, 5> exp{};  // -2 sigma, -1 sigma, median, +1 sigma, +2 sigma (increasing)
  bool obs_found = false;
  std::array<bool, 5> exp_found{};
  double search_lo = 0.0, search_hi = 0.0;  // [max(POI lower bound, 0), POI upper bound]
  int evaluations = 0;                      // CLs evaluations over all six crossings
  std::vector<std::string> notes;           // one line per crossing that was not found
};

namespace limits_detail {

inline const char* kCurveNames[6] = {"observed",        "expected -2 sigma", "expected -1 sigma",
                                     "expected median", "expected +1 sigma", "expected +2 sigma"};

struct Crossing {
  double value = std::numeric_limits<double>::quiet_NaN();
  bool found = false;
  int evaluations = 0;
  std::string note;
};

// The crossing of f (decreasing from > 0 at small mu to < 0 at large mu) inside [lo, hi], starting
// from `guess`: the bracket is grown from the guess by factors of 1.3, then closed by Brent.
template <class F>
Crossing find_crossing(F&& f, double guess, double lo, double hi, double f_lo, const UpperLimitOptions& o,
                       const std::string& what) {
  Crossing r;
  auto eval = [&](double x) {
    ++r.evaluations;
    return f(x);
  };
  if (!(f_lo >= 0.0)) {
    r.note = what + ": CLs is already below " + std::to_string(1.0 - o.cl) +
             " at the lower end of the search " + "range (" + std::to_string(lo) +
             "); the limit lies below the POI's lower bound";
    return r;
  }
  const double tiny = 1e-6 * (hi - lo);
  double x = std::clamp(std::isfinite(guess) ? guess : 0.5 * (lo + hi), lo + tiny, hi);
  double fx = eval(x);
  double a = lo, fa = f_lo, b = x, fb = fx;
  if (fx >= 0.0) {  // grow upwards
    a = x, fa = fx;
    bool bracketed = false;
    while (!bracketed) {
      if (x >= hi) {
        r.note = what + ": CLs stays above " + std::to_string(1.0 - o.cl) + " up to the POI's upper bound " +
                 std::to_string(hi) + " (CLs - (1 - cl) = " + std::to_string(fa) +
                 " there); the limit lies beyond it: raise the bound in the measurement's config";
        return r;
      }
      x = std::min(hi, std::max(1.3 * x, x + tiny));
      fx = eval(x);
      if (fx < 0.0) {
        b = x, fb = fx;
        bracketed = true;
      } else {
        a = x, fa = fx;
      }
    }
  } else {  // grow downwards; the lower end of the range is a known bracket end
    for (int k = 0; k < 8 && x > lo + tiny; ++k) {
      x = std::max(lo, x / 1.3);
      fx = eval(x);
      if (fx >= 0.0) {
        a = x, fa = fx;
        break;
      }
      b = x, fb = fx;
    }
  }
  r.value = brent_root(f, a, fa, b, fb, o.rtol, o.max_evaluations, r.evaluations);
  r.found = true;
  return r;
}

// Starting values from sigma_A: the expected band edges are sqrt(q_A) = s_k with
// Phi(-(n_k + s_k)) / Phi(-n_k) = alpha; the observed one treats q_obs as ((mu - mu_hat) / sigma_A)^2.
AGNOSTIC_COMPILED_WHEN_USED
inline std::array<double, 6> starting_values(double sigma_a, double mu_hat, double alpha) {
  std::array<double, 6> g{};
  const double z_hat = std::max(mu_hat, 0.0) / sigma_a;
  g[0] = std::max(mu_hat, 0.0) - sigma_a * normal_quantile(alpha * normal_cdf(z_hat));
  for (std::size_t k = 0; k < 5; ++k) {
    const double n = kBandOffsets[k];
    g[k + 1] = sigma_a * (-normal_quantile(alpha * normal_cdf(-n)) - n);
  }
  return g;
}

}  // namespace limits_detail

// Asymptotic upper limits (observed and expected band) of the calculator's model and data.
AGNOSTIC_COMPILED_WHEN_USED
inline UpperLimit upper_limit(const AsymptoticClsCalculator& calc, const UpperLimitOptions& options = {}) {
  using namespace limits_detail;
  const BinnedLikelihood& model = calc.model();
  const int p = model.poi();
  require(options.cl > 0.0 && options.cl < 1.0, "upper_limit: cl must lie in (0, 1), got ", options.cl);
  require(options.rtol > 0.0 && options.rtol < 0.1, "upper_limit: rtol must lie in (0, 0.1), got ",
          options.rtol);
  const double alpha = 1.0 - options.cl;
  UpperLimit r;
  r.cl = options.cl;
  r.statistic = calc.statistic();
  r.search_lo = std::max(model.lower()[p], 0.0);
  r.search_hi = model.upper()[p];
  require(r.search_hi > r.search_lo, "upper_limit: the POI '", model.names()[static_cast<std::size_t>(p)],
          "' has no room above ", r.search_lo, " (bounds [", model.lower()[p], ", ", model.upper()[p], "])");

  // sigma_A from one Asimov point near the expected median limit: mu / sqrt(q_A(mu)).
  const double span = r.search_hi - r.search_lo;
  double probe = r.search_lo + std::min(1.0, 0.1 * span);
  double sigma_a = std::numeric_limits<double>::quiet_NaN();
  for (int k = 0; k < 6; ++k) {
    const double qa = calc.q_asimov(probe);
    ++r.evaluations;
    if (qa > 1e-6) {
      sigma_a = probe / std::sqrt(qa);
      if (std::abs(std::sqrt(qa) - 2.0) < 1.0) break;  // near the median limit: good enough
      probe = std::clamp(2.0 * sigma_a, r.search_lo + 1e-6 * span, r.search_hi);
    } else {
      probe = std::min(r.search_hi, probe * 4.0);
    }
  }
  if (!std::isfinite(sigma_a)) sigma_a = 0.5 * span;
  const std::array<double, 6> guess = starting_values(sigma_a, calc.free_fit().values[p], alpha);

  // CLs at the lower end: 1 at mu = 0 (q = q_A = 0); otherwise computed.
  std::array<double, 6> f_lo{};
  if (r.search_lo == 0.0) {
    f_lo.fill(1.0 - alpha);
  } else {
    const ClsResult at_lo = calc.at(r.search_lo);
    ++r.evaluations;
    f_lo[0] = at_lo.cls_obs - alpha;
    for (std::size_t k = 0; k < 5; ++k) f_lo[k + 1] = at_lo.cls_exp[k] - alpha;
  }

  std::array<Crossing, 6> crossings;
  toys_detail::for_each_toy(
      6,
      [&](int c) {
        auto f = [&](double mu) {
          if (c == 0) return calc.at(mu).cls_obs - alpha;
          return asymptotic_cls_band(calc.q_asimov(mu))[static_cast<std::size_t>(c - 1)] - alpha;
        };
        const auto cu = static_cast<std::size_t>(c);
        crossings[cu] =
            find_crossing(f, guess[cu], r.search_lo, r.search_hi, f_lo[cu], options, kCurveNames[cu]);
      },
      "upper limit crossing");
  for (std::size_t c = 0; c < 6; ++c) {
    r.evaluations += crossings[c].evaluations;
    if (!crossings[c].note.empty()) r.notes.push_back(crossings[c].note);
    if (c == 0) {
      r.obs = crossings[c].value;
      r.obs_found = crossings[c].found;
    } else {
      r.exp[c - 1] = crossings[c].value;
      r.exp_found[c - 1] = crossings[c].found;
    }
  }
  return r;
}

AGNOSTIC_COMPILED_WHEN_USED
inline UpperLimit upper_limit(const BinnedLikelihood& model, const Data& data,
                              TestStatistic statistic = TestStatistic::qtilde,
                              const UpperLimitOptions& options = {}, const FitOptions& fit_options = {}) {
  return upper_limit(AsymptoticClsCalculator(model, data, statistic, fit_options), options);
}

// The values min, min + step, ..., max (n >= 2 points; n = 1 gives {min}).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> linear_grid(double min, double max, int n) {
  require(n >= 1, "grid: the number of points must be >= 1, got ", n);
  require(std::isfinite(min) && std::isfinite(max) && min <= max, "grid: need finite min <= max, got ", min,
          ":", max);
  std::vector<double> out;
  for (int k = 0; k < n; ++k) out.push_back(n == 1 ? min : min + (max - min) * k / (n - 1.0));
  return out;
}

// Asymptotic CLs (observed and band) at each mu, parallel over the points.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ClsResult> cls_scan(const AsymptoticClsCalculator& calc, const std::vector<double>& mus) {
  for (double mu : mus) inference_detail::check_poi_value(calc.model(), mu, "cls_scan");
  std::vector<ClsResult> out(mus.size());
  toys_detail::for_each_toy(
      static_cast<int>(mus.size()),
      [&](int i) { out[static_cast<std::size_t>(i)] = calc.at(mus[static_cast<std::size_t>(i)]); },
      "CLs scan point");
  return out;
}

// -- toys
// -------------------------------------------------------------------------------------------------

struct ToyClsResult {
  double mu = 0.0;
  TestStatistic statistic = TestStatistic::qtilde;
  double q_obs = 0.0;
  double cls_obs = 1.0, clsb_obs = 1.0, clb_obs = 1.0;
  double cls_obs_error = 0.0;       // binomial Monte-Carlo uncertainty of cls_obs
  std::array<double, 5> cls_exp{};  // quantiles of the background toys' CLs values, increasing
  int n_signal = 0, n_background = 0;
};

namespace limits_detail {

// Fraction of sorted values >= q.
AGNOSTIC_COMPILED_WHEN_USED
inline double fraction_at_or_above(const std::vector<double>& sorted, double q) {
  const auto first = std::lower_bound(sorted.begin(), sorted.end(), q);
  return static_cast<double>(sorted.end() - first) / static_cast<double>(sorted.size());
}

// The statistic of toy i of the ensemble `seed` drawn at `truth`, tested at mu (quick: the fit
// options of the toys, without Hesse and started at the truth).
AGNOSTIC_COMPILED_WHEN_USED
inline double toy_statistic(const BinnedLikelihood& model, const Eigen::VectorXd& truth, double mu, int i,
                            std::uint64_t seed, TestStatistic statistic, const FitOptions& quick) {
  Rng rng = toy_rng(seed, static_cast<std::uint64_t>(i));
  const Data toy = sample_toy(model, truth, rng);
  return upper_limit_statistic(
      inference_detail::upper_limit_ratio(model, toy, mu, statistic, quick, nullptr));
}

AGNOSTIC_COMPILED_WHEN_USED
inline FitOptions toy_fit_options(const FitOptions& options, const Eigen::VectorXd& truth) {
  FitOptions quick = options;
  quick.hesse = false;
  quick.start = truth;
  return quick;
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> toy_statistics(const BinnedLikelihood& model, const Eigen::VectorXd& truth,
                                          double mu, int n, std::uint64_t seed, TestStatistic statistic,
                                          const FitOptions& options) {
  std::vector<double> q(static_cast<std::size_t>(n), 0.0);
  const FitOptions quick = toy_fit_options(options, truth);
  toys_detail::for_each_toy(n, [&](int i) {
    q[static_cast<std::size_t>(i)] = toy_statistic(model, truth, mu, i, seed, statistic, quick);
  });
  std::sort(q.begin(), q.end());
  return q;
}

// The seeds of toy_cls's two ensembles, and the true parameters each is drawn at.
AGNOSTIC_COMPILED_WHEN_USED
inline std::uint64_t signal_toy_seed(std::uint64_t seed) {
  return seed ^ 0x5851f42d4c957f2dULL;
}
AGNOSTIC_COMPILED_WHEN_USED
inline Eigen::VectorXd hypothesis_truth(const BinnedLikelihood& model, double mu) {
  Eigen::VectorXd truth = model.init();
  truth[model.poi()] = mu;
  return truth;
}

// The observed statistic of toy_cls at mu (after its checks).
AGNOSTIC_COMPILED_WHEN_USED
inline double observed_toy_cls_statistic(const BinnedLikelihood& model, const Data& data, double mu, int n,
                                         TestStatistic statistic, const FitOptions& options) {
  require(n >= 1, "toy_cls: the number of toys must be >= 1, got ", n);
  inference_detail::check_poi_floats(model, options, "toy_cls");
  inference_detail::check_poi_value(model, mu, "toy_cls");
  inference_detail::check_poi_value(model, 0.0, "toy_cls (the background-only hypothesis)");
  FitOptions quick = options;
  quick.hesse = false;
  return upper_limit_statistic(
      inference_detail::upper_limit_ratio(model, data, mu, statistic, quick, nullptr));
}

}  // namespace limits_detail

// toy_cls's result from the observed statistic and the two ensembles' statistics (any order; n each).
AGNOSTIC_COMPILED_WHEN_USED
inline ToyClsResult toy_cls_from_statistics(double mu, TestStatistic statistic, double q_obs,
                                            std::vector<double> q_sb, std::vector<double> q_b) {
  using limits_detail::fraction_at_or_above;
  require(!q_sb.empty() && q_sb.size() == q_b.size(), "toy_cls: ", q_sb.size(), " signal and ", q_b.size(),
          " background toy statistics (need the same number, >= 1)");
  std::sort(q_sb.begin(), q_sb.end());
  std::sort(q_b.begin(), q_b.end());
  const int n = static_cast<int>(q_b.size());
  ToyClsResult r;
  r.mu = mu;
  r.statistic = statistic;
  r.n_signal = r.n_background = n;
  r.q_obs = q_obs;
  r.clsb_obs = fraction_at_or_above(q_sb, r.q_obs);
  r.clb_obs = fraction_at_or_above(q_b, r.q_obs);
  r.cls_obs = r.clb_obs > 0.0 ? r.clsb_obs / r.clb_obs : 0.0;
  // Binomial errors of both fractions, combined in quadrature on the ratio; with CLs+b = 0 the error is
  // that of one toy, 1 / (n CLb).
  const double nn = static_cast<double>(n);
  if (r.clb_obs > 0.0)
    r.cls_obs_error = r.clsb_obs > 0.0 ? r.cls_obs * std::sqrt((1.0 - r.clsb_obs) / (nn * r.clsb_obs) +
                                                               (1.0 - r.clb_obs) / (nn * r.clb_obs))
                                       : 1.0 / (nn * r.clb_obs);
  std::vector<double> cls_b;
  cls_b.reserve(q_b.size());
  for (double q : q_b) {
    const double clb = fraction_at_or_above(q_b, q);  // > 0: q itself is a background toy
    cls_b.push_back(fraction_at_or_above(q_sb, q) / clb);
  }
  std::sort(cls_b.begin(), cls_b.end());
  for (std::size_t k = 0; k < 5; ++k) r.cls_exp[k] = sorted_quantile(cls_b, normal_cdf(-kBandOffsets[k]));
  return r;
}

// Toy-based CLs at mu, as pyhf's ToyCalculator does it: n signal-plus-background toys drawn at the
// model's init values with the POI at mu, n background-only toys with the POI at 0 (every auxiliary
// datum drawn too); CLs+b and CLb are the fractions of toys whose statistic is >= the observed one,
// CLs = CLs+b / CLb (0 when no background toy reaches q_obs: more toys are needed). The expected band
// is the set of quantiles Phi(-2), Phi(-1), 0.5, Phi(1), Phi(2) of the CLs values the background toys'
// own statistics would give. The toys of a given seed are the same for every mu (common random
// numbers: a CLs curve from toys is smooth in mu) and for any thread count.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyClsResult toy_cls(const BinnedLikelihood& model, const Data& data, double mu, int n,
                            std::uint64_t seed, TestStatistic statistic = TestStatistic::qtilde,
                            const FitOptions& options = {}) {
  const double q_obs = limits_detail::observed_toy_cls_statistic(model, data, mu, n, statistic, options);
  std::vector<double> q_sb =
      limits_detail::toy_statistics(model, limits_detail::hypothesis_truth(model, mu), mu, n,
                                    limits_detail::signal_toy_seed(seed), statistic, options);
  std::vector<double> q_b = limits_detail::toy_statistics(model, limits_detail::hypothesis_truth(model, 0.0),
                                                          mu, n, seed, statistic, options);
  return toy_cls_from_statistics(mu, statistic, q_obs, std::move(q_sb), std::move(q_b));
}

struct ToyUpperLimit {
  double cl = 0.95;
  double obs = std::numeric_limits<double>::quiet_NaN();
  double obs_error = std::numeric_limits<double>::quiet_NaN();  // from cls_obs_error and the local slope
  std::array<double, 5> exp{};
  bool obs_found = false;
  std::array<bool, 5> exp_found{};
  std::vector<ToyClsResult> scan;  // the grid the limit was interpolated on
  std::vector<std::string> notes;
};

namespace limits_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline void check_toy_upper_limit_grid(const std::vector<double>& mus, double cl) {
  require(cl > 0.0 && cl < 1.0, "toy_upper_limit: cl must lie in (0, 1), got ", cl);
  require(mus.size() >= 2, "toy_upper_limit: the grid needs at least 2 points, got ", mus.size());
  for (std::size_t i = 1; i < mus.size(); ++i)
    require(mus[i] > mus[i - 1], "toy_upper_limit: the grid must increase, got ", mus[i - 1], " then ",
            mus[i]);
}

}  // namespace limits_detail

// toy_upper_limit's result from its toy CLs at every point of the grid `mus`.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyUpperLimit toy_upper_limit_from_scan(const std::vector<double>& mus, std::vector<ToyClsResult> scan,
                                               double cl) {
  limits_detail::check_toy_upper_limit_grid(mus, cl);
  require(scan.size() == mus.size(), "toy_upper_limit: ", scan.size(), " CLs points for a grid of ",
          mus.size());
  const double alpha = 1.0 - cl;
  ToyUpperLimit r;
  r.cl = cl;
  r.scan = std::move(scan);
  auto crossing = [&](auto value, const std::string& what, double& out, bool& found, double* error) {
    for (std::size_t i = 0; i + 1 < mus.size(); ++i) {
      const double y0 = value(r.scan[i]), y1 = value(r.scan[i + 1]);
      if (y0 >= alpha && y1 < alpha) {
        const double t = (y0 - alpha) / (y0 - y1);
        out = mus[i] + t * (mus[i + 1] - mus[i]);
        found = true;
        if (error) {
          const double slope = (y1 - y0) / (mus[i + 1] - mus[i]);
          const double sigma =
              r.scan[i].cls_obs_error + t * (r.scan[i + 1].cls_obs_error - r.scan[i].cls_obs_error);
          *error = std::abs(sigma / slope);
        }
        return;
      }
    }
    r.notes.push_back(what + ": toy CLs does not cross " + std::to_string(alpha) +
                      " downwards on the grid [" + std::to_string(mus.front()) + ", " +
                      std::to_string(mus.back()) + "]; widen it");
  };
  crossing([](const ToyClsResult& t) { return t.cls_obs; }, "observed", r.obs, r.obs_found, &r.obs_error);
  for (std::size_t k = 0; k < 5; ++k) {
    r.exp[k] = std::numeric_limits<double>::quiet_NaN();
    crossing([k](const ToyClsResult& t) { return t.cls_exp[k]; }, limits_detail::kCurveNames[k + 1], r.exp[k],
             r.exp_found[k], nullptr);
  }
  return r;
}

// toy_cls at every POI value of `mus`, in order (the same toys at every value: common random numbers).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ToyClsResult> toy_cls_points(const BinnedLikelihood& model, const Data& data,
                                                const std::vector<double>& mus, int n, std::uint64_t seed,
                                                TestStatistic statistic = TestStatistic::qtilde,
                                                const FitOptions& options = {}) {
  std::vector<ToyClsResult> points;
  for (double mu : mus) points.push_back(toy_cls(model, data, mu, n, seed, statistic, options));
  return points;
}

// Toy upper limit: toy CLs on the grid `mus` (increasing), each limit at the first downward crossing of
// 1 - cl, linearly interpolated between the neighbouring grid points (pyhf's scan-based limit). A
// crossing outside the grid is not found (NaN and a note).
AGNOSTIC_COMPILED_WHEN_USED
inline ToyUpperLimit toy_upper_limit(const BinnedLikelihood& model, const Data& data,
                                     const std::vector<double>& mus, int n, std::uint64_t seed,
                                     TestStatistic statistic = TestStatistic::qtilde, double cl = 0.95,
                                     const FitOptions& options = {}) {
  limits_detail::check_toy_upper_limit_grid(mus, cl);
  return toy_upper_limit_from_scan(mus, toy_cls_points(model, data, mus, n, seed, statistic, options), cl);
}

}  // namespace agnostic::stats
