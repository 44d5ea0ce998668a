// Tests for autodiff/tape.hpp, autodiff/dense.hpp and autodiff/gradcheck.hpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#include <agnostic/autodiff/dense.hpp>
#include <agnostic/autodiff/gradcheck.hpp>
#include <agnostic/core/rng.hpp>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::Contract;
using agnostic::testing::random_matrix;

namespace {

const Activation kActivations[] = {Activation::identity(), Activation::relu(), Activation::leaky_relu(0.4),
                                   Activation::elu(1.3),   Activation::tanh(), Activation::sigmoid(),
                                   Activation::softplus()};

}  // namespace

TEST_CASE("dense: value is f(X W^T + b)") {
  Rng rng(3);
  MatrixD x = random_matrix(rng, 5, 3);
  Parameter<double> w("w", 2, 3), b("b", 1, 2);
  w.value = random_matrix(rng, 2, 3);
  b.value = random_matrix(rng, 1, 2);
  for (const auto& f : kActivations) {
    Tape<double> tape;
    auto y = dense(tape.input(x), tape.parameter(w), tape.parameter(b), f);
    REQUIRE(y.rows() == 5);
    REQUIRE(y.cols() == 2);
    for (Index i = 0; i < 5; ++i)
      for (Index k = 0; k < 2; ++k) {
        double z = b.value(0, k);
        for (Index j = 0; j < 3; ++j) z += x(i, j) * w.value(k, j);
        CHECK(y.value()(i, k) == doctest::Approx(activate(f, z)).epsilon(1e-13));
      }
  }
}

// Moves rows of x until no pre-activation lies within `margin` of the kink at 0.
void keep_away_from_kinks(MatrixD& x, const Parameter<double>& w, const Parameter<double>& b, double margin) {
  for (Index i = 0; i < x.rows(); ++i)
    while (((x.row(i) * w.value.transpose() + b.value).array().abs() < margin).any()) x(i, 0) += 0.05;
}

TEST_CASE("dense: gradients match finite differences for every activation") {
  Rng rng(11);
  for (const auto& f : kActivations) {
    CAPTURE(activation_name(f));
    Parameter<double> w("w", 5, 4), b("b", 1, 5);
    w.value = random_matrix(rng, 5, 4, 0.7);
    b.value = random_matrix(rng, 1, 5, 0.3);
    MatrixD x = random_matrix(rng, 9, 4);
    MatrixD c = random_matrix(rng, 9, 5);
    keep_away_from_kinks(x, w, b, 0.02);
    auto report = gradcheck(
        [&](Tape<double>& tape, const std::vector<Var<double>>& v) {
          return Contract::apply(dense(v[0], tape.parameter(w), tape.parameter(b), f), c);
        },
        {x}, {&w, &b});
    INFO(report.worst);
    CHECK(report.ok);
    CHECK(report.compared == 9 * 4 + 20 + 5);
  }
}

TEST_CASE("dense: splitting the batch over threads gives the one-thread gradients") {
  Rng rng(12);
  Parameter<double> w("w", 5, 8), b("b", 1, 5);
  w.value = random_matrix(rng, 5, 8, 0.5);
  b.value = random_matrix(rng, 1, 5, 0.3);
  const MatrixD x = random_matrix(rng, 2000, 8), c = random_matrix(rng, 2000, 5);
  set_parallel_min_work(1L << 15);               // reach the parallel path with a small test size
  REQUIRE(chunk_count(2000, 2000 * 8 * 5) > 1);  // above the parallel threshold on two threads
  for (const auto& f : kActivations) {
    CAPTURE(activation_name(f));
    MatrixD dx[2], dw[2], db[2], y[2];
    for (int threads : {1, 2}) {
      set_threads(threads);
      w.zero_grad();
      b.zero_grad();
      Tape<double> tape;
      auto xv = tape.variable(x);
      auto out = dense(xv, tape.parameter(w), tape.parameter(b), f);
      y[threads - 1] = out.value();
      tape.backward(Contract::apply(out, c));
      dx[threads - 1] = xv.grad();
      dw[threads - 1] = w.grad;
      db[threads - 1] = b.grad;
    }
    CHECK(y[0] == y[1]);
    CHECK(dx[0] == dx[1]);  // rows are independent: identical bits
    CHECK((dw[0] - dw[1]).norm() <= 1e-12 * dw[0].norm());
    CHECK((db[0] - db[1]).norm() <= 1e-12 * db[0].norm());
  }
}

