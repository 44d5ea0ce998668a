// Tests for autodiff/reductions.hpp and autodiff/weighted_mean.hpp: sum, mean, weighted mean,
// concat_cols, select_rows, select_rows_where; and the batch totals that the weighted mean, soft
// histograms and soft counts take over a batch shared by several processes (core/batch_shard.hpp).
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/dense.hpp>
#include <agnostic/autodiff/elementwise.hpp>
#include <agnostic/autodiff/reductions.hpp>
#include <agnostic/autodiff/soft_counts.hpp>
#include <agnostic/autodiff/soft_histogram.hpp>
#include <agnostic/core/batch_shard.hpp>
#include <agnostic/train/data_parallel.hpp>
#include <array>
#include <barrier>
#include <functional>
#include <span>
#include <thread>
#include <vector>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;
using agnostic::testing::uniform_matrix;

TEST_CASE("reductions: sum and mean values and gradients") {
  Rng rng(31);
  const MatrixD x = random_matrix(rng, 7, 3);
  Tape<double> tape;
  auto v = tape.input(x);
  CHECK(sum(v).item() == doctest::Approx(x.sum()).epsilon(1e-15));
  CHECK(mean(v).item() == doctest::Approx(x.mean()).epsilon(1e-15));
  check_gradients([](Tape<double>&, const std::vector<Var<double>>& in) { return sum(in[0]); }, {x});
  check_gradients([](Tape<double>&, const std::vector<Var<double>>& in) { return mean(in[0]); }, {x});
  // The whole-matrix gradient of sum is 1 everywhere, of mean 1 / size.
  Tape<double> t2;
  auto w = t2.variable(x);
  t2.backward(sum(w));
  CHECK(w.grad() == MatrixD::Ones(7, 3));
  Tape<double> t3;
  auto u = t3.variable(x);
  t3.backward(mean(u));
  CHECK(u.grad() == MatrixD::Constant(7, 3, 1.0 / 21));
}

TEST_CASE("reductions: the threaded sum adds chunks in a fixed order") {
  Rng rng(32);
  const MatrixD x = random_matrix(rng, 50000, 2);
  const int before = threads();
  double totals[2];
  for (int n : {1, 2}) {
    set_threads(n);
    Tape<double> tape;
    totals[n - 1] = sum(tape.input(x)).item();
    // Same thread count, same bits.
    Tape<double> again;
    CHECK(sum(again.input(x)).item() == totals[n - 1]);
  }
  set_threads(before);
  CHECK(totals[0] == doctest::Approx(totals[1]).epsilon(1e-12));
}

TEST_CASE("reductions: weighted mean, value and gradients for values and weights") {
  Rng rng(33);
  const MatrixD v = random_matrix(rng, 9, 1), w = uniform_matrix(rng, 9, 1, 0.2, 2.0);
  Tape<double> tape;
  CHECK(weighted_mean(tape.input(v), w).item() ==
        doctest::Approx((v.array() * w.array()).sum() / w.sum()).epsilon(1e-14));
  CHECK(weighted_mean(tape.input(v)).item() == doctest::Approx(v.mean()).epsilon(1e-14));
  const VectorD wv = w.col(0);
  CHECK(weighted_mean(tape.input(v), wv).item() ==
        doctest::Approx((v.array() * w.array()).sum() / w.sum()).epsilon(1e-14));
  check_gradients(
      [](Tape<double>&, const std::vector<Var<double>>& in) { return weighted_mean(in[0], in[1]); }, {v, w});
  check_gradients([&](Tape<double>&, const std::vector<Var<double>>& in) { return weighted_mean(in[0], w); },
                  {v});
  check_gradients([](Tape<double>&, const std::vector<Var<double>>& in) { return weighted_mean(in[0]); },
                  {v});
}

TEST_CASE("reductions: weights that sum to zero give 0 and zero gradients, never NaN") {
  const MatrixD v = (MatrixD(3, 1) << 1.0, 2.0, 3.0).finished();
  const MatrixD w = MatrixD::Zero(3, 1);
  Tape<double> tape;
  auto vv = tape.variable(v), wv = tape.variable(w);
  auto m = weighted_mean(vv, wv);
  CHECK(m.item() == 0.0);
  tape.backward(m);
  CHECK(vv.grad().isZero());
  CHECK(wv.grad().isZero());
}

