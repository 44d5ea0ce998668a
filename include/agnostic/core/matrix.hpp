#pragma once
// Scalar and matrix aliases used everywhere in agnostic.
//
// Storage convention: a batch of events is a matrix with ONE EVENT PER ROW and one feature (or
// class, or output) per column, as in the data files. Matrices are Eigen's default column-major,
// so a feature column is contiguous. A dense layer's weight matrix is n_out x n_in (lwtnn's
// convention) and the layer computes Y = X * W^T + b, with b a 1 x n_out row.

// Eigen's matrix products put their packing buffers on the stack when they fit under this limit
// and on the heap otherwise; 1 MiB covers the blocks of the per-thread products the tape runs, so
// a warm training step allocates nothing. It must be set before Eigen is first included.
#ifndef EIGEN_STACK_ALLOCATION_LIMIT
#define EIGEN_STACK_ALLOCATION_LIMIT (1 << 20)
#endif
#include <Eigen/Core>

#include <cstdint>
#include <type_traits>

#include "agnostic/core/index.hpp"

namespace agnostic {

static_assert(std::is_same_v<Index, Eigen::Index>, "agnostic::Index must be Eigen::Index");

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

using MatrixF = Matrix<float>;
using MatrixD = Matrix<double>;
using VectorF = Vector<float>;
using VectorD = Vector<double>;

}  // namespace agnostic
