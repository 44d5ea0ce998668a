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
// The refits start from the linear prediction of the best-fit covariance and run in parallel over
// parameters. The list is sorted by max(|postfit_up|, |postfit_down|), largest first.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

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
        auto shifted_mu = [&](double shift) {
          const double x = std::clamp(r.value + shift, model.lower()[i], model.upper()[i]);
          Eigen::VectorXd solution;
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
