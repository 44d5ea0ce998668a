// Tests for the decorrelation penalties (losses/decorrelation_*.hpp) and figures
// (stats/decorrelation_metrics.hpp): values against direct O(N^2) evaluations written here and
// against numpy/scipy (tests/reference/decorrelation.py -> decorrelation.json), gradients against
// finite differences in double, weighted and unweighted.
#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/gradcheck.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/core/threads.hpp>
#include <agnostic/losses/decorrelation_bins.hpp>
#include <agnostic/losses/decorrelation_disco.hpp>
#include <agnostic/losses/decorrelation_flatness.hpp>
#include <agnostic/losses/decorrelation_mode.hpp>
#include <agnostic/stats/decorrelation_metrics.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;

namespace {

const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(AGNOSTIC_SOURCE_DIR) + "/tests/reference/decorrelation.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

std::vector<double> numbers(const nlohmann::json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(x.get<double>());
  return v;
}

MatrixD column(const std::vector<double>& v) {
  MatrixD m(static_cast<Index>(v.size()), 1);
  for (std::size_t i = 0; i < v.size(); ++i) m(static_cast<Index>(i), 0) = v[i];
  return m;
}

// dCor^2 written out with the full matrices A and B (the definition at the top of the header).
double direct_dcor2(const std::vector<double>& x, const std::vector<double>& y, std::vector<double> w) {
  const std::size_t n = x.size();
  double total = 0.0;
  for (double v : w) total += v;
  for (double& v : w) v /= total;
  auto centred = [&](const std::vector<double>& v) {
    std::vector<std::vector<double>> a(n, std::vector<double>(n));
    std::vector<double> row(n, 0.0);
    double grand = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        a[i][j] = std::abs(v[i] - v[j]);
        row[i] += w[j] * a[i][j];
      }
    for (std::size_t i = 0; i < n; ++i) grand += w[i] * row[i];
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) a[i][j] += grand - row[i] - row[j];
    return a;
  };
  const auto A = centred(x), B = centred(y);
  auto V = [&](const auto& P, const auto& Q) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) s += w[i] * w[j] * P[i][j] * Q[i][j];
    return s;
  };
  return V(A, B) / std::sqrt(V(A, A) * V(B, B));
}

struct Sample {
  std::vector<double> score, mass, weight, ones;
  std::vector<int> label;
};

Sample reference_sample() {
  const auto& j = reference();
  Sample s{numbers(j["score"]), numbers(j["mass"]), numbers(j["weight"]), {}, {}};
  s.ones.assign(s.score.size(), 1.0);
  for (const auto& l : j["label"]) s.label.push_back(l.get<int>());
  return s;
}

double relative(double a, double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}

// n scores spread over (0.05, 0.95) at least `gap` apart (no tie moves within a finite difference),
// with a variable correlated with them.
void separated_sample(Rng& rng, Index n, MatrixD& score, MatrixD& variable, MatrixD& weight) {
  std::vector<double> grid(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i)
    grid[static_cast<std::size_t>(i)] = 0.05 + 0.9 * (static_cast<double>(i) + 0.5) / n;
  for (std::size_t i = grid.size(); i > 1; --i) std::swap(grid[i - 1], grid[rng.below(i)]);
  score.resize(n, 1);
  variable.resize(n, 1);
  weight.resize(n, 1);
  for (Index i = 0; i < n; ++i) {
    score(i, 0) = grid[static_cast<std::size_t>(i)] + 0.1 / n * (rng.uniform() - 0.5);
    variable(i, 0) = 60.0 + 40.0 * score(i, 0) + 15.0 * rng.normal();
    weight(i, 0) = 0.3 + 1.7 * rng.uniform();
  }
}

}  // namespace

// ---------------------------------------------------------------- DisCo

