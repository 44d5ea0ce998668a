#pragma once
// Helpers shared by the autodiff tests: random matrices and a scalar read-out that does not use
// the operations under test.
#include <doctest/doctest.h>

#include <agnostic/autodiff/gradcheck.hpp>
#include <agnostic/autodiff/tape.hpp>
#include <agnostic/core/rng.hpp>

namespace agnostic::testing {

inline MatrixD random_matrix(Rng& rng, Index rows, Index cols, double scale = 1.0) {
  MatrixD m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = scale * rng.normal();
  return m;
}

inline MatrixD uniform_matrix(Rng& rng, Index rows, Index cols, double low, double high) {
  MatrixD m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = low + (high - low) * rng.uniform();
  return m;
}

// sum(y .* C): turns any node into a scalar with a gradient C that is the same everywhere, so a
// gradient check looks at the one operation in front of it.
struct Contract {
  static void backward(Tape<double>& tape, int self) {
    Node<double>& n = tape.node(self);
    tape.add_grad(n.input[0], n.grad(0, 0) * n.buffer[0]);
  }
  static Var<double> apply(Var<double> y, const MatrixD& c) {
    Tape<double>& tape = y.tape();
    REQUIRE(y.rows() == c.rows());
    REQUIRE(y.cols() == c.cols());
    const int id = tape.push("contract", &backward, tape.needs_grad(y.id()));
    Node<double>& n = tape.node(id);
    n.input[0] = y.id();
    n.buffer[0] = c;
    n.value.resize(1, 1);
    n.value(0, 0) = (tape.value(y.id()).array() * c.array()).sum();
    return {&tape, id};
  }
};

// Runs a gradient check and reports the worst element when it fails.
template <class Build>
void check_gradients(Build&& build, std::vector<MatrixD> inputs, GradcheckOptions options = {}) {
  const GradcheckReport report = gradcheck(build, std::move(inputs), {}, options);
  INFO(report.worst);
  CHECK(report.compared > 0);
  CHECK(report.max_error <= options.tolerance);
}

}  // namespace agnostic::testing
