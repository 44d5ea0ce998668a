// Tests for stats/ancestral.hpp: exact conditional frequencies on a tiny template, correlations of a
// correlated Gaussian reproduced by p(x0) p(x1|x0) p(x2|x0,x1), and configuration errors; filling
// with replacement, the `agnostic sample` config and its validation table (chi-square closed forms),
// and PCA shape templates from an ensemble (two known orthogonal directions; the workspace round trip).
#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <agnostic/core/rng.hpp>
#include <agnostic/stats/ancestral.hpp>
#include <agnostic/stats/fit.hpp>
#include <agnostic/stats/sample_validation.hpp>
#include <agnostic/stats/sampling_config.hpp>
#include <agnostic/stats/template_pca.hpp>
#include <cmath>
#include <string>

using namespace agnostic;
using namespace agnostic::stats;

namespace {

MatrixD correlation(const MatrixD& x) {
  const MatrixD centred = x.rowwise() - x.colwise().mean();
  const MatrixD cov = centred.transpose() * centred / static_cast<double>(x.rows() - 1);
  const VectorD sd = cov.diagonal().cwiseSqrt();
  return cov.cwiseQuotient(sd * sd.transpose());
}

// n events of a zero-mean unit-variance Gaussian with correlation matrix `rho` (Cholesky).
MatrixD correlated_gaussian(Index n, const MatrixD& rho, Rng& rng) {
  const MatrixD l = rho.llt().matrixL();
  MatrixD z(n, rho.rows());
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < rho.rows(); ++j) z(i, j) = rng.normal();
  return z * l.transpose();
}

}  // namespace

TEST_CASE("Ancestral sampling: conditional bin frequencies equal the template's ratios") {
  // Two variables on 2 x 2 bins; weights chosen so that p(x0 bin) = (0.25, 0.75) and
  // p(x1 bin | x0 bin 0) = (0.8, 0.2), p(x1 bin | x0 bin 1) = (1/3, 2/3).
  MatrixD data(4, 2);
  data << 0.5, 10.5, 0.5, 11.5, 1.5, 10.5, 1.5, 11.5;
  VectorD w(4);
  w << 0.2, 0.05, 0.25, 0.5;
  const Axis a0({0.0, 1.0, 2.0}, "x0"), a1({10.0, 11.0, 12.0}, "x1");
  AncestralSampler sampler({"x0", "x1"});
  sampler.add({.draw = {0}, .draw_axes = {a0}});
  sampler.add({.draw = {1}, .draw_axes = {a1}, .given = {0}, .given_axes = {a0}});
  sampler.fill(data, w);

  Rng rng(5);
  const Index n = 400000;
  const MatrixD x = sampler.sample(n, rng);
  double count[2][2] = {{0, 0}, {0, 0}};
  bool inside = true;
  for (Index i = 0; i < n; ++i) {
    inside = inside && x(i, 0) >= 0.0 && x(i, 0) < 2.0 && x(i, 1) >= 10.0 && x(i, 1) < 12.0;
    count[static_cast<int>(x(i, 0))][static_cast<int>(x(i, 1) - 10.0)] += 1;
  }
  CHECK(inside);
  const double expected[2][2] = {{0.2, 0.05}, {0.25, 0.5}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      const double p = expected[i][j], sigma = std::sqrt(p * (1 - p) / n);
      CHECK(std::abs(count[i][j] / n - p) < 5 * sigma);
    }
  // Inside a bin the draw is uniform: the mean of x0 in bin 0 is its centre, variance 1/12.
  double sum = 0, sum2 = 0, m = 0;
  for (Index i = 0; i < n; ++i)
    if (x(i, 0) < 1.0) {
      sum += x(i, 0);
      sum2 += x(i, 0) * x(i, 0);
      m += 1;
    }
  CHECK(std::abs(sum / m - 0.5) < 5 * std::sqrt(1.0 / 12 / m));
  CHECK(sum2 / m - (sum / m) * (sum / m) == doctest::Approx(1.0 / 12).epsilon(0.02));

  // Same seed, same pseudo-events.
  Rng again(5);
  CHECK(sampler.sample(100, again) == x.topRows(100));
}

