#pragma once
// A bounded Newton minimiser for smooth objectives that supply an exact (or good) Hessian, as binned
// Poisson likelihoods do cheaply. Bounds are handled by projection with an active set: a parameter
// sitting on a bound whose gradient pushes outward is held there for the step; the others take a
// Newton step (damped towards gradient descent when the Hessian block is not positive definite) along
// a projected backtracking line search. Convergence: EDM = g^T H^-1 g / 2 over the free parameters
// below the tolerance; whether the Hessian block is positive definite is reported separately.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include "agnostic/core/error.hpp"

namespace agnostic::stats {

struct MinimiserOptions {
  double tolerance = 1e-10;  // on the EDM
  int max_iterations = 1000;
};

struct MinimiserResult {
  Eigen::VectorXd x;
  double value = 0.0;
  Eigen::VectorXd gradient;
  Eigen::MatrixXd hessian;  // at x, all parameters
  double edm = 0.0;
  bool converged = false;
  bool hessian_positive_definite = false;  // of the block of floating parameters
  int iterations = 0;
  int evaluations = 0;
  std::string status;  // "converged", "max iterations", "line search failed", "not evaluable at start"
};

// objective(x, value, gradient*, hessian*) -> bool (false: x cannot be evaluated, e.g. a refused yield).
// `floating[i]` false keeps x[i] where it is. Floating starting values are clamped into [lower, upper].
template <class Objective>
MinimiserResult minimise(Objective&& objective, Eigen::VectorXd x, const Eigen::VectorXd& lower,
                         const Eigen::VectorXd& upper, const std::vector<bool>& floating,
                         const MinimiserOptions& options = {}) {
  const Eigen::Index n = x.size();
  require(lower.size() == n && upper.size() == n && static_cast<Eigen::Index>(floating.size()) == n,
          "minimise: x, lower, upper and floating must have the same size (", n, ", ", lower.size(), ", ",
          upper.size(), ", ", floating.size(), ")");
  require(options.tolerance > 0.0 && options.max_iterations > 0,
          "minimise: tolerance and max_iterations must be > 0, got ", options.tolerance, " and ",
          options.max_iterations);
  auto is_floating = [&](Eigen::Index i) { return floating[static_cast<std::size_t>(i)]; };
  for (Eigen::Index i = 0; i < n; ++i) {
    require(lower[i] <= upper[i], "minimise: lower bound ", lower[i], " above upper bound ", upper[i],
            " for x[", i, "]");
    if (is_floating(i)) x[i] = std::clamp(x[i], lower[i], upper[i]);
  }

  MinimiserResult r;
  double f = 0.0;
  Eigen::VectorXd g(n);
  Eigen::MatrixXd h(n, n);
  ++r.evaluations;
  if (!objective(x, f, &g, &h)) {
    r.x = std::move(x);
    r.status = "not evaluable at start";
    r.value = std::numeric_limits<double>::infinity();
    return r;
  }

  std::vector<Eigen::Index> free;
  Eigen::VectorXd step(n), trial(n), gf, d, g_trial(n);
  Eigen::MatrixXd h_trial(n, n);
  Eigen::MatrixXd hf;
  Eigen::LLT<Eigen::MatrixXd> llt;
  bool converged = false;
  r.status = "max iterations";
  for (r.iterations = 0; r.iterations < options.max_iterations; ++r.iterations) {
    free.clear();
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!is_floating(i)) continue;
      if (x[i] <= lower[i] && g[i] > 0.0) continue;  // held on the bound it pushes against
      if (x[i] >= upper[i] && g[i] < 0.0) continue;
      free.push_back(i);
    }
    const auto nf = static_cast<Eigen::Index>(free.size());
    if (nf == 0) {
      r.edm = 0.0;
      converged = true;
      break;
    }
    gf.resize(nf);
    hf.resize(nf, nf);
    for (Eigen::Index a = 0; a < nf; ++a) {
      gf[a] = g[free[static_cast<std::size_t>(a)]];
      for (Eigen::Index b = 0; b < nf; ++b)
        hf(a, b) = h(free[static_cast<std::size_t>(a)], free[static_cast<std::size_t>(b)]);
    }
    llt.compute(hf);
    const bool pd = llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0;
    if (pd) {
      d = -llt.solve(gf);
    } else {
      // Levenberg damping: H + lambda * diag(scale) until it factorises
      Eigen::VectorXd scale = hf.diagonal().cwiseAbs().cwiseMax(1e-12);
      double lambda = 1e-6;
      for (int k = 0; k < 60; ++k, lambda *= 10.0) {
        Eigen::MatrixXd damped = hf;
        damped.diagonal() += lambda * scale;
        llt.compute(damped);
        if (llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0) break;
      }
      d = -llt.solve(gf);
    }
    r.edm = -0.5 * gf.dot(d);  // with a damped Hessian: an upper estimate of the distance
    if (!d.allFinite()) {
      r.status = "Newton step not finite";
      break;
    }

