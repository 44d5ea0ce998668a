#pragma once
// Maximum-likelihood fits of a BinnedLikelihood: the best fit with Hessian (covariance) errors,
// profile-likelihood scans and MINOS-style asymmetric intervals where the profiled -log L rises by
// delta_nll (0.5: 68 %, 1.92: 95 % for one parameter).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/minimiser.hpp"

namespace agnostic::stats {

struct FitOptions {
  std::map<std::string, double> fix;     // parameters held at a value (besides the model's fixed ones)
  std::optional<Eigen::VectorXd> start;  // default: the model's init()
  bool hesse = true;                     // covariance and errors from the exact Hessian
  double tolerance = 1e-10;              // on the EDM
  int max_iterations = 1000;
};

// How good the covariance of a fit is, in Minuit's words (to_string): the Hessian block of the floating
// parameters was positive definite and inverted as it is ("accurate"); it was not, and the covariance
// is the inverse of a repaired matrix ("forced positive definite"); there is none (no parameter
// floated, the Hessian was not computed or has a non-finite entry: "not available").
enum class CovarianceQuality { not_available, forced_positive_definite, accurate };

AGNOSTIC_COMPILED_WHEN_USED
inline std::string to_string(CovarianceQuality q) {
  switch (q) {
    case CovarianceQuality::accurate:
      return "accurate";
    case CovarianceQuality::forced_positive_definite:
      return "forced positive definite";
    case CovarianceQuality::not_available:
      break;
  }
  return "not available";
}

struct FitResult {
  bool converged = false;
  std::string status;
  Eigen::VectorXd values;
  Eigen::VectorXd errors;      // sqrt(diag(covariance)); 0 for parameters that did not float
  Eigen::MatrixXd covariance;  // inverse Hessian of -log L over the floating parameters (zeros elsewhere)
  double nll = 0.0;            // -log L at values, with every constant (pyhf's value)
  double edm = 0.0;
  bool hessian_positive_definite = false;
  CovarianceQuality covariance_quality = CovarianceQuality::not_available;  // of `covariance`
  int iterations = 0;
  std::vector<bool> floating;  // which parameters were free in this fit (minos and scans reuse it)
};

namespace fit_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<bool> floating_parameters(const BinnedLikelihood& model, const FitOptions& options,
                                             Eigen::VectorXd& start) {
  std::vector<bool> floating(static_cast<std::size_t>(model.n_params()));
  for (int i = 0; i < model.n_params(); ++i)
    floating[static_cast<std::size_t>(i)] = !model.fixed()[static_cast<std::size_t>(i)];
  for (const auto& [name, value] : options.fix) {
    const int i = model.index(name);
    require(std::isfinite(value), "fit: value ", value, " for fixed parameter '", name, "' is not finite");
    start[i] = value;
    floating[static_cast<std::size_t>(i)] = false;
  }
  return floating;
}

// Covariance = inverse of the Hessian block of the floating parameters. A block that is not positive
// definite is repaired: inverted through its eigen-decomposition with |eigenvalues| floored at 1e-12
// max(1, largest), so errors stay finite, and `quality` says so (forced positive definite). A block
// with a non-finite entry gives a NaN covariance block (not available).
AGNOSTIC_COMPILED_WHEN_USED
inline Eigen::MatrixXd covariance_from_hessian(const Eigen::MatrixXd& h, const std::vector<bool>& floating,
                                               CovarianceQuality* quality = nullptr) {
  const Eigen::Index n = h.rows();
  std::vector<Eigen::Index> idx;
  for (Eigen::Index i = 0; i < n; ++i)
    if (floating[static_cast<std::size_t>(i)]) idx.push_back(i);
  const auto m = static_cast<Eigen::Index>(idx.size());
  Eigen::MatrixXd block(m, m);
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      block(a, b) = h(idx[static_cast<std::size_t>(a)], idx[static_cast<std::size_t>(b)]);
  Eigen::MatrixXd inverse;
  CovarianceQuality q = CovarianceQuality::not_available;
  Eigen::LLT<Eigen::MatrixXd> llt(block);
  if (m > 0 && !block.allFinite()) {
    inverse = Eigen::MatrixXd::Constant(m, m, std::numeric_limits<double>::quiet_NaN());
  } else if (m > 0 && llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0) {
    inverse = llt.solve(Eigen::MatrixXd::Identity(m, m));
    q = CovarianceQuality::accurate;
  } else if (m > 0) {
    q = CovarianceQuality::forced_positive_definite;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(block);
    Eigen::VectorXd lambda = eig.eigenvalues().cwiseAbs();
    const double floor = std::max(lambda.maxCoeff(), 1.0) * 1e-12;
    lambda = lambda.cwiseMax(floor);
    inverse = eig.eigenvectors() * lambda.cwiseInverse().asDiagonal() * eig.eigenvectors().transpose();
  }
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      cov(idx[static_cast<std::size_t>(a)], idx[static_cast<std::size_t>(b)]) = inverse(a, b);
  if (quality) *quality = q;
  return cov;
}

// The minimisation itself, in objective() units (no data constants); `constant` is added to nll.
AGNOSTIC_COMPILED_WHEN_USED
inline FitResult run_fit(const BinnedLikelihood& model, const Data& data, Eigen::VectorXd start,
                         const std::vector<bool>& floating, bool hesse, const MinimiserOptions& options,
                         double constant) {
  auto objective = [&](const Eigen::VectorXd& x, double& value, Eigen::VectorXd* g, Eigen::MatrixXd* h) {
    return model.objective(x, data, value, g, h);
  };
  MinimiserResult m = minimise(objective, std::move(start), model.lower(), model.upper(), floating, options);
  if (m.status == "not evaluable at start") {
    (void)model.nll(m.x, data);  // throws the refuse policy's message naming the bin
    fail("fit: the objective cannot be evaluated at the starting point");
  }
  FitResult r;
  r.converged = m.converged;
  r.status = m.status;
  r.values = m.x;
  r.nll = m.value + constant;
  r.edm = m.edm;
  r.hessian_positive_definite = m.hessian_positive_definite;
  r.iterations = m.iterations;
  r.floating = floating;
  const Eigen::Index n = m.x.size();
  if (hesse) {
    // At a kink (code1/code0 at alpha = 0) the Hessian is one-sided; HESSE's central differences see the
    // mean of the two sides, and so does this: evaluate at alpha = +0 and -0 and average.
    auto at_kink = [&](Eigen::Index i) {
      return floating[static_cast<std::size_t>(i)] && model.kinked(static_cast<int>(i)) &&
             std::abs(m.x[i]) < 1e-6;
    };
    const Eigen::MatrixXd* h = &m.hessian;
    Eigen::MatrixXd averaged;
    bool any_kink = false;
    for (Eigen::Index i = 0; i < n; ++i) any_kink = any_kink || at_kink(i);
    if (any_kink) {
      Eigen::VectorXd plus = m.x, minus = m.x;
      for (Eigen::Index i = 0; i < n; ++i)
        if (at_kink(i)) {
          plus[i] = 0.0;
          minus[i] = -std::numeric_limits<double>::denorm_min();
        }
      double unused = 0.0;
      Eigen::VectorXd g;
      Eigen::MatrixXd h_plus, h_minus;
      if (model.objective(plus, data, unused, &g, &h_plus) &&
          model.objective(minus, data, unused, &g, &h_minus)) {
        averaged = 0.5 * (h_plus + h_minus);
        h = &averaged;
      }
    }
    r.covariance = covariance_from_hessian(*h, floating, &r.covariance_quality);
    r.errors = r.covariance.diagonal().cwiseMax(0.0).cwiseSqrt();
    if (r.covariance_quality == CovarianceQuality::not_available)
      for (Eigen::Index i = 0; i < n; ++i)
        if (floating[static_cast<std::size_t>(i)]) r.errors[i] = std::numeric_limits<double>::quiet_NaN();
  } else {
    r.covariance = Eigen::MatrixXd::Zero(n, n);
    r.errors = Eigen::VectorXd::Zero(n);
  }
  return r;
}

}  // namespace fit_detail

