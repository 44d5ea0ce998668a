#pragma once
// Two-dimensional profile-likelihood scans: on a grid of two parameters (A, B) every other floating
// parameter is profiled, giving Delta(-2 ln L) = 2 (profiled -log L - global minimum) per point, and the
// contours where it crosses the levels of 68.27 % (one sigma) and 95 % for two parameters (Wilks: a
// chi^2 with two degrees of freedom, level = -2 ln(1 - CL): 2.2957 and 5.9915) are extracted as polylines by
// marching squares with linear interpolation along the cells' edges (a saddle cell is split by its centre
// value).
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

// n evenly spaced values of a parameter from min to max.
struct ParameterGrid {
  std::string name;
  double min = 0.0, max = 0.0;
  int n = 0;
};

struct Contour {
  double cl = 0.0, level = 0.0;  // confidence level and its Delta(-2 ln L) for two parameters
  // Each line a list of (A, B) points; a closed line repeats its first point at the end.
  std::vector<std::vector<std::array<double, 2>>> lines;
};

struct Scan2D {
  std::string a, b;                        // the parameters' names
  std::vector<double> a_values, b_values;  // the grid
  Eigen::MatrixXd delta;          // (i, j): Delta(-2 ln L) at (a_values[i], b_values[j]); NaN: the fit failed
  std::vector<Contour> contours;  // 68.27 % and 95 %
};

namespace scan2d_detail {

AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> values(const ParameterGrid& g, const BinnedLikelihood& model, int p) {
  require(g.n >= 2, "--scan2d: parameter '", g.name, "' needs at least 2 points, got ", g.n);
  require(g.min < g.max && g.min >= model.lower()[p] && g.max <= model.upper()[p], "--scan2d: range [", g.min,
          ", ", g.max, "] of '", g.name, "' must be increasing and inside its bounds [", model.lower()[p],
          ", ", model.upper()[p], "]");
  std::vector<double> v(static_cast<std::size_t>(g.n));
  for (int k = 0; k < g.n; ++k) v[static_cast<std::size_t>(k)] = g.min + (g.max - g.min) * k / (g.n - 1.0);
  return v;
}

// Marching squares on `delta` at `level`: the crossings on the cells' edges joined into polylines.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::vector<std::array<double, 2>>> contour_lines(const std::vector<double>& xs,
                                                                     const std::vector<double>& ys,
                                                                     const Eigen::MatrixXd& delta,
                                                                     double level) {
  const auto nx = static_cast<int>(xs.size()), ny = static_cast<int>(ys.size());
  // An edge's id: 2 (i ny + j) for (i, j)-(i + 1, j), 2 (i ny + j) + 1 for (i, j)-(i, j + 1).
  auto crossing = [&](int i, int j, bool along_x, std::array<double, 2>& point) {
    const int i2 = along_x ? i + 1 : i, j2 = along_x ? j : j + 1;
    const double u = delta(i, j) - level, v = delta(i2, j2) - level;
    if (!std::isfinite(u) || !std::isfinite(v) || (u < 0.0) == (v < 0.0)) return false;
    const double t = u / (u - v);
    point = {xs[static_cast<std::size_t>(i)] +
                 t * (xs[static_cast<std::size_t>(i2)] - xs[static_cast<std::size_t>(i)]),
             ys[static_cast<std::size_t>(j)] +
                 t * (ys[static_cast<std::size_t>(j2)] - ys[static_cast<std::size_t>(j)])};
    return true;
  };
  std::map<long long, std::array<double, 2>> points;
  std::map<long long, std::vector<long long>> links;  // edge -> the edges it is joined to
  for (int i = 0; i + 1 < nx; ++i)
    for (int j = 0; j + 1 < ny; ++j) {
      // the cell's edges counter-clockwise: bottom, right, top, left
      const std::array<std::array<int, 3>, 4> edges{{{i, j, 1}, {i + 1, j, 0}, {i, j + 1, 1}, {i, j, 0}}};
      std::vector<long long> hit;
      for (const auto& [ei, ej, along_x] : edges) {
        std::array<double, 2> p{};
        if (!crossing(ei, ej, along_x != 0, p)) continue;
        const long long id = 2LL * (static_cast<long long>(ei) * ny + ej) + (along_x ? 0 : 1);
        points[id] = p;
        hit.push_back(id);
      }
      if (hit.size() == 2) {
        links[hit[0]].push_back(hit[1]);
        links[hit[1]].push_back(hit[0]);
      } else if (hit.size() == 4) {  // saddle: pair the edges so that the centre's side is kept together
        const double centre =
            0.25 * (delta(i, j) + delta(i + 1, j) + delta(i, j + 1) + delta(i + 1, j + 1)) - level;
        const bool corner_below = delta(i, j) - level < 0.0;
        const bool join_around_corner = (centre < 0.0) != corner_below;
        // bottom-left corner cut off (bottom with left, right with top), or bottom with right, top with left
        const std::array<std::size_t, 4> pairs = join_around_corner ? std::array<std::size_t, 4>{0, 3, 1, 2}
                                                                    : std::array<std::size_t, 4>{0, 1, 2, 3};
        for (std::size_t k = 0; k < 4; k += 2) {
          links[hit[pairs[k]]].push_back(hit[pairs[k + 1]]);
          links[hit[pairs[k + 1]]].push_back(hit[pairs[k]]);
        }
      }
    }
  // Walk the chains: open ones from an end (an edge with one link), then the closed loops.
  std::vector<std::vector<std::array<double, 2>>> lines;
  std::map<long long, bool> used;
  auto walk = [&](long long start) {
    std::vector<std::array<double, 2>> line{points[start]};
    used[start] = true;
    long long at = start, previous = -1;
    while (true) {
      long long next = -1;
      for (long long n : links[at])
        if (n != previous && (!used[n] || (n == start && line.size() > 2))) {
          next = n;
          break;
        }
      if (next < 0) break;
      line.push_back(points[next]);
      if (next == start) break;
      used[next] = true;
      previous = at;
      at = next;
    }
    lines.push_back(std::move(line));
  };
  for (const auto& [id, l] : links)
    if (l.size() == 1 && !used[id]) walk(id);
  for (const auto& [id, l] : links)
    if (!used[id]) walk(id);
  return lines;
}

}  // namespace scan2d_detail