TEST_CASE("reductions: concat_cols puts parts side by side and splits the gradient") {
  Rng rng(34);
  const MatrixD a = random_matrix(rng, 4, 2), b = random_matrix(rng, 4, 1), c = random_matrix(rng, 4, 3);
  Tape<double> tape;
  auto y = concat_cols({tape.input(a), tape.input(b), tape.input(c)});
  REQUIRE(y.cols() == 6);
  CHECK(y.value().leftCols(2) == a);
  CHECK(y.value().col(2) == b.col(0));
  CHECK(y.value().rightCols(3) == c);
  const MatrixD k = random_matrix(rng, 4, 6);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(concat_cols(in), k); },
      {a, b, c});
  // The same part twice gets both slices of the gradient.
  Tape<double> t2;
  auto va = t2.variable(a);
  t2.backward(Contract::apply(concat_cols({va, va}), k.leftCols(4)));
  CHECK((va.grad() - (k.leftCols(2) + k.middleCols(2, 2))).norm() <= 1e-15);
}

TEST_CASE("reductions: select_rows by an index list, repeated rows included") {
  Rng rng(35);
  const MatrixD x = random_matrix(rng, 6, 3);
  const std::vector<int> rows{4, 0, 4, 2};
  Tape<double> tape;
  auto y = select_rows(tape.input(x), rows);
  REQUIRE(y.rows() == 4);
  for (Index k = 0; k < 4; ++k) CHECK(y.value().row(k) == x.row(rows[static_cast<size_t>(k)]));
  const MatrixD c = random_matrix(rng, 4, 3);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return Contract::apply(select_rows(in[0], rows), c);
      },
      {x});
  Tape<double> t2;
  auto v = t2.variable(x);
  t2.backward(Contract::apply(select_rows(v, rows), c));
  CHECK(v.grad().row(4) == c.row(0) + c.row(2));
  CHECK(v.grad().row(1).isZero());
  const Eigen::VectorXi eigen_rows = (Eigen::VectorXi(2) << 5, 1).finished();
  CHECK(select_rows(tape.input(x), eigen_rows).value().row(0) == x.row(5));
}

// A mask given to select_rows would silently pick rows 0 and 1: it does not compile.
static_assert(RowIndices<std::vector<int>> && RowIndices<Eigen::VectorXi> && !RowIndices<std::vector<bool>>);

TEST_CASE("reductions: select_rows_where keeps the rows of a mask, in order") {
  Rng rng(36);
  const MatrixD x = random_matrix(rng, 5, 2);
  const std::vector<bool> mask{true, false, false, true, true};
  Tape<double> tape;
  auto y = select_rows_where(tape.input(x), mask);
  REQUIRE(y.rows() == 3);
  CHECK(y.value().row(0) == x.row(0));
  CHECK(y.value().row(1) == x.row(3));
  CHECK(y.value().row(2) == x.row(4));
  const MatrixD c = random_matrix(rng, 3, 2);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return Contract::apply(select_rows_where(in[0], mask), c);
      },
      {x});
  const std::vector<int> none(5, 0);
  CHECK(select_rows_where(tape.input(x), none).rows() == 0);
}

TEST_CASE("reductions: bad shapes and indices are errors that say what was expected") {
  Tape<double> tape;
  const MatrixD x = MatrixD::Zero(4, 3), column = MatrixD::Zero(4, 1), w5 = MatrixD::Ones(5, 1);
  CHECK_THROWS_WITH_AS(
      concat_cols({tape.input(x), tape.input(w5)}),
      "concat_cols: part 1 has 5 rows, part 0 has 4 (all parts need the same number of rows)", Error);
  CHECK_THROWS_WITH_AS(select_rows(tape.input(x), std::vector<int>{0, 4}),
                       "select_rows: entry 1 of the row list is 4, expected 0 <= row < 4", Error);
  CHECK_THROWS_WITH_AS(select_rows(tape.input(x), std::vector<long>{-1}),
                       "select_rows: entry 0 of the row list is -1, expected 0 <= row < 4", Error);
  CHECK_THROWS_WITH_AS(select_rows_where(tape.input(x), std::vector<bool>{true}),
                       "select_rows_where: the mask has 1 entries, expected 4 (one per row)", Error);
  CHECK_THROWS_WITH_AS(weighted_mean(tape.input(x)),
                       "weighted_mean: values are 4 x 3, expected 4 x 1 (one value per event)", Error);
  CHECK_THROWS_WITH_AS(weighted_mean(tape.input(column), w5),
                       "weighted_mean: weights are 5 x 1, expected 4 x 1 (one weight per event)", Error);
  const MatrixD empty(0, 0);
  CHECK_THROWS_WITH_AS(mean(tape.input(empty)), "mean: the operand is empty (0 x 0)", Error);
}

