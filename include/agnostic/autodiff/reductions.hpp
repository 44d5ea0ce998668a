#pragma once
// Reductions and re-arrangements on the tape: sum and mean of all elements, the weighted mean over
// events (autodiff/weighted_mean.hpp), concatenation of columns, and selection of rows by an index
// list or a boolean mask.
//
// Sums are taken per chunk and the chunk totals added in chunk order (deterministic for a given
// thread count). Selected rows are gathered in parallel; their gradient is scattered back on one
// thread, so a row selected several times simply receives the sum of its gradients.
#include <concepts>
#include <initializer_list>
#include <iterator>
#include <ranges>
#include <vector>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"
#include "agnostic/core/explicit_instances.hpp"

namespace agnostic {

namespace detail {

template <class T>
void sum_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const T k = n.grad(0, 0) * n.scalar[0];  // scalar[0]: 1 for sum, 1 / size for mean
  accumulate_grad(tape, n.input[0], 1,
                  [&](RowRange r) { return Eigen::Array<T, Eigen::Dynamic, 1>::Constant(r.size(), k); });
}

template <class T>
Var<T> sum_all(Var<T> x, T factor, const char* name) {
  require(x.valid(), name, ": the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const int id = tape.push(name, &sum_backward<T>, tape.needs_grad(x.id()));
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  n.scalar[0] = factor;
  n.value.resize(1, 1);
  n.value(0, 0) = factor * chunked_sum(tape.value(x.id()), n.buffer[0]);
  return {&tape, id};
}

template <class T>
void concat_cols_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const Matrix<T>& G = n.grad;
  Index offset = 0;  // in elements: each part is a contiguous block of columns
  for (const Index part : n.indices) {
    const T* g = G.data() + offset;
    accumulate_grad(tape, static_cast<int>(part), 1,
                    [&](RowRange r) { return ConstFlatArray<T>(g + r.begin, r.size()); });
    offset += tape.value(static_cast<int>(part)).size();
  }
}

template <class T>
Var<T> concat_cols(const Var<T>* parts, size_t count) {
  require(count > 0, "concat_cols: nothing to concatenate");
  require(parts[0].valid(), "concat_cols: part 0 is an empty Var");
  Tape<T>& tape = parts[0].tape();
  const Index rows = parts[0].rows();
  Index cols = 0;
  bool needs = false;
  for (size_t p = 0; p < count; ++p) {
    same_tape(parts[0], parts[p], "concat_cols");
    require(parts[p].rows() == rows, "concat_cols: part ", p, " has ", parts[p].rows(), " rows, part 0 has ",
            rows, " (all parts need the same number of rows)");
    cols += parts[p].cols();
    needs = needs || tape.needs_grad(parts[p].id());
  }
  const int id = tape.push("concat_cols", &concat_cols_backward<T>, needs);
  Node<T>& n = tape.node(id);
  n.indices.resize(count);
  n.value.resize(rows, cols);
  Index offset = 0;
  for (size_t p = 0; p < count; ++p) {
    n.indices[p] = parts[p].id();
    const Matrix<T>& X = tape.value(parts[p].id());
    T* out = n.value.data() + offset;
    for_each_chunk(X.size(), 1, [&](int, RowRange r) { FlatArray<T>(out + r.begin, r.size()) = flat(X, r); });
    offset += X.size();
  }
  return {&tape, id};
}

template <class T>
void select_rows_backward(Tape<T>& tape, int self) {
  Node<T>& n = tape.node(self);
  const int x = n.input[0];
  if (!tape.needs_grad(x)) return;
  bool add = false;
  Matrix<T>& d = tape.grad_target(x, add);
  if (!add) d.setZero();
  const Matrix<T>& G = n.grad;
  const Index selected = static_cast<Index>(n.indices.size());
  for (Index j = 0; j < G.cols(); ++j)
    for (Index k = 0; k < selected; ++k) d(n.indices[k], j) += G(k, j);
}

// Records the node once node.indices holds the rows to keep.
template <class T>
Var<T> gather_rows(Tape<T>& tape, int id, Var<T> x) {
  Node<T>& n = tape.node(id);
  n.input[0] = x.id();
  const Matrix<T>& X = tape.value(x.id());
  const Index selected = static_cast<Index>(n.indices.size()), cols = X.cols();
  n.value.resize(selected, cols);
  parallel_chunks(selected, chunk_count(selected, selected * cols), [&](int, RowRange r) {
    for (Index j = 0; j < cols; ++j)
      for (Index k = r.begin; k < r.end; ++k) n.value(k, j) = X(n.indices[k], j);
  });
  return {&tape, id};
}

}  // namespace detail

