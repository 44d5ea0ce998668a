// Tests for autodiff/soft_histogram.hpp.
#include <doctest/doctest.h>

#include <agnostic/autodiff/soft_histogram.hpp>
#include <cmath>
#include <vector>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;
using agnostic::testing::uniform_matrix;

namespace {

// N_k = sum_b w_b exp(-(v_b - c_k)^2 / (2 h_k^2)), written out from 004.
std::vector<double> reference_counts(const std::vector<double>& edges, const MatrixD& v, const MatrixD* w) {
  std::vector<double> counts(edges.size() - 1, 0.0);
  for (size_t k = 0; k + 1 < edges.size(); ++k) {
    const double centre = 0.5 * (edges[k] + edges[k + 1]), half = 0.5 * (edges[k + 1] - edges[k]);
    for (Index b = 0; b < v.rows(); ++b) {
      const double z = (v(b, 0) - centre) / half;
      counts[k] += (w ? (*w)(b, 0) : 1.0) * std::exp(-0.5 * z * z);
    }
  }
  return counts;
}

}  // namespace

TEST_CASE("soft histogram: peak-1 Gaussians, closed forms at centres and edges") {
  const SoftHistogram h = SoftHistogram::uniform(4, 0.0, 1.0);  // centres 0.125 ... 0.875, half-width 0.125
  CHECK(h.bins() == 4);
  CHECK(h.centre(1) == 0.375);
  CHECK(h.half_width(2) == 0.125);
  // One event on the centre of bin 1, one on the edge between bins 2 and 3.
  const MatrixD v = (MatrixD(2, 1) << 0.375, 0.75).finished();
  Tape<double> tape;
  const MatrixD counts = h(tape.input(v)).value();
  REQUIRE(counts.rows() == 1);
  REQUIRE(counts.cols() == 4);
  // Distances in half-widths from the event at 0.375: 2, 0, 2, 4; from the event at 0.75: 5, 3, 1, 1.
  auto g = [](double z) { return std::exp(-0.5 * z * z); };
  CHECK(counts(0, 0) == doctest::Approx(g(2) + g(5)).epsilon(1e-15));
  CHECK(counts(0, 1) == doctest::Approx(1.0 + g(3)).epsilon(1e-15));
  CHECK(counts(0, 2) == doctest::Approx(g(2) + std::exp(-0.5)).epsilon(1e-15));
  CHECK(counts(0, 3) == doctest::Approx(g(4) + std::exp(-0.5)).epsilon(1e-15));
}

TEST_CASE("soft histogram: weighted counts with uneven edges match the written-out sum") {
  Rng rng(61);
  const std::vector<double> edges{-1.0, -0.2, 0.1, 0.5, 2.0};
  const SoftHistogram h(edges);
  const MatrixD v = random_matrix(rng, 40, 1), w = uniform_matrix(rng, 40, 1, -0.5, 2.0);
  Tape<double> tape;
  const MatrixD counts = h(tape.input(v), w).value();
  const std::vector<double> expected = reference_counts(edges, v, &w);
  for (size_t k = 0; k < expected.size(); ++k)
    CHECK(counts(0, static_cast<Index>(k)) == doctest::Approx(expected[k]).epsilon(1e-13));
  const MatrixD unweighted = soft_histogram(tape.input(v), h).value();
  const std::vector<double> expected_unweighted = reference_counts(edges, v, nullptr);
  for (size_t k = 0; k < expected.size(); ++k)
    CHECK(unweighted(0, static_cast<Index>(k)) == doctest::Approx(expected_unweighted[k]).epsilon(1e-13));
}