    step.setZero();
    for (Eigen::Index a = 0; a < nf; ++a) step[free[static_cast<std::size_t>(a)]] = d[a];
    // Projected backtracking line search (Armijo on the projected path).
    // The full step is usually accepted, so it is evaluated with gradient and Hessian at once.
    double t = 1.0, f_trial = 0.0;
    bool accepted = false, have_derivatives = false;
    for (int k = 0; k < 60; ++k, t *= 0.5) {
      trial = x + t * step;
      for (Eigen::Index i = 0; i < n; ++i)
        if (is_floating(i)) trial[i] = std::clamp(trial[i], lower[i], upper[i]);
      ++r.evaluations;
      have_derivatives = k == 0;
      if (!objective(trial, f_trial, have_derivatives ? &g_trial : nullptr,
                     have_derivatives ? &h_trial : nullptr) ||
          !std::isfinite(f_trial))
        continue;
      const double slope = g.dot(trial - x);  // <= 0 for a descent direction projected on the box
      const double noise = 4.0 * std::numeric_limits<double>::epsilon() * (1.0 + std::abs(f));
      if (f_trial <= f + 1e-4 * slope + noise) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      if (r.edm < 1e4 * options.tolerance) {
        converged = true;  // at the rounding floor of the objective
        break;
      }
      r.status = "line search failed";
      break;
    }
    const double moved = (trial - x).cwiseAbs().maxCoeff();
    x = trial;
    if (have_derivatives) {
      f = f_trial;
      g.swap(g_trial);
      h.swap(h_trial);
    } else {
      ++r.evaluations;
      if (!objective(x, f, &g, &h)) {
        r.status = "objective failed after an accepted step";
        break;
      }
    }
    if (r.edm < options.tolerance) {  // that was the polishing step
      converged = true;
      ++r.iterations;
      break;
    }
    if (moved == 0.0) {
      converged = r.edm < 1e4 * options.tolerance;
      if (!converged) r.status = "no progress";
      break;
    }
  }

  if (converged) r.status = "converged";
  r.converged = converged;
  r.x = std::move(x);
  r.value = f;
  r.gradient = std::move(g);
  r.hessian = std::move(h);
  // positive definiteness over every floating parameter (bounds ignored), as HESSE would judge it
  std::vector<Eigen::Index> fl;
  for (Eigen::Index i = 0; i < n; ++i)
    if (is_floating(i)) fl.push_back(i);
  Eigen::MatrixXd hb(static_cast<Eigen::Index>(fl.size()), static_cast<Eigen::Index>(fl.size()));
  for (std::size_t a = 0; a < fl.size(); ++a)
    for (std::size_t b = 0; b < fl.size(); ++b)
      hb(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b)) = r.hessian(fl[a], fl[b]);
  Eigen::LLT<Eigen::MatrixXd> final_llt(hb);
  r.hessian_positive_definite =
      fl.empty() || (final_llt.info() == Eigen::Success && final_llt.matrixLLT().diagonal().minCoeff() > 0.0);
  return r;
}

}  // namespace agnostic::stats
