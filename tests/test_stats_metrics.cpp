// Tests for stats/metrics.hpp (roc, ks, ams, classification) against closed forms and against
// scikit-learn / scipy (reference numbers: tests/reference/stats_metrics.py -> stats_metrics.json).
#include <doctest/doctest.h>

#include "stats_test_helpers.hpp"

#include <agnostic/core/rng.hpp>
#include <agnostic/stats/metrics.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace agnostic;
using namespace agnostic::stats;

namespace {

using agnostic_test::reference;
using agnostic_test::vec;

MatrixD mat(const nlohmann::json& j) {
  MatrixD m(static_cast<Index>(j.size()), static_cast<Index>(j[0].size()));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c)
      m(r, c) = j[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)].get<double>();
  return m;
}

double binomial(int n, int k) {
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

}  // namespace

// ---------------------------------------------------------------- ROC, AUC, purity

TEST_CASE("AUC: closed forms, ties count one half") {
  VectorD s(4), l(4);
  s << 0.8, 0.5, 0.5, 0.2;
  l << 1, 1, 0, 0;
  // Pairs (signal, background): (0.8,0.5)=1, (0.8,0.2)=1, (0.5,0.5)=1/2, (0.5,0.2)=1 -> 3.5/4.
  CHECK(roc_auc(s, l) == doctest::Approx(0.875).epsilon(1e-15));
  VectorD all_tied = VectorD::Constant(4, 0.3);
  CHECK(roc_auc(all_tied, l) == doctest::Approx(0.5).epsilon(1e-15));
  VectorD perfect(4);
  perfect << 0.9, 0.8, 0.1, 0.0;
  CHECK(roc_auc(perfect, l) == 1.0);
  CHECK(roc_auc((-perfect).eval(), l) == 0.0);
  // Weighted pairs by hand (w_s: 1 at 0.8, 3 at 0.5; w_b: 2 at 0.5, 1 at 0.2):
  // (1*2 + 1*1 + 3*2*0.5 + 3*1) / (4*3) = 9/12.
  VectorD w(4);
  w << 1, 3, 2, 1;
  CHECK(roc_auc(s, l, w) == doctest::Approx(0.75).epsilon(1e-15));
  // float scores (network output) give the same answer.
  CHECK(roc_auc(s.cast<float>().eval(), l, w) == doctest::Approx(0.75).epsilon(1e-15));
}

TEST_CASE("AUC and ROC curve: weighted, with ties, match sklearn; AUC matches a brute-force pair count") {
  const auto& r = reference()["roc"];
  const VectorD s = vec(r["scores"]), l = vec(r["labels"]), w = vec(r["weights"]);
  CHECK(roc_auc(s, l, w) == doctest::Approx(r["auc_weighted"].get<double>()).epsilon(1e-12));
  CHECK(roc_auc(s, l) == doctest::Approx(r["auc_unweighted"].get<double>()).epsilon(1e-12));

  // Independent check: weighted Mann-Whitney statistic over all signal/background pairs.
  double pairs = 0, sum = 0;
  for (Index i = 0; i < s.size(); ++i)
    for (Index j = 0; j < s.size(); ++j)
      if (l(i) == 1 && l(j) == 0) {
        const double ww = w(i) * w(j);
        pairs += ww;
        sum += ww * (s(i) > s(j) ? 1.0 : s(i) == s(j) ? 0.5 : 0.0);
      }
  CHECK(roc_auc(s, l, w) == doctest::Approx(sum / pairs).epsilon(1e-12));

  const RocCurve c = roc_curve(s, l, w);
  REQUIRE(c.threshold.size() == r["fpr"].size());
  CHECK(std::isinf(c.threshold[0]));
  for (std::size_t k = 0; k < c.threshold.size(); ++k) {
    INFO("point " << k);
    CHECK(c.false_positive_rate[k] == doctest::Approx(r["fpr"][k].get<double>()).epsilon(1e-12));
    CHECK(c.true_positive_rate[k] == doctest::Approx(r["tpr"][k].get<double>()).epsilon(1e-12));
    if (k > 0) CHECK(c.threshold[k] == r["thresholds"][k - 1].get<double>());
  }
  CHECK(c.false_positive_rate.back() == doctest::Approx(1.0));
  CHECK(c.true_positive_rate.back() == doctest::Approx(1.0));
}