TEST_CASE("Ancestral sampling: a correlated 3-D Gaussian keeps its correlation matrix") {
  MatrixD rho(3, 3);
  rho << 1.0, 0.6, 0.3, 0.6, 1.0, -0.4, 0.3, -0.4, 1.0;
  // Seed 5 draws events with x0, x1 inside [-4, 4] and x2 outside: those must be left out of every
  // template (Flow::drop), or the 3-D slice their (x0, x1) cell selects could be empty.
  Rng rng(5);
  const Index n = 400000;
  const MatrixD data = correlated_gaussian(n, rho, rng);

  const Axis bins = Axis::uniform(24, -4.0, 4.0);
  AncestralSampler chain({"x0", "x1", "x2"});
  chain.add({.draw = {0}, .draw_axes = {bins}})
      .add({.draw = {1}, .draw_axes = {bins}, .given = {0}, .given_axes = {bins}})
      .add({.draw = {2}, .draw_axes = {bins}, .given = {0, 1}, .given_axes = {bins, bins}});
  chain.fill(data);
  CHECK(chain.steps() == 3);
  CHECK(chain.histogram(2).dimension() == 3);

  Rng draw(6);
  const MatrixD sampled = chain.sample(n, draw);
  const MatrixD got = correlation(sampled), truth = correlation(data);
  // Statistical error of a correlation ~ (1 - rho^2)/sqrt(n) ~ 0.0015 per sample; binning (width 1/3)
  // smears each variable uniformly inside its bin and conditions on bins rather than values, which
  // moves rho by about 0.01 (measured 0.010-0.012 over three seeds).
  for (Index i = 0; i < 3; ++i)
    for (Index j = 0; j < 3; ++j) {
      INFO("rho(" << i << ", " << j << ")");
      CHECK(std::abs(got(i, j) - truth(i, j)) < 0.02);
      CHECK(std::abs(got(i, j) - rho(i, j)) < 0.025);
    }
  // Marginals: mean 0, variance 1 + w^2/12 from the uniform smearing.
  const double smear = (1.0 / 3.0) * (1.0 / 3.0) / 12.0;
  for (Index j = 0; j < 3; ++j) {
    const double mean = sampled.col(j).mean();
    const double var = (sampled.col(j).array() - mean).square().sum() / static_cast<double>(n - 1);
    CHECK(std::abs(mean) < 0.01);
    CHECK(var == doctest::Approx(1.0 + smear).epsilon(0.015));
  }

  // The test can fail: templates without conditioning lose every correlation.
  AncestralSampler factorised({"x0", "x1", "x2"});
  factorised.add({.draw = {0}, .draw_axes = {bins}})
      .add({.draw = {1}, .draw_axes = {bins}})
      .add({.draw = {2}, .draw_axes = {bins}});
  factorised.fill(data);
  Rng draw2(78);
  const MatrixD flat = correlation(factorised.sample(100000, draw2));
  CHECK(std::abs(flat(0, 1)) < 0.02);
  CHECK(std::abs(flat(1, 2)) < 0.02);

  // A joint 2-D template for (x0, x1) then x2 | x1 keeps rho01 and rho12 but not rho02 beyond rho01*rho12.
  AncestralSampler markov({"x0", "x1", "x2"});
  markov.add({.draw = {0, 1}, .draw_axes = {bins, bins}})
      .add({.draw = {2}, .draw_axes = {bins}, .given = {1}, .given_axes = {bins}});
  markov.fill(data);
  Rng draw3(79);
  const MatrixD chain_rho = correlation(markov.sample(200000, draw3));
  CHECK(chain_rho(0, 1) == doctest::Approx(0.6).epsilon(0.04));
  CHECK(chain_rho(1, 2) == doctest::Approx(-0.4).epsilon(0.05));
  CHECK(chain_rho(0, 2) == doctest::Approx(0.6 * -0.4).epsilon(0.1));  // the Markov chain's value, not 0.3
}

