// Tests for stats/ancestral.hpp: exact conditional frequencies on a tiny template, correlations of a
// correlated Gaussian reproduced by p(x0) p(x1|x0) p(x2|x0,x1), and configuration errors.
#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <agnostic/core/rng.hpp>
#include <agnostic/stats/ancestral.hpp>
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