TEST_CASE("DisCo: dCor^2 against a direct O(N^2) evaluation and numpy (Kasieczka & Shih's weighted form)") {
  const Sample s = reference_sample();
  const auto& ref = reference()["disco"];
  for (const bool weighted : {false, true}) {
    const std::vector<double>& w = weighted ? s.weight : s.ones;
    const double direct = direct_dcor2(s.score, s.mass, w);
    CHECK(relative(direct, ref[weighted ? "weighted" : "unweighted"].get<double>()) < 1e-12);
    Tape<double> tape;
    const MatrixD x = column(s.score), m = column(s.mass), wm = column(w);
    const Var<double> value = weighted ? distance_correlation_squared(tape.input(x), m, wm)
                                       : distance_correlation_squared(tape.input(x), m);
    CHECK(relative(value.item(), direct) < 1e-12);
    // Figures: the O(n log n) dCor^2 of stats/ gives the same number.
    CHECK(relative(stats::distance_correlation_squared(s.score, s.mass, w), direct) < 1e-11);
  }
  // Invariant under affine maps of the variable (standardising it changes nothing), symmetric.
  std::vector<double> scaled = s.mass;
  for (double& v : scaled) v = (v - 90.0) / 37.0;
  CHECK(relative(direct_dcor2(s.score, scaled, s.weight), direct_dcor2(s.score, s.mass, s.weight)) < 1e-12);
  Tape<double> tape;
  const MatrixD x = column(s.score), m = column(s.mass), wm = column(s.weight);
  CHECK(relative(distance_correlation_squared(tape.input(m), x, wm).item(),
                 distance_correlation_squared(tape.input(x), m, wm).item()) < 1e-12);
}

TEST_CASE(
    "DisCo: gradient against finite differences, weighted and unweighted, for the score and the variable") {
  Rng rng(31);
  MatrixD score, variable, weight;
  separated_sample(rng, 24, score, variable, weight);
  GradcheckOptions options;
  options.step = 1e-6;
  options.tolerance = 1e-6;
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return distance_correlation_squared(v[0], variable);
      },
      {score}, options);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return distance_correlation_squared(v[0], variable, weight);
      },
      {score}, options);
  // Both sides differentiable (the variable a Var, e.g. a second network's output).
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return distance_correlation_squared(v[0], v[1], weight) * 3.0;
      },
      {score, variable}, options);
}

TEST_CASE("DisCo: the fused kernel gives the same bits on 1 and 2 threads, and float follows double") {
  Rng rng(7);
  const Index n = 300;
  MatrixD score, variable, weight;
  separated_sample(rng, n, score, variable, weight);
  const MatrixF sf = score.cast<float>(), vf = variable.cast<float>(), wf = weight.cast<float>();
  const long min_work = parallel_min_work();
  const int threads_before = threads();
  set_parallel_min_work(1);  // reach the parallel path with a small batch
  std::vector<MatrixF> gradients;
  std::vector<float> values;
  for (const int t : {1, 2}) {
    set_threads(t);
    Tape<float> tape;
    const Var<float> x = tape.variable(sf);
    const Var<float> loss = distance_correlation_squared(x, vf, wf);
    tape.backward(loss);
    values.push_back(loss.item());
    gradients.push_back(x.grad());
  }
  set_threads(threads_before);
  set_parallel_min_work(min_work);
  CHECK(values[0] == values[1]);
  CHECK(gradients[0] == gradients[1]);
  Tape<double> tape;
  const Var<double> x = tape.variable(score);
  const Var<double> loss = distance_correlation_squared(x, variable, weight);
  tape.backward(loss);
  CHECK(std::abs(static_cast<double>(values[0]) - loss.item()) < 1e-5);
  CHECK((gradients[0].cast<double>() - x.grad()).cwiseAbs().maxCoeff() <
        1e-5 * x.grad().cwiseAbs().maxCoeff() + 1e-7);
}

TEST_CASE("DisCo: degenerate batches give 0 without a gradient; bad shapes are refused by name") {
  Tape<double> tape;
  const MatrixD constant = MatrixD::Constant(5, 1, 0.3), m = column({1, 2, 3, 4, 5}),
                one = MatrixD::Constant(1, 1, 0.5);
  const Var<double> x = tape.variable(constant);
  const Var<double> loss = distance_correlation_squared(x, m);
  CHECK(loss.item() == 0.0);
  tape.backward(loss);
  CHECK(x.grad().cwiseAbs().maxCoeff() == 0.0);
  CHECK(distance_correlation_squared(tape.variable(one), one).item() == 0.0);
  const MatrixD zero_weights = MatrixD::Zero(5, 1);
  CHECK(distance_correlation_squared(tape.variable(m), m, zero_weights).item() == 0.0);
  const MatrixD short_variable = column({1, 2, 3});
  CHECK_THROWS_WITH_AS(distance_correlation_squared(tape.variable(m), short_variable),
                       doctest::Contains("the variable is 3 x 1, expected 5 x 1"), Error);
}

// ---------------------------------------------------------------- bins

