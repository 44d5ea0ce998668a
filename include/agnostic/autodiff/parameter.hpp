#pragma once
// A trainable tensor: its value and the gradient the tape accumulates into it.
#include <string>
#include <utility>

#include "agnostic/core/matrix.hpp"

namespace agnostic {

template <class T>
struct Parameter {
  std::string name;
  Matrix<T> value;
  Matrix<T> grad;       // same shape as value; Tape::backward adds into it, optimisers zero it
  bool frozen = false;  // a frozen parameter receives no gradient and is not updated

  Parameter() = default;
  Parameter(std::string parameter_name, Index rows, Index cols)
      : name(std::move(parameter_name)),
        value(Matrix<T>::Zero(rows, cols)),
        grad(Matrix<T>::Zero(rows, cols)) {}

  Index size() const { return value.size(); }
  void zero_grad() { grad.setZero(); }
};

}  // namespace agnostic
