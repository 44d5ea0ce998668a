#pragma once
// `agnostic-bench --workload narrow`: the narrow-layer kernel alone (core/narrow_product.hpp) against
// Eigen's GEMM, on the products of W1's dense layers as one thread's chunk computes them: the forward
// product X W^T (depth n_in, n_out columns) and the input gradient G W (depth n_out, n_in columns),
// on rows = --batch / --threads events (default 16384 / threads). Both run in this process on the
// same operands, alternating repeat by repeat; the JSON line gives per product the median
// microseconds of each and the ratio, and which of the two add_product dispatches to.
#include <chrono>
#include <vector>

#include "../bench_options.hpp"
#include "agnostic/core/narrow_product.hpp"
#include "agnostic/core/rng.hpp"

inline nlohmann::json run_narrow_kernel(const BenchOptions& options) {
  using namespace agnostic;
  const Index rows = (options.batch > 0 ? options.batch : 16384) / options.threads;
  // W1's layers (n_in, n_out), benchmarks/workloads/w1.hpp.
  const std::vector<std::pair<Index, Index>> layers = {{41, 20}, {20, 16}, {16, 13}, {13, 10}, {10, 2},
                                                       {10, 20}, {20, 35}, {35, 50}, {50, 2}};
  Rng rng(7);
  auto random = [&](Index r, Index c) {
    MatrixF m(r, c);
    for (Index j = 0; j < c; ++j)
      for (Index i = 0; i < r; ++i) m(i, j) = static_cast<float>(rng.normal());
    return m;
  };
  nlohmann::json products = nlohmann::json::array();
  double total_eigen = 0, total_narrow = 0, total_chosen = 0;
  for (const auto& [n_in, n_out] : layers) {
    for (int kind = 0; kind < 2; ++kind) {  // 0: forward X W^T, 1: input gradient G W
      const Index depth = kind == 0 ? n_in : n_out, cols = kind == 0 ? n_out : n_in;
      const MatrixF a = random(rows, depth), w = random(n_out, n_in);
      MatrixF y(rows, cols);
      // Eigen's `y = a * b` (zero, then add), or the same through the kernel, forced whatever the
      // dispatch rule says.
      auto once = [&](bool narrow) {
        y.setZero();
        const bool done = narrow && (kind == 0 ? detail::try_narrow_product(a, w.transpose(), y)
                                               : detail::try_narrow_product(a, w, y));
        if (done) return;
        if (kind == 0)
          y.noalias() += a * w.transpose();
        else
          y.noalias() += a * w;
      };
      const int inner =
          static_cast<int>(std::max<long>(1, 20000000L / std::max<long>(1, rows * depth * cols)));
      std::vector<double> times[2];
      for (int r = 0; r < 2 * options.repeats + 2; ++r) {  // Eigen and the kernel in alternation
        const auto t = std::chrono::steady_clock::now();
        for (int i = 0; i < inner; ++i) once(r % 2 == 1);
        if (r >= 2) times[r % 2].push_back(seconds_since(t) / inner * 1e6);
      }
      const double eigen_us = median(times[0]), narrow_us = median(times[1]);
      const bool chosen = narrow_product_applies(rows, depth, cols);
      total_eigen += eigen_us;
      total_narrow += narrow_us;
      total_chosen += chosen ? narrow_us : eigen_us;
      products.push_back({{"product", kind == 0 ? "X W^T" : "G W"},
                          {"depth", depth},
                          {"cols", cols},
                          {"eigen_us", eigen_us},
                          {"narrow_us", narrow_us},
                          {"eigen_over_narrow", eigen_us / narrow_us},
                          {"dispatched_to", chosen ? "narrow" : "eigen"}});
    }
  }
  return {{"workload", "narrow"},
          {"rows", rows},
          {"threads", options.threads},
          {"repeats", options.repeats},
          {"products", products},
          {"total_eigen_us", total_eigen},
          {"total_narrow_us", total_narrow},
          {"total_dispatched_us", total_chosen}};
}
