#pragma once
// Element-wise functions on the tape: exp, log, square, sqrt, the activations of activation.hpp
// (relu, leaky_relu, elu, tanh, sigmoid, softplus, identity), and softmax / log_softmax along each
// row (one event's classes).
//
// Domains: log needs x > 0 and sqrt needs x >= 0; any other input (NaN included) is an Error that
// names the element, before anything is recorded, rather than a NaN that surfaces in a loss far
// away. sqrt is not differentiable at 0: its gradient there is taken as 0 (add an epsilon first if a
// slope is wanted). softmax and log_softmax subtract each row's maximum first, so any finite
// logits (+-1000 included) give finite values and gradients.
#include <cmath>

#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

enum class UnaryOp { exp, log, square, sqrt, activation };

// Error for the first element of X outside a function's domain (a vectorised check first).
template <class T, class Allowed>
void check_domain(const Matrix<T>& X, Allowed&& allowed, const char* op, const char* needs) {
  if (allowed(X.array()).all()) return;
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < X.rows(); ++i)
      if (!allowed(X.array().block(i, j, 1, 1)).all())
        fail(op, ": element (", i, ", ", j, ") is ", X(i, j), "; ", op, " needs ", needs);
}

// d(+)= rule(g, y) element by element: a plain loop that the compiler vectorises with masks (Eigen's
// select() is not vectorised).
template <class T, class Rule>
void accumulate_slope(Tape<T>& tape, int x, const Matrix<T>& G, const Matrix<T>& Y, Rule rule) {
  if (!tape.needs_grad(x)) return;
  bool add = false;
  Matrix<T>& d = tape.grad_target(x, add);
  T* dp = d.data();
  const T* g = G.data();
  const T* y = Y.data();
  for_each_chunk(G.size(), 1, [&](int, RowRange r) {
    if (add)
      for (long i = r.begin; i < r.end; ++i) dp[i] += rule(g[i], y[i]);
    else
      for (long i = r.begin; i < r.end; ++i) dp[i] = rule(g[i], y[i]);
  });
}

template <class T>
void activation_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const Matrix<T>& G = n.grad;
  const Matrix<T>& Y = n.value;
  const T alpha = n.scalar[0];
  const int x = n.input[0];
  switch (static_cast<ActivationKind>(n.code)) {
    case ActivationKind::identity:
      accumulate_grad(tape, x, 1, [&](RowRange r) { return flat(G, r); });
      return;
    case ActivationKind::relu:
      accumulate_slope(tape, x, G, Y, [](T g, T y) { return y > T(0) ? g : T(0); });
      return;
    case ActivationKind::leaky_relu:
      accumulate_slope(tape, x, G, Y, [alpha](T g, T y) { return y > T(0) ? g : alpha * g; });
      return;
    case ActivationKind::elu:
      accumulate_slope(tape, x, G, Y, [alpha](T g, T y) { return y > T(0) ? g : g * (y + alpha); });
      return;
    case ActivationKind::tanh:
      accumulate_grad(tape, x, 2, [&](RowRange r) { return flat(G, r) * (T(1) - flat(Y, r).square()); });
      return;
    case ActivationKind::sigmoid:
      accumulate_grad(tape, x, 2, [&](RowRange r) { return flat(G, r) * flat(Y, r) * (T(1) - flat(Y, r)); });
      return;
    case ActivationKind::softplus:
      // sigmoid(x) = 1 - exp(-softplus(x))
      accumulate_grad(tape, x, 8, [&](RowRange r) { return flat(G, r) * -(-flat(Y, r)).expm1(); });
      return;
  }
}

