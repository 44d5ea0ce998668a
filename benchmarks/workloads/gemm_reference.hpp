#pragma once
// The machine's practical limit for a training workload: the GFLOP/s Eigen's own (multi-threaded)
// GEMM reaches on exactly the products of one training step, without anything else around them.
#include <chrono>
#include <vector>

#include "../bench_options.hpp"
#include "agnostic/core/matrix.hpp"

struct DenseShape {
  agnostic::Index batch, n_in, n_out;
};

// Per dense layer and step: forward X W^T, input gradient G W, weight gradient G^T X.
inline double gemm_reference_gflops(const std::vector<DenseShape>& shapes, int repeats) {
  // Eigen's own threading, which agnostic's kernels do not use (core/threads.hpp).
  Eigen::setNbThreads(agnostic::threads());
  using M = agnostic::MatrixF;
  struct Operands {
    M x, w, g, y, dx, dw;
  };
  std::vector<Operands> ops;
  double flops = 0;
  for (const auto& s : shapes) {
    ops.push_back({M::Random(s.batch, s.n_in), M::Random(s.n_out, s.n_in), M::Random(s.batch, s.n_out),
                   M(s.batch, s.n_out), M(s.batch, s.n_in), M(s.n_out, s.n_in)});
    flops += 3.0 * 2.0 * static_cast<double>(s.batch * s.n_in * s.n_out);
  }
  auto pass = [&] {
    for (auto& o : ops) {
      o.y.noalias() = o.x * o.w.transpose();
      o.dx.noalias() = o.g * o.w;
      o.dw.noalias() = o.g.transpose() * o.x;
    }
  };
  pass();
  int inner = 1;
  for (auto t = std::chrono::steady_clock::now(); seconds_since(t) < 0.05; inner *= 2) {
    t = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) pass();
  }
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i) pass();
    rates.push_back(inner * flops / seconds_since(t) / 1e9);
  }
  Eigen::setNbThreads(1);
  return median(rates);
}