AGNOSTIC_COMPILED_WHEN_USED
inline FitResult fit(const BinnedLikelihood& model, const Data& data, const FitOptions& options = {}) {
  model.check_data(data);
  Eigen::VectorXd start = options.start ? *options.start : model.init();
  model.check_params(start);
  const auto floating = fit_detail::floating_parameters(model, options, start);
  return fit_detail::run_fit(model, data, std::move(start), floating, options.hesse,
                             {options.tolerance, options.max_iterations}, model.nll_constant(data));
}

// The EDM below which a fit counts as converged: the minimiser stops at EDM < tolerance, or below
// 1e4 tolerance when the objective reached its rounding floor (minimiser.hpp).
AGNOSTIC_COMPILED_WHEN_USED
inline double accepted_edm(const FitOptions& options = {}) {
  return 1e4 * options.tolerance;
}

// Why a fit is not to be trusted, one reason per entry (none: trusted), in this order: the minimiser
// failed ("failed: <status>"), the EDM is above accepted_edm ("edm E above L"), the covariance was
// forced positive definite or is not available, floating parameters sit on a bound ("at a bound:
// NAME = VALUE (lower|upper)", one per parameter).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::string> untrusted_reasons(const BinnedLikelihood& model, const FitResult& best,
                                                  const FitOptions& options = {}) {
  std::vector<std::string> out;
  auto text = [](auto... parts) {
    std::ostringstream s;
    (s << ... << parts);
    return s.str();
  };
  if (!best.converged) out.push_back("failed: " + best.status);
  if (!(best.edm <= accepted_edm(options)))
    out.push_back(text("edm ", best.edm, " above ", accepted_edm(options)));
  const bool any_floating =
      std::find(best.floating.begin(), best.floating.end(), true) != best.floating.end();
  if (best.covariance_quality == CovarianceQuality::forced_positive_definite)
    out.push_back("hessian not positive definite (covariance forced positive definite)");
  else if (best.covariance_quality == CovarianceQuality::not_available && any_floating)
    out.push_back("covariance not available");
  for (int i = 0; i < model.n_params(); ++i) {
    if (!best.floating[static_cast<std::size_t>(i)]) continue;
    const double x = best.values[i], lo = model.lower()[i], hi = model.upper()[i];
    const double slack = 1e-12 * std::max(1.0, hi - lo);
    if (x <= lo + slack || x >= hi - slack)
      out.push_back(text("at a bound: ", model.names()[static_cast<std::size_t>(i)], " = ", x,
                         x <= lo + slack ? " (lower)" : " (upper)"));
  }
  return out;
}

