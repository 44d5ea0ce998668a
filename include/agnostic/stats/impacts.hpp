#pragma once
// Pulls, constraints and impacts of the nuisance parameters on the POI: the ranking plot of a search.
// For each floating nuisance parameter theta (every parameter but the POI):
//   pull       = (theta_hat - theta_0) / sigma_pre   theta_0 = the auxiliary datum (Gaussian) or
//                                                    aux / tau (Poisson), sigma_pre = the constraint width
//                                                    (sigma, or 1 / sqrt(tau) for a Poisson-constrained
//                                                    gamma)
//   constraint = sigma_post / sigma_pre              sigma_post = the Hessian error of the best fit
//   postfit_up/down = mu_hat(theta fixed at theta_hat +- sigma_post) - mu_hat
//   prefit_up/down  = mu_hat(theta fixed at theta_hat +- sigma_pre)  - mu_hat
// (shifted values are clamped into the parameter's bounds). Unconstrained parameters (normfactors,
// shapefactors) have no pre-fit width: their pull, constraint and pre-fit impacts are NaN.
// The refits run in parallel over parameters. Each starts from the linear prediction of the best-fit
// covariance and is minimised by quasi-Newton steps (BFGS) whose first inverse Hessian is the best fit's
// covariance with the fixed parameter conditioned out (a rank-one downdate, no new Hessian and no
// factorisation), to an EDM below 1e-14; a refit that meets a bound, is not evaluable or does not
// converge there is redone by the full bounded Newton minimiser (minimiser.hpp) from the same start.
// The list is sorted by max(|postfit_up|, |postfit_down|), largest first.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

namespace impacts_detail {

// Conditional fits with one parameter fixed, warm-started from a fit with Hessian errors: BFGS on the
// other floating parameters, the inverse Hessian started from the covariance conditioned on the fixed
// parameter, C_FF - C_Fi C_iF / C_ii (the exact inverse of the best fit's Hessian block without i).
class WarmRefit {
 public:
  static constexpr double kTolerance = 1e-14;  // on the EDM g^T H^-1 g / 2
  static constexpr int kMaxIterations = 100;

  WarmRefit(const BinnedLikelihood& model, const Data& data, const FitResult& best, int fixed)
      : model_(model), data_(data) {
    for (int i = 0; i < model.n_params(); ++i)
      if (i != fixed && best.floating[static_cast<std::size_t>(i)]) free_.push_back(i);
    const auto m = static_cast<Eigen::Index>(free_.size());
    const double cii = best.covariance(fixed, fixed);
    usable_ = cii > 0.0 && std::isfinite(cii);
    inverse_ = Eigen::MatrixXd::Zero(m, m);  // its lower triangle is used
    Eigen::VectorXd ci(m);
    for (Eigen::Index a = 0; a < m; ++a) ci[a] = best.covariance(free_[static_cast<std::size_t>(a)], fixed);
    for (Eigen::Index b = 0; b < m; ++b)
      for (Eigen::Index a = b; a < m; ++a)
        inverse_(a, b) =
            best.covariance(free_[static_cast<std::size_t>(a)], free_[static_cast<std::size_t>(b)]) -
            ci[a] * ci[b] / cii;
    usable_ = usable_ && inverse_.allFinite();
    for (int i : free_)  // a parameter on its bound needs the active set of the full minimiser
      if (!(best.values[i] > model.lower()[i] && best.values[i] < model.upper()[i])) usable_ = false;
  }

  // Minimises from `x` (x[fixed] already at its value) in place; false: the caller refits in full.
  bool minimise(Eigen::VectorXd& x) const {
    if (!usable_) return false;
    const auto m = static_cast<Eigen::Index>(free_.size());
    if (m == 0) return true;
    if (!inside(x)) return false;
    double f = 0.0, f_trial = 0.0;
    Eigen::VectorXd g, g_trial;
    if (!model_.objective(x, data_, f, &g, nullptr) || !std::isfinite(f)) return false;
    // The BFGS updates of inverse_ are kept as pairs (s, y) and applied by the two-loop recursion
    // (Nocedal and Wright, Numerical Optimization, algorithm 7.4), so inverse_ is never copied.
    std::vector<Eigen::VectorXd> ss, ys;
    std::vector<double> rhos, alphas;
    Eigen::VectorXd gf = gather(g), gf_trial(m), q(m), d(m), trial = x;
    for (int iter = 0; iter < kMaxIterations; ++iter) {
      q = gf;
      alphas.resize(ss.size());
      for (std::size_t k = ss.size(); k-- > 0;) {
        alphas[k] = rhos[k] * ss[k].dot(q);
        q -= alphas[k] * ys[k];
      }
      d.noalias() = inverse_.selfadjointView<Eigen::Lower>() * q;
      for (std::size_t k = 0; k < ss.size(); ++k) d += (alphas[k] - rhos[k] * ys[k].dot(d)) * ss[k];
      d = -d;
      const double edm = -0.5 * gf.dot(d);
      if (!std::isfinite(edm) || edm < 0.0) return false;
      if (edm < kTolerance) return true;
      // backtracking line search (Armijo), staying inside the bounds
      double t = 1.0;
      bool accepted = false;
      for (int k = 0; k < 40; ++k, t *= 0.5) {
        trial = x;
        for (Eigen::Index a = 0; a < m; ++a) trial[free_[static_cast<std::size_t>(a)]] += t * d[a];
        if (!inside(trial)) continue;
        if (!model_.objective(trial, data_, f_trial, &g_trial, nullptr) || !std::isfinite(f_trial)) continue;
        const double noise = 4.0 * std::numeric_limits<double>::epsilon() * (1.0 + std::abs(f));
        accepted = f_trial <= f - 2e-4 * t * edm + noise;
        if (accepted) break;
      }
      if (!accepted) return edm < 1e2 * kTolerance;  // at the rounding floor of the objective
      gf_trial = gather(g_trial);
      Eigen::VectorXd y = gf_trial - gf;
      const double sy = t * d.dot(y);
      if (sy > 0.0) {
        ss.push_back(t * d);
        ys.push_back(std::move(y));
        rhos.push_back(1.0 / sy);
      }
      x.swap(trial);
      f = f_trial;
      gf.swap(gf_trial);
    }
    return false;
  }

