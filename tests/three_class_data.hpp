#pragma once
// The ADNN tests' data set (tests/test_adversarial.cpp, tests/test_distributed.cpp): three classes in
// 4 features; class 1 (the signal) comes from three models (domains 0, 1, 2) that shift feature 0;
// other classes get domain 7, which an ADNN scheme must never use.
#include <cstdint>
#include <vector>

#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/train/dataset.hpp"

inline agnostic::train::Dataset<float> three_class_data(agnostic::Index n, std::uint64_t seed) {
  using agnostic::Index;
  agnostic::Rng rng(seed);
  agnostic::MatrixF x(n, 4);
  std::vector<Index> labels(static_cast<std::size_t>(n)), domains(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const Index y = i % 3, d = y == 1 ? (i / 3) % 3 : 7;
    labels[static_cast<std::size_t>(i)] = y;
    domains[static_cast<std::size_t>(i)] = d;
    for (Index j = 0; j < 4; ++j)
      x(i, j) = static_cast<float>(rng.normal(0.7 * static_cast<double>(y - 1), 1.0));
    if (y == 1) x(i, 0) += static_cast<float>(0.8 * static_cast<double>(d));
  }
  return agnostic::train::Dataset<float>(x, labels, agnostic::VectorF::Ones(n), domains, 3);
}
