#pragma once
// The figures by which a tagger's decorrelation from a variable m (a mass) is judged
// (docs/decorrelation.md defines each):
//   - the cut that keeps a fraction e of the signal (e = 0.5 for "at 50 %"): the highest threshold
//     t such that the signal events with score >= t hold at least e of the signal weight;
//   - R_e = 1 / background efficiency at that cut (the background rejection; +inf when no
//     background passes);
//   - JSD_e: the Jensen-Shannon divergence, with base-2 logarithms (so in [0, 1]), between the
//     normalised histograms of m for the background events that pass and that fail the cut;
//     a method is better when it reaches a larger 1 / JSD at the same R;
//   - dCor: the weighted distance correlation of the score and m over the background events
//     (the square root of the dCor^2 of losses/decorrelation_disco.hpp, computed exactly in
//     O(n log n) here so that it can be taken over a whole validation set).
// All figures are weighted; weights may be negative, but the totals that normalise (signal weight,
// background weight, passing and failing background weight) must then be positive, else the
// figure is NaN.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "agnostic/core/error.hpp"

namespace agnostic::stats {

// JSD(p || q) in bits of two histograms of the same bins, each normalised to 1 first; NaN when
// either sums to <= 0. Terms with p_k = 0 (or q_k = 0) add 0.
inline double jensen_shannon_divergence(std::span<const double> p, std::span<const double> q) {
  require(p.size() == q.size(), "jensen_shannon_divergence: the histograms have ", p.size(), " and ",
          q.size(), " bins; they must have the same bins");
  const double total_p = std::accumulate(p.begin(), p.end(), 0.0);
  const double total_q = std::accumulate(q.begin(), q.end(), 0.0);
  if (!(total_p > 0.0) || !(total_q > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  double divergence = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const double a = p[k] / total_p, b = q[k] / total_q, middle = 0.5 * (a + b);
    if (a > 0.0) divergence += 0.5 * a * std::log2(a / middle);
    if (b > 0.0) divergence += 0.5 * b * std::log2(b / middle);
  }
  return divergence;
}

// The highest threshold t such that sum_{signal, score >= t} w >= efficiency * sum_signal w:
// walk the signal events from the highest score down and stop at the first whose running weight
// reaches the target (events tied at t all pass). NaN when there is no signal weight.
inline double signal_efficiency_threshold(std::span<const double> score, std::span<const double> weight,
                                          double efficiency) {
  require(score.size() == weight.size(), "signal_efficiency_threshold: ", score.size(), " scores but ",
          weight.size(), " weights");
  require(efficiency > 0.0 && efficiency <= 1.0, "signal_efficiency_threshold: the efficiency is ",
          efficiency, "; expected a fraction in (0, 1]");
  const double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  if (score.empty() || !(total > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  std::vector<std::size_t> order(score.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  const double target = efficiency * total;
  double taken = 0.0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    taken += weight[order[k]];
    // Only at the end of a group of tied scores: a cut cannot split them.
    const bool group_ends = k + 1 == order.size() || score[order[k + 1]] != score[order[k]];
    if (group_ends && taken >= target) return score[order[k]];
  }
  return score[order.back()];
}

// The bin of `value` among `edges` (K + 1 increasing edges): values outside go to the outer bins.
inline std::size_t bin_among(std::span<const double> edges, double value) {
  return static_cast<std::size_t>(std::upper_bound(edges.begin() + 1, edges.end() - 1, value) -
                                  (edges.begin() + 1));
}

// The background's side of a cut: efficiency, rejection and the JSD of m between passing and
// failing background events.
struct SculptingFigures {
  double efficiency = 0.0;  // the signal efficiency asked for
  double threshold = std::numeric_limits<double>::quiet_NaN();
  double background_efficiency = std::numeric_limits<double>::quiet_NaN();
  double background_rejection = std::numeric_limits<double>::quiet_NaN();  // 1 / background_efficiency
  double jsd = std::numeric_limits<double>::quiet_NaN();                   // bits
};

// The figures at the cut keeping `efficiency` of the signal. `edges` bin the variable for the JSD
// (at least 2 increasing edges; values outside go to the outer bins).
inline SculptingFigures sculpting_at_signal_efficiency(std::span<const double> signal_score,
                                                       std::span<const double> signal_weight,
                                                       std::span<const double> background_score,
                                                       std::span<const double> background_variable,
                                                       std::span<const double> background_weight,
                                                       std::span<const double> edges, double efficiency) {
  require(background_score.size() == background_variable.size() &&
              background_score.size() == background_weight.size(),
          "sculpting_at_signal_efficiency: the background has ", background_score.size(), " scores, ",
          background_variable.size(), " variable values and ", background_weight.size(),
          " weights; one of each per event expected");
  require(edges.size() >= 2,
          "sculpting_at_signal_efficiency: the variable's histogram needs at least 2 edges, got ",
          edges.size());
  for (std::size_t k = 1; k < edges.size(); ++k)
    require(edges[k] > edges[k - 1],
            "sculpting_at_signal_efficiency: edges must increase strictly, but edge ", k, " (", edges[k],
            ") <= edge ", k - 1, " (", edges[k - 1], ")");
  SculptingFigures f;
  f.efficiency = efficiency;
  f.threshold = signal_efficiency_threshold(signal_score, signal_weight, efficiency);
  if (std::isnan(f.threshold)) return f;
  std::vector<double> pass(edges.size() - 1, 0.0), fail_cut(pass);
  double passing = 0.0, all = 0.0;
  for (std::size_t i = 0; i < background_score.size(); ++i) {
    const double w = background_weight[i];
    const bool passes = background_score[i] >= f.threshold;
    (passes ? pass : fail_cut)[bin_among(edges, background_variable[i])] += w;
    all += w;
    if (passes) passing += w;
  }
  if (!(all > 0.0)) return f;
  f.background_efficiency = passing / all;
  f.background_rejection = passing > 0.0 ? all / passing : std::numeric_limits<double>::infinity();
  f.jsd = jensen_shannon_divergence(pass, fail_cut);
  return f;
}

namespace detail {

// sum_j w_j |v_i - v_j| for every i, in O(n log n): with the events sorted by v, prefix sums of w and
// w v below and above give it at once (ties add |v_i - v_j| = 0 whichever side they are on).
inline std::vector<double> weighted_row_distance_means(std::span<const double> v, std::span<const double> w) {
  const std::size_t n = v.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  const double total_w = std::accumulate(w.begin(), w.end(), 0.0);
  double total_wv = 0.0;
  for (std::size_t i = 0; i < n; ++i) total_wv += w[i] * v[i];
  std::vector<double> out(n);
  double below_w = 0.0, below_wv = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    const double above_w = total_w - below_w - w[i], above_wv = total_wv - below_wv - w[i] * v[i];
    out[i] = v[i] * below_w - below_wv + above_wv - v[i] * above_w;
    below_w += w[i];
    below_wv += w[i] * v[i];
  }
  return out;
}

// A Fenwick tree of 4 running sums over ranks.
class FenwickSums {
 public:
  explicit FenwickSums(std::size_t n) : tree_(n + 1, {0.0, 0.0, 0.0, 0.0}) {}
  void add(std::size_t rank, const std::array<double, 4>& value) {
    for (std::size_t k = rank + 1; k < tree_.size(); k += k & (~k + 1))
      for (int c = 0; c < 4; ++c) tree_[k][static_cast<std::size_t>(c)] += value[static_cast<std::size_t>(c)];
  }
  // The sums over ranks < rank.
  std::array<double, 4> below(std::size_t rank) const {
    std::array<double, 4> out{0.0, 0.0, 0.0, 0.0};
    for (std::size_t k = rank; k > 0; k -= k & (~k + 1))
      for (int c = 0; c < 4; ++c) out[static_cast<std::size_t>(c)] += tree_[k][static_cast<std::size_t>(c)];
    return out;
  }

 private:
  std::vector<std::array<double, 4>> tree_;
};

}  // namespace detail

// dCor^2(x, y) with weights w (empty: unit weights), defined as in losses/decorrelation_disco.hpp:
// V(x, y) / sqrt(V(x, x) V(y, y)) with V the weighted squared distance covariance. Exact, in
// O(n log n) time and O(n) memory: with normalised weights w^,
//   V(x, y) = S(x, y) - 2 sum_i w^_i abar_i bbar_i + abar bbar,  S(x, y) = sum_ij w^_i w^_j |x_i - x_j| |y_i
//   - y_j|,
// the row means abar_i from sorted prefix sums, and S from one sweep in x order with a Fenwick tree
// over the ranks of y holding the sums of w^, w^ x, w^ y and w^ x y of the events already swept.
// 0 when n < 2, the weights sum to 0, or V(x, x) V(y, y) <= 0.
inline double distance_correlation_squared(std::span<const double> x, std::span<const double> y,
                                           std::span<const double> w = {}) {
  const std::size_t n = x.size();
  require(y.size() == n, "distance_correlation_squared: ", n, " values of x but ", y.size(), " of y");
  require(w.empty() || w.size() == n, "distance_correlation_squared: ", n, " values but ", w.size(),
          " weights");
  if (n < 2) return 0.0;
  std::vector<double> weight(n, 1.0);
  if (!w.empty()) weight.assign(w.begin(), w.end());
  const double total = std::accumulate(weight.begin(), weight.end(), 0.0);
  if (total == 0.0) return 0.0;
  for (double& v : weight) v /= total;
  const std::vector<double> row_x = detail::weighted_row_distance_means(x, weight);
  const std::vector<double> row_y = detail::weighted_row_distance_means(y, weight);
  double mean_x = 0.0, mean_y = 0.0, cross = 0.0, square_x = 0.0, square_y = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mean_x += weight[i] * row_x[i];
    mean_y += weight[i] * row_y[i];
    cross += weight[i] * row_x[i] * row_y[i];
    square_x += weight[i] * row_x[i] * row_x[i];
    square_y += weight[i] * row_y[i] * row_y[i];
  }
  // sum_ij w^_i w^_j (v_i - v_j)^2 = 2 (sum w^ v^2 - (sum w^ v)^2)
  auto pair_squares = [&](std::span<const double> v) {
    double first = 0.0, second = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      first += weight[i] * v[i];
      second += weight[i] * v[i] * v[i];
    }
    return 2.0 * (second - first * first);
  };
  const double var_x = pair_squares(x) - 2.0 * square_x + mean_x * mean_x;
  const double var_y = pair_squares(y) - 2.0 * square_y + mean_y * mean_y;
  if (!(var_x > 0.0 && var_y > 0.0)) return 0.0;

  // S(x, y): every pair once, j swept before i in x order, then doubled.
  std::vector<std::size_t> by_x(n), by_y(n), rank_y(n);
  std::iota(by_x.begin(), by_x.end(), std::size_t{0});
  std::iota(by_y.begin(), by_y.end(), std::size_t{0});
  std::sort(by_x.begin(), by_x.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::sort(by_y.begin(), by_y.end(), [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  for (std::size_t r = 0; r < n; ++r) rank_y[by_y[r]] = r;
  detail::FenwickSums swept(n);
  std::array<double, 4> all{0.0, 0.0, 0.0, 0.0};  // sums of w^, w^ x, w^ y, w^ x y over the swept events
  double pairs = 0.0;
  for (std::size_t i : by_x) {
    const std::array<double, 4> low = swept.below(rank_y[i]);  // swept events with y_j below y_i
    std::array<double, 4> high;
    for (int c = 0; c < 4; ++c)
      high[static_cast<std::size_t>(c)] = all[static_cast<std::size_t>(c)] - low[static_cast<std::size_t>(c)];
    // sum_j w^_j (x_i - x_j)(y_i - y_j) over low, minus the same over high
    auto product_sum = [&](const std::array<double, 4>& s) {
      return x[i] * y[i] * s[0] - x[i] * s[2] - y[i] * s[1] + s[3];
    };
    pairs += weight[i] * (product_sum(low) - product_sum(high));
    const std::array<double, 4> own{weight[i], weight[i] * x[i], weight[i] * y[i], weight[i] * x[i] * y[i]};
    swept.add(rank_y[i], own);
    for (int c = 0; c < 4; ++c) all[static_cast<std::size_t>(c)] += own[static_cast<std::size_t>(c)];
  }
  const double covariance = 2.0 * pairs - 2.0 * cross + mean_x * mean_y;
  return covariance / std::sqrt(var_x * var_y);
}

// dCor = sqrt(max(0, dCor^2)): the figure "dcor" of history.json and summary.json.
inline double distance_correlation(std::span<const double> x, std::span<const double> y,
                                   std::span<const double> w = {}) {
  return std::sqrt(std::max(0.0, distance_correlation_squared(x, y, w)));
}

}  // namespace agnostic::stats
