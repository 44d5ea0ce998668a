#pragma once
// What a model does to its raw features before the first layer, as a model file stores it: the
// missing-value rules (a marker replaced, an indicator input added) and lwtnn's standardisation
// (x + offset) * scale. Plain data without Eigen, read from a model file's JSON with the model
// reader's own JSON (io/json_reader.hpp), so that trigger code (infer/) reads them;
// io/missing_values.hpp and io/standardisation.hpp fit them on training data and write them.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/index.hpp"
#include "agnostic/io/json_reader.hpp"

namespace agnostic::io {

// What fitting produced for one feature.
struct MissingValueRule {
  std::string feature;
  double marker = -999.0;
  double replacement = 0.0;
  std::string indicator;  // name of the indicator column; empty for none

  bool is_missing(double x) const { return std::isnan(marker) ? std::isnan(x) : x == marker; }
};

struct MissingValueRules {
  std::vector<MissingValueRule> rules;

  // The rule for `feature`, or nullptr.
  const MissingValueRule* find(std::string_view feature) const {
    for (const auto& r : rules)
      if (r.feature == feature) return &r;
    return nullptr;
  }
  // Names of the indicator columns, in the order they are appended after the features.
  std::vector<std::string> indicator_names() const {
    std::vector<std::string> names;
    for (const auto& r : rules)
      if (!r.indicator.empty()) names.push_back(r.indicator);
    return names;
  }
  bool empty() const { return rules.empty(); }
};

struct Standardisation {
  std::vector<std::string> names;
  std::vector<double> offset;
  std::vector<double> scale;

  Index size() const { return static_cast<Index>(names.size()); }

  // In place on a rows x size() matrix (an agnostic::Matrix<T>).
  template <class M>
  void apply(M& x) const {
    using T = typename M::Scalar;
    require(x.cols() == size(), "standardisation: the data have ", x.cols(), " columns but ", size(),
            " inputs were standardised (", describe(), ")");
    for (Index j = 0; j < x.cols(); ++j) {
      const auto o = static_cast<double>(offset[static_cast<std::size_t>(j)]);
      const auto s = static_cast<double>(scale[static_cast<std::size_t>(j)]);
      for (Index i = 0; i < x.rows(); ++i) x(i, j) = static_cast<T>((static_cast<double>(x(i, j)) + o) * s);
    }
  }

  template <class M>
  M applied(M x) const {
    apply(x);
    return x;
  }

  std::string describe() const {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
  }
};

// A model file's "missing_values": an array of {"feature", "marker", "replacement", "indicator"}
// ("indicator" is null for none; a NaN marker is the string "nan", as JSON has no NaN).
inline MissingValueRules missing_value_rules_from_json(const JsonValue& j) {
  require(j.is_array(), "missing-value rules: expected a JSON array of rules, found ", j.type_name());
  MissingValueRules rules;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string at = "missing-value rule " + std::to_string(i);
    require(e.is_object(), at, ": expected an object, found ", e.type_name());
    if (const auto* key = e.first_key_not_in({"feature", "marker", "replacement", "indicator"}))
      fail(at, ": unknown key '", *key, "'; expected 'feature', 'marker', 'replacement', 'indicator'");
    const JsonValue *feature = e.find("feature"), *marker = e.find("marker"),
                    *replacement = e.find("replacement"), *indicator = e.find("indicator");
    require(feature && feature->is_string(), at, ": key 'feature' must be a string");
    MissingValueRule r;
    r.feature = feature->string();
    require(marker && (marker->is_number() || (marker->is_string() && marker->string() == "nan")), at,
            ": key 'marker' must be a number or \"nan\"");
    r.marker = marker->is_number() ? marker->number() : std::nan("");
    require(replacement && replacement->is_number(), at, ": key 'replacement' must be a number");
    r.replacement = replacement->number();
    if (indicator && !indicator->is_null()) {
      require(indicator->is_string(), at, ": key 'indicator' must be a string or null");
      r.indicator = indicator->string();
    }
    require(rules.find(r.feature) == nullptr, at, ": feature '", r.feature, "' already has a rule");
    rules.rules.push_back(std::move(r));
  }
  return rules;
}

// lwtnn's "inputs": [{"name": ..., "offset": ..., "scale": ...}, ...].
inline Standardisation standardisation_from_json(const JsonValue& j) {
  require(j.is_array(), "inputs: expected a JSON array of {\"name\", \"offset\", \"scale\"}, found ",
          j.type_name());
  Standardisation s;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string at = "inputs[" + std::to_string(i) + "]";
    require(e.is_object(), at, ": expected an object {\"name\", \"offset\", \"scale\"}, found ",
            e.type_name());
    if (const auto* key = e.first_key_not_in({"name", "offset", "scale"}))
      fail(at, ": unknown key '", *key, "'; expected 'name', 'offset', 'scale'");
    const JsonValue *name = e.find("name"), *offset = e.find("offset"), *scale = e.find("scale");
    require(name && name->is_string(), at, ": key 'name' must be a string");
    require(offset && offset->is_number(), at, ": key 'offset' must be a number");
    require(scale && scale->is_number(), at, ": key 'scale' must be a number");
    const double o = offset->number(), c = scale->number();
    require(std::isfinite(o) && std::isfinite(c) && c != 0.0, at,
            ": offset and scale must be finite and the scale non-zero, found offset ", o, ", scale ", c);
    s.names.push_back(name->string());
    s.offset.push_back(o);
    s.scale.push_back(c);
  }
  return s;
}

}  // namespace agnostic::io