namespace fit_detail {

// Profile of one parameter: conditional fits at given values, warm-started.
class Profile {
 public:
  AGNOSTIC_COMPILED_WHEN_USED
  Profile(const BinnedLikelihood& model, const Data& data, const FitResult& best, int param)
      : Profile(model, data, best, param, model.nll_constant(data)) {}
  // `constant` = model.nll_constant(data), for callers that already have it
  Profile(const BinnedLikelihood& model, const Data& data, const FitResult& best, int param, double constant)
      : model_(model),
        data_(data),
        best_(best),
        param_(param),
        floating_(best.floating),
        constant_(constant) {
    floating_[static_cast<std::size_t>(param)] = false;
  }
  // Conditional minimum of -log L at parameter = value; `slope` gets d(profile)/d(value) (the
  // envelope theorem: the partial derivative at the conditional minimum).
  AGNOSTIC_COMPILED_WHEN_USED
  double at(double value, const Eigen::VectorXd& start, Eigen::VectorXd& solution, double& slope,
            bool& ok) const {
    Eigen::VectorXd x = start;
    x[param_] = value;
    auto objective = [&](const Eigen::VectorXd& y, double& value, Eigen::VectorXd* g, Eigen::MatrixXd* h) {
      return model_.objective(y, data_, value, g, h);
    };
    MinimiserResult r =
        minimise(objective, std::move(x), model_.lower(), model_.upper(), floating_, {1e-12, 200});
    ok = r.converged;
    solution = std::move(r.x);
    slope = r.gradient.size() > param_ ? r.gradient[param_] : 0.0;
    return r.value + constant_;
  }
  // The linear prediction of the other parameters from the best-fit covariance: a good warm start.
  Eigen::VectorXd predicted_start(double value) const {
    Eigen::VectorXd x = best_.values;
    const double var = best_.covariance(param_, param_);
    if (var > 0.0)
      for (int i = 0; i < model_.n_params(); ++i)
        if (floating_[static_cast<std::size_t>(i)])
          x[i] =
              std::clamp(best_.values[i] + best_.covariance(i, param_) / var * (value - best_.values[param_]),
                         model_.lower()[i], model_.upper()[i]);
    x[param_] = value;
    return x;
  }

