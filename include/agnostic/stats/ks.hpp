#pragma once
// Two-sample Kolmogorov-Smirnov test, weighted, and the average K-S statistic across domains that
// Camaiani et al. (arXiv:2207.09293) minimises (signal scores of the SM sample against each alternative
// model).
//
// D = max_x |F_a(x) - F_b(x)| with weighted empirical CDFs, evaluated after all events tied at x.
// p-value = P(D_nm >= D_observed) under the null hypothesis:
//  - exact: the fraction of lattice paths from (0,0) to (n,m) that leave the band |i/n - j/m| < D
//    (Smirnov's counting), for unweighted samples (or equal weights within each sample);
//  - asymptotic: Kolmogorov's limit Q_KS(sqrt(n_a n_b / (n_a + n_b)) D), with the effective sizes
//    n = (sum w)^2 / sum w^2 when the events are weighted.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <numbers>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/metric_input.hpp"

namespace agnostic::stats {

enum class KsMethod {
  automatic,   // exact when both samples are unweighted and n_a * n_b <= kKsExactMaxProduct
  exact,       // exact lattice-path count; unweighted (or equal-weight) samples only
  asymptotic,  // Kolmogorov distribution with effective sample sizes
};

inline constexpr double kKsExactMaxProduct = 1e7;

struct KsResult {
  double statistic = 0.0;
  double p_value = 1.0;
  double effective_a = 0.0, effective_b = 0.0;  // (sum w)^2 / sum w^2
  bool exact = false;                           // which p-value was computed
};

// Survival function of the Kolmogorov distribution, P(K > x), K = sup |Brownian bridge|.
inline double kolmogorov_survival(double x) {
  require(!std::isnan(x), "kolmogorov_survival: x is NaN");
  if (x <= 0.0) return 1.0;
  if (x < 1.18) {
    // Jacobi-transformed series, fast for small x: 1 - sqrt(2 pi)/x sum exp(-(2k-1)^2 pi^2 / (8 x^2)).
    const double pi2_8x2 = std::numbers::pi * std::numbers::pi / (8.0 * x * x);
    double sum = 0.0;
    for (int k = 1; k < 50; ++k) {
      const double odd = 2.0 * k - 1.0;
      const double term = std::exp(-odd * odd * pi2_8x2);
      sum += term;
      if (term < 1e-18 * sum) break;
    }
    return 1.0 - std::sqrt(2.0 * std::numbers::pi) / x * sum;
  }
  // Alternating series 2 sum (-1)^(k-1) exp(-2 k^2 x^2), fast for large x.
  double sum = 0.0;
  for (int k = 1; k < 100; ++k) {
    const double term = std::exp(-2.0 * k * k * x * x);
    sum += (k % 2 == 1 ? term : -term);
    if (term < 1e-18 * sum) break;
  }
  return std::min(1.0, 2.0 * sum);
}

// Exact P(D_nm >= d) for two unweighted samples of sizes n and m (no ties between them assumed).
// d is rounded to the lattice value h / (n m) it must take.
inline double ks_exact_p_value(Index n, Index m, double d) {
  require(n > 0 && m > 0, "ks_exact_p_value: sample sizes must be positive, got ", n, " and ", m);
  require(d >= 0.0 && d <= 1.0, "ks_exact_p_value: statistic ", d, " outside [0, 1]");
  require(static_cast<double>(n) * static_cast<double>(m) <= 1e10,
          "ks_exact_p_value: n*m = ", static_cast<double>(n) * static_cast<double>(m),
          " is too large for the exact count; use the asymptotic p-value");
  const long long nm = static_cast<long long>(n) * static_cast<long long>(m);
  const long long h = std::llround(d * static_cast<double>(nm));
  if (h <= 0) return 1.0;
  // g(i, j): fraction of the paths from (0, 0) to (i, j) that have touched |i m - j n| >= h. Summing
  // the escaped fraction (never 1 - the kept one) keeps small p-values accurate.
  auto outside = [&](long long i, long long j) { return std::llabs(i * m - j * n) >= h; };
  std::vector<double> g(static_cast<std::size_t>(m) + 1, 0.0);
  for (long long i = 0; i <= n; ++i) {
    for (long long j = 0; j <= m; ++j) {
      double& cell = g[static_cast<std::size_t>(j)];
      if (outside(i, j)) {
        cell = 1.0;
      } else if (i == 0 && j == 0) {
        cell = 0.0;
      } else {
        const double from_above = i > 0 ? cell : 0.0;  // g(i-1, j), still in the row buffer
        const double from_left = j > 0 ? g[static_cast<std::size_t>(j) - 1] : 0.0;
        const double total = static_cast<double>(i + j);
        cell = (static_cast<double>(i) * from_above + static_cast<double>(j) * from_left) / total;
      }
    }
  }
  return std::min(1.0, g[static_cast<std::size_t>(m)]);
}

namespace detail {

struct WeightedSample {
  std::vector<double> value, weight;  // sorted by value
  double total = 0.0, total_squared = 0.0;
  bool equal_weights = true;
  double effective() const { return total * total / total_squared; }
};

inline WeightedSample weighted_sample(std::vector<double> value, std::vector<double> weight,
                                      const char* function, const char* which) {
  require_not_empty(function, which, value.size());
  std::vector<std::pair<double, double>> events(value.size());
  for (std::size_t k = 0; k < value.size(); ++k) events[k] = {value[k], weight[k]};
  std::sort(events.begin(), events.end());
  WeightedSample s;
  s.value.resize(events.size());
  s.weight.resize(events.size());
  for (std::size_t k = 0; k < events.size(); ++k) {
    s.value[k] = events[k].first;
    s.weight[k] = events[k].second;
    s.total += s.weight[k];
    s.total_squared += s.weight[k] * s.weight[k];
    s.equal_weights = s.equal_weights && s.weight[k] == s.weight[0];
  }
  require(s.total > 0.0, function, ": total weight of ", which, " is ", s.total, "; must be positive");
  return s;
}

inline double ks_distance(const WeightedSample& a, const WeightedSample& b) {
  const std::size_t na = a.value.size(), nb = b.value.size();
  std::size_t i = 0, j = 0;
  double fa = 0.0, fb = 0.0, d = 0.0;
  while (i < na || j < nb) {
    // Next distinct value of the merged samples; both CDFs step over all events tied at it.
    const double x = j == nb ? a.value[i] : i == na ? b.value[j] : std::min(a.value[i], b.value[j]);
    while (i < na && a.value[i] == x) fa += a.weight[i++];
    while (j < nb && b.value[j] == x) fb += b.weight[j++];
    d = std::max(d, std::abs(fa / a.total - fb / b.total));
  }
  return d;
}

inline KsResult ks_test(const WeightedSample& a, const WeightedSample& b, KsMethod method) {
  KsResult r;
  r.statistic = ks_distance(a, b);
  r.effective_a = a.effective();
  r.effective_b = b.effective();
  const bool unweighted = a.equal_weights && b.equal_weights;
  const double product = static_cast<double>(a.value.size()) * static_cast<double>(b.value.size());
  if (method == KsMethod::exact)
    require(unweighted,
            "ks_test: the exact p-value needs unweighted samples (or equal weights within each); "
            "use KsMethod::asymptotic for weighted events");
  r.exact = method == KsMethod::exact ||
            (method == KsMethod::automatic && unweighted && product <= kKsExactMaxProduct);
  if (r.exact) {
    r.p_value =
        ks_exact_p_value(static_cast<Index>(a.value.size()), static_cast<Index>(b.value.size()), r.statistic);
  } else {
    const double en = r.effective_a * r.effective_b / (r.effective_a + r.effective_b);
    r.p_value = kolmogorov_survival(std::sqrt(en) * r.statistic);
  }
  return r;
}

}  // namespace detail

template <class A, class B>
KsResult ks_test(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b,
                 KsMethod method = KsMethod::automatic) {
  std::vector<double> va = detail::to_doubles(a, "ks_test", "value of sample a");
  std::vector<double> vb = detail::to_doubles(b, "ks_test", "value of sample b");
  std::vector<double> wa(va.size(), 1.0), wb(vb.size(), 1.0);
  return detail::ks_test(detail::weighted_sample(std::move(va), std::move(wa), "ks_test", "sample a"),
                         detail::weighted_sample(std::move(vb), std::move(wb), "ks_test", "sample b"),
                         method);
}

template <class A, class B, class WA, class WB>
KsResult ks_test(const Eigen::DenseBase<A>& a, const Eigen::DenseBase<B>& b,
                 const Eigen::DenseBase<WA>& weights_a, const Eigen::DenseBase<WB>& weights_b,
                 KsMethod method = KsMethod::automatic) {
  std::vector<double> va = detail::to_doubles(a, "ks_test", "value of sample a");
  std::vector<double> vb = detail::to_doubles(b, "ks_test", "value of sample b");
  std::vector<double> wa = detail::weights_of(weights_a, va.size(), "ks_test");
  std::vector<double> wb = detail::weights_of(weights_b, vb.size(), "ks_test");
  return detail::ks_test(detail::weighted_sample(std::move(va), std::move(wa), "ks_test", "sample a"),
                         detail::weighted_sample(std::move(vb), std::move(wb), "ks_test", "sample b"),
                         method);
}

// One K-S test per domain against the reference domain, and their average (Camaiani et al.'s objective).
struct DomainKs {
  long domain = 0;
  KsResult ks;
};
struct DomainKsSummary {
  double average_statistic = 0.0;
  std::vector<DomainKs> per_domain;  // ascending domain label, reference excluded
};

namespace detail {
template <class Scores, class Domains>
DomainKsSummary ks_across_domains(const Eigen::DenseBase<Scores>& scores,
                                  const Eigen::DenseBase<Domains>& domains, const std::vector<double>& weight,
                                  long reference, KsMethod method) {
  const char* function = "ks_across_domains";
  const std::vector<double> s = to_doubles(scores, function, "score");
  const std::vector<double> d = to_doubles(domains, function, "domain label");
  require_same_length(function, "scores", s.size(), "domain labels", d.size());
  require_same_length(function, "scores", s.size(), "weights", weight.size());
  require_not_empty(function, "scores", s.size());
  std::map<long, std::pair<std::vector<double>, std::vector<double>>> split;
  for (std::size_t i = 0; i < s.size(); ++i) {
    require(d[i] == std::floor(d[i]), function, ": domain label of event ", i, " is ", d[i],
            "; domain labels must be integers");
    auto& bucket = split[static_cast<long>(d[i])];
    bucket.first.push_back(s[i]);
    bucket.second.push_back(weight[i]);
  }
  const auto ref = split.find(reference);
  require(ref != split.end(), function, ": no event of the reference domain ", reference);
  require(split.size() >= 2, function, ": only the reference domain ", reference,
          " is present; at least one other domain is needed");
  const WeightedSample reference_sample =
      weighted_sample(ref->second.first, ref->second.second, function, "the reference domain");
  DomainKsSummary summary;
  for (auto& [label, bucket] : split) {
    if (label == reference) continue;
    const WeightedSample other = weighted_sample(bucket.first, bucket.second, function, "a domain");
    summary.per_domain.push_back({label, ks_test(reference_sample, other, method)});
    summary.average_statistic += summary.per_domain.back().ks.statistic;
  }
  summary.average_statistic /= static_cast<double>(summary.per_domain.size());
  return summary;
}
}  // namespace detail

template <class Scores, class Domains>
DomainKsSummary ks_across_domains(const Eigen::DenseBase<Scores>& scores,
                                  const Eigen::DenseBase<Domains>& domains, long reference = 0,
                                  KsMethod method = KsMethod::automatic) {
  return detail::ks_across_domains(
      scores, domains, std::vector<double>(static_cast<std::size_t>(scores.size()), 1.0), reference, method);
}
template <class Scores, class Domains, class Weights>
DomainKsSummary ks_across_domains(const Eigen::DenseBase<Scores>& scores,
                                  const Eigen::DenseBase<Domains>& domains,
                                  const Eigen::DenseBase<Weights>& weights, long reference = 0,
                                  KsMethod method = KsMethod::automatic) {
  return detail::ks_across_domains(
      scores, domains,
      detail::weights_of(weights, static_cast<std::size_t>(scores.size()), "ks_across_domains"), reference,
      method);
}

// Camaiani et al.'s objective: mean K-S statistic between the reference domain and every other domain.
template <class Scores, class Domains>
double average_ks_statistic(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Domains>& domains,
                            long reference = 0) {
  return ks_across_domains(scores, domains, reference, KsMethod::asymptotic).average_statistic;
}
template <class Scores, class Domains, class Weights>
double average_ks_statistic(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Domains>& domains,
                            const Eigen::DenseBase<Weights>& weights, long reference = 0) {
  return ks_across_domains(scores, domains, weights, reference, KsMethod::asymptotic).average_statistic;
}

}  // namespace agnostic::stats