TEST_CASE("dense: shape errors name both shapes") {
  Tape<double> tape;
  MatrixD x = MatrixD::Zero(4, 3);
  Parameter<double> w("w", 2, 5), b("b", 1, 3);
  CHECK_THROWS_WITH_AS(dense(tape.input(x), tape.parameter(w), Var<double>{}),
                       "dense: input has 3 columns but the weights expect 5 (weights are 2 x 5)", Error);
  Parameter<double> w2("w", 2, 3);
  CHECK_THROWS_WITH_AS(dense(tape.input(x), tape.parameter(w2), tape.parameter(b)),
                       "dense: bias is 1 x 3, expected 1 x 2", Error);
}

TEST_CASE("tape: frozen parameters get no gradient, backward needs a 1 x 1 loss") {
  Rng rng(5);
  Tape<double> tape;
  MatrixD x = random_matrix(rng, 4, 3);
  Parameter<double> w("w", 2, 3);
  w.value = random_matrix(rng, 2, 3);
  w.frozen = true;
  auto y = dense(tape.input(x), tape.parameter(w), Var<double>{});
  CHECK_THROWS_WITH_AS(tape.backward(y), "backward: the loss must be 1 x 1, it is 4 x 2", Error);
  auto loss = Contract::apply(y, MatrixD::Ones(4, 2));
  tape.backward(loss);
  CHECK(w.grad.isZero());
}

// The slopes of the activations whose derivative depends on the sign of y are chosen on the bits
// (detail::choose_bits, so that the loop vectorises); they must give exactly what the plain choice
// gives, for every g and y, signed zeros and infinities included (a NaN stays a NaN).
template <class T>
void check_slopes_are_the_plain_choice() {
  const T values[] = {T(0),
                      -T(0),
                      T(1e-30),
                      -T(1e-30),
                      T(0.5),
                      -T(0.5),
                      T(3),
                      -T(0.25),
                      T(1e30),
                      -T(1e30),
                      std::numeric_limits<T>::infinity(),
                      -std::numeric_limits<T>::infinity(),
                      std::numeric_limits<T>::denorm_min(),
                      std::numeric_limits<T>::quiet_NaN()};
  const int n = static_cast<int>(std::size(values));
  for (const double alpha : {0.01, 0.3, 0.9}) {
    Matrix<T> g(n * n, 2), y(n * n, 2);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k)
        for (int c = 0; c < 2; ++c) {
          g(i * n + k, c) = values[i];
          y(i * n + k, c) = c == 0 ? values[k] : -values[k];
        }
    const T a = static_cast<T>(alpha);
    for (const Activation f : {Activation::leaky_relu(alpha), Activation::elu(alpha)}) {
      Matrix<T> got = g;
      multiply_by_slope(f, got, y);
      for (Index r = 0; r < g.rows(); ++r)
        for (Index c = 0; c < 2; ++c) {
          const T gi = g(r, c), yi = y(r, c);
          const T plain = f.kind == ActivationKind::leaky_relu ? (yi > T(0) ? gi : a * gi)
                                                               : (yi > T(0) ? gi : gi * (yi + a));
          const T ours = got(r, c);
          INFO("g " << gi << " y " << yi << " alpha " << alpha);
          if (std::isnan(plain))  // which NaN a product of two NaNs keeps is the compiler's choice
            CHECK(std::isnan(ours));
          else
            CHECK(std::memcmp(&ours, &plain, sizeof(T)) == 0);
        }
    }
  }
}

TEST_CASE("activation slopes chosen on the bits give the plain choice's bits (float and double)") {
  check_slopes_are_the_plain_choice<float>();
  check_slopes_are_the_plain_choice<double>();
}