TEST_CASE("Ancestral sampling: empty slices follow the chosen policy") {
  // x1 is only ever seen with x0 in [0, 1); the x0 template, binned more widely, can draw x0 in [1, 2).
  const Axis wide({0.0, 2.0}), narrow({0.0, 1.0, 2.0}), y({0.0, 1.0});
  MatrixD only_low(1, 2);
  only_low << 0.5, 0.5;
  AncestralSampler strict({"x0", "x1"});
  strict.add({.draw = {0}, .draw_axes = {wide}})
      .add({.draw = {1}, .draw_axes = {y}, .given = {0}, .given_axes = {narrow}});
  strict.fill(only_low);
  Rng rng(1);
  CHECK_THROWS_WITH_AS(strict.sample(1000, rng),
                       doctest::Contains("step 1 has no content in the slice selected by x0 = 1."), Error);

  AncestralSampler lenient({"x0", "x1"}, Flow::drop, EmptySlice::marginal);
  lenient.add({.draw = {0}, .draw_axes = {wide}})
      .add({.draw = {1}, .draw_axes = {y}, .given = {0}, .given_axes = {narrow}});
  lenient.fill(only_low);
  const MatrixD x = lenient.sample(1000, rng);
  CHECK(x.col(1).minCoeff() >= 0.0);
  CHECK(x.col(1).maxCoeff() < 1.0);
}

