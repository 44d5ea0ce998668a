#pragma once
// agnostic's index type: a signed size, the same type as Eigen::Index (core/matrix.hpp checks it),
// for the headers that must not include Eigen (the model records that trigger code reads).
#include <cstddef>

namespace agnostic {

using Index = std::ptrdiff_t;

}  // namespace agnostic