TEST_CASE("VariableBins: equal-population edges as numpy's sorted midpoints; every value has a bin") {
  const Sample s = reference_sample();
  const VariableBins all = VariableBins::equal_population(s.mass, 5);
  const std::vector<double> expected = numbers(reference()["all_edges"]);
  REQUIRE(all.edges().size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k)
    CHECK(all.edges()[k] == doctest::Approx(expected[k]).epsilon(1e-15));
  std::vector<int> count(5, 0);
  for (double m : s.mass) ++count[static_cast<std::size_t>(all.bin_of(m))];
  for (int c : count) CHECK(c == 12);
  CHECK(all.bin_of(-1e9) == 0);
  CHECK(all.bin_of(1e9) == 4);
  CHECK(all.coordinate(0) ==
        doctest::Approx(
            2.0 * (0.5 * (expected[0] + expected[1]) - expected[0]) / (expected[5] - expected[0]) - 1.0));
  const std::vector<double> repeated = {1, 1, 1, 1, 2, 3};
  CHECK_THROWS_WITH_AS(VariableBins::equal_population(repeated, 3),
                       doctest::Contains("too few distinct values"), Error);
  CHECK_THROWS_WITH_AS(VariableBins::equal_population(repeated, 10), doctest::Contains("cannot fill 10 bins"),
                       Error);
}

// ---------------------------------------------------------------- MoDe

TEST_CASE(
    "MoDe on the mean: the conditional means' Legendre fit against numpy.polynomial.legendre.legfit, orders "
    "0-2") {
  const Sample s = reference_sample();
  const VariableBins bins = VariableBins::equal_population(s.mass, 5);
  const MatrixD x = column(s.score), m = column(s.mass), w = column(s.weight);
  for (const int order : {0, 1, 2})
    for (const bool weighted : {false, true}) {
      Tape<double> tape;
      const Var<double> value = weighted ? moment_decorrelation_penalty(tape.input(x), m, bins, order, w)
                                         : moment_decorrelation_penalty(tape.input(x), m, bins, order);
      const std::string key = "order" + std::to_string(order) + (weighted ? "_weighted" : "_unweighted");
      INFO(key);
      CHECK(relative(value.item(), reference()["mode"][key].get<double>()) < 1e-10);
    }
  // Order 0 is the weighted variance of the bins' mean scores: a closed form by hand.
  const VariableBins two({0.0, 1.0, 2.0});
  const MatrixD s2 = column({0.1, 0.3, 0.8, 0.6}), m2 = column({0.5, 0.2, 1.5, 1.7}),
                w2 = column({1, 3, 2, 2});
  Tape<double> tape;
  // means: (0.1 + 0.9) / 4 = 0.25 and 0.7; overall 0.475; L = (4 * 0.225^2 + 4 * 0.225^2) / 8
  CHECK(moment_decorrelation_penalty(tape.input(s2), m2, two, 0, w2).item() ==
        doctest::Approx(0.225 * 0.225));
  // As many populated bins as coefficients: the fit is exact.
  CHECK(moment_decorrelation_penalty(tape.input(s2), m2, two, 1, w2).item() == 0.0);
  CHECK_THROWS_WITH_AS(moment_decorrelation_penalty(tape.input(s2), m2, two, 3),
                       doctest::Contains("allowed: 0, 1 or 2"), Error);
}

TEST_CASE("MoDe on the mean: gradient against finite differences, weighted and unweighted, orders 0-2") {
  Rng rng(11);
  MatrixD score, variable, weight;
  separated_sample(rng, 40, score, variable, weight);
  std::vector<double> values(variable.data(), variable.data() + variable.size());
  const VariableBins bins = VariableBins::equal_population(values, 6);
  GradcheckOptions options;
  options.step = 1e-5;
  for (const int order : {0, 1, 2}) {
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) {
          return moment_decorrelation_penalty(v[0], variable, bins, order);
        },
        {score}, options);
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) {
          return moment_decorrelation_penalty(v[0], variable, bins, order, weight);
        },
        {score}, options);
  }
}