TEST_CASE("soft histogram: gradients for values and weights, values on edges and outside the range") {
  Rng rng(62);
  const std::vector<double> edges{0.0, 0.1, 0.3, 0.6, 1.0};
  const SoftHistogram h(edges);
  MatrixD v = uniform_matrix(rng, 12, 1, 0.0, 1.0);
  v(0, 0) = 0.1;   // on an inner edge
  v(1, 0) = 0.0;   // on the lower edge
  v(2, 0) = 1.0;   // on the upper edge
  v(3, 0) = -0.4;  // below the range
  v(4, 0) = 1.7;   // above the range
  v(5, 0) = 0.45;  // on a centre
  const MatrixD w = uniform_matrix(rng, 12, 1, 0.5, 1.5), c = random_matrix(rng, 1, 4);
  GradcheckOptions options;
  options.step = 1e-4;  // the narrowest bin has half-width 0.05
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(h(in[0], in[1]), c); },
      {v, w}, options);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(h(in[0], w), c); }, {v},
      options);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(h(in[0]), c); }, {v},
      options);
}

TEST_CASE("soft histogram: the threaded path sums per-chunk counts in order") {
  Rng rng(63);
  const SoftHistogram h = SoftHistogram::uniform(10, 0.0, 1.0);
  const MatrixD v = uniform_matrix(rng, 20000, 1, -0.1, 1.1), w = uniform_matrix(rng, 20000, 1, 0.0, 2.0);
  const MatrixD c = random_matrix(rng, 1, 10);
  set_parallel_min_work(1L << 15);  // reach the parallel path with a small test size
  REQUIRE(chunk_count(20000, 20000L * 10 * 12) > 1);
  const int before = threads();
  MatrixD counts[2], dv[2], dw[2];
  for (int n : {1, 2}) {
    set_threads(n);
    Tape<double> tape;
    auto vv = tape.variable(v), wv = tape.variable(w);
    auto y = h(vv, wv);
    counts[n - 1] = y.value();
    tape.backward(Contract::apply(y, c));
    dv[n - 1] = vv.grad();
    dw[n - 1] = wv.grad();
  }
  set_threads(before);
  CHECK((counts[0] - counts[1]).norm() <= 1e-12 * counts[0].norm());
  CHECK(dv[0] == dv[1]);  // per event: no cross-thread sums
  CHECK(dw[0] == dw[1]);
}

TEST_CASE("soft histogram: float values give the double counts to float precision") {
  Rng rng(64);
  const SoftHistogram h = SoftHistogram::uniform(5, 0.0, 1.0);
  const MatrixD v = uniform_matrix(rng, 100, 1, 0.0, 1.0);
  const MatrixF vf = v.cast<float>();
  Tape<double> td;
  Tape<float> tf;
  const MatrixD cd = h(td.input(v)).value();
  const MatrixF cf = h(tf.input(vf)).value();
  CHECK((cd - cf.cast<double>()).norm() <= 1e-5 * cd.norm());
}

TEST_CASE("soft histogram: bad edges and shapes are errors") {
  CHECK_THROWS_WITH_AS(SoftHistogram({0.0}), "SoftHistogram: needs at least 2 edges (1 bin), got 1", Error);
  CHECK_THROWS_WITH_AS(SoftHistogram({0.0, 0.5, 0.5}),
                       "SoftHistogram: edges must increase strictly, but edge 2 (0.5) <= edge 1 (0.5)",
                       Error);
  CHECK_THROWS_WITH_AS(SoftHistogram({0.0, NAN}), "SoftHistogram: edge 1 is nan, expected a finite value",
                       Error);
  CHECK_THROWS_WITH_AS(SoftHistogram::uniform(0, 0.0, 1.0),
                       "SoftHistogram::uniform: needs at least 1 bin, got 0", Error);
  CHECK_THROWS_WITH_AS(SoftHistogram::uniform(3, 1.0, 1.0),
                       "SoftHistogram::uniform: needs low < high, got [1, 1]", Error);
  const SoftHistogram h = SoftHistogram::uniform(3, 0.0, 1.0);
  Tape<double> tape;
  const MatrixD two_columns = MatrixD::Zero(4, 2), v = MatrixD::Zero(4, 1), w = MatrixD::Ones(3, 1);
  CHECK_THROWS_WITH_AS(h(tape.input(two_columns)),
                       "SoftHistogram: values are 4 x 2, expected 4 x 1 (one value per event)", Error);
  CHECK_THROWS_WITH_AS(h(tape.input(v), w),
                       "SoftHistogram: weights are 3 x 1, expected 4 x 1 (one weight per event)", Error);
}
