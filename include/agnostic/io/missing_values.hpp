#pragma once
// Missing values marked by a sentinel (the Higgs challenge writes -999.0 where a quantity is
// undefined). The user declares which features may hold the marker and how to replace it
// (MissingValueSpec); fitting on the training rows turns that into concrete rules
// (MissingValueRules: one per feature, with the replacement value already computed) that are
// stored in the model file and applied unchanged to any later data, so inference sees exactly
// what training saw.
//
// A value is missing when it equals the marker exactly (or, for a NaN marker, when it is NaN).
// The mean replacement is the mean of the feature's non-missing values over the training rows.
// With indicators, every feature that had at least one missing value in the training rows gets
// an extra input "<feature>_missing" (1 where the value was missing, else 0); features without
// missing training values get no indicator, but their markers in later data are still replaced.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/io/input_transforms.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

enum class MissingFill { mean, value };

// What the user declares.
struct MissingValueSpec {
  double marker = -999.0;
  std::vector<std::string> features = {};  // empty: every selected feature
  MissingFill fill = MissingFill::mean;
  double fill_value = 0.0;  // used when fill == MissingFill::value
  bool add_indicators = false;
};

// Fits the rules of `specs` on `rows` of `table` (all rows when `rows` is empty). `features` is
// the list of selected features; a spec with an empty feature list applies to all of them.
inline MissingValueRules fit_missing_values(const Table& table, const std::vector<std::string>& features,
                                            const std::vector<MissingValueSpec>& specs,
                                            std::span<const Index> rows = {}) {
  MissingValueRules out;
  for (const auto& spec : specs) {
    const std::vector<std::string>& names = spec.features.empty() ? features : spec.features;
    for (const auto& name : names) {
      bool selected = false;
      for (const auto& f : features) selected = selected || f == name;
      if (!selected) {
        std::string list;
        for (const auto& f : features) list += (list.empty() ? "'" : ", '") + f + "'";
        fail("missing-value rule for '", name, "': it is not one of the selected features (", list, ")");
      }
      require(out.find(name) == nullptr, "feature '", name,
              "' has two missing-value rules; expected at most one per feature");
      MissingValueRule rule{name, spec.marker, spec.fill_value, ""};
      const auto column = table.column(name);
      double sum = 0.0;
      Index n_present = 0, n_missing = 0;
      const Index n = rows.empty() ? table.n_rows() : static_cast<Index>(rows.size());
      for (Index k = 0; k < n; ++k) {
        const Index r = rows.empty() ? k : rows[static_cast<std::size_t>(k)];
        require(r >= 0 && r < table.n_rows(), "fit_missing_values: row index ", r, " outside the table's ",
                table.n_rows(), " rows");
        const double x = column[static_cast<std::size_t>(r)];
        if (rule.is_missing(x)) {
          ++n_missing;
          continue;
        }
        if (!std::isfinite(x))
          fail(table.locate(r, name), ": value ", x,
               " is not finite; expected a finite number or the missing marker ", spec.marker);
        sum += x;
        ++n_present;
      }
      if (spec.fill == MissingFill::mean) {
        if (n_present == 0)
          fail("feature '", name, "' holds the missing marker ", spec.marker, " in all ", n,
               " training rows, so it has no mean; choose a fill value instead of the mean");
        rule.replacement = sum / static_cast<double>(n_present);
      }
      require(std::isfinite(rule.replacement), "missing-value rule for '", name, "': the fill value ",
              rule.replacement, " is not finite");
      if (spec.add_indicators && n_missing > 0) rule.indicator = name + "_missing";
      out.rules.push_back(std::move(rule));
    }
  }
  return out;
}

inline MissingValueRules fit_missing_values(const Table& table, const std::vector<std::string>& features,
                                            const MissingValueSpec& spec, std::span<const Index> rows = {}) {
  return fit_missing_values(table, features, std::vector<MissingValueSpec>{spec}, rows);
}

// JSON: an array of {"feature", "marker", "replacement", "indicator"} ("indicator" is null for
// none; a NaN marker is written as the string "nan", as JSON has no NaN).
inline void to_json(nlohmann::json& j, const MissingValueRules& rules) {
  j = nlohmann::json::array();
  for (const auto& r : rules.rules) {
    nlohmann::json entry;
    entry["feature"] = r.feature;
    if (std::isnan(r.marker))
      entry["marker"] = "nan";
    else
      entry["marker"] = r.marker;
    entry["replacement"] = r.replacement;
    entry["indicator"] = r.indicator.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.indicator);
    j.push_back(std::move(entry));
  }
}

// Read as a model file reads them (io::missing_value_rules_from_json), so the checks are one code.
inline void from_json(const nlohmann::json& j, MissingValueRules& rules) {
  rules = missing_value_rules_from_json(parse_json_text(j.dump(), "missing-value rules"));
}

}  // namespace agnostic::io