// ---- batch totals (core/batch_shard.hpp): a batch shared by two processes, here two threads ----

namespace {

// Two threads standing for two ranks: sum() adds both threads' vectors in rank order, as the MPI
// communicator does, so that a loss computed on each half sees the whole batch's totals.
class TwoThreadSum {
 public:
  void operator()(int rank, std::span<double> v) {
    slots_[static_cast<std::size_t>(rank)].assign(v.begin(), v.end());
    sync_.arrive_and_wait();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.0 + slots_[0][i] + slots_[1][i];
    sync_.arrive_and_wait();
  }

 private:
  std::barrier<> sync_{2};
  std::vector<double> slots_[2];
};

// The three batch-total operations, each followed by something non-linear, on events x 2 values
// `x` (column 0 a score in [0, 1], both columns logits for the soft counts) and weights `w`.
Var<double> totals_loss(Tape<double>& tape, Var<double> x, Var<double> w) {
  const Var<double> s = dense(x, tape.constant(MatrixD::Identity(1, 2)), Var<double>());  // column 0
  const Var<double> mean = weighted_mean(s * s, w);
  const Var<double> histogram = SoftHistogram::uniform(4, 0.0, 1.0)(s, w);
  const Var<double> counts = soft_counts(softmax(x * 3.0), w);
  return mean * mean + sum(histogram * histogram) * 0.01 + sum(counts * counts) * 0.02;
}

}  // namespace

TEST_CASE("batch totals: two halves of a batch on two threads give the whole batch's loss and gradient") {
  Rng rng(77);
  const Index n = 9;  // shares of 5 and 4 rows: fractions 5/9 and 4/9
  MatrixD x = uniform_matrix(rng, n, 2, 0.0, 1.0);
  MatrixD w = uniform_matrix(rng, n, 1, 0.2, 2.0);
  // One process: the loss and its gradient on the whole batch.
  Tape<double> tape;
  const Var<double> xv = tape.variable(x), wv = tape.variable(w);
  const Var<double> loss = totals_loss(tape, xv, wv);
  tape.backward(loss);
  const double whole = loss.item();
  const MatrixD dx = xv.grad(), dw = wv.grad();
  // Two "ranks": rows 0, 2, 4, ... and 1, 3, 5, ... (train::shard_rows); each rank's gradient,
  // weighted by its fraction (the data-parallel gradient sum), must be one process's.
  TwoThreadSum group;
  std::array<double, 2> values{};
  MatrixD combined_dx = MatrixD::Zero(n, 2), combined_dw = MatrixD::Zero(n, 1);
  auto rank = [&](int r) {
    const std::function<void(std::span<double>)> sum = [&group, r](std::span<double> v) { group(r, v); };
    const BatchShardScope scope(r, 2, &sum);
    std::vector<Index> batch(static_cast<std::size_t>(n)), mine;
    for (Index i = 0; i < n; ++i) batch[static_cast<std::size_t>(i)] = i;
    const std::span<const Index> rows = train::shard_rows(batch, mine);
    MatrixD xr(static_cast<Index>(rows.size()), 2), wr(static_cast<Index>(rows.size()), 1);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      xr.row(static_cast<Index>(k)) = x.row(rows[k]);
      wr(static_cast<Index>(k), 0) = w(rows[k], 0);
    }
    Tape<double> t;
    const Var<double> xrv = t.variable(xr), wrv = t.variable(wr);
    const Var<double> l = totals_loss(t, xrv, wrv);
    t.backward(l);
    values[static_cast<std::size_t>(r)] = l.item();
    const double f = batch_shard().fraction;
    for (std::size_t k = 0; k < rows.size(); ++k) {  // each row belongs to one rank: no race
      combined_dx.row(rows[k]) = f * xrv.grad().row(static_cast<Index>(k));
      combined_dw(rows[k], 0) = f * wrv.grad()(static_cast<Index>(k), 0);
    }
  };
  std::thread other(rank, 1);
  rank(0);
  other.join();
  CHECK(values[0] == doctest::Approx(whole).epsilon(1e-13));
  CHECK(values[1] == doctest::Approx(whole).epsilon(1e-13));
  CHECK((combined_dx - dx).cwiseAbs().maxCoeff() < 1e-13);
  CHECK((combined_dw - dw).cwiseAbs().maxCoeff() < 1e-13);
  // And the one-process gradient is right: finite differences of the same loss.
  check_gradients(
      [](Tape<double>& t, const std::vector<Var<double>>& in) { return totals_loss(t, in[0], in[1]); },
      {x, w});
}
