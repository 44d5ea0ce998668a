// Tests for stats/histogram.hpp against numpy's histogram, histogram2d and histogramdd
// (reference numbers: tests/reference/stats_metrics.py -> stats_metrics.json).
#include <doctest/doctest.h>

#include "stats_test_helpers.hpp"

#include <agnostic/core/rng.hpp>
#include <agnostic/core/threads.hpp>
#include <agnostic/stats/histogram.hpp>
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

void check_close(const VectorD& got, const nlohmann::json& expected, double tol = 1e-10) {
  REQUIRE(got.size() == static_cast<Index>(expected.size()));
  for (Index i = 0; i < got.size(); ++i) {
    INFO("bin " << i);
    CHECK(got(i) == doctest::Approx(expected[static_cast<std::size_t>(i)].get<double>()).epsilon(tol));
  }
}

}  // namespace

TEST_CASE("Axis: variable edges, bin lookup with the last bin closed, bad edges refused") {
  const Axis a({0, .1, .2, .3, .4, .5, .6, .7, .8, 1.0}, "score");
  CHECK(a.bins() == 9);
  CHECK(a.locate(-0.01) == -1);
  CHECK(a.locate(0.0) == 0);
  CHECK(a.locate(0.1) == 1);  // lower edge belongs to the bin
  CHECK(a.locate(0.85) == 8);
  CHECK(a.locate(1.0) == 8);  // upper edge of the last bin is inside
  CHECK(a.locate(1.0 + 1e-12) == 9);
  CHECK(a.locate(std::numeric_limits<double>::infinity()) == 9);
  CHECK(a.width(8) == doctest::Approx(0.2));
  CHECK(a.centre(0) == doctest::Approx(0.05));
  const Axis u = Axis::uniform(4, -2.0, 2.0);
  CHECK(u.edges() == std::vector<double>{-2.0, -1.0, 0.0, 1.0, 2.0});

  CHECK_THROWS_WITH_AS(Axis({0.0, 0.5, 0.5, 1.0}, "x"),
                       "histogram axis 'x': edges must increase strictly, but edge 2 (0.5) <= edge 1 (0.5)",
                       Error);
  CHECK_THROWS_WITH_AS(Axis({1.0}, "x"), "histogram axis 'x': needs at least 2 edges (1 bin), got 1", Error);
  CHECK_THROWS_WITH_AS(Axis({0.0, std::nan("")}, "x"),
                       "histogram axis 'x': edge 1 is nan; edges must be finite", Error);
  CHECK_THROWS_WITH_AS(Axis::uniform(0, 0, 1, "x"), "histogram axis 'x': number of bins must be >= 1, got 0",
                       Error);
}

TEST_CASE("Histogram 1-D: sums of weights and squared weights match numpy for each flow policy") {
  const auto& r = reference()["histogram"];
  const VectorD x = vec(r["x"]), w = vec(r["w"]);
  const Axis axis(r["edges"].get<std::vector<double>>(), "score");

  Histogram keep(axis, Flow::keep);
  keep.fill(x, w);
  check_close(keep.values(), r["sum_w"]);
  check_close(keep.variances(), r["sum_w2"]);
  CHECK(keep.sum_of_weights(-1) == doctest::Approx(r["underflow_w"].get<double>()));
  CHECK(keep.sum_of_weights(9) == doctest::Approx(r["overflow_w"].get<double>()));
  CHECK(keep.total(true) == doctest::Approx(w.sum()));
  CHECK(keep.dropped() == 0.0);
  CHECK(keep.error(3) == doctest::Approx(std::sqrt(r["sum_w2"][3].get<double>())));

  Histogram drop(axis, Flow::drop);
  drop.fill(x, w);
  check_close(drop.values(), r["sum_w"]);
  CHECK(drop.sum_of_weights(-1) == 0.0);
  CHECK(drop.sum_of_weights(9) == 0.0);
  CHECK(drop.dropped() == doctest::Approx(r["dropped_w"].get<double>()));

  Histogram fold(axis, Flow::fold);
  fold.fill(x, w);
  check_close(fold.values(), r["fold_sum_w"]);
  check_close(fold.variances(), r["fold_sum_w2"]);
  CHECK(fold.total() == doctest::Approx(w.sum()));

  // Effective entries (sum w)^2 / sum w^2, by hand.
  const double sw = fold.values().sum(), sw2 = fold.variances().sum();
  CHECK(fold.effective_entries() == doctest::Approx(sw * sw / sw2));
}

