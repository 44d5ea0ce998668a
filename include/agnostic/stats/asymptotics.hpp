#pragma once
// Asymptotic distributions of profile-likelihood test statistics (Cowan, Cranmer, Gross, Vitells,
// "Asymptotic formulae for likelihood-based tests of new physics", arXiv:1007.1727), written in
// terms of the statistic's observed value and its value on the Asimov data set, as pyhf and ROOT's
// AsymptoticCalculator use them. Pure formulas: no model, no fit (those are in inference.hpp).
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "agnostic/core/error.hpp"

namespace agnostic::stats {

// Standard normal CDF Phi(x); erfc keeps full relative precision far in the lower tail.
inline double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

// Its inverse, by bisection on normal_cdf (p in (0, 1); 0 and 1 give -inf and +inf). 200 halvings of
// [-40, 40] reach the spacing of doubles; a few microseconds, used only for starting values.
inline double normal_quantile(double p) {
  require(p >= 0.0 && p <= 1.0, "normal_quantile: probability ", p, " is outside [0, 1]");
  if (p == 0.0) return -std::numeric_limits<double>::infinity();
  if (p == 1.0) return std::numeric_limits<double>::infinity();
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200 && hi - lo > 0.0; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid == lo || mid == hi) break;
    (normal_cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Which upper-limit statistic a CLs computation uses. Both are evaluated with mu_hat inside the
// POI's bounds; they differ in the asymptotic distribution (q: eq. 54-56, qtilde: eq. 64-66).
enum class TestStatistic { q, qtilde };

inline TestStatistic parse_test_statistic(std::string_view name) {
  if (name == "q") return TestStatistic::q;
  if (name == "qtilde") return TestStatistic::qtilde;
  fail("unknown test statistic '", name, "' (allowed: q, qtilde)");
}

inline std::string to_string(TestStatistic t) {
  return t == TestStatistic::q ? "q" : "qtilde";
}

// Offsets n_k of the expected band, in the order the band is reported: -2 sigma, -1 sigma, median,
// +1 sigma, +2 sigma of the expected CLs (n = +2 gives the smallest, i.e. most excluding, value).
inline constexpr std::array<double, 5> kBandOffsets = {2.0, 1.0, 0.0, -1.0, -2.0};

struct ClsValues {
  double cls = 1.0;   // CLs+b / CLb
  double clsb = 1.0;  // p-value of the signal-plus-background hypothesis at the tested mu
  double clb = 1.0;   // 1 - p-value of background only
};

namespace asymptotics_detail {
inline void check_q(double q, const char* what) {
  require(std::isfinite(q) && q >= 0.0, what, " must be a finite number >= 0, got ", q);
}
}  // namespace asymptotics_detail

// Observed CLs from the observed statistic q_obs and its Asimov value q_asimov (Asimov data of the
// background-only hypothesis). For qtilde the two formulas agree while sqrt(q_obs) <= sqrt(q_asimov).
inline ClsValues asymptotic_cls_values(double q_obs, double q_asimov, TestStatistic statistic) {
  asymptotics_detail::check_q(q_obs, "observed test statistic q_obs");
  asymptotics_detail::check_q(q_asimov, "Asimov test statistic q_asimov");
  const double sq = std::sqrt(q_obs), sqa = std::sqrt(q_asimov);
  ClsValues v;
  if (statistic == TestStatistic::q || sq <= sqa || q_asimov == 0.0) {
    v.clsb = normal_cdf(-sq);
    v.clb = normal_cdf(sqa - sq);
  } else {
    v.clsb = normal_cdf(-(q_obs + q_asimov) / (2.0 * sqa));
    v.clb = normal_cdf(-(q_obs - q_asimov) / (2.0 * sqa));
  }
  // Both tails underflow together only for absurd q values; CLs is then 0 (excluded), not NaN.
  v.cls = v.clb > 0.0 ? v.clsb / v.clb : 0.0;
  return v;
}

// Expected CLs band: the observed formula evaluated where the background-only median of
// sqrt(q) is shifted by n_k standard deviations; depends only on q_asimov (same for q and qtilde).
inline std::array<double, 5> asymptotic_cls_band(double q_asimov) {
  asymptotics_detail::check_q(q_asimov, "Asimov test statistic q_asimov");
  const double sqa = std::sqrt(q_asimov);
  std::array<double, 5> band{};
  for (std::size_t k = 0; k < band.size(); ++k) {
    const double n = kBandOffsets[k];
    band[k] = normal_cdf(-(n + sqa)) / normal_cdf(-n);
  }
  return band;
}

// Discovery: Z0 = sqrt(q0), p0 = Phi(-Z0).
inline double significance_from_q0(double q0) {
  asymptotics_detail::check_q(q0, "discovery test statistic q0");
  return std::sqrt(q0);
}
inline double asymptotic_p0(double q0) {
  return normal_cdf(-significance_from_q0(q0));
}

// Expected p0 band from q0 on the Asimov data of the signal hypothesis, in the same order as the
// CLs band: p0_exp[k] = Phi(-(n_k + sqrt(q0_asimov))), increasing with k.
inline std::array<double, 5> asymptotic_p0_band(double q0_asimov) {
  const double z = significance_from_q0(q0_asimov);
  std::array<double, 5> band{};
  for (std::size_t k = 0; k < band.size(); ++k) band[k] = normal_cdf(-(kBandOffsets[k] + z));
  return band;
}

}  // namespace agnostic::stats
