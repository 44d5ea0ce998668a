#pragma once
// Element-wise arithmetic on the tape: add, subtract, multiply with broadcasting, scalar affine
// maps (scale, shift, negate) and stop_gradient.
//
// Broadcasting follows numpy's rule for two dimensions: each dimension of the two operands must
// match or be 1, and a dimension of 1 is repeated. So an events x C batch combines with a 1 x C
// row (a bias), an events x 1 column (a per-event factor) or a 1 x 1 scalar, on either side. The
// gradient of a broadcast operand is the output gradient summed over the repeated dimension
// (per-chunk partial sums added in chunk order).
#include <algorithm>
#include <type_traits>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

enum class BinaryOp { add = 0, subtract = 1, multiply = 2 };

inline const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "add";
    case BinaryOp::subtract:
      return "subtract";
    case BinaryOp::multiply:
      return "multiply";
  }
  return "?";
}

// One column of an operand as seen by a row range of the output: either a contiguous segment or a
// single repeated value.
template <class T>
struct OperandColumn {
  const T* data;
  bool is_vector;
};

template <class T>
OperandColumn<T> operand_column(const Matrix<T>& m, Index out_rows, Index j, RowRange r) {
  const Index col = m.cols() == 1 ? 0 : j;
  const bool is_vector = m.rows() == out_rows;
  return {m.data() + col * m.rows() + (is_vector ? r.begin : 0), is_vector};
}

template <class T, class Out>
void apply_binary(BinaryOp op, Out&& out, OperandColumn<T> a, OperandColumn<T> b) {
  const Index n = out.size();
  const ConstFlatArray<T> va(a.data, a.is_vector ? n : 1), vb(b.data, b.is_vector ? n : 1);
  const T sa = *a.data, sb = *b.data;
  switch (op) {
    case BinaryOp::add:
      if (a.is_vector && b.is_vector)
        out = va + vb;
      else if (a.is_vector)
        out = va + sb;
      else if (b.is_vector)
        out = sa + vb;
      else
        out.setConstant(sa + sb);
      return;
    case BinaryOp::subtract:
      if (a.is_vector && b.is_vector)
        out = va - vb;
      else if (a.is_vector)
        out = va - sb;
      else if (b.is_vector)
        out = sa - vb;
      else
        out.setConstant(sa - sb);
      return;
    case BinaryOp::multiply:
      if (a.is_vector && b.is_vector)
        out = va * vb;
      else if (a.is_vector)
        out = va * sb;
      else if (b.is_vector)
        out = sa * vb;
      else
        out.setConstant(sa * sb);
      return;
  }
}

// Calls fn with the contribution of output column j, rows r, to the gradient of operand `slot`:
// sign * G for add/subtract, G * (the other operand) for multiply.
template <class T, class Fn>
void with_contribution(BinaryOp op, int slot, const Matrix<T>& G, const Matrix<T>& other, Index j, RowRange r,
                       Fn&& fn) {
  const ConstFlatArray<T> g(G.data() + j * G.rows() + r.begin, r.size());
  if (op == BinaryOp::multiply) {
    const OperandColumn<T> o = operand_column(other, G.rows(), j, r);
    if (o.is_vector)
      fn(g * ConstFlatArray<T>(o.data, r.size()));
    else
      fn(g * *o.data);
  } else if (op == BinaryOp::subtract && slot == 1) {
    fn(-g);
  } else {
    fn(g);
  }
}

template <class T>
void binary_backward_operand(Tape<T>& tape, Node<T>& n, int slot) {
  const int id = n.input[slot];
  if (!tape.needs_grad(id)) return;
  const BinaryOp op = static_cast<BinaryOp>(n.code);
  const Matrix<T>& G = n.grad;
  const Matrix<T>& other = tape.value(n.input[1 - slot]);
  const Index R = G.rows(), C = G.cols();
  bool add = false;
  Matrix<T>& d = tape.grad_target(id, add);
  const bool rows_summed = d.rows() != R, cols_summed = d.cols() != C;
  const int chunks = chunk_count(R, R * C);
  if (!rows_summed) {
    // Each output row feeds one row of the operand: no sums across chunks.
    parallel_chunks(R, chunks, [&](int, RowRange r) {
      for (Index j = 0; j < C; ++j) {
        const Index col = cols_summed ? 0 : j;
        auto dst = FlatArray<T>(d.data() + col * R + r.begin, r.size());
        const bool first = !add && (!cols_summed || j == 0);
        with_contribution(op, slot, G, other, j, r, [&](auto&& e) {
          if (first)
            dst = e;
          else
            dst += e;
        });
      }
    });
    return;
  }
  // The operand is a row or a scalar: sum each chunk's rows, then the chunks in order.
  Matrix<T>& partial = n.buffer[slot];
  partial.resize(chunks, d.cols());
  parallel_chunks(R, chunks, [&](int c, RowRange r) {
    partial.row(c).setZero();
    for (Index j = 0; j < C; ++j)
      with_contribution(op, slot, G, other, j, r,
                        [&](auto&& e) { partial(c, cols_summed ? 0 : j) += e.sum(); });
  });
  if (add)
    d += partial.colwise().sum();
  else
    d = partial.colwise().sum();
}

template <class T>
void binary_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  binary_backward_operand(tape, n, 0);
  binary_backward_operand(tape, n, 1);
}

