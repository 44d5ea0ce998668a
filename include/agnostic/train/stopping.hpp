#pragma once
// When to stop training, as pure functions of the monitored loss of every epoch so far (entry k is
// epoch k+1). Having no state of their own, the rules need nothing in a checkpoint and survive a
// rollback that truncates the history.
//
// - Patience: stop when the best value is `patience` epochs old (an epoch improves on the best
//   only by more than min_delta).
// - Running average (Clavijo et al., arXiv:2005.00568, sec. 4.1): stop when the mean of the last W epochs has
// not decreased by
//   more than the fraction r of the mean of the W epochs before (Clavijo et al.: W = 50, r = 0.05 %).
// Both apply only from min_epochs on; max_epochs always stops (Clavijo et al.: [200, 1000]).
//
// A constraint (LossConstraint) makes only some epochs eligible as the best: for an adversarial
// method the watched figure measures what the method is for (ADNN's mean K-S, DANN's source-target
// K-S) and the classification loss is the constraint: epoch i is eligible while its loss c_i is
// within the relative tolerance of the lowest loss of the epochs so far, c_i <= m + tol * |m|,
// m = min_j c_j. Patience then counts from the best eligible epoch. As m can only fall, an epoch
// that drops out never comes back.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::train {

struct PatienceRule {
  Index patience = 10;
  double min_delta = 0.0;
};

struct RunningAverageRule {
  Index window = 50;
  double relative = 0.0005;
};

// The figure (a loss, lower is better) that must stay near its best for an epoch to be eligible.
struct LossConstraint {
  std::string figure;  // e.g. "validation_loss"
  double relative_tolerance = 0.05;
};

struct StoppingRules {
  Index min_epochs = 0;
  Index max_epochs = 100;
  std::optional<PatienceRule> patience = std::nullopt;
  std::optional<RunningAverageRule> running_average = std::nullopt;

  void validate() const {
    require(max_epochs >= 0, "stopping: max_epochs is ", max_epochs, "; must be >= 0");
    require(min_epochs >= 0 && min_epochs <= max_epochs, "stopping: min_epochs is ", min_epochs,
            "; must be in [0, max_epochs = ", max_epochs, "]");
    require(!patience || patience->patience >= 1, "stopping: patience is ", patience ? patience->patience : 0,
            "; must be >= 1");
    require(!patience || patience->min_delta >= 0.0, "stopping: min_delta is ",
            patience ? patience->min_delta : 0.0, "; must be >= 0");
    require(!running_average || running_average->window >= 1, "stopping: running-average window is ",
            running_average ? running_average->window : 0, "; must be >= 1");
    require(!running_average || running_average->relative >= 0.0, "stopping: running-average relative is ",
            running_average ? running_average->relative : 0.0, "; must be >= 0");
  }
};

struct StopDecision {
  bool stop = false;
  std::string reason;  // empty when training goes on
};

// The highest loss an eligible epoch may have, given the lowest loss so far.
inline double constraint_limit(double lowest, double relative_tolerance) {
  return lowest + relative_tolerance * std::abs(lowest);
}

// Which epochs are eligible under the constraint, given every epoch's constraint loss so far
// (all true when `losses` is empty: no constraint). The epoch with the lowest loss always is.
inline std::vector<bool> eligible_epochs(const std::vector<double>& losses, double relative_tolerance) {
  if (losses.empty()) return {};
  double lowest = losses.front();
  for (double c : losses) lowest = std::min(lowest, c);
  const double limit = constraint_limit(lowest, relative_tolerance);
  std::vector<bool> eligible(losses.size());
  for (std::size_t i = 0; i < losses.size(); ++i) eligible[i] = losses[i] <= limit;
  return eligible;
}

// Index of the best value under the patience rule's notion of improvement, among the eligible
// epochs (every epoch when `eligible` is empty).
inline std::size_t patience_best_index(const std::vector<double>& values, double min_delta,
                                       const std::vector<bool>& eligible = {}) {
  auto ok = [&](std::size_t i) { return eligible.empty() || eligible[i]; };
  std::size_t best = 0;
  while (best + 1 < values.size() && !ok(best)) ++best;
  for (std::size_t i = best + 1; i < values.size(); ++i)
    if (ok(i) && values[i] < values[best] - min_delta) best = i;
  return best;
}

// Relative decrease (mean of the W epochs before - mean of the last W) / |mean before|; empty when
// fewer than 2W epochs have run.
inline std::optional<double> running_average_improvement(const std::vector<double>& values, Index window) {
  const std::size_t w = static_cast<std::size_t>(window), n = values.size();
  if (window < 1 || n < 2 * w) return std::nullopt;
  double before = 0.0, last = 0.0;
  for (std::size_t i = n - 2 * w; i < n - w; ++i) before += values[i];
  for (std::size_t i = n - w; i < n; ++i) last += values[i];
  before /= static_cast<double>(w);
  last /= static_cast<double>(w);
  // A loss that may be negative (Clavijo et al.'s linear domain loss) is compared on its magnitude.
  const double scale = std::abs(before) > 0.0 ? std::abs(before) : 1.0;
  return (before - last) / scale;
}

// `eligible` (from eligible_epochs; empty = all) restricts the epochs patience counts from; the
// running average watches every epoch. `first_epoch` is the number of the epoch of monitored[0] (in
// the reason given; after a warm-up of W epochs it is W + 1).
inline StopDecision should_stop(const std::vector<double>& monitored, const StoppingRules& rules,
                                const std::vector<bool>& eligible = {}, Index first_epoch = 1) {
  require(eligible.empty() || eligible.size() == monitored.size(), "stopping: ", eligible.size(),
          " eligibility flags for ", monitored.size(), " epochs");
  const Index n = static_cast<Index>(monitored.size());
  std::ostringstream why;
  if (n >= rules.max_epochs) {
    why << "reached max_epochs = " << rules.max_epochs;
    return {true, why.str()};
  }
  if (n < rules.min_epochs || n == 0) return {};
  if (rules.patience) {
    const std::size_t best = patience_best_index(monitored, rules.patience->min_delta, eligible);
    const Index age = n - 1 - static_cast<Index>(best);
    if (age >= rules.patience->patience) {
      why << "no improvement for " << age << " epochs since the best, epoch "
          << static_cast<Index>(best) + first_epoch << " (patience " << rules.patience->patience << ")";
      return {true, why.str()};
    }
  }
  if (rules.running_average) {
    const auto improvement = running_average_improvement(monitored, rules.running_average->window);
    if (improvement && *improvement <= rules.running_average->relative) {
      why << "mean of the last " << rules.running_average->window << " epochs improved by "
          << *improvement * 100.0 << " % on the " << rules.running_average->window
          << " before, not more than " << rules.running_average->relative * 100.0 << " %";
      return {true, why.str()};
    }
  }
  return {};
}

}  // namespace agnostic::train