template <class T>
void unary_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const Matrix<T>& G = n.grad;
  const Matrix<T>& Y = n.value;
  const int x = n.input[0];
  const Matrix<T>& X = tape.value(x);
  switch (static_cast<UnaryOp>(n.code)) {
    case UnaryOp::exp:
      accumulate_grad(tape, x, 1, [&](RowRange r) { return flat(G, r) * flat(Y, r); });
      return;
    case UnaryOp::log:
      accumulate_grad(tape, x, 4, [&](RowRange r) { return flat(G, r) / flat(X, r); });
      return;
    case UnaryOp::square:
      accumulate_grad(tape, x, 2, [&](RowRange r) { return T(2) * flat(G, r) * flat(X, r); });
      return;
    case UnaryOp::sqrt:
      accumulate_grad(tape, x, 4, [&](RowRange r) {
        return (flat(Y, r) > T(0)).select(flat(G, r) / (T(2) * flat(Y, r)), T(0));
      });
      return;
    case UnaryOp::activation:
      return;  // has its own backward
  }
}

template <class T>
Var<T> unary(Var<T> x, UnaryOp op, const char* name) {
  require(x.valid(), name, ": the operand is an empty Var");
  Tape<T>& tape = x.tape();
  if (op == UnaryOp::log)
    check_domain(
        tape.value(x.id()), [](const auto& v) { return v > T(0); }, "log",
        "positive values (for log-probabilities from logits use log_softmax or the fused losses)");
  if (op == UnaryOp::sqrt)
    check_domain(
        tape.value(x.id()), [](const auto& v) { return v >= T(0); }, "sqrt", "values >= 0");
  const int id = tape.push(name, &unary_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.code = static_cast<int>(op);
  const Matrix<T>& X = tape.value(x.id());
  n.value.resize(X.rows(), X.cols());
  const long cost = op == UnaryOp::square ? 1 : 8;
  for_each_chunk(X.size(), cost, [&](int, RowRange r) {
    auto y = flat(n.value, r);
    const auto v = flat(X, r);
    switch (op) {
      case UnaryOp::exp:
        y = v.exp();
        break;
      case UnaryOp::log:
        y = v.log();
        break;
      case UnaryOp::square:
        y = v.square();
        break;
      case UnaryOp::sqrt:
        y = v.sqrt();
        break;
      case UnaryOp::activation:
        break;
    }
  });
  return {&tape, id};
}

template <class T>
void softmax_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int x = n.input[0];
  if (!tape.needs_grad(x)) return;
  const bool log_form = n.code == 1;
  const Matrix<T>& G = n.grad;
  const Matrix<T>& Y = n.value;
  Matrix<T>& row_total = n.buffer[0];
  bool add = false;
  Matrix<T>& d = tape.grad_target(x, add);
  const Index rows = Y.rows(), cols = Y.cols();
  parallel_chunks(rows, chunk_count(rows, rows * cols * 8), [&](int, RowRange r) {
    const auto g = G.middleRows(r.begin, r.size()).array();
    const auto y = Y.middleRows(r.begin, r.size()).array();
    auto t = row_total.col(0).segment(r.begin, r.size()).array();
    auto dx = d.middleRows(r.begin, r.size()).array();
    if (log_form) {
      // y = x - logsumexp(x): dx = g - softmax(x) * sum(g)
      t = g.rowwise().sum();
      if (add)
        dx += g - y.exp().colwise() * t;
      else
        dx = g - y.exp().colwise() * t;
    } else {
      // y = softmax(x): dx = y * (g - sum(g * y))
      t = (g * y).rowwise().sum();
      if (add)
        dx += y * (g.colwise() - t);
      else
        dx = y * (g.colwise() - t);
    }
  });
}

template <class T>
Var<T> softmax_rows(Var<T> x, bool log_form) {
  const char* name = log_form ? "log_softmax" : "softmax";
  require(x.valid(), name, ": the operand is an empty Var");
  require(x.cols() > 0, name, ": the operand has no columns");
  Tape<T>& tape = x.tape();
  const int id = tape.push(name, &softmax_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.code = log_form ? 1 : 0;
  const Matrix<T>& X = tape.value(x.id());
  const Index rows = X.rows(), cols = X.cols();
  n.value.resize(rows, cols);
  Matrix<T>& row_scratch = n.buffer[0];
  row_scratch.resize(rows, 1);
  parallel_chunks(rows, chunk_count(rows, rows * cols * 8), [&](int, RowRange r) {
    const auto v = X.middleRows(r.begin, r.size()).array();
    auto y = n.value.middleRows(r.begin, r.size()).array();
    auto m = row_scratch.col(0).segment(r.begin, r.size()).array();
    m = v.rowwise().maxCoeff();
    y = v.colwise() - m;  // <= 0, the largest is 0: exp cannot overflow
    if (log_form) {
      m = y.exp().rowwise().sum().log();
      y.colwise() -= m;
    } else {
      y = y.exp();
      m = y.rowwise().sum();  // >= 1
      y.colwise() /= m;
    }
  });
  return {&tape, id};
}

}  // namespace detail

