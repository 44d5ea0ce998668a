#pragma once
// The fused dense layer: Y = f(X W^T + b) in one node.
//
// Fusing the product, the bias and the activation (and their gradients) means one pass over the
// activations instead of three, and the work is split by events: each thread runs the products,
// the bias and the activation on its own block of rows while they are in cache. The weight
// gradient is summed per thread and the partial sums are added in thread order (deterministic).
#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/dense_rows.hpp"
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/core/threads.hpp"

namespace agnostic {

namespace detail {

inline Activation node_activation(int code, double alpha) {
  return Activation{static_cast<ActivationKind>(code), alpha};
}

template <class T>
void dense_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int x = n.input[0], w = n.input[1], b = n.input[2];
  const Activation act = node_activation(n.code, static_cast<double>(n.scalar[0]));
  const Matrix<T>& X = tape.value(x);
  const Matrix<T>& W = tape.value(w);
  const Matrix<T>& Y = n.value;
  Matrix<T>& G = n.grad;  // overwritten in place by dL/dZ: nothing reads dL/dY after this node
  const Index rows = X.rows(), n_in = X.cols(), n_out = W.rows();
  const bool need_x = tape.needs_grad(x), need_w = tape.needs_grad(w), need_b = b >= 0 && tape.needs_grad(b);
  const int chunks = chunk_count(rows, rows * n_in * n_out);

  bool add_x = false;
  Matrix<T>* dX = need_x ? &tape.grad_target(x, add_x) : nullptr;
  bool add_w = false, add_b = false;
  Matrix<T>* dW = need_w ? &tape.grad_target(w, add_w) : nullptr;
  Matrix<T>* dB = need_b ? &tape.grad_target(b, add_b) : nullptr;
  // With several chunks, each writes its own partial weight gradient, summed afterwards.
  Matrix<T>& partial_w = n.buffer[0];
  Matrix<T>& partial_b = n.buffer[1];
  if (chunks > 1) {
    if (need_w) partial_w.resize(n_out, n_in * chunks);
    if (need_b) partial_b.resize(chunks, n_out);
  }

  parallel_chunks(rows, chunks, [&](int c, RowRange r) {
    auto g = G.middleRows(r.begin, r.size());
    multiply_by_slope(act, g, Y.middleRows(r.begin, r.size()));
    if (need_x) {
      auto dx = dX->middleRows(r.begin, r.size());
      if (add_x)
        dx.noalias() += g * W;
      else
        dx.noalias() = g * W;
    }
    const auto xs = X.middleRows(r.begin, r.size());
    if (chunks == 1) {
      if (need_w) {
        if (add_w)
          dW->noalias() += g.transpose() * xs;
        else
          dW->noalias() = g.transpose() * xs;
      }
      if (need_b) {
        if (add_b)
          *dB += g.colwise().sum();
        else
          *dB = g.colwise().sum();
      }
    } else {
      if (need_w) partial_w.middleCols(c * n_in, n_in).noalias() = g.transpose() * xs;
      if (need_b) partial_b.row(c) = g.colwise().sum();
    }
  });
  if (chunks > 1) {
    for (int c = 0; c < chunks; ++c) {
      if (need_w) {
        if (c == 0 && !add_w)
          *dW = partial_w.middleCols(0, n_in);
        else
          *dW += partial_w.middleCols(c * n_in, n_in);
      }
      if (need_b) {
        if (c == 0 && !add_b)
          *dB = partial_b.row(0);
        else
          *dB += partial_b.row(c);
      }
    }
  }
}

}  // namespace detail

// Y = f(X W^T + b): X is events x n_in, W is n_out x n_in, b is 1 x n_out (or an empty Var for
// no bias). The result is events x n_out.
template <class T>
Var<T> dense(Var<T> x, Var<T> w, Var<T> b, Activation f = Activation::identity()) {
  Tape<T>& tape = same_tape(x, w, "dense");
  const bool has_bias = b.valid();
  if (has_bias) same_tape(x, b, "dense");
  {
    const Matrix<T>& X = tape.value(x.id());
    const Matrix<T>& W = tape.value(w.id());
    require(X.cols() == W.cols(), "dense: input has ", X.cols(), " columns but the weights expect ", W.cols(),
            " (weights are ", W.rows(), " x ", W.cols(), ")");
    if (has_bias)
      require(tape.value(b.id()).rows() == 1 && tape.value(b.id()).cols() == W.rows(), "dense: bias is ",
              tape.value(b.id()).rows(), " x ", tape.value(b.id()).cols(), ", expected 1 x ", W.rows());
  }
  const bool needs =
      tape.needs_grad(x.id()) || tape.needs_grad(w.id()) || (has_bias && tape.needs_grad(b.id()));
  const int id = tape.push("dense", &detail::dense_backward<T>, needs);
  // push() may move nodes: every reference into the tape is taken after it.
  const Matrix<T>& X = tape.value(x.id());
  const Matrix<T>& W = tape.value(w.id());
  const Matrix<T>* B = has_bias ? &tape.value(b.id()) : nullptr;
  Node<T>& n = tape.node(id);
  n.input = {x.id(), w.id(), has_bias ? b.id() : -1};
  n.code = static_cast<int>(f.kind);
  n.scalar[0] = static_cast<T>(f.alpha);
  const Index rows = X.rows();
  n.value.resize(rows, W.rows());
  const int chunks = chunk_count(rows, rows * X.cols() * W.rows());
  parallel_chunks(rows, chunks, [&](int, RowRange r) {
    dense_forward_rows(X.middleRows(r.begin, r.size()), W, B, f, n.value.middleRows(r.begin, r.size()));
  });
  return {&tape, id};
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> dense<float>(Var<float>, Var<float>, Var<float>, Activation);
AGNOSTIC_INSTANCE Var<double> dense<double>(Var<double>, Var<double>, Var<double>, Activation);
#endif

}  // namespace agnostic