TEST_CASE("Purity vs efficiency: matches sklearn's precision/recall, with and without the 5:95 rescaling") {
  const auto& r = reference()["roc"];
  const VectorD s = vec(r["scores"]), l = vec(r["labels"]), w = vec(r["weights"]);
  auto compare = [&](const PurityCurve& c, const nlohmann::json& thresholds, const nlohmann::json& purity,
                     const nlohmann::json* efficiency) {
    REQUIRE(thresholds.size() > 10);
    for (std::size_t k = 0; k < thresholds.size(); ++k) {
      const double t = thresholds[k].get<double>();
      std::size_t at = 0;
      while (at < c.threshold.size() && c.threshold[at] != t) ++at;
      REQUIRE(at < c.threshold.size());
      INFO("threshold " << t);
      CHECK(c.purity[at] == doctest::Approx(purity[k].get<double>()).epsilon(1e-12));
      if (efficiency)
        CHECK(c.efficiency[at] == doctest::Approx((*efficiency)[k].get<double>()).epsilon(1e-12));
    }
  };
  compare(purity_efficiency_curve(s, l, w), r["pr_thresholds"], r["pr_purity"], &r["pr_efficiency"]);
  compare(purity_efficiency_curve(s, l, w, {.signal_fraction = 0.05}), r["pr_thresholds_f05"],
          r["pr_purity_f05"], nullptr);

  // By hand: S at 0.9, B at 0.7, S at 0.5, B at 0.1 give (efficiency, purity) = (1/2, 1), (1/2, 1/2),
  // (1, 2/3), (1, 1/2); efficiency 3/4 lies halfway between the 2nd and 3rd points.
  VectorD hs(4), hl(4);
  hs << 0.9, 0.7, 0.5, 0.1;
  hl << 1, 0, 1, 0;
  const PurityCurve hand = purity_efficiency_curve(hs, hl);
  REQUIRE(hand.purity.size() == 4);
  CHECK(hand.purity[1] == doctest::Approx(0.5));
  CHECK(hand.purity.back() == doctest::Approx(0.5));
  CHECK(purity_at_efficiency(hand, 0.75) == doctest::Approx(0.5 * (0.5 + 2.0 / 3.0)));
  CHECK_THROWS_WITH_AS(purity_at_efficiency(hand, 0.2),
                       "purity_at_efficiency: efficiency 0.2 outside the curve's range [0.5, 1]", Error);
  CHECK_THROWS_WITH_AS(purity_efficiency_curve(hs, hl, {.signal_fraction = 1.5}),
                       "purity_efficiency_curve: signal_fraction is 1.5; must lie in (0, 1)", Error);
}