TEST_CASE("MoDe on the conditional CDF: Legendre fits of the bins' CDFs against numpy's legfit, orders 0-2") {
  const Sample s = reference_sample();
  const VariableBins bins = VariableBins::equal_population(s.mass, 5);
  const MatrixD x = column(s.score), m = column(s.mass), w = column(s.weight);
  for (const int order : {0, 1, 2})
    for (const bool weighted : {false, true}) {
      Tape<double> tape;
      const Var<double> value = weighted ? moment_decorrelation_cdf_penalty(tape.input(x), m, bins, order, w)
                                         : moment_decorrelation_cdf_penalty(tape.input(x), m, bins, order);
      const std::string key = "order" + std::to_string(order) + (weighted ? "_weighted" : "_unweighted");
      INFO(key);
      CHECK(relative(value.item(), reference()["mode_cdf"][key].get<double>()) < 1e-10);
    }
  // Order 0 holds every bin's CDF to the overall one: the flatness loss, to rounding.
  Tape<double> tape;
  CHECK(relative(moment_decorrelation_cdf_penalty(tape.input(x), m, bins, 0, w).item(),
                 flatness_penalty(tape.input(x), m, bins, w).item()) < 1e-12);
  const VariableBins two({0.0, 1.0, 2.0});
  const MatrixD s2 = column({0.1, 0.3, 0.8, 0.6}), m2 = column({0.5, 0.2, 1.5, 1.7});
  CHECK(moment_decorrelation_cdf_penalty(tape.input(s2), m2, two, 1).item() == 0.0);  // exact fit
  CHECK_THROWS_WITH_AS(moment_decorrelation_cdf_penalty(tape.input(s2), m2, two, -1),
                       doctest::Contains("allowed: 0, 1 or 2"), Error);
}

TEST_CASE("MoDe on the conditional CDF: gradient against finite differences, weighted and unweighted") {
  Rng rng(17);
  MatrixD score, variable, weight;
  separated_sample(rng, 40, score, variable, weight);
  std::vector<double> values(variable.data(), variable.data() + variable.size());
  const VariableBins bins = VariableBins::equal_population(values, 5);
  GradcheckOptions options;
  options.step = 1e-6;  // piecewise linear in each score: stay between neighbours
  for (const int order : {0, 1, 2}) {
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) {
          return moment_decorrelation_cdf_penalty(v[0], variable, bins, order);
        },
        {score}, options);
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) {
          return moment_decorrelation_cdf_penalty(v[0], variable, bins, order, weight);
        },
        {score}, options);
  }
}

// ---------------------------------------------------------------- flatness

TEST_CASE("flatness: sum_b (W_b / W) integral (F_b - F)^2 ds against numpy, weighted and unweighted") {
  const Sample s = reference_sample();
  const VariableBins bins = VariableBins::equal_population(s.mass, 5);
  const MatrixD x = column(s.score), m = column(s.mass), w = column(s.weight);
  Tape<double> tape;
  CHECK(relative(flatness_penalty(tape.input(x), m, bins).item(),
                 reference()["flatness"]["unweighted"].get<double>()) < 1e-12);
  CHECK(relative(flatness_penalty(tape.input(x), m, bins, w).item(),
                 reference()["flatness"]["weighted"].get<double>()) < 1e-12);
  // By hand: bin 0 holds scores {0, 1}, bin 1 holds {2, 3}; F_0 - F is 1/4, 1/2, 1/4 on the three
  // unit gaps and F_1 - F the opposite, so L = 2 * (1/2) * (1/16 + 1/4 + 1/16) = 3/8.
  const VariableBins two({0.0, 1.0, 2.0});
  const MatrixD s2 = column({0.0, 1.0, 2.0, 3.0}), m2 = column({0.5, 0.5, 1.5, 1.5});
  CHECK(flatness_penalty(tape.input(s2), m2, two).item() == doctest::Approx(0.375));
  // The same scores in every bin: flat.
  const MatrixD s3 = column({0.2, 0.7, 0.2, 0.7});
  CHECK(flatness_penalty(tape.input(s3), m2, two).item() == doctest::Approx(0.0).epsilon(1e-15));
}

TEST_CASE("flatness: gradient against finite differences, weighted and unweighted") {
  Rng rng(5);
  MatrixD score, variable, weight;
  separated_sample(rng, 40, score, variable, weight);
  std::vector<double> values(variable.data(), variable.data() + variable.size());
  const VariableBins bins = VariableBins::equal_population(values, 4);
  GradcheckOptions options;
  options.step = 1e-6;  // the loss is piecewise linear in each score: stay between neighbours
  check_gradients([&](Tape<double>&,
                      const std::vector<Var<double>>& v) { return flatness_penalty(v[0], variable, bins); },
                  {score}, options);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return flatness_penalty(v[0], variable, bins, weight);
      },
      {score}, options);
}

// ---------------------------------------------------------------- figures

