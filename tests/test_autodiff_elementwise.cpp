// Tests for autodiff/elementwise.hpp: exp, log, square, sqrt, the activations, softmax and
// log_softmax.
#include <doctest/doctest.h>

#include <agnostic/autodiff/elementwise.hpp>
#include <cmath>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;
using agnostic::testing::uniform_matrix;

namespace {

using Op = Var<double> (*)(Var<double>);

struct Named {
  const char* name;
  Op op;
  double (*reference)(double);
};

// Reference values written from the textbook definitions, independently of activation.hpp.
const Named kFunctions[] = {
    {"exp", [](Var<double> x) { return agnostic::exp(x); }, [](double x) { return std::exp(x); }},
    {"square", [](Var<double> x) { return agnostic::square(x); }, [](double x) { return x * x; }},
    {"identity", [](Var<double> x) { return agnostic::identity(x); }, [](double x) { return x; }},
    {"relu", [](Var<double> x) { return agnostic::relu(x); }, [](double x) { return x > 0 ? x : 0.0; }},
    {"leaky_relu", [](Var<double> x) { return agnostic::leaky_relu(x, 0.4); },
     [](double x) { return x > 0 ? x : 0.4 * x; }},
    {"elu", [](Var<double> x) { return agnostic::elu(x, 1.3); },
     [](double x) { return x > 0 ? x : 1.3 * (std::exp(x) - 1.0); }},
    {"tanh", [](Var<double> x) { return agnostic::tanh(x); },
     [](double x) { return (std::exp(2 * x) - 1) / (std::exp(2 * x) + 1); }},
    {"sigmoid", [](Var<double> x) { return agnostic::sigmoid(x); },
     [](double x) { return 1 / (1 + std::exp(-x)); }},
    {"softplus", [](Var<double> x) { return agnostic::softplus(x); },
     [](double x) { return std::log(1 + std::exp(x)); }},
};

// Inputs away from the kink at 0 of relu / leaky_relu / elu.
MatrixD away_from_zero(Rng& rng, Index rows, Index cols) {
  MatrixD x = random_matrix(rng, rows, cols, 1.5);
  for (Index i = 0; i < x.size(); ++i)
    if (std::abs(x(i)) < 0.05) x(i) += x(i) < 0 ? -0.1 : 0.1;
  return x;
}

}  // namespace

TEST_CASE("elementwise: values against closed forms, gradients against finite differences") {
  Rng rng(41);
  const MatrixD x = away_from_zero(rng, 8, 3), c = random_matrix(rng, 8, 3);
  for (const auto& f : kFunctions) {
    CAPTURE(f.name);
    Tape<double> tape;
    const MatrixD y = f.op(tape.input(x)).value();
    for (Index i = 0; i < x.size(); ++i) CHECK(y(i) == doctest::Approx(f.reference(x(i))).epsilon(1e-13));
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(f.op(in[0]), c); },
        {x});
  }
}

TEST_CASE("elementwise: log and sqrt on their domains") {
  Rng rng(42);
  const MatrixD x = uniform_matrix(rng, 6, 2, 0.1, 3.0), c = random_matrix(rng, 6, 2);
  Tape<double> tape;
  auto v = tape.input(x);
  CHECK((agnostic::log(v).value() - x.array().log().matrix()).norm() <= 1e-15);
  CHECK((agnostic::sqrt(v).value() - x.array().sqrt().matrix()).norm() <= 1e-15);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return Contract::apply(agnostic::log(in[0]), c);
      },
      {x});
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return Contract::apply(agnostic::sqrt(in[0]), c);
      },
      {x});
}

TEST_CASE("elementwise: log of a non-positive value and sqrt of a negative one are errors") {
  MatrixD x = MatrixD::Ones(3, 2);
  x(2, 1) = -0.5;
  Tape<double> tape;
  CHECK_THROWS_WITH_AS(
      agnostic::log(tape.input(x)),
      "log: element (2, 1) is -0.5; log needs positive values (for log-probabilities from logits use "
      "log_softmax or the fused losses)",
      Error);
  CHECK_THROWS_WITH_AS(agnostic::sqrt(tape.input(x)), "sqrt: element (2, 1) is -0.5; sqrt needs values >= 0",
                       Error);
  x(2, 1) = 0.0;
  CHECK_THROWS_WITH_AS(
      agnostic::log(tape.input(x)),
      "log: element (2, 1) is 0; log needs positive values (for log-probabilities from logits use "
      "log_softmax or the fused losses)",
      Error);
  x(2, 1) = std::nan("");
  CHECK_THROWS_AS(agnostic::log(tape.input(x)), Error);
}