 private:
  const BinnedLikelihood& model_;
  const Data& data_;
  const FitResult& best_;
  int param_;
  std::vector<bool> floating_;
  double constant_;
};

// Buffers of joint_crossing, kept across its calls (both sides of one interval) so that its Newton
// steps allocate nothing.
struct CrossingBuffers {
  std::vector<int> free;
  Eigen::VectorXd x, g, f, step;
  Eigen::MatrixXd h, jac, others;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu;
  Eigen::LLT<Eigen::MatrixXd> llt;
};

// Below this size joint_crossing solves its Newton system with solve_in_place (Eigen's blocked LU costs
// more than the arithmetic there), above it with Eigen's PartialPivLU.
inline constexpr Eigen::Index kSmallSystem = 16;

// Solves a x = b by Gaussian elimination with partial pivoting, in place: `a` is overwritten by its
// factors and `b` by x. A zero pivot leaves non-finite entries in x (as Eigen's LU would).
AGNOSTIC_COMPILED_WHEN_USED
inline void solve_in_place(Eigen::MatrixXd& a, Eigen::VectorXd& b) {
  const Eigen::Index m = a.rows();
  for (Eigen::Index k = 0; k < m; ++k) {
    Eigen::Index pivot = k;
    for (Eigen::Index i = k + 1; i < m; ++i)
      if (std::abs(a(i, k)) > std::abs(a(pivot, k))) pivot = i;
    if (pivot != k) {
      for (Eigen::Index j = k; j < m; ++j) std::swap(a(k, j), a(pivot, j));
      std::swap(b[k], b[pivot]);
    }
    for (Eigen::Index i = k + 1; i < m; ++i) {
      const double l = a(i, k) / a(k, k);
      for (Eigen::Index j = k + 1; j < m; ++j) a(i, j) -= l * a(k, j);
      b[i] -= l * b[k];
    }
  }
  for (Eigen::Index k = m - 1; k >= 0; --k) {  // by columns, as Eigen's triangular solve
    b[k] /= a(k, k);
    for (Eigen::Index i = 0; i < k; ++i) b[i] -= b[k] * a(i, k);
  }
}

// Fast path of MINOS: Newton on the joint system {-log L(x) = target, d(-log L)/dx_j = 0 for the other
// floating j}, started from the covariance ellipse. Quadratic convergence, one evaluation per step.
// Returns false (the caller then walks the profile) when it leaves the bounds, the side or does not
// converge, or when the end point is not a conditional minimum. `constant` = model.nll_constant(data).
AGNOSTIC_COMPILED_WHEN_USED
inline bool joint_crossing(const BinnedLikelihood& model, const Data& data, const FitResult& best, int p,
                           int side, double delta_nll, double constant, CrossingBuffers& buffers,
                           double& crossing) {
  const int n = model.n_params();
  const double var = best.covariance.size() ? best.covariance(p, p) : 0.0;
  if (!(var > 0.0) || !std::isfinite(var)) return false;
  auto& [free, x, g, f, step, h, jac, others, lu, llt] = buffers;
  free.clear();
  for (int i = 0; i < n; ++i)
    if (best.floating[static_cast<std::size_t>(i)]) free.push_back(i);
  const auto m = static_cast<Eigen::Index>(free.size());
  x = best.values + side * std::sqrt(2.0 * delta_nll / var) * best.covariance.col(p);
  const double target = best.nll - constant + delta_nll;  // in objective() units
  f.resize(m);
  jac.resize(m, m);
  for (int iter = 0; iter < 30; ++iter) {
    for (int i : free)
      if (!(x[i] >= model.lower()[i] && x[i] <= model.upper()[i])) return false;
    if (side * (x[p] - best.values[p]) <= 0.0) return false;
    double value = 0.0;
    if (!model.objective(x, data, value, &g, &h)) return false;
    // row 0: the level condition; rows for the other parameters: stationarity
    Eigen::Index row = 0;
    f[row] = value - target;
    for (Eigen::Index b = 0; b < m; ++b) jac(row, b) = g[free[static_cast<std::size_t>(b)]];
    for (int j : free) {
      if (j == p) continue;
      ++row;
      f[row] = g[j];
      for (Eigen::Index b = 0; b < m; ++b) jac(row, b) = h(j, free[static_cast<std::size_t>(b)]);
    }
    if (m <= kSmallSystem) {
      step = -f;
      solve_in_place(jac, step);
    } else {
      lu.compute(jac);
      step = lu.solve(-f);
    }
    if (!step.allFinite()) return false;
    const double level = std::abs(f[0]);
    const double stationary = m > 1 ? f.tail(m - 1).cwiseAbs().maxCoeff() : 0.0;
    if (level < 1e-11 * (1.0 + delta_nll) && stationary < 1e-9) {
      // a conditional minimum needs a positive-definite Hessian block of the other parameters
      others.resize(m - 1, m - 1);
      Eigen::Index a = 0;
      for (int i : free) {
        if (i == p) continue;
        Eigen::Index b = 0;
        for (int j : free)
          if (j != p) others(a, b++) = h(i, j);
        ++a;
      }
      if (m > 1) {
        llt.compute(others);
        if (llt.info() != Eigen::Success) return false;
      }
      crossing = x[p];
      return true;
    }
    for (Eigen::Index b = 0; b < m; ++b) x[free[static_cast<std::size_t>(b)]] += step[b];
  }
  return false;
}

}  // namespace fit_detail