TEST_CASE("Ancestral sampling: configuration errors name the step and the variable") {
  const Axis a = Axis::uniform(4, 0, 1);
  AncestralSampler s({"pt", "eta"});
  CHECK_THROWS_WITH_AS(s.add({.draw = {1}, .draw_axes = {a}, .given = {0}, .given_axes = {a}}),
                       "AncestralSampler::add: step 0 is conditioned on 'pt', which no earlier step draws",
                       Error);
  s.add({.draw = {0}, .draw_axes = {a}});
  CHECK_THROWS_WITH_AS(
      s.add({.draw = {0}, .draw_axes = {a}}),
      "AncestralSampler::add: step 1 draws 'pt', which is already drawn; each variable is drawn "
      "exactly once",
      Error);
  CHECK_THROWS_WITH_AS(s.add({.draw = {1}, .draw_axes = {}}),
                       "AncestralSampler::add: step 1 draws 1 variables but has 0 draw axes", Error);
  CHECK_THROWS_WITH_AS(s.add({.draw = {5}, .draw_axes = {a}}),
                       "AncestralSampler::add: step 1 names variable 5; variables are 0..1", Error);
  CHECK_THROWS_WITH_AS(s.add({.draw = {}, .draw_axes = {}}),
                       "AncestralSampler::add: step 1 draws no variable", Error);
  Rng rng(1);
  CHECK_THROWS_WITH_AS(
      s.sample(10, rng),
      "AncestralSampler::sample: no step draws variable 'eta'; every variable must be drawn by one step",
      Error);
  s.add({.draw = {1}, .draw_axes = {a}, .given = {0}, .given_axes = {a}});
  CHECK_THROWS_WITH_AS(s.sample(10, rng),
                       "AncestralSampler::sample: template of step 0 is empty; call fill() with data first",
                       Error);
  CHECK_THROWS_WITH_AS(s.fill(MatrixD::Zero(3, 3)),
                       "AncestralSampler::fill: data has 3 columns, expected 2 (one per variable)", Error);
  MatrixD bad = MatrixD::Constant(3, 2, 0.5);
  bad(1, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(s.fill(bad),
                       "AncestralSampler::fill: row 1 column 1 ('eta') is NaN; templates refuse NaN values",
                       Error);
  CHECK(s.histogram(0).total(true) == 0.0);  // nothing was filled
  CHECK_THROWS_WITH_AS(
      AncestralSampler({"x"}, Flow::keep),
      "AncestralSampler: templates cannot sample from flow bins (they have no width); use Flow::drop "
      "or Flow::fold",
      Error);
  AncestralSampler four({"a", "b", "c", "d"});
  four.add({.draw = {0, 1, 2}, .draw_axes = {a, a, a}});
  CHECK_THROWS_WITH_AS(four.add({.draw = {3}, .draw_axes = {a}, .given = {0, 1, 2}, .given_axes = {a, a, a}}),
                       "AncestralSampler::add: step 1 spans 4 variables; templates have 1 to 3 dimensions",
                       Error);
}

// ---- With or without replacement, configs, validation (stats/sampling_config.hpp,
// stats/sample_validation.hpp) and PCA shape templates (stats/template_pca.hpp).

TEST_CASE("Bootstrap counts: n draws from n rows, reproducible, and the same as weighting by them") {
  Rng a(7), b(7);
  const VectorD counts = bootstrap_counts(1000, a);
  CHECK(counts.sum() == 1000.0);
  CHECK((counts.array() >= 0.0).all());
  CHECK(counts == bootstrap_counts(1000, b));
  // About e^-1 of the rows are never drawn.
  CHECK(static_cast<double>((counts.array() == 0.0).count()) / 1000.0 ==
        doctest::Approx(std::exp(-1.0)).epsilon(0.1));

  MatrixD data(200, 1);
  for (Index r = 0; r < 200; ++r) data(r, 0) = (static_cast<double>(r) + 0.5) / 200.0;
  const Axis axis = Axis::uniform(10, 0.0, 1.0);
  AncestralSampler resampled({"x"}), weighted({"x"});
  resampled.add({.draw = {0}, .draw_axes = {axis}});
  weighted.add({.draw = {0}, .draw_axes = {axis}});
  Rng c(11), d(11);
  resampled.fill_with_replacement(data, c);
  weighted.fill(data, bootstrap_counts(200, d));
  CHECK(resampled.histogram(0).values() == weighted.histogram(0).values());
  CHECK(resampled.histogram(0).total() == 200.0);
}

namespace {

nlohmann::json sampling_config_json() {
  return nlohmann::json::parse(R"({
    "data": {"files": ["control.csv"]},
    "variables": [{"name": "x", "bins": 4, "range": [0, 4]},
                  {"name": "y", "edges": [0, 1, 2]},
                  {"name": "z", "bins": 3, "range": [0, 3]}],
    "templates": [{"draw": ["x"]}, {"draw": ["y"], "given": ["x"]}, {"draw": "z"}],
    "sampling": {"events": 500, "seed": 3, "replacement": true, "flow": "fold"},
    "output": {"events": "out.csv", "validation": ""}
  })");
}

std::string config_error(const std::string& pointer, const nlohmann::json& value) {
  nlohmann::json j = sampling_config_json();
  const nlohmann::json::json_pointer at(pointer);
  if (value.is_null() && j[at.parent_pointer()].is_array())
    j[at.parent_pointer()].erase(std::stoul(at.back()));
  else if (value.is_null())
    j[at.parent_pointer()].erase(at.back());
  else
    j[nlohmann::json::json_pointer(pointer)] = value;
  try {
    (void)sampling_config_from_json(j, "c.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("Sampling config: every key read, input paths relative to the config") {
  const SamplingConfig c = sampling_config_from_json(sampling_config_json(), "dir/c.json", "dir");
  CHECK(c.files == std::vector<std::string>{"dir/control.csv"});
  CHECK(c.variables == std::vector<std::string>{"x", "y", "z"});
  CHECK(c.axes[0].edges() == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(c.axes[1].edges() == std::vector<double>{0, 1, 2});
  REQUIRE(c.templates.size() == 3);
  CHECK(c.templates[1].given == std::vector<std::string>{"x"});
  CHECK(c.templates[2].draw == std::vector<std::string>{"z"});
  CHECK(c.events == 500);
  CHECK(c.seed == 3);
  CHECK(c.replacement);
  CHECK(c.flow == Flow::fold);
  CHECK(c.empty_slice == EmptySlice::error);
  CHECK(c.output_events == "out.csv");
  CHECK(c.output_validation.empty());
  const AncestralSampler s = make_sampler(c);
  CHECK(s.steps() == 3);
  CHECK(s.histogram(1).dimension() == 2);
}

TEST_CASE("Sampling config: errors name the key, the value and what is allowed") {
  CHECK(config_error("/sampling/flow", "keep") ==
        "config 'c.json': key 'sampling.flow' is \"keep\"; allowed: drop, fold");
  CHECK(config_error("/sampling/events", 0) ==
        "config 'c.json': key 'sampling.events' is 0; expected an integer from 1 to 1000000000");
  CHECK(config_error("/sampling/replacement", "yes") ==
        "config 'c.json': key 'sampling.replacement' is \"yes\"; expected true or false");
  CHECK(config_error("/sampling/order", 1) ==
        "config 'c.json': key 'sampling.order' is not a known key; allowed keys in 'sampling': events, seed, "
        "replacement, flow, empty_slice");
  CHECK(config_error("/templates/1/given/0", "z") ==
        "config 'c.json': key 'templates[1].given' names \"z\", which no earlier template draws; list the "
        "templates in the order they are drawn");
  CHECK(config_error("/templates/2/draw", "w") ==
        "config 'c.json': key 'templates[2].draw' names \"w\", which is not in 'variables': x, y, z");
  CHECK(config_error("/templates/2/draw", "x") ==
        "config 'c.json': key 'templates[2].draw' names \"x\", which an earlier template (or this one) "
        "already draws");
  CHECK(
      config_error("/templates/2", nullptr) ==
      "config 'c.json': key 'templates' draws no template for variable \"z\"; every variable is drawn once");
  CHECK(config_error("/variables/1/edges", nlohmann::json::array({0, 2, 1})) ==
        "config 'c.json': key 'variables[1].edges' is not strictly increasing at entry 2 (2 then 1)");
  CHECK(config_error("/variables/0/range", nlohmann::json::array({4, 0})) ==
        "config 'c.json': key 'variables[0].range' is [4,0]; expected [lo, hi] with lo < hi");
  CHECK(config_error("/variables/2/bins", nullptr) ==
        "config 'c.json': key 'variables[2].bins' is missing; each variable needs \"bins\": N and \"range\": "
        "[lo, "
        "hi], or \"edges\"");
  CHECK(config_error("/data", nullptr) ==
        "config 'c.json': key 'data' is missing; expected {\"files\": [\"control.csv\"]}");
  nlohmann::json four = sampling_config_json();
  four["templates"][1]["given"] = {"x", "z"};
  four["templates"][1]["draw"] = {"y", "q"};
  CHECK_THROWS_WITH_AS(
      (void)sampling_config_from_json(four, "c.json"),
      "config 'c.json': key 'templates[1].draw' and 'given' span 4 variables; templates have 1 to 3 "
      "dimensions",
      Error);
  CHECK_THROWS_WITH_AS((void)sampling_config_from_json(nlohmann::json::array(), "c.json"),
                       "config 'c.json': key '(top level)' is []; expected an object {...}", Error);
}

TEST_CASE("Sampling from a config: the same seed gives the same events, another seed others") {
  SamplingConfig c = sampling_config_from_json(sampling_config_json(), "c.json");
  Rng rng(5);
  MatrixD control(300, 3);
  for (Index r = 0; r < control.rows(); ++r) {
    control(r, 0) = rng.uniform(0.0, 4.0);
    control(r, 1) = std::fmod(control(r, 0), 2.0);
    control(r, 2) = rng.uniform(0.0, 3.0);
  }
  const VectorD w = VectorD::Ones(300);
  const MatrixD first = sample_from_config(c, control, w);
  CHECK(first.rows() == 500);
  CHECK(first == sample_from_config(c, control, w));
  c.seed = 4;
  CHECK(first != sample_from_config(c, control, w));
  c.replacement = false;
  const MatrixD once = sample_from_config(c, control, w);
  CHECK(once == sample_from_config(c, control, w));
  CHECK(once != sample_from_config(sampling_config_from_json(sampling_config_json(), "c.json"), control, w));
}

TEST_CASE("Chi-square survival function against its closed forms") {
  for (double x : {0.0, 0.3, 1.0, 2.5, 7.0, 30.0, 100.0}) {
    CHECK(chi2_survival(x, 2) == doctest::Approx(std::exp(-x / 2.0)).epsilon(1e-12));
    CHECK(chi2_survival(x, 1) == doctest::Approx(std::erfc(std::sqrt(x / 2.0))).epsilon(1e-10));
    CHECK(chi2_survival(x, 4) == doctest::Approx(std::exp(-x / 2.0) * (1.0 + x / 2.0)).epsilon(1e-12));
    CHECK(chi2_survival(x, 6) ==
          doctest::Approx(std::exp(-x / 2.0) * (1.0 + x / 2.0 + x * x / 8.0)).epsilon(1e-12));
  }
}

TEST_CASE("Validation table: a hand-computed chi-square, identical samples, correlations") {
  // Control: 3 events in bin 0, 1 in bin 1; sampled: 1 and 1. Normalised: 0.75/0.25 against 0.5/0.5;
  // variances 3/16 + 1/4 and 1/16 + 1/4; chi2 = 0.0625 / 0.4375 + 0.0625 / 0.3125, ndf = 1.
  MatrixD control(4, 1), sampled(2, 1);
  control << 0.1, 0.2, 0.3, 1.5;
  sampled << 0.4, 1.6;
  const std::vector<Axis> axes = {Axis::uniform(2, 0.0, 2.0)};
  const SampleValidation v = compare_samples(control, VectorD::Ones(4), sampled, {"x"}, axes);
  REQUIRE(v.variables.size() == 1);
  CHECK(v.variables[0].chi2 == doctest::Approx(0.0625 / 0.4375 + 0.0625 / 0.3125));
  CHECK(v.variables[0].ndf == 1);
  CHECK(v.variables[0].ks_distance == doctest::Approx(0.75));  // after 0.3: 3/4 against 0
  CHECK(v.variables[0].mean_control == doctest::Approx(0.525));
  CHECK(v.control_events == 4.0);

  Rng rng(2);
  MatrixD same(400, 2);
  for (Index r = 0; r < 400; ++r) {
    same(r, 0) = rng.uniform();
    same(r, 1) = same(r, 0) * 0.5 + 0.5 * rng.uniform();
  }
  const SampleValidation s = compare_samples(same, VectorD::Ones(400), same, {"a", "b"},
                                             {Axis::uniform(5, 0, 1), Axis::uniform(5, 0, 1)});
  CHECK(s.variables[1].chi2 == 0.0);
  CHECK(s.variables[1].chi2_p_value == 1.0);
  CHECK(s.variables[0].ks_distance == 0.0);
  CHECK(s.max_correlation_difference == 0.0);
  CHECK(s.correlation_control(0, 1) == doctest::Approx(1.0 / std::sqrt(2.0)).epsilon(0.05));
  const nlohmann::json j = to_json(s);
  CHECK(j["variables"][1]["name"] == "b");
  CHECK(j["correlation"]["names"] == nlohmann::json::array({"a", "b"}));
}

TEST_CASE("Ancestral sampling reproduces a factorised control region: chi-square per variable near its ndf") {
  // x and y independent, z depends on y: p(x) p(y) p(z | y) is the truth, so the sampled events agree
  // with the control region within statistics (p-values not tiny), and the binned means agree.
  Rng rng(9);
  const Index n = 20000;
  MatrixD control(n, 3);
  for (Index r = 0; r < n; ++r) {
    control(r, 0) = -std::log(1.0 - rng.uniform()) * 0.3;
    control(r, 1) = rng.uniform();
    control(r, 2) = control(r, 1) > 0.5 ? rng.uniform(0.5, 1.0) : rng.uniform(0.0, 0.5);
  }
  SamplingConfig c = sampling_config_from_json(nlohmann::json::parse(R"({
    "data": {"files": ["unused.csv"]},
    "variables": [{"name": "x", "bins": 20, "range": [0, 2]}, {"name": "y", "bins": 10, "range": [0, 1]},
                  {"name": "z", "bins": 10, "range": [0, 1]}],
    "templates": [{"draw": ["x"]}, {"draw": ["y"]}, {"draw": ["z"], "given": ["y"]}],
    "sampling": {"events": 20000, "seed": 1}})"),
                                               "c.json");
  const VectorD w = VectorD::Ones(n);
  const MatrixD sampled = sample_from_config(c, control, w);
  const SampleValidation v = compare_samples(control, w, sampled, c.variables, c.axes);
  for (const auto& var : v.variables) {
    INFO(var.name, " chi2 ", var.chi2, " ndf ", var.ndf);
    CHECK(var.chi2_p_value > 1e-3);
    CHECK(var.mean_sampled == doctest::Approx(var.mean_control).epsilon(0.03));
  }
  CHECK(v.max_correlation_difference < 0.03);
  CHECK(v.correlation_sampled(1, 2) > 0.7);  // the y-z correlation the conditional template carries
}

TEST_CASE("Template PCA recovers two known orthogonal shape directions and their variances") {
  // Members = nominal + a_m u1 + b_m u2, with sum a = sum b = sum a b = 0, so the covariance is
  // (sum a^2 / (M-1)) u1 u1^T + (sum b^2 / (M-1)) u2 u2^T exactly.
  const Index bins = 6;
  VectorD nominal(bins), u1(bins), u2(bins);
  nominal << 100, 80, 60, 45, 30, 20;
  u1 << 1, 1, 1, -1, -1, -1;
  u2 << 1, -1, 0, 0, -1, 1;
  u1 /= u1.norm();
  u2 /= u2.norm();
  REQUIRE(std::abs(u1.dot(u2)) < 1e-15);
  const double a[] = {3, -3, 3, -3, 0};
  const double b[] = {1, 1, -1, -1, 0};
  MatrixD members(5, bins);
  for (Index m = 0; m < 5; ++m) members.row(m) = (nominal + a[m] * u1 + b[m] * u2).transpose();
  const TemplatePca pca = template_pca(members, 2);
  CHECK((pca.nominal - nominal).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(pca.variances(0) == doctest::Approx(36.0 / 4.0));
  CHECK(pca.variances(1) == doctest::Approx(4.0 / 4.0));
  CHECK(pca.variances.tail(bins - 2).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(pca.explained() == doctest::Approx(1.0));
  // Sign convention: the largest-magnitude entry is positive (u1's first three entries tie; any of them).
  const VectorD expected1 = 3.0 * (u1(0) > 0 ? u1 : VectorD(-u1));
  const VectorD expected2 = 1.0 * u2;
  REQUIRE(pca.components.size() == 2);
  CHECK(std::min((pca.components[0] - expected1).norm(), (pca.components[0] + expected1).norm()) < 1e-10);
  CHECK(std::min((pca.components[1] - expected2).norm(), (pca.components[1] + expected2).norm()) < 1e-10);
  CHECK(pca.components[1].maxCoeff() > 0.0);

  CHECK_THROWS_WITH_AS(
      template_pca(members, 5),
      "template_pca: 5 components asked for, but 5 members in 6 bins have at most 4 (members - 1 "
      "and bins)",
      Error);
  CHECK_THROWS_WITH_AS(template_pca(members.topRows(1), 0),
                       "template_pca: an ensemble needs at least 2 members, got 1", Error);
}

TEST_CASE("Template PCA workspace: written, read back, its modifiers reproduce nominal +- component") {
  MatrixD members(4, 3);
  members << 10, 20, 30, 12, 19, 29, 8, 21, 31, 10, 20, 30;
  const TemplatePca pca = template_pca(members, 1);
  TemplateWorkspaceOptions options;
  options.signal = {0.0, 5.0, 0.0};
  options.observed = {10.0, 22.5, 30.0};  // nominal + 0.5 signal
  const Workspace ws = parse_workspace(to_json(template_workspace(pca, options)), "pca.json");
  const BinnedLikelihood model(ws);
  CHECK(model.n_params() == 3);
  const int mu = model.index("mu"), pc = model.index("shape_pc1"), norm = model.index("background_norm");
  Eigen::VectorXd p = model.init();
  p(mu) = 0.0;
  CHECK((model.expected(p) - pca.nominal).cwiseAbs().maxCoeff() < 1e-12);
  p(pc) = 1.0;
  CHECK((model.expected(p) - (pca.nominal + pca.components[0])).cwiseAbs().maxCoeff() < 1e-12);
  p(pc) = -1.0;
  CHECK((model.expected(p) - (pca.nominal - pca.components[0])).cwiseAbs().maxCoeff() < 1e-12);
  p(pc) = 0.0;
  p(mu) = 2.0;
  p(norm) = 0.5;
  Eigen::VectorXd expected = 0.5 * pca.nominal;
  expected(1) += 10.0;
  CHECK((model.expected(p) - expected).cwiseAbs().maxCoeff() < 1e-12);
  // Observed = nominal + 0.5 signal, which the model meets exactly at mu = 0.5 with the nuisance at 0.
  const FitResult best = fit(model, model.observed());
  CHECK(best.converged);
  CHECK(best.values(mu) == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(best.values(norm) == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(std::abs(best.values(pc)) < 1e-3);
  CHECK(ws.measurement().poi == "mu");

  TemplateWorkspaceOptions no_signal;
  const Workspace background_only = parse_workspace(to_json(template_workspace(pca, no_signal)), "b.json");
  CHECK(background_only.measurement().poi == "background_norm");
  CHECK(background_only.observation("signal_region").data == std::vector<double>{10, 20, 30});
}

TEST_CASE("Template ensemble file: format errors name the key") {
  auto error = [](const std::string& text) {
    try {
      (void)template_ensemble_from_json(nlohmann::json::parse(text), "e.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error(R"({"members": [[1, 2], [3]]})") ==
        "ensemble 'e.json': key 'members[1]' has 1 bins; member 0 has 2 (every member needs the same, "
        "non-zero, "
        "number of bins)");
  CHECK(error(R"({"members": [[1, 2], [3, 4]], "edges": [0, 1]})") ==
        "ensemble 'e.json': key 'edges' has 2 entries; 2 bins need 3 edges");
  CHECK(error(R"({"members": [[1, 2], [3, "a"]]})") ==
        "ensemble 'e.json': key 'members[1][1]' is \"a\"; expected a finite number");
  CHECK(error(R"({"members": [[1, 2], [3, 4]], "signals": [1, 2]})") ==
        "ensemble 'e.json': key 'signals' is not a known key; allowed keys: variable, edges, members, "
        "observed, "
        "signal");
  CHECK(error(R"({"members": [[1, 2], [3, 4]], "observed": [1]})") ==
        "ensemble 'e.json': key 'observed' has 1 bins; the members have 2");
  const TemplateEnsemble e = template_ensemble_from_json(
      nlohmann::json::parse(R"({"members": [[1, 2], [3, 4]], "signal": [0, 1]})"), "e");
  CHECK(e.members(1, 0) == 3.0);
  CHECK(e.signal == std::vector<double>{0, 1});
}
