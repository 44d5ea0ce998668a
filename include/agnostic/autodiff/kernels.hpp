#pragma once
// Helpers shared by the element-wise operations and reductions of the tape.
//
// An element-wise operation sees a matrix as one flat array (Eigen stores it contiguously), split
// into as many contiguous chunks as there are threads once the work passes parallel_min_work(). A
// reduction keeps one partial sum per chunk and adds them in chunk order, so the result depends on
// the thread count but never on the scheduler. Nothing here allocates: scratch space lives in the
// node's buffers, which keep their size from one step to the next.
#include <type_traits>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/threads.hpp"

namespace agnostic::detail {

template <class T>
using FlatArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstFlatArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Elements [r.begin, r.end) of a matrix taken as a flat array.
template <class T>
FlatArray<T> flat(Matrix<T>& m, RowRange r) {
  return FlatArray<T>(m.data() + r.begin, r.size());
}
template <class T>
ConstFlatArray<T> flat(const Matrix<T>& m, RowRange r) {
  return ConstFlatArray<T>(m.data() + r.begin, r.size());
}

// Runs body(chunk, RowRange) over [0, size): one chunk, or one per thread when size * cost is large.
template <class Body>
int for_each_chunk(Index size, long cost_per_element, Body&& body) {
  const int chunks = chunk_count(static_cast<long>(size), static_cast<long>(size) * cost_per_element);
  parallel_chunks(static_cast<long>(size), chunks, body);
  return chunks;
}

// Writes (first write) or adds (later writes) expression(r), an array expression over the flat
// range r, into the gradient of node `id`; does nothing if that node needs no gradient.
template <class T, class Expression>
void accumulate_grad(Tape<T>& tape, int id, long cost_per_element, Expression&& expression) {
  if (id < 0 || !tape.needs_grad(id)) return;
  bool add = false;
  Matrix<T>& g = tape.grad_target(id, add);
  for_each_chunk(g.size(), cost_per_element, [&](int, RowRange r) {
    if (add)
      flat(g, r) += expression(r);
    else
      flat(g, r) = expression(r);
  });
}

// The sum of all elements of m, from per-chunk partial sums added in chunk order. `partials` is
// scratch space the caller keeps (a node buffer).
template <class T>
T chunked_sum(const Matrix<T>& m, Matrix<T>& partials) {
  const int chunks = chunk_count(m.size(), m.size());
  partials.resize(chunks, 1);
  parallel_chunks(m.size(), chunks, [&](int c, RowRange r) { partials(c, 0) = flat(m, r).sum(); });
  T total = T(0);
  for (int c = 0; c < chunks; ++c) total += partials(c, 0);
  return total;
}

// Records a constant node holding a copy of an Eigen expression (a weight column, a target
// matrix): the copy goes into a node buffer that keeps its size, so it allocates only once.
template <class T, class Derived>
Var<T> constant_from(Tape<T>& tape, const Eigen::MatrixBase<Derived>& x) {
  const int id = tape.push("constant", nullptr, false);
  tape.node(id).value = x.template cast<T>();
  return {&tape, id};
}

}  // namespace agnostic::detail