template <class T>
Var<T> exp(Var<T> x) {
  return detail::unary(x, detail::UnaryOp::exp, "exp");
}
// Natural log; an Error if an element is not positive.
template <class T>
Var<T> log(Var<T> x) {
  return detail::unary(x, detail::UnaryOp::log, "log");
}
template <class T>
Var<T> square(Var<T> x) {
  return detail::unary(x, detail::UnaryOp::square, "square");
}
// Square root; an Error if an element is negative; gradient 0 where x = 0.
template <class T>
Var<T> sqrt(Var<T> x) {
  return detail::unary(x, detail::UnaryOp::sqrt, "sqrt");
}

// y = f(x) element-wise for any activation of activation.hpp.
template <class T>
Var<T> activation(Var<T> x, const Activation& f) {
  require(x.valid(), "activation: the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const int id = tape.push("activation", &detail::activation_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.code = static_cast<int>(f.kind);
  n.scalar[0] = static_cast<T>(f.alpha);
  const Matrix<T>& X = tape.value(x.id());
  n.value.resize(X.rows(), X.cols());
  const long cost = f.kind == ActivationKind::identity || f.kind == ActivationKind::relu ? 1 : 8;
  detail::for_each_chunk(X.size(), cost, [&](int, RowRange r) {
    Eigen::Map<Vector<T>> y(n.value.data() + r.begin, r.size());
    y = Eigen::Map<const Vector<T>>(X.data() + r.begin, r.size());
    activate_in_place(f, y);
  });
  return {&tape, id};
}

template <class T>
Var<T> identity(Var<T> x) {
  return activation(x, Activation::identity());
}
template <class T>
Var<T> relu(Var<T> x) {
  return activation(x, Activation::relu());
}
// x for x > 0, alpha x otherwise (0 < alpha < 1).
template <class T>
Var<T> leaky_relu(Var<T> x, double alpha) {
  return activation(x, Activation::leaky_relu(alpha));
}
// x for x > 0, alpha (exp(x) - 1) otherwise (alpha > 0).
template <class T>
Var<T> elu(Var<T> x, double alpha = 1.0) {
  return activation(x, Activation::elu(alpha));
}
template <class T>
Var<T> tanh(Var<T> x) {
  return activation(x, Activation::tanh());
}
template <class T>
Var<T> sigmoid(Var<T> x) {
  return activation(x, Activation::sigmoid());
}
// log(1 + exp(x)), without overflow for large x.
template <class T>
Var<T> softplus(Var<T> x) {
  return activation(x, Activation::softplus());
}

// exp(x_ij) / sum_k exp(x_ik): each row (one event) becomes a probability vector.
template <class T>
Var<T> softmax(Var<T> x) {
  return detail::softmax_rows(x, false);
}
// x_ij - log sum_k exp(x_ik), computed without overflow.
template <class T>
Var<T> log_softmax(Var<T> x) {
  return detail::softmax_rows(x, true);
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> detail::unary<float>(Var<float>, detail::UnaryOp, const char*);
AGNOSTIC_INSTANCE Var<float> detail::softmax_rows<float>(Var<float>, bool);
AGNOSTIC_INSTANCE Var<double> detail::unary<double>(Var<double>, detail::UnaryOp, const char*);
AGNOSTIC_INSTANCE Var<double> detail::softmax_rows<double>(Var<double>, bool);
#endif

}  // namespace agnostic
