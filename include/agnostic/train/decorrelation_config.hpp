#pragma once
// The "decorrelation" section of a training config (docs/decorrelation.md): a classifier trained
// on L = L_class + lambda * penalty(score, m), the penalty keeping its score from depending on a
// variable m of the data files (losses/decorrelation_*.hpp):
//   "decorrelation": {"variable": "mass", "method": "disco", "strength": 30,
//                     "strength_schedule": "constant", "classes": [0], "bins": 20, "order": 0}
//   variable           a column of the data files (need not be a feature); required
//   method             disco, mode or flatness; required
//   strength           lambda, the final strength of the schedule; a number in [0, 1e9]; required
//   strength_schedule  constant (default), linear or ganin, as DANN's lambda_schedule
//                      (train/strength_schedule.hpp), per optimisation step
//   classes            the class indices whose events enter the penalty (default [0], the background)
//   bins               equal-population bins of the variable over the training events of `classes`
//                      (MoDe's and flatness's bins; for every method the bins of the JSD figure);
//                      an integer from 2 to 1000, default 20
//   order              MoDe's Legendre order 0, 1 or 2 (default 0); read by method "mode" only
//   moment             MoDe's form: cdf (default; the paper's, the whole conditional distribution) or
//                      mean (the conditional mean only); read by method "mode" only
// The section is read here, on its own, so that the config reader (train/config.hpp) only keeps it.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/config_section.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/strength_schedule.hpp"

namespace agnostic::train {

struct DecorrelationConfig {
  std::string variable;
  std::string method;  // disco, mode, flatness
  double strength = 0.0;
  std::string strength_schedule = "constant";
  std::vector<Index> classes = {0};
  int bins = 20;
  int order = 0;
  std::string moment = "cdf";  // mode: cdf or mean

  adversarial::StrengthSchedule schedule() const { return {strength_schedule, strength}; }
};

// The config's "decorrelation" section, or nothing when it has none. Errors name the file, the key,
// the value and what is allowed.
inline std::optional<DecorrelationConfig> read_decorrelation(const TrainConfig& c) {
  const auto found = c.sections.find("decorrelation");
  if (found == c.sections.end()) return std::nullopt;
  if (c.method != "classifier" || c.loss == "inference_aware")
    fail("config '", c.source, "': key 'decorrelation' is not used with ",
         c.method != "classifier" ? "method \"" + c.method + "\""
                                  : std::string("\"loss\": \"inference_aware\""),
         "; it is read by method \"classifier\" with a cross-entropy loss; remove it");
  const ConfigSection s(
      found->second, "decorrelation", c.source,
      {"variable", "method", "strength", "strength_schedule", "classes", "bins", "order", "moment"});
  DecorrelationConfig d;
  for (const char* key : {"variable", "method", "strength"})
    if (!s.has(key))
      s.fail_at(s.child(key),
                "is missing; the decorrelation section needs 'variable' (a column of the data "
                "files), 'method' (disco, mode or flatness) and 'strength' (lambda)");
  d.variable = s.string("variable", "");
  if (d.variable.empty())
    s.fail_at(s.child("variable"), "is empty; expected the name of a column of the data files");
  d.method = s.choice("method", "disco", {"disco", "mode", "flatness"});
  d.strength = s.number("strength", 0.0, 0.0, 1e9);
  d.strength_schedule = s.choice("strength_schedule", "constant", {"constant", "linear", "ganin"});
  if (s.has("classes")) {
    const nlohmann::json& list = s.raw("classes");
    if (!list.is_array() || list.empty())
      s.fail_at(s.child("classes"), "is ", list.dump(),
                "; expected a non-empty list of class indices [0, 1, ...]");
    d.classes.clear();
    std::set<Index> seen;
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string at = s.child("classes") + "[" + std::to_string(k) + "]";
      if (!list[k].is_number_integer() || list[k].get<long long>() < 0 || list[k].get<long long>() > 1000000)
        s.fail_at(at, "is ", list[k].dump(), "; expected a class index 0, 1, 2, ...");
      const auto cls = static_cast<Index>(list[k].get<long long>());
      if (!seen.insert(cls).second) s.fail_at(at, "names class ", cls, " twice");
      d.classes.push_back(cls);
    }
  }
  d.bins = static_cast<int>(s.integer("bins", 20, 2, 1000));
  for (const char* key : {"order", "moment"})
    if (s.has(key) && d.method != "mode")
      s.fail_at(s.child(key), "is given but 'decorrelation.method' is \"", d.method,
                "\"; it is read by method \"mode\" only; remove it");
  d.order = static_cast<int>(s.integer("order", 0, 0, 2));
  d.moment = s.choice("moment", "cdf", {"cdf", "mean"});
  return d;
}

}  // namespace agnostic::train
