// Tests for autodiff/tape.hpp, autodiff/dense.hpp and autodiff/gradcheck.hpp.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <vector>

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

// ---- core/narrow_product.hpp: the narrow-layer kernel (issue 20) ----

namespace {

// y0 + a b in long double, the reference for the kernel's values.
template <class T>
Matrix<T> kn_reference_product(const Matrix<T>& y0, const Matrix<T>& a, const Matrix<T>& b) {
  Matrix<T> r(y0.rows(), y0.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index j = 0; j < b.cols(); ++j) {
      long double s = y0(i, j);
      for (Index k = 0; k < a.cols(); ++k) s += static_cast<long double>(a(i, k)) * b(k, j);
      r(i, j) = static_cast<T>(s);
    }
  return r;
}

template <class T>
bool kn_same_bits(const Matrix<T>& p, const Matrix<T>& q) {
  return p.rows() == q.rows() && p.cols() == q.cols() &&
         std::memcmp(p.data(), q.data(), sizeof(T) * static_cast<std::size_t>(p.size())) == 0;
}

// One shape: y += x w^T (the forward product, w read transposed) and y = g v (the input
// gradient's), each against Eigen's product bit for bit and against a long double loop.
template <class T>
void kn_check_shape(Rng& rng, Index rows, Index depth, Index cols) {
  CAPTURE(rows);
  CAPTURE(depth);
  CAPTURE(cols);
  CAPTURE(sizeof(T));
  const Matrix<T> x_all = random_matrix(rng, rows + 3, depth).template cast<T>();
  const Matrix<T> w = random_matrix(rng, cols, depth).template cast<T>();
  const Matrix<T> v = random_matrix(rng, depth, cols).template cast<T>();
  const Matrix<T> y0 = random_matrix(rng, rows, cols).template cast<T>();
  const auto x = x_all.middleRows(2, rows);  // a block with the parent's stride
  Matrix<T> by_eigen = y0, by_kernel = y0;
  by_eigen.noalias() += x * w.transpose();
  add_product(x, w.transpose(), by_kernel);
  CHECK(kn_same_bits(by_eigen, by_kernel));
  const Matrix<T> reference = kn_reference_product<T>(y0, x, w.transpose());
  const T tolerance = std::numeric_limits<T>::epsilon() * static_cast<T>(4 * depth + 4);
  CHECK((by_kernel - reference).cwiseAbs().maxCoeff() <= tolerance * (reference.cwiseAbs().maxCoeff() + 1));

  Matrix<T> set_by_eigen(rows, cols), set_by_kernel = Matrix<T>::Constant(rows, cols, T(7));
  set_by_eigen.noalias() = x * v;
  set_product(x, v, set_by_kernel);
  CHECK(kn_same_bits(set_by_eigen, set_by_kernel));
  const Matrix<T> reference_set = kn_reference_product<T>(Matrix<T>::Zero(rows, cols), x, v);
  CHECK((set_by_kernel - reference_set).cwiseAbs().maxCoeff() <=
        tolerance * (reference_set.cwiseAbs().maxCoeff() + 1));
}

}  // namespace

TEST_CASE("narrow product: Eigen's bits and the exact product on odd sizes") {
  Rng rng(20);
  // The kernel takes these (so the comparisons below are not Eigen against itself).
  CHECK(narrow_product_applies(16385, 33, 7));
  CHECK(narrow_product_applies(100, 7, 2));
  CHECK(narrow_product_applies(16385, 64, 63));
  CHECK_FALSE(narrow_product_applies(5, 33, 7));     // too few rows
  CHECK_FALSE(narrow_product_applies(100, 33, 1));   // one column: Eigen's matrix-vector product
  CHECK_FALSE(narrow_product_applies(100, 33, 65));  // wider than the kernel
  for (Index rows : {1, 5, 64, 16385})
    for (Index depth : {3, 7, 33, 64})
      for (Index cols : {1, 2, 7, 63, 65}) {
        if (rows > 64 && depth * cols > 64 * 7) continue;  // keeps the long double loop short
        kn_check_shape<float>(rng, rows, depth, cols);
        kn_check_shape<double>(rng, rows, depth, cols);
      }
  // Row counts that leave every kind of remainder at the end of Eigen's row blocks.
  for (Index rows = 64; rows < 64 + 49; rows += 3) kn_check_shape<float>(rng, rows, 41, 2);
}

TEST_CASE("narrow product: a W1-shaped network's values and gradients are the bits of Eigen's products") {
  Rng rng(21);
  const Index batch = 1000;
  const MatrixD x = random_matrix(rng, batch, 41);
  std::vector<Parameter<double>> layers;
  const Index widths[] = {41, 20, 35, 50, 2};
  for (int l = 0; l < 4; ++l) {
    layers.emplace_back("w", widths[l + 1], widths[l]);
    layers.back().value = random_matrix(rng, widths[l + 1], widths[l]);
    layers.emplace_back("b", 1, widths[l + 1]);
    layers.back().value = random_matrix(rng, 1, widths[l + 1]);
  }
  const MatrixD c = random_matrix(rng, batch, 2);
  MatrixD y[2], dx[2];
  std::vector<MatrixD> grads[2];
  for (int on = 0; on < 2; ++on) {
    set_narrow_product_enabled(on == 1);
    for (auto& p : layers) p.grad.setZero(p.value.rows(), p.value.cols());
    Tape<double> tape;
    auto xv = tape.variable(x);
    Var<double> h = xv;
    for (std::size_t l = 0; l < layers.size(); l += 2)
      h = dense(h, tape.parameter(layers[l]), tape.parameter(layers[l + 1]),
                l + 2 < layers.size() ? Activation::elu() : Activation::identity());
    y[on] = h.value();
    tape.backward(Contract::apply(h, c));
    dx[on] = xv.grad();
    for (auto& p : layers) grads[on].push_back(p.grad);
  }
  set_narrow_product_enabled(true);
  CHECK(kn_same_bits(y[0], y[1]));
  CHECK(kn_same_bits(dx[0], dx[1]));
  for (std::size_t i = 0; i < layers.size(); ++i) CHECK(kn_same_bits(grads[0][i], grads[1][i]));
}
