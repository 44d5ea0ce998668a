#pragma once
// Learning-rate schedules: the rate used by an optimiser's step as a function of the number t of
// steps it has already taken (t = 0 for the first step).
//   constant      lr(t) = lr0
//   exponential   lr(t) = lr0 * gamma^(t / decay_steps)          (decay_steps = 1: PyTorch's ExponentialLR
//                                                                 stepped after every optimiser step)
//   step          lr(t) = lr0 * gamma^floor(t / step_size)       (PyTorch's StepLR, counted in steps)
#include <cmath>
#include <cstdint>

#include "agnostic/core/error.hpp"

namespace agnostic {

enum class ScheduleKind { constant, exponential, step };

struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double gamma = 1.0;
  std::int64_t steps = 1;  // decay_steps (exponential) or step_size (step)

  static Schedule constant() { return {}; }
  static Schedule exponential(double gamma, std::int64_t decay_steps = 1) {
    check(gamma, decay_steps, "exponential");
    return {ScheduleKind::exponential, gamma, decay_steps};
  }
  static Schedule step(std::int64_t step_size, double gamma) {
    check(gamma, step_size, "step");
    return {ScheduleKind::step, gamma, step_size};
  }

  // lr(t) / lr0.
  double factor(std::int64_t t) const {
    switch (kind) {
      case ScheduleKind::constant:
        return 1.0;
      case ScheduleKind::exponential:
        return std::pow(gamma, static_cast<double>(t) / static_cast<double>(steps));
      case ScheduleKind::step:
        return std::pow(gamma, static_cast<double>(t / steps));
    }
    return 1.0;
  }

  bool operator==(const Schedule&) const = default;

 private:
  static void check(double gamma, std::int64_t steps, const char* what) {
    require(std::isfinite(gamma) && gamma > 0.0, "Schedule::", what,
            ": gamma must be positive and finite, got ", gamma);
    require(steps >= 1, "Schedule::", what, ": the step count must be at least 1, got ", steps);
  }
};

}  // namespace agnostic
