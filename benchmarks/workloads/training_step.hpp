#pragma once
// Times a training step: calibrates a number of steps that takes ~0.5 s, then reports the median
// rate over the repeats.
#include <chrono>
#include <vector>

#include "../bench_options.hpp"

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