template <class T>
Var<T> binary(BinaryOp op, Var<T> a, Var<T> b) {
  const char* name = binary_op_name(op);
  Tape<T>& tape = same_tape(a, b, name);
  Index rows = 0, cols = 0;
  {
    const Matrix<T>& A = tape.value(a.id());
    const Matrix<T>& B = tape.value(b.id());
    const bool rows_ok = A.rows() == B.rows() || A.rows() == 1 || B.rows() == 1;
    const bool cols_ok = A.cols() == B.cols() || A.cols() == 1 || B.cols() == 1;
    require(A.size() > 0 && B.size() > 0, name, ": an operand is empty (", A.rows(), " x ", A.cols(), " and ",
            B.rows(), " x ", B.cols(), ")");
    require(rows_ok && cols_ok, name, ": cannot broadcast ", A.rows(), " x ", A.cols(), " with ", B.rows(),
            " x ", B.cols(), " (each dimension must match or be 1)");
    rows = std::max(A.rows(), B.rows());
    cols = std::max(A.cols(), B.cols());
  }
  const int id = tape.push(name, &binary_backward<T>, tape.needs_grad(a.id()) || tape.needs_grad(b.id()));
  Node<T>& n = tape.node(id);
  n.input = {a.id(), b.id(), -1};
  n.code = static_cast<int>(op);
  const Matrix<T>& A = tape.value(a.id());
  const Matrix<T>& B = tape.value(b.id());
  n.value.resize(rows, cols);
  parallel_chunks(rows, chunk_count(rows, rows * cols), [&](int, RowRange r) {
    for (Index j = 0; j < cols; ++j)
      apply_binary(op, FlatArray<T>(n.value.data() + j * rows + r.begin, r.size()),
                   operand_column(A, rows, j, r), operand_column(B, rows, j, r));
  });
  return {&tape, id};
}

template <class T>
void affine_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const T a = n.scalar[0];
  const Matrix<T>& G = n.grad;
  accumulate_grad(tape, n.input[0], 1, [&](RowRange r) { return a * flat(G, r); });
}

// y = a x + b element-wise (scale, shift, negate in one node).
template <class T>
Var<T> affine(Var<T> x, T a, T b, const char* name) {
  require(x.valid(), name, ": the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const int id = tape.push(name, &affine_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.scalar[0] = a;
  n.scalar[1] = b;
  const Matrix<T>& X = tape.value(x.id());
  n.value.resize(X.rows(), X.cols());
  for_each_chunk(X.size(), 1, [&](int, RowRange r) { flat(n.value, r) = a * flat(X, r) + b; });
  return {&tape, id};
}

}  // namespace detail

// a + b with broadcasting of rows, columns or scalars (see the top of this header).
template <class T>
Var<T> add(Var<T> a, Var<T> b) {
  return detail::binary(detail::BinaryOp::add, a, b);
}
template <class T>
Var<T> subtract(Var<T> a, Var<T> b) {
  return detail::binary(detail::BinaryOp::subtract, a, b);
}
// Element-wise (Hadamard) product with broadcasting; the matrix product is dense().
template <class T>
Var<T> multiply(Var<T> a, Var<T> b) {
  return detail::binary(detail::BinaryOp::multiply, a, b);
}
// s * x
template <class T>
Var<T> scale(Var<T> x, std::type_identity_t<T> s) {
  return detail::affine(x, s, T(0), "scale");
}

// The value of x, with no gradient flowing back into x (a constant from here on).
template <class T>
Var<T> stop_gradient(Var<T> x) {
  require(x.valid(), "stop_gradient: the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const int id = tape.push("stop_gradient", nullptr, false);
  tape.node(id).input[0] = x.id();
  tape.node(id).value = tape.value(x.id());
  return {&tape, id};
}

template <class T>
Var<T> operator+(Var<T> a, Var<T> b) {
  return add(a, b);
}
template <class T>
Var<T> operator-(Var<T> a, Var<T> b) {
  return subtract(a, b);
}
template <class T>
Var<T> operator*(Var<T> a, Var<T> b) {
  return multiply(a, b);
}
template <class T>
Var<T> operator-(Var<T> x) {
  return detail::affine(x, T(-1), T(0), "negate");
}
template <class T>
Var<T> operator+(Var<T> x, std::type_identity_t<T> c) {
  return detail::affine(x, T(1), c, "add scalar");
}
template <class T>
Var<T> operator+(std::type_identity_t<T> c, Var<T> x) {
  return detail::affine(x, T(1), c, "add scalar");
}
template <class T>
Var<T> operator-(Var<T> x, std::type_identity_t<T> c) {
  return detail::affine(x, T(1), -c, "subtract scalar");
}
template <class T>
Var<T> operator-(std::type_identity_t<T> c, Var<T> x) {
  return detail::affine(x, T(-1), c, "subtract from scalar");
}
template <class T>
Var<T> operator*(Var<T> x, std::type_identity_t<T> c) {
  return detail::affine(x, c, T(0), "scale");
}
template <class T>
Var<T> operator*(std::type_identity_t<T> c, Var<T> x) {
  return detail::affine(x, c, T(0), "scale");
}
// x / c; dividing by zero is an error rather than a matrix of infinities.
template <class T>
Var<T> operator/(Var<T> x, std::type_identity_t<T> c) {
  require(c != T(0), "divide: dividing a Var by the scalar 0");
  return detail::affine(x, T(1) / c, T(0), "divide by scalar");
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> detail::binary<float>(detail::BinaryOp, Var<float>, Var<float>);
AGNOSTIC_INSTANCE Var<float> detail::affine<float>(Var<float>, float, float, const char*);
AGNOSTIC_INSTANCE Var<double> detail::binary<double>(detail::BinaryOp, Var<double>, Var<double>);
AGNOSTIC_INSTANCE Var<double> detail::affine<double>(Var<double>, double, double, const char*);
#endif

}  // namespace agnostic