TEST_CASE("decorrelation figures: the 50 % cut, R50, JSD and dCor against numpy/scipy and closed forms") {
  const Sample s = reference_sample();
  const auto& ref = reference()["at_50"];
  std::vector<double> signal_score, signal_weight, background_score, background_mass, background_weight;
  for (std::size_t i = 0; i < s.score.size(); ++i)
    if (s.label[i] == 1) {
      signal_score.push_back(s.score[i]);
      signal_weight.push_back(s.weight[i]);
    } else {
      background_score.push_back(s.score[i]);
      background_mass.push_back(s.mass[i]);
      background_weight.push_back(s.weight[i]);
    }
  const std::vector<double> edges = numbers(reference()["background_edges"]);
  const stats::SculptingFigures f = stats::sculpting_at_signal_efficiency(
      signal_score, signal_weight, background_score, background_mass, background_weight, edges, 0.5);
  CHECK(f.threshold == ref["threshold"].get<double>());
  CHECK(relative(f.background_efficiency, ref["background_efficiency"].get<double>()) < 1e-13);
  CHECK(relative(f.background_rejection, ref["background_rejection"].get<double>()) < 1e-13);
  CHECK(relative(f.jsd, ref["jsd"].get<double>()) < 1e-12);
  CHECK(relative(stats::distance_correlation(background_score, background_mass, background_weight),
                 ref["dcor"].get<double>()) < 1e-11);

  // Closed forms: identical histograms 0 bits, disjoint ones 1 bit, empty NaN.
  const std::vector<double> p = {1, 2, 3, 0}, q = {2, 4, 6, 0}, r = {0, 0, 0, 5}, empty = {0, 0, 0, 0};
  CHECK(stats::jensen_shannon_divergence(p, q) == doctest::Approx(0.0));
  CHECK(stats::jensen_shannon_divergence(p, r) == doctest::Approx(1.0));
  CHECK(std::isnan(stats::jensen_shannon_divergence(p, empty)));
  // p = (1, 0), q = (1/2, 1/2): JSD = 1/2 [log2(4/3)] + 1/2 [1/2 log2(2/3) + 1/2 log2(2)]
  const std::vector<double> a = {1, 0}, b = {1, 1};
  CHECK(stats::jensen_shannon_divergence(a, b) ==
        doctest::Approx(0.5 * std::log2(4.0 / 3.0) + 0.25 * std::log2(2.0 / 3.0) + 0.25));
  // Threshold: four signal events of weight 1 -> the second highest score keeps exactly 50 %.
  const std::vector<double> sig = {0.9, 0.2, 0.7, 0.4}, unit = {1, 1, 1, 1};
  CHECK(stats::signal_efficiency_threshold(sig, unit, 0.5) == 0.7);
  CHECK(stats::signal_efficiency_threshold(sig, unit, 0.3) == 0.7);
  CHECK(stats::signal_efficiency_threshold(sig, unit, 1.0) == 0.2);
  // No background passes: R50 = inf.
  const std::vector<double> low = {0.1, 0.1}, masses = {1.0, 2.0}, w2 = {1, 1}, e = {0.0, 1.5, 3.0};
  const stats::SculptingFigures none =
      stats::sculpting_at_signal_efficiency(sig, unit, low, masses, w2, e, 0.5);
  CHECK(none.background_efficiency == 0.0);
  CHECK(std::isinf(none.background_rejection));
  CHECK(std::isnan(none.jsd));
}

TEST_CASE(
    "decorrelation figures: the O(n log n) dCor^2 equals the direct O(N^2) one, with ties and weights") {
  Rng rng(3);
  for (const int n : {2, 3, 17, 200}) {
    std::vector<double> x(static_cast<std::size_t>(n)), y(x), w(x);
    for (int i = 0; i < n; ++i) {
      x[static_cast<std::size_t>(i)] = std::round(4.0 * rng.normal()) / 2.0;  // many ties
      y[static_cast<std::size_t>(i)] =
          x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)] + std::round(rng.normal());
      w[static_cast<std::size_t>(i)] = 0.2 + rng.uniform();
    }
    x[0] = 5.0;  // never constant
    y[0] = -3.0;
    INFO("n = " << n);
    CHECK(std::abs(stats::distance_correlation_squared(x, y, w) - direct_dcor2(x, y, w)) < 1e-12);
    CHECK(std::abs(stats::distance_correlation_squared(x, y) -
                   direct_dcor2(x, y, std::vector<double>(x.size(), 1.0))) < 1e-12);
  }
  const std::vector<double> x = {1, 2, 3}, same = {2, 2, 2};
  CHECK(stats::distance_correlation(x, same) == 0.0);
  CHECK(stats::distance_correlation(x, x) == doctest::Approx(1.0));
}