TEST_CASE("ROC and AUC: bad input is refused with a message") {
  VectorD s(3), l(3), w(3);
  s << 0.1, 0.2, 0.3;
  l << 0, 1, 1;
  w << 1, 1, 1;
  CHECK_THROWS_WITH_AS(roc_auc(s, VectorD::Ones(2)), "roc_auc: 3 scores but 2 labels; one per event expected",
                       Error);
  CHECK_THROWS_WITH_AS(roc_auc(s, l, VectorD::Ones(4)),
                       "roc_auc: 3 events but 4 weights; one per event expected", Error);
  VectorD bad = s;
  bad(1) = std::nan("");
  CHECK_THROWS_WITH_AS(roc_auc(bad, l), "roc_auc: score of event 1 is NaN", Error);
  VectorD bad_l = l;
  bad_l(2) = 2;
  CHECK_THROWS_WITH_AS(roc_auc(s, bad_l),
                       "roc_auc: label of event 2 is 2; labels must be 0 (background) or 1 (signal)", Error);
  CHECK_THROWS_WITH_AS(
      roc_auc(s, VectorD::Ones(3)),
      "roc_auc: total background weight is 0; needs background events (label 0) with a positive total "
      "weight",
      Error);
  CHECK_THROWS_WITH_AS(roc_auc(VectorD(0), VectorD(0)),
                       "roc_auc: scores is empty; at least one event is needed", Error);
  VectorD bad_w = w;
  bad_w(0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(roc_curve(s, l, bad_w), "roc_curve: weight of event 0 is inf; must be finite", Error);
  CHECK_THROWS_WITH_AS(roc_auc(MatrixD::Zero(3, 2), l), "roc_auc: score must be a vector, got a 3x2 matrix",
                       Error);
}

// ---------------------------------------------------------------- K-S

TEST_CASE("Kolmogorov distribution: survival function matches scipy's kstwobign on both series") {
  for (const auto& p : reference()["ks"]["kolmogorov"]) {
    const double x = p[0].get<double>(), expected = p[1].get<double>();
    INFO("x = " << x);
    CHECK(kolmogorov_survival(x) == doctest::Approx(expected).epsilon(1e-12));
  }
  CHECK(kolmogorov_survival(0.0) == 1.0);
  CHECK(kolmogorov_survival(-1.0) == 1.0);
}

TEST_CASE("K-S exact: statistic and p-value match scipy's ks_2samp(method='exact')") {
  for (const auto& c : reference()["ks"]["exact"]) {
    const VectorD a = vec(c["a"]), b = vec(c["b"]);
    const KsResult r = ks_test(a, b);
    INFO("n = " << a.size() << ", m = " << b.size());
    CHECK(r.exact);
    CHECK(r.statistic == doctest::Approx(c["statistic"].get<double>()).epsilon(1e-14));
    CHECK(r.p_value == doctest::Approx(c["p_value"].get<double>()).epsilon(1e-9));
    CHECK(r.effective_a == doctest::Approx(static_cast<double>(a.size())));
  }
  // Closed form: completely separated samples reach D = 1 with p = 2 / C(n + m, n).
  VectorD a = VectorD::LinSpaced(7, 0, 1), b = VectorD::LinSpaced(9, 5, 6);
  const KsResult sep = ks_test(a, b);
  CHECK(sep.statistic == 1.0);
  CHECK(sep.p_value == doctest::Approx(2.0 / binomial(16, 7)).epsilon(1e-13));
  CHECK(ks_exact_p_value(20, 30, 1.0) ==
        doctest::Approx(2.0 / binomial(50, 20)).epsilon(1e-12));  // p ~ 4e-14
  CHECK(ks_exact_p_value(5, 5, 0.0) == 1.0);
  // Identical samples: D = 0, p = 1.
  CHECK(ks_test(a, a).statistic == 0.0);
  CHECK(ks_test(a, a).p_value == 1.0);
}

TEST_CASE("K-S large samples: exact count and Kolmogorov limit match scipy") {
  for (const auto& c : reference()["ks"]["asymptotic"]) {
    const VectorD a = vec(c["a"]), b = vec(c["b"]);
    const KsResult exact = ks_test(a, b, KsMethod::exact);
    const KsResult asym = ks_test(a.cast<float>().eval(), b, KsMethod::asymptotic);
    INFO("n = " << a.size() << ", m = " << b.size());
    CHECK(exact.statistic == doctest::Approx(c["statistic"].get<double>()).epsilon(1e-14));
    CHECK(exact.p_value == doctest::Approx(c["p_value_exact"].get<double>()).epsilon(1e-8));
    CHECK(!asym.exact);
    CHECK(asym.p_value == doctest::Approx(c["p_value_kolmogorov"].get<double>()).epsilon(1e-10));
  }
}

TEST_CASE("K-S weighted: statistic, effective sizes and p-value match a numpy weighted-ECDF evaluation") {
  const auto& c = reference()["ks"]["weighted"];
  const VectorD a = vec(c["a"]), b = vec(c["b"]), wa = vec(c["wa"]), wb = vec(c["wb"]);
  const KsResult r = ks_test(a, b, wa, wb);
  CHECK(!r.exact);
  CHECK(r.statistic == doctest::Approx(c["statistic"].get<double>()).epsilon(1e-12));
  CHECK(r.effective_a == doctest::Approx(c["effective_a"].get<double>()).epsilon(1e-12));
  CHECK(r.effective_b == doctest::Approx(c["effective_b"].get<double>()).epsilon(1e-12));
  CHECK(r.p_value == doctest::Approx(c["p_value"].get<double>()).epsilon(1e-10));
  CHECK_THROWS_WITH_AS(
      ks_test(a, b, wa, wb, KsMethod::exact),
      "ks_test: the exact p-value needs unweighted samples (or equal weights within each); use "
      "KsMethod::asymptotic for weighted events",
      Error);
}

TEST_CASE("K-S weighted: integer weights equal replicated events") {
  Rng rng(11);
  VectorD a(40), b(30), wa(40), wb(30);
  std::vector<double> ra, rb;
  for (Index i = 0; i < 40; ++i) {
    a(i) = std::round(rng.normal() * 10) / 10;
    wa(i) = 1 + static_cast<double>(rng.below(3));
    for (int k = 0; k < wa(i); ++k) ra.push_back(a(i));
  }
  for (Index i = 0; i < 30; ++i) {
    b(i) = std::round(rng.normal(0.3, 1.0) * 10) / 10;
    wb(i) = 1 + static_cast<double>(rng.below(3));
    for (int k = 0; k < wb(i); ++k) rb.push_back(b(i));
  }
  const VectorD rep_a = Eigen::Map<VectorD>(ra.data(), static_cast<Index>(ra.size()));
  const VectorD rep_b = Eigen::Map<VectorD>(rb.data(), static_cast<Index>(rb.size()));
  CHECK(ks_test(a, b, wa, wb).statistic == doctest::Approx(ks_test(rep_a, rep_b).statistic).epsilon(1e-14));
  // Equal weights (any value) are unweighted: the exact p-value applies and does not depend on the value.
  const KsResult scaled = ks_test(a, b, VectorD::Constant(40, 0.3), VectorD::Constant(30, 7.0));
  CHECK(scaled.exact);
  CHECK(scaled.p_value == doctest::Approx(ks_test(a, b).p_value).epsilon(1e-14));
}

TEST_CASE("Average K-S across domains (source 000) matches scipy per domain") {
  const auto& c = reference()["ks"]["domains"];
  const VectorD s = vec(c["scores"]), d = vec(c["domains"]);
  const DomainKsSummary summary = ks_across_domains(s.cast<float>().eval(), d);
  REQUIRE(summary.per_domain.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(summary.per_domain[k].domain == static_cast<long>(k + 1));
    // float scores: the statistic is a ratio of counts and must not change.
    CHECK(summary.per_domain[k].ks.statistic ==
          doctest::Approx(c["statistics"][k].get<double>()).epsilon(1e-14));
    CHECK(summary.per_domain[k].ks.p_value == doctest::Approx(c["p_values"][k].get<double>()).epsilon(1e-9));
  }
  CHECK(summary.average_statistic == doctest::Approx(c["average"].get<double>()).epsilon(1e-14));
  CHECK(average_ks_statistic(s, d) == doctest::Approx(c["average"].get<double>()).epsilon(1e-14));
  CHECK(average_ks_statistic(s, d, VectorD::Ones(s.size())) == doctest::Approx(c["average"].get<double>()));

  VectorD half = d;
  half(0) = 0.5;
  CHECK_THROWS_WITH_AS(average_ks_statistic(s, half), doctest::Contains("domain label of event 0 is 0.5"),
                       Error);
  CHECK_THROWS_WITH_AS(average_ks_statistic(s, d, 9), "ks_across_domains: no event of the reference domain 9",
                       Error);
  CHECK_THROWS_WITH_AS(
      average_ks_statistic(s, VectorD::Zero(s.size())),
      "ks_across_domains: only the reference domain 0 is present; at least one other domain is needed",
      Error);
}

TEST_CASE("K-S: bad input is refused with a message") {
  VectorD a(3), b(2);
  a << 1, 2, 3;
  b << 1, 4;
  CHECK_THROWS_WITH_AS(ks_test(a, VectorD(0)), "ks_test: sample b is empty; at least one event is needed",
                       Error);
  VectorD nan_b = b;
  nan_b(1) = std::nan("");
  CHECK_THROWS_WITH_AS(ks_test(a, nan_b), "ks_test: value of sample b of event 1 is NaN", Error);
  CHECK_THROWS_WITH_AS(ks_test(a, b, VectorD::Ones(2), VectorD::Ones(2)),
                       "ks_test: 3 events but 2 weights; one per event expected", Error);
  CHECK_THROWS_WITH_AS(ks_test(a, b, VectorD::Zero(3), VectorD::Ones(2)),
                       "ks_test: total weight of sample a is 0; must be positive", Error);
  CHECK_THROWS_WITH_AS(ks_exact_p_value(0, 3, 0.5),
                       "ks_exact_p_value: sample sizes must be positive, got 0 and 3", Error);
  CHECK_THROWS_WITH_AS(kolmogorov_survival(std::nan("")), "kolmogorov_survival: x is NaN", Error);
}

// ---------------------------------------------------------------- AMS

TEST_CASE("AMS eq. 5.1: each bin equals a numerical profile-likelihood minimisation (scipy)") {
  const auto& c = reference()["ams"];
  const VectorD s = vec(c["s"]), b = vec(c["b"]), alt = vec(c["b_alt"]);
  const VectorD sigma = background_uncertainty(b, alt);
  for (Index i = 0; i < s.size(); ++i) {
    INFO("bin " << i);
    CHECK(sigma(i) ==
          doctest::Approx(c["sigma_b"][static_cast<std::size_t>(i)].get<double>()).epsilon(1e-14));
    CHECK(ams_squared_term(s(i), b(i), sigma(i)) ==
          doctest::Approx(c["terms"][static_cast<std::size_t>(i)].get<double>()).epsilon(1e-7));
  }
  CHECK(ams(s, b, sigma) == doctest::Approx(c["ams"].get<double>()).epsilon(1e-7));
  CHECK(ams(s.cast<float>().eval(), b, sigma) == doctest::Approx(c["ams"].get<double>()).epsilon(1e-7));

  // sigma_b -> 0 is the Poisson significance without uncertainty, 2((s+b) ln(1+s/b) - s).
  const double poisson = 2.0 * ((5.0 + 60.0) * std::log(1.0 + 5.0 / 60.0) - 5.0);
  CHECK(ams_squared_term(5.0, 60.0, 0.0) == doctest::Approx(poisson).epsilon(1e-14));
  CHECK(ams_squared_term(5.0, 60.0, 1e-6) == doctest::Approx(poisson).epsilon(1e-9));
  // A larger uncertainty lowers the significance; no signal gives zero.
  CHECK(ams_squared_term(5.0, 60.0, 10.0) < ams_squared_term(5.0, 60.0, 1.0));
  CHECK(ams_squared_term(0.0, 60.0, 10.0) == 0.0);

  CHECK_THROWS_WITH_AS(
      ams_squared_term(2.0, 0.0, 0.0),
      "ams: a bin has signal 2 but background 0 with sigma_b 0, so its AMS is infinite; merge bins or "
      "give sigma_b > 0",
      Error);
  CHECK_THROWS_WITH_AS(ams_squared_term(-1.0, 3.0, 1.0), "ams: signal count -1 must be finite and >= 0",
                       Error);
  CHECK_THROWS_WITH_AS(ams(s, b.head(3), sigma),
                       "ams: 6 signal bins but 3 background bins; one per event expected", Error);
  CHECK_THROWS_WITH_AS(ams(VectorD(0), VectorD(0), VectorD(0)),
                       "ams: signal counts is empty; at least one event is needed", Error);
}

TEST_CASE("AMS HiggsML: closed form, and the best cut matches a brute-force scan") {
  for (const auto& p : reference()["ams"]["higgsml"]) {
    const double s = p[0].get<double>(), b = p[1].get<double>();
    CHECK(ams_higgsml(s, b) == doctest::Approx(p[2].get<double>()).epsilon(1e-13));
  }
  // Small s/b: AMS -> s / sqrt(b + b_r).
  CHECK(ams_higgsml(0.01, 90.0) == doctest::Approx(0.01 / 10.0).epsilon(1e-4));

  const auto& r = reference()["roc"];
  const VectorD s = vec(r["scores"]), l = vec(r["labels"]);
  const VectorD w = vec(reference()["ams"]["scan_weights"]);
  const auto& best = reference()["ams"]["best_cut"];
  const AmsCut cut = best_ams_cut(s, l, w);
  CHECK(cut.threshold == best["threshold"].get<double>());
  CHECK(cut.ams == doctest::Approx(best["ams"].get<double>()).epsilon(1e-12));
  CHECK(cut.signal == doctest::Approx(best["signal"].get<double>()).epsilon(1e-12));
  CHECK(cut.background == doctest::Approx(best["background"].get<double>()).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(ams_higgsml(1.0, -20.0), "ams_higgsml: background -20 must be finite and >= 0", Error);
}

// ---------------------------------------------------------------- classification

TEST_CASE("Confusion matrix and categorical accuracy: weighted, normalised, match sklearn") {
  const auto& c = reference()["classification"];
  const VectorD truth = vec(c["truth"]), w = vec(c["weights"]);
  const MatrixD prob = mat(c["probabilities"]);
  auto check_matrix = [](const MatrixD& got, const nlohmann::json& expected) {
    const MatrixD e = mat(expected);
    REQUIRE(got.rows() == e.rows());
    REQUIRE(got.cols() == e.cols());
    for (Index i = 0; i < e.rows(); ++i)
      for (Index j = 0; j < e.cols(); ++j) CHECK(got(i, j) == doctest::Approx(e(i, j)).epsilon(1e-12));
  };
  check_matrix(confusion_matrix(truth, prob, w), c["confusion"]);
  check_matrix(confusion_matrix(truth, prob.cast<float>().eval(), w, ConfusionNormalisation::true_class),
               c["confusion_true"]);
  check_matrix(confusion_matrix(truth, prob, w, ConfusionNormalisation::predicted), c["confusion_pred"]);
  check_matrix(confusion_matrix(truth, prob, w, ConfusionNormalisation::all), c["confusion_all"]);
  CHECK(categorical_accuracy(truth, prob, w) ==
        doctest::Approx(c["accuracy_weighted"].get<double>()).epsilon(1e-12));
  CHECK(categorical_accuracy(truth, prob) == doctest::Approx(c["accuracy"].get<double>()).epsilon(1e-12));

  // One-hot truth gives the same as labels.
  MatrixD one_hot = MatrixD::Zero(truth.size(), 3);
  for (Index i = 0; i < truth.size(); ++i) one_hot(i, static_cast<Index>(truth(i))) = 1.0;
  CHECK(categorical_accuracy(one_hot, prob, w) == doctest::Approx(c["accuracy_weighted"].get<double>()));

  // By hand: predicted labels as a vector; the diagonal is the weight of correct events.
  VectorD t(4), p(4), hw(4);
  t << 0, 1, 2, 2;
  p << 0, 2, 2, 1;
  hw << 1, 2, 3, 4;
  const MatrixD m = confusion_matrix(t, p, hw);
  CHECK(m(0, 0) == 1.0);
  CHECK(m(1, 2) == 2.0);
  CHECK(m(2, 2) == 3.0);
  CHECK(m(2, 1) == 4.0);
  CHECK(categorical_accuracy(t, p, hw) == doctest::Approx(0.4));

  VectorD bad = t;
  bad(1) = -1;
  CHECK_THROWS_WITH_AS(confusion_matrix(bad, p),
                       "confusion_matrix: truth label of event 1 is -1; class labels must be "
                       "integers >= 0",
                       Error);
  CHECK_THROWS_WITH_AS(confusion_matrix(t, p.head(3)),
                       "confusion_matrix: 4 true classes but 3 predicted classes; one per event expected",
                       Error);
  CHECK_THROWS_WITH_AS(confusion_matrix(t, p, ConfusionNormalisation::true_class, 4),
                       "confusion_matrix: cannot normalise true class 3: its total weight is 0", Error);
  CHECK_THROWS_WITH_AS(
      confusion_matrix(t, p, ConfusionNormalisation::none, 2),
      "confusion_matrix: event 1 has true class 1 and predicted class 2; classes must lie in [0, 2)", Error);
  MatrixD nan_prob = prob;
  nan_prob(5, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(categorical_accuracy(truth, nan_prob),
                       "confusion_matrix: prediction of event 5 column 1 is NaN", Error);
}