// The scan around `best` (a fit of `model` to `data` with Hessian): each point a fit with A and B held,
// started from the best fit's linear prediction of the others at (A, B); the points run in parallel.
AGNOSTIC_COMPILED_WHEN_USED
inline Scan2D profile_scan_2d(const BinnedLikelihood& model, const Data& data, const FitResult& best,
                              const ParameterGrid& a, const ParameterGrid& b) {
  const int pa = model.index(a.name), pb = model.index(b.name);
  require(pa != pb, "--scan2d: the two parameters must differ, got '", a.name, "' twice");
  for (int p : {pa, pb})
    require(best.floating[static_cast<std::size_t>(p)], "--scan2d: parameter '",
            model.names()[static_cast<std::size_t>(p)], "' is fixed");
  Scan2D s;
  s.a = model.names()[static_cast<std::size_t>(pa)];
  s.b = model.names()[static_cast<std::size_t>(pb)];
  s.a_values = scan2d_detail::values(a, model, pa);
  s.b_values = scan2d_detail::values(b, model, pb);
  const int na = a.n, nb = b.n;
  s.delta.resize(na, nb);
  // linear prediction: x = best + C[:, ab] C_ab^-1 (d_a, d_b)
  Eigen::Matrix2d cab;
  cab << best.covariance(pa, pa), best.covariance(pa, pb), best.covariance(pb, pa), best.covariance(pb, pb);
  const bool predict = cab.allFinite() && cab.determinant() > 0.0;
  const Eigen::Matrix2d cab_inverse = predict ? Eigen::Matrix2d(cab.inverse()) : Eigen::Matrix2d::Zero();
  toys_detail::for_each_toy(
      na * nb,
      [&](int k) {
        const int i = k / nb, j = k % nb;
        const double va = s.a_values[static_cast<std::size_t>(i)],
                     vb = s.b_values[static_cast<std::size_t>(j)];
        Eigen::VectorXd start = best.values;
        if (predict) {
          const Eigen::Vector2d w = cab_inverse * Eigen::Vector2d(va - best.values[pa], vb - best.values[pb]);
          for (int p = 0; p < model.n_params(); ++p)
            if (best.floating[static_cast<std::size_t>(p)])
              start[p] =
                  std::clamp(best.values[p] + best.covariance(p, pa) * w[0] + best.covariance(p, pb) * w[1],
                             model.lower()[p], model.upper()[p]);
        }
        FitOptions options;
        options.hesse = false;
        options.start = start;
        options.fix[s.a] = va;
        options.fix[s.b] = vb;
        for (int p = 0; p < model.n_params(); ++p)  // held where the best fit held them
          if (!best.floating[static_cast<std::size_t>(p)] && !model.fixed()[static_cast<std::size_t>(p)])
            options.fix[model.names()[static_cast<std::size_t>(p)]] = best.values[p];
        const FitResult r = fit(model, data, options);
        s.delta(i, j) = r.converged ? 2.0 * (r.nll - best.nll) : std::numeric_limits<double>::quiet_NaN();
      },
      "scan2d point");
  for (const double cl : {std::erf(1.0 / std::sqrt(2.0)), 0.95}) {  // 1 sigma (68.27 %) and 95 %
    const double level = -2.0 * std::log(1.0 - cl);
    s.contours.push_back({cl, level, scan2d_detail::contour_lines(s.a_values, s.b_values, s.delta, level)});
  }
  return s;
}

}  // namespace agnostic::stats
