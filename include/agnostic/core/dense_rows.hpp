#pragma once
// The dense layer's forward arithmetic on a block of rows, y = f(x W^T + b), written once for the
// two places that run it: the tape's fused dense node (autodiff/dense.hpp), per row chunk, and the
// model files' forward pass (io/model_forward.hpp), which splits the rows into the same chunks. So a
// model file and the network it was written from give the same bits by construction.
#include "agnostic/core/activation_function.hpp"

namespace agnostic {

// y = f(x W^T + b) for the rows of `x` (events x n_in); `w` is n_out x n_in, `bias` a 1 x n_out
// row or nullptr for none, `y` the events x n_out block written.
template <class XRows, class Weights, class Bias, class YRows>
void dense_forward_rows(const XRows& x, const Weights& w, const Bias* bias, const Activation& f, YRows&& y) {
  // Eigen's "y = x W^T" zeroes y first; starting from the bias instead saves that pass.
  if (bias)
    y.rowwise() = bias->row(0);
  else
    y.setZero();
  y.noalias() += x * w.transpose();
  activate_in_place(f, y);
}

}  // namespace agnostic