// MINOS-style interval: the values [lo, hi] of `param` where the profiled -log L rises by delta_nll above
// best.nll. `best` must be a fit (with hesse) of the same model and data; its floating set is kept.
// An endpoint that would lie beyond the parameter's bound is reported as the bound.
AGNOSTIC_COMPILED_WHEN_USED
inline std::pair<double, double> minos(const BinnedLikelihood& model, const Data& data, const FitResult& best,
                                       const std::string& param, double delta_nll = 0.5) {
  const int p = model.index(param);
  require(delta_nll > 0.0, "minos: delta_nll must be > 0, got ", delta_nll);
  require(best.values.size() == model.n_params() &&
              best.floating.size() == static_cast<std::size_t>(model.n_params()),
          "minos: the FitResult does not belong to this model");
  require(best.floating[static_cast<std::size_t>(p)], "minos: parameter '", param,
          "' was not floating in the fit");
  const double constant = model.nll_constant(data);
  std::optional<fit_detail::Profile> profile;  // set up only when the fast path fails
  fit_detail::CrossingBuffers buffers;
  const double x0 = best.values[p];
  const double target = std::sqrt(2.0 * delta_nll);  // solve r(x) = sqrt(2 (P(x) - P_min)) = target
  double sigma = best.errors.size() == model.n_params() ? best.errors[p] : 0.0;
  if (!(sigma > 0.0) || !std::isfinite(sigma)) sigma = 0.1 * (1.0 + std::abs(x0));

  std::pair<double, double> out{x0, x0};
  for (int side : {-1, +1}) {
    double fast = 0.0;
    if (fit_detail::joint_crossing(model, data, best, p, side, delta_nll, constant, buffers, fast)) {
      (side < 0 ? out.first : out.second) = fast;
      continue;
    }
    const double bound = side < 0 ? model.lower()[p] : model.upper()[p];
    double inside = x0, outside = std::numeric_limits<double>::quiet_NaN();  // bracket of the crossing
    double x = x0 + side * target * sigma;
    if (side * (x - bound) > 0.0) x = bound;
    if (!profile) profile.emplace(model, data, best, p, constant);
    Eigen::VectorXd start = profile->predicted_start(x), solution;
    double result = bound;
    bool found = false;
    for (int iter = 0; iter < 100; ++iter) {
      double slope = 0.0;
      bool ok = false;
      const double nll = profile->at(x, start, solution, slope, ok);
      const double rise = std::max(nll - best.nll, 0.0);
      const double r = std::sqrt(2.0 * rise);
      if (r < target)
        inside = x;
      else
        outside = x;
      if (std::abs(r - target) < 1e-9 * target) {
        result = x;
        found = true;
        break;
      }
      if (r < target && x == bound) {  // the profile stays below the target up to the bound
        result = bound;
        found = true;
        break;
      }
      start = solution;
      // Newton on r(x): r' = P'(x) / r; near-linear for near-parabolic profiles
      double next = std::numeric_limits<double>::quiet_NaN();
      if (r > 0.0 && slope * side > 0.0) next = x + (target - r) * r / slope;
      const bool bracketed = std::isfinite(outside);
      const double lo_b = std::min(inside, bracketed ? outside : bound),
                   hi_b = std::max(inside, bracketed ? outside : bound);
      if (!std::isfinite(next) || next <= lo_b || next >= hi_b) {
        next = bracketed ? 0.5 * (inside + outside) : x + side * sigma;  // bisect, or walk outward
        if (!bracketed && side * (next - bound) > 0.0) next = bound;
      }
      if (bracketed && std::abs(outside - inside) < 1e-12 * (1.0 + std::abs(x))) {
        result = 0.5 * (inside + outside);
        found = true;
        break;
      }
      x = next;
    }
    require(found, "minos: no crossing found for '", param, "' on the ", side < 0 ? "lower" : "upper",
            " side");
    (side < 0 ? out.first : out.second) = result;
  }
  return out;
}

