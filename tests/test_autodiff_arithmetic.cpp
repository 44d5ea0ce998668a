// Tests for autodiff/arithmetic.hpp: broadcasting add/subtract/multiply, scalar operators, scale,
// stop_gradient.
#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;

namespace {

struct Shapes {
  Index ar, ac, br, bc;
};

// Every broadcast combination the tape supports, on either side.
const Shapes kShapes[] = {
    {6, 3, 6, 3},  // same shape
    {6, 3, 1, 3},  // bias row on the right
    {1, 3, 6, 3},  // bias row on the left
    {6, 3, 6, 1},  // per-event column on the right
    {6, 1, 6, 3},  // per-event column on the left
    {6, 3, 1, 1},  // scalar on the right
    {1, 1, 6, 3},  // scalar on the left
    {6, 1, 1, 3},  // column with row: outer
    {1, 3, 1, 1},  // row with scalar
    {1, 1, 1, 1},  // scalars
};

double element(const MatrixD& m, Index i, Index j) {
  return m(m.rows() == 1 ? 0 : i, m.cols() == 1 ? 0 : j);
}

}  // namespace

TEST_CASE("arithmetic: broadcast values match element-by-element formulas") {
  Rng rng(21);
  for (const auto& s : kShapes) {
    CAPTURE(s.ar);
    CAPTURE(s.ac);
    CAPTURE(s.br);
    CAPTURE(s.bc);
    const MatrixD a = random_matrix(rng, s.ar, s.ac), b = random_matrix(rng, s.br, s.bc);
    Tape<double> tape;
    auto va = tape.input(a), vb = tape.input(b);
    const MatrixD sum_ = (va + vb).value(), difference = (va - vb).value(), product = (va * vb).value();
    const Index rows = std::max(s.ar, s.br), cols = std::max(s.ac, s.bc);
    REQUIRE(sum_.rows() == rows);
    REQUIRE(sum_.cols() == cols);
    for (Index i = 0; i < rows; ++i)
      for (Index j = 0; j < cols; ++j) {
        CHECK(sum_(i, j) == element(a, i, j) + element(b, i, j));
        CHECK(difference(i, j) == element(a, i, j) - element(b, i, j));
        CHECK(product(i, j) == element(a, i, j) * element(b, i, j));
      }
  }
}

TEST_CASE("arithmetic: gradients of add, subtract, multiply for every broadcast shape") {
  Rng rng(22);
  for (const auto& s : kShapes) {
    CAPTURE(s.ar);
    CAPTURE(s.ac);
    CAPTURE(s.br);
    CAPTURE(s.bc);
    const MatrixD a = random_matrix(rng, s.ar, s.ac), b = random_matrix(rng, s.br, s.bc);
    const MatrixD c = random_matrix(rng, std::max(s.ar, s.br), std::max(s.ac, s.bc));
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) { return Contract::apply(v[0] + v[1], c); },
        {a, b});
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) { return Contract::apply(v[0] - v[1], c); },
        {a, b});
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& v) { return Contract::apply(v[0] * v[1], c); },
        {a, b});
  }
}

TEST_CASE("arithmetic: an operand used twice gets both contributions (x * x, x + x)") {
  Rng rng(23);
  const MatrixD x = random_matrix(rng, 5, 2), c = random_matrix(rng, 5, 2);
  Tape<double> tape;
  auto v = tape.variable(x);
  tape.backward(Contract::apply(v * v + v, c));
  const MatrixD expected = (c.array() * (2 * x.array() + 1)).matrix();
  CHECK((v.grad() - expected).norm() <= 1e-14 * expected.norm());
}

TEST_CASE("arithmetic: scalar operators, scale and negation") {
  Rng rng(24);
  const MatrixD x = random_matrix(rng, 4, 3), c = random_matrix(rng, 4, 3);
  Tape<double> tape;
  auto v = tape.input(x);
  CHECK((v + 2.0).value() == (x.array() + 2.0).matrix());
  CHECK((2.0 + v).value() == (x.array() + 2.0).matrix());
  CHECK((v - 2.0).value() == (x.array() - 2.0).matrix());
  CHECK((2.0 - v).value() == (2.0 - x.array()).matrix());
  CHECK((v * 3.0).value() == (3.0 * x));
  CHECK((3.0 * v).value() == (3.0 * x));
  CHECK(scale(v, -0.5).value() == (-0.5 * x));
  CHECK((-v).value() == -x);
  CHECK((v / 4.0).value() == (0.25 * x));

  using Fn = Var<double> (*)(Var<double>);
  const Fn functions[] = {[](Var<double> a) { return a + 2.0; },        [](Var<double> a) { return 2.0 + a; },
                          [](Var<double> a) { return a - 2.0; },        [](Var<double> a) { return 2.0 - a; },
                          [](Var<double> a) { return a * 3.0; },        [](Var<double> a) { return 3.0 * a; },
                          [](Var<double> a) { return scale(a, -0.5); }, [](Var<double> a) { return -a; },
                          [](Var<double> a) { return a / 4.0; }};
  for (const Fn f : functions)
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(f(in[0]), c); }, {x});
}

