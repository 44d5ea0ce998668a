#pragma once
// StrengthSchedule: how strong an adversary is as training goes on — DANN's gradient-reversal
// lambda (Clavijo et al., arXiv:2005.00568) and ADNN's alpha (Camaiani et al., arXiv:2207.09293). p in [0, 1]
// is the fraction of training done (DANN: the fraction of steps done, at_step; ADNN's alpha: (epoch - 1) /
// epochs, at_epoch) and `final_value` the strength at p = 1:
//   constant   s(p) = final
//   linear     s(p) = final * p                                 (a ramp from 0)
//   ganin      s(p) = final * (2 / (1 + exp(-10 p)) - 1)          (Clavijo et al. and Ganin et al.: starts at
//   0,
//                                                                 reaches 0.987 * final at p = 0.5)
// p outside [0, 1] is clamped, so a run that goes on past its planned end keeps the final value.
#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "agnostic/core/error.hpp"

namespace agnostic::adversarial {

enum class StrengthShape { constant, linear, ganin };

// The names accepted in configs ("lambda_schedule", "alpha_schedule"), in this order.
inline constexpr const char* strength_schedule_names = "\"constant\", \"linear\", \"ganin\"";

inline StrengthShape parse_strength_shape(std::string_view name) {
  if (name == "constant") return StrengthShape::constant;
  if (name == "linear") return StrengthShape::linear;
  if (name == "ganin") return StrengthShape::ganin;
  fail("strength schedule \"", name, "\" is not known; allowed: ", strength_schedule_names);
}

inline const char* strength_shape_name(StrengthShape shape) {
  switch (shape) {
    case StrengthShape::constant:
      return "constant";
    case StrengthShape::linear:
      return "linear";
    case StrengthShape::ganin:
      return "ganin";
  }
  return "constant";
}

struct StrengthSchedule {
  StrengthShape shape = StrengthShape::constant;
  double final_value = 1.0;

  StrengthSchedule() = default;
  StrengthSchedule(StrengthShape shape_, double final_value_) : shape(shape_), final_value(final_value_) {
    require(std::isfinite(final_value) && final_value >= 0.0,
            "StrengthSchedule: the final strength must be finite and >= 0, got ", final_value);
  }
  // From a config name: StrengthSchedule("ganin", 10.0).
  StrengthSchedule(std::string_view name, double final_value_)
      : StrengthSchedule(parse_strength_shape(name), final_value_) {}

  // s(p), p the fraction of training done (clamped to [0, 1]).
  double at(double p) const {
    require(!std::isnan(p), "StrengthSchedule: the training fraction p is NaN");
    p = std::clamp(p, 0.0, 1.0);
    switch (shape) {
      case StrengthShape::constant:
        return final_value;
      case StrengthShape::linear:
        return final_value * p;
      case StrengthShape::ganin:
        return final_value * (2.0 / (1.0 + std::exp(-10.0 * p)) - 1.0);
    }
    return final_value;
  }

  // The strength for epoch `epoch` (1-based) of `epochs`: s((epoch - 1) / epochs), so the first
  // epoch of a ramp trains at 0 and the last just below the final value (as Clavijo et al.'s per-step p).
  double at_epoch(long long epoch, long long epochs) const {
    require(epochs >= 1 && epoch >= 1, "StrengthSchedule: epoch ", epoch, " of ", epochs,
            " (both must be >= 1)");
    return at(static_cast<double>(epoch - 1) / static_cast<double>(epochs));
  }

  // The strength for batch `batch` (0-based) of `batches` in epoch `epoch` (1-based) of `epochs`:
  // s(p) with p = ((epoch - 1) batches + batch) / (epochs batches), the fraction of optimisation
  // steps done before this one — Clavijo et al.'s per-step p, so a ramp rises smoothly within each epoch.
  double at_step(long long epoch, long long batch, long long batches, long long epochs) const {
    require(epochs >= 1 && epoch >= 1 && batches >= 1 && batch >= 0 && batch < batches,
            "StrengthSchedule: batch ", batch, " of ", batches, " in epoch ", epoch, " of ", epochs,
            " (epochs and batches must be >= 1, batch in [0, batches))");
    return at(static_cast<double>((epoch - 1) * batches + batch) / static_cast<double>(epochs * batches));
  }

  std::string name() const { return strength_shape_name(shape); }
};

}  // namespace agnostic::adversarial