 private:
  Eigen::VectorXd gather(const Eigen::VectorXd& g) const {
    Eigen::VectorXd out(static_cast<Eigen::Index>(free_.size()));
    for (std::size_t a = 0; a < free_.size(); ++a) out[static_cast<Eigen::Index>(a)] = g[free_[a]];
    return out;
  }
  bool inside(const Eigen::VectorXd& x) const {
    for (int i : free_)
      if (!(x[i] > model_.lower()[i] && x[i] < model_.upper()[i])) return false;
    return true;
  }

  const BinnedLikelihood& model_;
  const Data& data_;
  std::vector<int> free_;
  Eigen::MatrixXd inverse_;
  bool usable_ = false;
};

}  // namespace impacts_detail

struct Impact {
  std::string name;
  int index = 0;             // in the model's parameter order
  bool constrained = false;  // has a pre-fit width
  double value = 0.0;        // theta_hat
  double sigma_post = 0.0;   // Hessian error
  double sigma_pre = std::numeric_limits<double>::quiet_NaN();
  double pull = std::numeric_limits<double>::quiet_NaN();
  double constraint = std::numeric_limits<double>::quiet_NaN();
  double prefit_up = std::numeric_limits<double>::quiet_NaN(),
         prefit_down = std::numeric_limits<double>::quiet_NaN();
  double postfit_up = 0.0, postfit_down = 0.0;
  double size() const { return std::max(std::abs(postfit_up), std::abs(postfit_down)); }
};

// `best` must be a fit of the same model and data with Hessian errors (FitOptions::hesse); its floating
// set is kept. The POI must float.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<Impact> impacts(const BinnedLikelihood& model, const Data& data, const FitResult& best) {
  const int np = model.n_params();
  const int poi = model.poi();
  const std::string& poi_name = model.names()[static_cast<std::size_t>(poi)];
  require(best.values.size() == np && best.floating.size() == static_cast<std::size_t>(np) &&
              best.errors.size() == np,
          "impacts: the FitResult does not belong to this model");
  require(best.floating[static_cast<std::size_t>(poi)], "impacts: the POI '", poi_name,
          "' was not floating in the fit; impacts are shifts of its best-fit value");
  require(best.covariance.rows() == np && best.covariance(poi, poi) > 0.0,
          "impacts: the fit has no covariance (run it with FitOptions::hesse = true)");
  model.check_data(data);
  std::vector<int> which;
  for (int i = 0; i < np; ++i)
    if (i != poi && best.floating[static_cast<std::size_t>(i)]) which.push_back(i);
  const double mu_hat = best.values[poi];
  std::vector<Impact> out(which.size());
  toys_detail::for_each_toy(
      static_cast<int>(which.size()),
      [&](int k) {
        const int i = which[static_cast<std::size_t>(k)];
        const auto& p = model.parameter(i);
        Impact& r = out[static_cast<std::size_t>(k)];
        r.name = p.name;
        r.index = i;
        r.value = best.values[i];
        r.sigma_post = best.errors[i];
        double centre = 0.0;
        if (p.constraint == Constraint::gaussian) {
          r.constrained = true;
          r.sigma_pre = p.sigma;
          centre = data.aux[p.aux];
        } else if (p.constraint == Constraint::poisson) {
          r.constrained = true;
          r.sigma_pre = 1.0 / std::sqrt(p.tau);
          centre = data.aux[p.aux] / p.tau;
        }
        if (r.constrained) {
          r.pull = (r.value - centre) / r.sigma_pre;
          r.constraint = r.sigma_post / r.sigma_pre;
        }
        fit_detail::Profile profile(model, data, best, i);
        const impacts_detail::WarmRefit warm(model, data, best, i);
        auto shifted_mu = [&](double shift) {
          const double x = std::clamp(r.value + shift, model.lower()[i], model.upper()[i]);
          Eigen::VectorXd solution = profile.predicted_start(x);
          if (warm.minimise(solution)) return solution[poi] - mu_hat;
          double slope = 0.0;
          bool ok = false;
          (void)profile.at(x, profile.predicted_start(x), solution, slope, ok);
          require(ok, "impacts: the fit with '", p.name, "' fixed at ", x, " did not converge");
          return solution[poi] - mu_hat;
        };
        r.postfit_up = shifted_mu(+r.sigma_post);
        r.postfit_down = shifted_mu(-r.sigma_post);
        if (r.constrained) {
          r.prefit_up = shifted_mu(+r.sigma_pre);
          r.prefit_down = shifted_mu(-r.sigma_pre);
        }
      },
      "impact of parameter");
  std::stable_sort(out.begin(), out.end(),
                   [](const Impact& a, const Impact& b) { return a.size() > b.size(); });
  return out;
}

}  // namespace agnostic::stats
