#pragma once
// Operand<T>: an argument that may be a Var on the tape or a plain matrix (event weights, targets).
//
// A plain matrix is copied onto the tape as a constant node (its buffer keeps its size, so the copy
// allocates only on the first step); a Var is used as it is, and then receives a gradient if it
// needs one. A default-constructed Operand is "absent" (for weights: every event weighs 1).
#include <type_traits>

#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/tape.hpp"

namespace agnostic {

template <class T>
class Operand {
 public:
  Operand() = default;
  Operand(Var<T> v) : var_(v) {}  // NOLINT: implicit on purpose, as are the ones below
  Operand(const Matrix<T>& m) : matrix_(&m) {}
  Operand(const Vector<T>& v) : vector_(&v) {}

  bool present() const { return var_.valid() || matrix_ != nullptr || vector_ != nullptr; }

  // The Var for this operand on `tape` (recording a constant for a plain matrix); an empty Var if
  // the operand is absent.
  Var<T> on(Tape<T>& tape) const {
    if (var_.valid()) {
      require(&var_.tape() == &tape, "an operand belongs to another tape");
      return var_;
    }
    if (matrix_) return detail::constant_from(tape, *matrix_);
    if (vector_) return detail::constant_from(tape, *vector_);
    return {};
  }

 private:
  Var<T> var_;
  const Matrix<T>* matrix_ = nullptr;
  const Vector<T>* vector_ = nullptr;
};

// Keeps T out of deduction, so that Operand<T> is built from a Var<T> or a Matrix<T> implicitly.
template <class T>
using OperandOf = std::type_identity_t<Operand<T>>;

}  // namespace agnostic