TEST_CASE("elementwise: sqrt at 0 has value 0 and gradient 0, not inf or NaN") {
  const MatrixD x = MatrixD::Zero(2, 2);
  Tape<double> tape;
  auto v = tape.variable(x);
  auto y = agnostic::sqrt(v);
  CHECK(y.value().isZero());
  tape.backward(Contract::apply(y, MatrixD::Ones(2, 2)));
  CHECK(v.grad().isZero());
}

TEST_CASE("elementwise: softmax and log_softmax against closed forms, with gradients") {
  Rng rng(43);
  const MatrixD x = random_matrix(rng, 7, 4, 2.0), c = random_matrix(rng, 7, 4);
  Tape<double> tape;
  const MatrixD p = softmax(tape.input(x)).value(), lp = log_softmax(tape.input(x)).value();
  for (Index i = 0; i < 7; ++i) {
    double total = 0;
    for (Index j = 0; j < 4; ++j) total += std::exp(x(i, j));
    for (Index j = 0; j < 4; ++j) {
      CHECK(p(i, j) == doctest::Approx(std::exp(x(i, j)) / total).epsilon(1e-14));
      CHECK(lp(i, j) == doctest::Approx(x(i, j) - std::log(total)).epsilon(1e-14));
    }
  }
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(softmax(in[0]), c); },
      {x});
  check_gradients([&](Tape<double>&,
                      const std::vector<Var<double>>& in) { return Contract::apply(log_softmax(in[0]), c); },
                  {x});
}

TEST_CASE("elementwise: softmax and log_softmax with logits of +-500 stay finite and exact") {
  MatrixD x(3, 3);
  x << 500, -500, 0,   //
      -500, 499, 500,  //
      1000, 1000, -1000;
  const MatrixD c = (MatrixD(3, 3) << 0.3, -1.2, 0.7, 1.1, 0.4, -0.8, -0.5, 0.9, 0.2).finished();
  Tape<double> tape;
  const MatrixD p = softmax(tape.input(x)).value(), lp = log_softmax(tape.input(x)).value();
  CHECK(p.allFinite());
  CHECK(lp.allFinite());
  CHECK(p(0, 0) == 1.0);
  CHECK(lp(0, 1) == doctest::Approx(-1000.0).epsilon(1e-15));
  CHECK(p(1, 2) == doctest::Approx(1 / (1 + std::exp(-1.0))).epsilon(1e-14));
  CHECK(lp(1, 1) == doctest::Approx(-1 - std::log1p(std::exp(-1.0))).epsilon(1e-14));
  CHECK(p(2, 0) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(lp(2, 2) == doctest::Approx(-2000 - std::log(2.0)).epsilon(1e-15));
  // The default step is relative to |x| (0.5 at x = 500): too coarse for a softmax of unit slope.
  GradcheckOptions fine;
  fine.step = 1e-6;
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return Contract::apply(softmax(in[0]), c); },
      {x}, fine);
  check_gradients([&](Tape<double>&,
                      const std::vector<Var<double>>& in) { return Contract::apply(log_softmax(in[0]), c); },
                  {x}, fine);
}

TEST_CASE("elementwise: threaded kernels give the one-thread bits") {
  Rng rng(44);
  const MatrixD x = away_from_zero(rng, 3000, 16), c = random_matrix(rng, 3000, 16);
  const int before = threads();
  for (const auto& f : kFunctions) {
    CAPTURE(f.name);
    MatrixD y[2], g[2];
    for (int n : {1, 2}) {
      set_threads(n);
      Tape<double> tape;
      auto v = tape.variable(x);
      auto out = f.op(v);
      y[n - 1] = out.value();
      tape.backward(Contract::apply(out, c));
      g[n - 1] = v.grad();
    }
    CHECK(y[0] == y[1]);
    CHECK(g[0] == g[1]);
  }
  MatrixD s[2], gs[2];
  for (int n : {1, 2}) {
    set_threads(n);
    Tape<double> tape;
    auto v = tape.variable(x);
    auto out = log_softmax(v);
    s[n - 1] = out.value();
    tape.backward(Contract::apply(out, c));
    gs[n - 1] = v.grad();
  }
  set_threads(before);
  CHECK(s[0] == s[1]);
  CHECK(gs[0] == gs[1]);
}

TEST_CASE("elementwise: activation parameters are checked") {
  MatrixD x = MatrixD::Ones(2, 2);
  Tape<double> tape;
  CHECK_THROWS_WITH_AS(leaky_relu(tape.input(x), 1.5), "LeakyReLU needs 0 < alpha < 1, got 1.5", Error);
  CHECK_THROWS_WITH_AS(elu(tape.input(x), -1.0), "ELU needs alpha > 0, got -1", Error);
}