// A range of row numbers: std::vector<int>, Eigen::VectorXi, ... (bools are a mask, not indices).
template <class R>
concept RowIndices = std::ranges::range<R> && std::integral<std::ranges::range_value_t<R>> &&
    !std::same_as<std::ranges::range_value_t<R>, bool>;

// The sum of all elements (1 x 1).
template <class T>
Var<T> sum(Var<T> x) {
  return detail::sum_all(x, T(1), "sum");
}

// The mean of all elements (1 x 1). For a mean over events with weights, see weighted_mean.
template <class T>
Var<T> mean(Var<T> x) {
  require(x.valid(), "mean: the operand is an empty Var");
  require(x.value().size() > 0, "mean: the operand is empty (", x.rows(), " x ", x.cols(), ")");
  return detail::sum_all(x, T(1) / static_cast<T>(x.value().size()), "mean");
}

// [a | b | ...]: the columns of every part side by side; all parts have the same number of rows.
template <class T>
Var<T> concat_cols(std::initializer_list<Var<T>> parts) {
  return detail::concat_cols(parts.begin(), parts.size());
}
template <class T>
Var<T> concat_cols(const std::vector<Var<T>>& parts) {
  return detail::concat_cols(parts.data(), parts.size());
}

// The rows of x listed in `rows` (any range of integers: std::vector<int>, Eigen::VectorXi, ...),
// in that order; a row may appear more than once. A range of bools is a mask: select_rows_where.
template <class T, RowIndices Rows>
Var<T> select_rows(Var<T> x, const Rows& rows) {
  require(x.valid(), "select_rows: the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const Index available = x.rows();
  size_t count = 0;
  for (const auto row : rows) {
    const Index i = static_cast<Index>(row);
    require(i >= 0 && i < available, "select_rows: entry ", count, " of the row list is ", i,
            ", expected 0 <= row < ", available);
    ++count;
  }
  const int id = tape.push("select_rows", &detail::select_rows_backward<T>, tape.needs_grad(x.id()));
  std::vector<Index>& kept = tape.node(id).indices;
  kept.resize(count);
  size_t k = 0;
  for (const auto row : rows) kept[k++] = static_cast<Index>(row);
  return detail::gather_rows(tape, id, x);
}

// The rows of x whose entry in `mask` is true (any range convertible to bool, one entry per row),
// in their original order.
template <class T, std::ranges::range Mask>
Var<T> select_rows_where(Var<T> x, const Mask& mask) {
  require(x.valid(), "select_rows_where: the operand is an empty Var");
  Tape<T>& tape = x.tape();
  const Index available = x.rows();
  const auto length = static_cast<Index>(std::ranges::distance(mask));
  require(length == available, "select_rows_where: the mask has ", length, " entries, expected ", available,
          " (one per row)");
  Index selected = 0;
  for (const auto keep : mask) selected += static_cast<bool>(keep) ? 1 : 0;
  const int id = tape.push("select_rows_where", &detail::select_rows_backward<T>, tape.needs_grad(x.id()));
  std::vector<Index>& kept = tape.node(id).indices;
  kept.resize(static_cast<size_t>(selected));
  Index i = 0, k = 0;
  for (const auto keep : mask) {
    if (static_cast<bool>(keep)) kept[k++] = i;
    ++i;
  }
  return detail::gather_rows(tape, id, x);
}

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE Var<float> detail::sum_all<float>(Var<float>, float, const char*);
AGNOSTIC_INSTANCE Var<float> detail::concat_cols<float>(const Var<float>*, size_t);
AGNOSTIC_INSTANCE Var<float> detail::gather_rows<float>(Tape<float>&, int, Var<float>);
AGNOSTIC_INSTANCE Var<double> detail::sum_all<double>(Var<double>, double, const char*);
AGNOSTIC_INSTANCE Var<double> detail::concat_cols<double>(const Var<double>*, size_t);
AGNOSTIC_INSTANCE Var<double> detail::gather_rows<double>(Tape<double>&, int, Var<double>);
#endif

}  // namespace agnostic