TEST_CASE("arithmetic: float Vars take double literals") {
  MatrixF x = MatrixF::Constant(2, 2, 1.5f);
  Tape<float> tape;
  auto v = tape.input(x);
  CHECK(((v + 1.0) * 2.0).value()(1, 1) == 5.0f);
}

TEST_CASE("arithmetic: stop_gradient passes the value and blocks the gradient") {
  Rng rng(25);
  const MatrixD x = random_matrix(rng, 3, 3), c = random_matrix(rng, 3, 3);
  Tape<double> tape;
  auto v = tape.variable(x);
  auto stopped = stop_gradient(v);
  CHECK(stopped.value() == x);
  // d/dx [x * stop(x)] = stop(x) only: the stopped branch contributes nothing.
  tape.backward(Contract::apply(v * stopped, c));
  const MatrixD expected = (c.array() * x.array()).matrix();
  CHECK((v.grad() - expected).norm() <= 1e-14 * expected.norm());
  // With only the stopped path, nothing reaches x.
  Tape<double> tape2;
  auto w = tape2.variable(x);
  tape2.backward(Contract::apply(stop_gradient(w) * 2.0, c));
  CHECK(w.grad().isZero());
}

TEST_CASE("arithmetic: the threaded path gives the one-thread values and gradients") {
  Rng rng(26);
  const MatrixD a = random_matrix(rng, 3000, 12), row = random_matrix(rng, 1, 12),
                column = random_matrix(rng, 3000, 1);
  const MatrixD c = random_matrix(rng, 3000, 12);
  set_parallel_min_work(1L << 15);  // reach the parallel path with a small test size
  REQUIRE(chunk_count(3000, 3000 * 12) > 1);
  MatrixD value[2], da[2], drow[2], dcol[2];
  const int before = threads();
  for (int threads : {1, 2}) {
    set_threads(threads);
    Tape<double> tape;
    auto va = tape.variable(a), vr = tape.variable(row), vc = tape.variable(column);
    auto y = (va + vr) * vc - vr;
    value[threads - 1] = y.value();
    tape.backward(Contract::apply(y, c));
    da[threads - 1] = va.grad();
    drow[threads - 1] = vr.grad();
    dcol[threads - 1] = vc.grad();
  }
  set_threads(before);
  CHECK(value[0] == value[1]);
  CHECK(da[0] == da[1]);
  CHECK(dcol[0] == dcol[1]);
  CHECK((drow[0] - drow[1]).norm() <= 1e-12 * drow[0].norm());
  const MatrixD expected_dcol = ((a.rowwise() + row.row(0)).array() * c.array()).rowwise().sum().matrix();
  CHECK((dcol[0] - expected_dcol).norm() <= 1e-12 * expected_dcol.norm());
}

TEST_CASE("arithmetic: shape errors name both shapes") {
  Tape<double> tape;
  const MatrixD a = MatrixD::Zero(4, 3), b = MatrixD::Zero(5, 3), d = MatrixD::Zero(4, 2), e(0, 3);
  CHECK_THROWS_WITH_AS(tape.input(a) + tape.input(b),
                       "add: cannot broadcast 4 x 3 with 5 x 3 (each dimension must match or be 1)", Error);
  CHECK_THROWS_WITH_AS(tape.input(a) - tape.input(d),
                       "subtract: cannot broadcast 4 x 3 with 4 x 2 (each dimension must match or be 1)",
                       Error);
  CHECK_THROWS_WITH_AS(tape.input(a) * tape.input(e), "multiply: an operand is empty (4 x 3 and 0 x 3)",
                       Error);
  CHECK_THROWS_WITH_AS(tape.input(a) / 0.0, "divide: dividing a Var by the scalar 0", Error);
  Tape<double> other;
  CHECK_THROWS_WITH_AS(tape.input(a) + other.input(a), "add: operands belong to different tapes", Error);
}
