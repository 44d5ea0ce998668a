// Tests for autodiff/gradient_reversal.hpp.
#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/dense.hpp>
#include <agnostic/autodiff/gradient_reversal.hpp>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;

TEST_CASE("gradient reversal: identity forward, -lambda times the gradient backward") {
  Rng rng(51);
  const MatrixD x = random_matrix(rng, 6, 4), c = random_matrix(rng, 6, 4);
  for (double lambda : {0.0, 0.5, 1.0, 20.0}) {
    CAPTURE(lambda);
    Tape<double> tape;
    auto v = tape.variable(x);
    auto y = reverse_gradient(v, lambda);
    CHECK(y.value() == x);
    tape.backward(Contract::apply(y, c));
    CHECK(v.grad() == -lambda * c);
  }
}

TEST_CASE("gradient reversal: -lambda times the finite-difference gradient, through a dense layer") {
  // The reversal is not the gradient of any function, so the check is in two steps: the graph
  // without it matches finite differences, and with it the tape gives exactly -lambda times that.
  Rng rng(52);
  Parameter<double> w("w", 3, 4), b("b", 1, 3);
  w.value = random_matrix(rng, 3, 4);
  b.value = random_matrix(rng, 1, 3);
  const MatrixD x = random_matrix(rng, 5, 4), c = random_matrix(rng, 5, 3);
  const double lambda = 2.5;
  const auto plain_report = gradcheck(
      [&](Tape<double>& tape, const std::vector<Var<double>>& in) {
        return Contract::apply(dense(in[0], tape.parameter(w), tape.parameter(b), Activation::tanh()), c);
      },
      {x}, {&w, &b});
  INFO(plain_report.worst);
  CHECK(plain_report.ok);
  CHECK(plain_report.compared == 5 * 4 + 12 + 3);

  // Direct comparison: the tape gradient with the reversal equals -lambda times the gradient without.
  Tape<double> plain, flipped;
  w.zero_grad();
  b.zero_grad();
  auto xp = plain.variable(x);
  plain.backward(Contract::apply(dense(xp, plain.parameter(w), plain.parameter(b), Activation::tanh()), c));
  const MatrixD dx = xp.grad(), dw = w.grad, db = b.grad;
  w.zero_grad();
  b.zero_grad();
  auto xf = flipped.variable(x);
  flipped.backward(Contract::apply(
      reverse_gradient(dense(xf, flipped.parameter(w), flipped.parameter(b), Activation::tanh()), lambda),
      c));
  CHECK((xf.grad() + lambda * dx).norm() <= 1e-14 * dx.norm());
  CHECK((w.grad + lambda * dw).norm() <= 1e-14 * dw.norm());
  CHECK((b.grad + lambda * db).norm() <= 1e-14 * db.norm());
}

TEST_CASE("gradient reversal: the DANN total loss gives dL_y - lambda dL_d to the shared parameters") {
  // 001 eq. 4.2 with a feature extractor F, a label head and a domain head.
  Rng rng(53);
  Parameter<double> f("f", 4, 3), y("y", 1, 4), d("d", 1, 4);
  f.value = random_matrix(rng, 4, 3);
  y.value = random_matrix(rng, 1, 4);
  d.value = random_matrix(rng, 1, 4);
  const MatrixD x = random_matrix(rng, 7, 3), cy = random_matrix(rng, 7, 1), cd = random_matrix(rng, 7, 1);
  const double lambda = 0.7;
  auto gradient_of_f = [&](bool label, bool domain, bool reversed) {
    f.zero_grad();
    y.zero_grad();
    d.zero_grad();
    Tape<double> tape;
    auto h = dense(tape.input(x), tape.parameter(f), Var<double>{}, Activation::elu(1.0));
    auto ly = Contract::apply(dense(h, tape.parameter(y), Var<double>{}), cy);
    auto hd = reversed ? reverse_gradient(h, lambda) : h;
    auto ld = Contract::apply(dense(hd, tape.parameter(d), Var<double>{}), cd);
    if (label && domain)
      tape.backward(ly + ld);
    else
      tape.backward(label ? ly : ld);
    return MatrixD(f.grad);
  };
  const MatrixD total = gradient_of_f(true, true, true);
  const MatrixD from_label = gradient_of_f(true, false, false);
  const MatrixD from_domain = gradient_of_f(false, true, false);
  CHECK((total - (from_label - lambda * from_domain)).norm() <= 1e-13 * total.norm());
}

TEST_CASE("gradient reversal: lambda set on the layer between steps takes effect at the next step") {
  const MatrixD x = MatrixD::Ones(2, 2), c = MatrixD::Constant(2, 2, 1.0);
  GradientReversal layer(1.0);
  Tape<double> tape;
  for (double lambda : {1.0, 3.0, 0.25}) {
    layer.lambda = lambda;
    tape.clear();
    auto v = tape.variable(x);
    tape.backward(Contract::apply(layer(v), c));
    CHECK(v.grad() == MatrixD::Constant(2, 2, -lambda));
  }
}

TEST_CASE("gradient reversal: a negative lambda is an error") {
  const MatrixD x = MatrixD::Ones(2, 2);
  Tape<double> tape;
  CHECK_THROWS_WITH_AS(reverse_gradient(tape.input(x), -1.0),
                       "reverse_gradient: lambda must be >= 0 (the sign is already reversed), got -1", Error);
  CHECK_THROWS_WITH_AS(GradientReversal(-2.0), "GradientReversal: lambda must be >= 0, got -2", Error);
}