// A profile scan set up once: the argument checks, the global fit (with Hesse) and the profile.
// block(begin, end) scans grid points [begin, end) of the `points` equally spaced values in [lo, hi]:
// pairs (value, 2 * (profiled -log L - global minimum)). Every point starts from the best fit's
// linear prediction of the other parameters at its value (Profile::predicted_start), not from its
// neighbour's solution, so a point's result does not depend on which points were scanned before it:
// any split of the grid (profile_scan of across_ranks.hpp gives each rank one block) gives the same bits
// as stats::profile_scan, which is block(0, points).
class ProfileScan {
 public:
  AGNOSTIC_COMPILED_WHEN_USED
  ProfileScan(const BinnedLikelihood& model, const Data& data, const std::string& param, double lo, double hi,
              int points, const FitOptions& options)
      : lo_(lo),
        hi_(hi),
        points_(points),
        best_(checked_fit(model, data, param, lo, hi, points, options)),
        profile_(model, data, best_, model.index(param)) {}

  int points() const { return points_; }
  double value(long long k) const { return points_ == 1 ? lo_ : lo_ + (hi_ - lo_) * k / (points_ - 1.0); }

  AGNOSTIC_COMPILED_WHEN_USED
  std::vector<std::pair<double, double>> block(long long begin, long long end) const {
    std::vector<std::pair<double, double>> out;
    if (end <= begin) return out;
    Eigen::VectorXd solution;
    for (long long k = begin; k < end; ++k) {
      const double v = value(k);
      double slope = 0.0;
      bool ok = false;
      const double nll = profile_.at(v, profile_.predicted_start(v), solution, slope, ok);
      out.emplace_back(v, 2.0 * (nll - best_.nll));
    }
    return out;
  }

 private:
  AGNOSTIC_COMPILED_WHEN_USED
  static FitResult checked_fit(const BinnedLikelihood& model, const Data& data, const std::string& param,
                               double lo, double hi, int points, FitOptions options) {
    const int p = model.index(param);
    require(points >= 1, "profile_scan: points must be >= 1, got ", points);
    require(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
            "profile_scan: need a finite range lo <= hi, got [", lo, ", ", hi, "]");
    require(lo >= model.lower()[p] && hi <= model.upper()[p], "profile_scan: range [", lo, ", ", hi,
            "] leaves the bounds of '", param, "' [", model.lower()[p], ", ", model.upper()[p], "]");
    options.hesse = true;
    FitResult best = fit(model, data, options);
    require(best.floating[static_cast<std::size_t>(p)], "profile_scan: parameter '", param, "' is fixed");
    return best;
  }

  double lo_, hi_;
  int points_;
  FitResult best_;
  fit_detail::Profile profile_;
};

// Profile-likelihood scan of `param` at `points` equally spaced values in [lo, hi]:
// pairs (value, 2 * (profiled -log L - global minimum)), each point started from the best fit's
// linear prediction (ProfileScan).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::pair<double, double>> profile_scan(const BinnedLikelihood& model, const Data& data,
                                                           const std::string& param, double lo, double hi,
                                                           int points, const FitOptions& options = {}) {
  const ProfileScan scan(model, data, param, lo, hi, points, options);
  return scan.block(0, points);
}

}  // namespace agnostic::stats