TEST_CASE("Histogram 1-D: float input, unit weights and single fills agree with the bulk fill") {
  const auto& r = reference()["histogram"];
  const VectorD x = vec(r["x"]);
  const Axis axis(r["edges"].get<std::vector<double>>());
  Histogram bulk(axis), single(axis), from_float(axis);
  bulk.fill(x);
  for (Index i = 0; i < x.size(); ++i) single.fill({x(i)});
  from_float.fill(x.cast<float>().eval());
  for (Index b = -1; b <= axis.bins(); ++b) {
    CHECK(bulk.sum_of_weights(b) == single.sum_of_weights(b));
    CHECK(bulk.sum_of_squared_weights(b) == bulk.sum_of_weights(b));  // unit weights
  }
  // float rounding can move a value across an edge; the totals stay the same.
  CHECK(from_float.total(true) == bulk.total(true));
}

TEST_CASE("Histogram: normalisation to unit sum and unit area (numpy density=True)") {
  const auto& r = reference()["histogram"];
  const VectorD x = vec(r["x"]), w = vec(r["w"]);
  Histogram h(Axis(r["edges"].get<std::vector<double>>()), Flow::drop);
  h.fill(x, w);
  const VectorD raw = h.values(), raw_w2 = h.variances();

  const Histogram unit_sum = h.normalised(Normalisation::unit_sum);
  CHECK(unit_sum.total() == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(unit_sum.sum_of_squared_weights(2) == doctest::Approx(raw_w2(2) / (raw.sum() * raw.sum())));

  Histogram area = h;
  area.normalise(Normalisation::unit_area);
  check_close(area.values(), r["density"]);
  double integral = 0;
  for (Index b = 0; b < area.bins(); ++b) integral += area.values()(b) * area.volume(b);
  CHECK(integral == doctest::Approx(1.0).epsilon(1e-14));

  Histogram empty(Axis::uniform(3, 0, 1));
  CHECK_THROWS_WITH_AS(empty.normalise(Normalisation::unit_sum),
                       "Histogram::normalise: in-range sum of weights is 0; normalising needs a positive sum",
                       Error);
}

TEST_CASE("Histogram 2-D and 3-D: variable edges match numpy's histogram2d / histogramdd (C order)") {
  const auto& r = reference()["histogram"];
  const VectorD x = vec(r["x"]), y = vec(r["y"]), z = vec(r["z"]), w = vec(r["w"]);
  const Axis ax(r["edges"].get<std::vector<double>>(), "x"), ay(r["edges_y"].get<std::vector<double>>(), "y"),
      az(r["edges_z"].get<std::vector<double>>(), "z");

  MatrixD xy(x.size(), 2);
  xy << x, y;
  Histogram h2(ax, ay, Flow::drop);
  h2.fill(xy, w);
  check_close(h2.values(), r["sum_w_2d"]);
  CHECK(h2.sum_of_weights(4, 2) == doctest::Approx(r["sum_w_2d"][4 * 4 + 2].get<double>()));

  MatrixD xyz(x.size(), 3);
  xyz << x, y, z;
  Histogram h3(ax, ay, az, Flow::drop);
  h3.fill(xyz, w);
  check_close(h3.values(), r["sum_w_3d"]);
  check_close(h3.variances(), r["sum_w2_3d"]);
  CHECK(h3.sum_of_weights(1, 2, 0) == doctest::Approx(r["sum_w_3d"][(1 * 4 + 2) * 3 + 0].get<double>()));
  CHECK(h3.volume((1 * 4 + 2) * 3 + 2) == doctest::Approx(0.1 * 0.3 * 2.0));
  CHECK(h3.dimension() == 3);
  CHECK(h3.bins() == 9 * 4 * 3);

  // Keep: a point below x and above y sits in the (underflow, overflow) corner cell.
  Histogram corner(ax, ay, Flow::keep);
  corner.fill({-5.0, 7.0}, 2.5);
  CHECK(corner.sum_of_weights(-1, 4) == 2.5);
  CHECK(corner.sum_of_squared_weights(-1, 4) == 6.25);
  CHECK(corner.total() == 0.0);
  CHECK(corner.total(true) == 2.5);
}

TEST_CASE("Histogram: parallel fill gives the serial result and the same bits on repeat") {
  Rng rng(3);
  const Index n = 200000;
  VectorD x(n), w(n);
  for (Index i = 0; i < n; ++i) {
    x(i) = rng.normal(0.5, 0.3);
    w(i) = rng.uniform(0.5, 1.5);
  }
  const Axis axis = Axis::uniform(50, 0.0, 1.0);
  const int saved = threads();
  set_threads(1);
  Histogram serial(axis);
  serial.fill(x, w);
  set_threads(4);
  Histogram parallel_a(axis), parallel_b(axis);
  parallel_a.fill(x, w);
  parallel_b.fill(x, w);
  set_threads(saved);
  for (Index b = -1; b <= 50; ++b) {
    CHECK(parallel_a.sum_of_weights(b) == parallel_b.sum_of_weights(b));  // bit-identical
    CHECK(parallel_a.sum_of_weights(b) == doctest::Approx(serial.sum_of_weights(b)).epsilon(1e-12));
    CHECK(parallel_a.sum_of_squared_weights(b) ==
          doctest::Approx(serial.sum_of_squared_weights(b)).epsilon(1e-12));
  }
}

TEST_CASE("Histogram: adding histograms and scaling") {
  const Axis axis({0.0, 1.0, 3.0});
  Histogram a(axis), b(axis);
  a.fill({0.5}, 2.0);
  b.fill({2.0}, 3.0);
  b.fill({0.2}, 1.0);
  a += b;
  CHECK(a.sum_of_weights(0) == 3.0);
  CHECK(a.sum_of_squared_weights(0) == 5.0);
  CHECK(a.sum_of_weights(1) == 3.0);
  a.scale(2.0);
  CHECK(a.sum_of_weights(0) == 6.0);
  CHECK(a.sum_of_squared_weights(0) == 20.0);
  Histogram other(Axis({0.0, 1.0, 2.0}));
  CHECK_THROWS_WITH_AS(
      a += other, "Histogram +=: edges differ on axis 0; only histograms with identical edges can be added",
      Error);
}

TEST_CASE("Histogram: NaN, bad weights and bad shapes are refused, the histogram left unchanged") {
  Histogram h(Axis::uniform(4, 0, 1, "score"));
  VectorD x(5), w(5);
  x << 0.1, 0.2, std::nan(""), 0.4, 0.5;
  w.setOnes();
  CHECK_THROWS_WITH_AS(
      h.fill(x, w),
      "Histogram::fill: row 2 column 0 (axis 'score') is NaN; histograms refuse NaN values (filter "
      "or impute them first)",
      Error);
  CHECK(h.total(true) == 0.0);
  x(2) = 0.3;
  w(4) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(h.fill(x, w), "Histogram::fill: weight of row 4 is inf; weights must be finite",
                       Error);
  CHECK(h.total(true) == 0.0);
  CHECK_THROWS_WITH_AS(h.fill(x, VectorD::Ones(3)),
                       "Histogram::fill: 5 points but 3 weights; one weight per event (row) expected", Error);
  CHECK_THROWS_WITH_AS(
      h.fill(MatrixD::Zero(5, 2)),
      "Histogram::fill: points have 2 columns, histogram has 1 axes; one column per axis expected", Error);
  CHECK_THROWS_WITH_AS(
      h.fill({std::nan("")}),
      "Histogram::fill: coordinate 0 (axis 'score') is NaN; histograms refuse NaN values (filter or "
      "impute them first)",
      Error);
  CHECK_THROWS_WITH_AS(h.fill({0.1, 0.2}), "Histogram::fill: point has 2 coordinates, histogram has 1 axes",
                       Error);
  CHECK_THROWS_WITH_AS(h.sum_of_weights(5),
                       "Histogram: bin 5 on axis 0 ('score') outside [-1, 4] (-1 underflow, 4 overflow)",
                       Error);
  CHECK_THROWS_WITH_AS(h.sum_of_weights(1, 1), "Histogram: 2 bin indices given, histogram has 1 axes", Error);
  CHECK_THROWS_WITH_AS(Histogram(std::vector<Axis>{}, Flow::keep),
                       "Histogram: 1, 2 or 3 axes expected, got 0", Error);
  // Many rows: the NaN is found inside the parallel chunks, and the first bad row is reported.
  VectorD big = VectorD::Constant(100000, 0.5);
  big(77777) = std::nan("");
  big(88888) = std::nan("");
  CHECK_THROWS_WITH_AS(h.fill(big), doctest::Contains("row 77777 column 0"), Error);
  CHECK(h.total(true) == 0.0);
}

TEST_CASE("Histogram: Eigen array expressions fill like vectors") {
  Histogram a(Axis::uniform(4, 0, 2)), b(Axis::uniform(4, 0, 2));
  VectorD x(3), w(3);
  x << 0.1, 0.7, 1.9;
  w << 1.0, 2.0, 3.0;
  a.fill((x.array() * 2.0 / 2.0).eval(), w.array());
  b.fill(x, w);
  CHECK(a.values() == b.values());
  CHECK(a.values()(3) == 3.0);
}
