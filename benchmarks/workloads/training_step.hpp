#pragma once
// Times a training step: calibrates a number of steps that takes ~0.5 s, then reports the median
// rate over the repeats.
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "../bench_options.hpp"
#include "agnostic/core/thread_pool.hpp"
#include "gemm_reference.hpp"

template <class Step>
double median_steps_per_second(Step&& step, int repeats) {
  for (int i = 0; i < 3; ++i) step();  // warm: buffers sized, caches filled
  auto t = std::chrono::steady_clock::now();
  step();
  const int steps = std::max(3, static_cast<int>(0.5 / std::max(seconds_since(t), 1e-6)));
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    t = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    rates.push_back(steps / seconds_since(t));
  }
  return median(rates);
}

// How the threads of this run's kernels waited, for the record: the spin length the calling thread's
// pool (core/thread_pool.hpp) had come to at the end of the run.
inline std::string thread_waiting() {
  const agnostic::ThreadPool& pool = agnostic::this_threads_pool();
  if (pool.workers() == 0) return "agnostic's pool, not used (one chunk per kernel)";
  return "agnostic's pool, adaptive spin, at the end " + std::to_string(pool.spin_ns()) + " ns";
}

// The JSON line of a training workload: throughput, achieved GFLOP/s (three products per dense layer
// and step) and Eigen's GEMM GFLOP/s on the same products.
inline nlohmann::json training_result(const char* workload, const BenchOptions& options,
                                      agnostic::Index batch, double steps_per_s,
                                      const std::vector<DenseShape>& shapes) {
  double flops = 0;
  for (const auto& s : shapes) flops += 6.0 * static_cast<double>(s.batch * s.n_in * s.n_out);
  return {
      {"workload", workload},
      {"threads", options.threads},
      {"events_per_s", steps_per_s * static_cast<double>(batch)},
      {"ms_per_step", 1e3 / steps_per_s},
      {"gflops", steps_per_s * flops / 1e9},
      {"eigen_gemm_gflops", gemm_reference_gflops(shapes, options.repeats)},
      {"repeats", options.repeats},
      {"thread_waiting", thread_waiting()},
      {"heap_settings", std::getenv("AGNOSTIC_HEAP_SETTINGS") ? std::getenv("AGNOSTIC_HEAP_SETTINGS") : "?"}};
}
