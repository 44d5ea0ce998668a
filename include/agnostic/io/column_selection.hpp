#pragma once
// Picking a table's columns by name as the network's inputs (features), the class label, the
// event weight and the domain, and turning them into matrices and class indices.
//
// Labels and domains are class indices 0, 1, 2, ... A numeric column must hold non-negative
// integers, unless a mapping is given; a text column (the Higgs `Label`, `s`/`b`) needs an
// explicit mapping such as {"b": 0, "s": 1}: nothing is guessed, and a value without a class is
// an error naming the row and the value. For a numeric column the mapping's keys are numbers
// written as text ({"-1": 0, "1": 1}).
//
// Features go through the fitted missing-value rules (missing_values.hpp) first; indicator
// columns follow the features, in rule order. A NaN or infinite feature value left after that is
// an error naming the row and column, as is a non-finite weight.
#include <charconv>
#include <cmath>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/csv.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

struct ColumnSelection {
  std::vector<std::string> features;
  std::string label = {};                           // empty: no label
  std::map<std::string, Index> label_classes = {};  // value -> class index
  std::string weight = {};                          // empty: every weight is 1
  std::string domain = {};                          // empty: no domain
  std::map<std::string, Index> domain_classes = {};
};

template <class T>
struct SelectedColumns {
  Matrix<T> features;                      // rows x (features + indicators)
  std::vector<std::string> feature_names;  // the selected features, then the indicator columns
  std::vector<Index> labels;               // empty when no label column was selected
  Vector<T> weights;                       // all ones when no weight column was selected
  std::vector<Index> domains;              // empty when no domain column was selected
};

namespace selection_detail {

inline std::string describe_mapping(const std::map<std::string, Index>& classes) {
  std::string out;
  for (const auto& [value, index] : classes)
    out += (out.empty() ? "'" : ", '") + value + "' -> " + std::to_string(index);
  return out.empty() ? std::string("none") : out;
}

// Class indices of `rows` of column `name` (`what` is "label" or "domain", for messages).
inline std::vector<Index> class_indices(const Table& table, const std::string& name,
                                        const std::map<std::string, Index>& classes,
                                        std::span<const Index> rows, const char* what) {
  for (const auto& [value, index] : classes)
    require(index >= 0, "the ", what, " mapping sends '", value, "' to ", index,
            "; expected a non-negative class index");
  std::vector<Index> out;
  out.reserve(rows.size());
  if (table.has_text_column(name)) {
    if (classes.empty())
      fail("the ", what, " column '", name, "' of ",
           table.source().empty() ? "the table" : "'" + table.source() + "'", " holds text (for example '",
           table.n_rows() > 0 ? table.text_column(name)[0] : std::string(),
           "'); give an explicit mapping from its values to class indices, such as {\"b\": 0, \"s\": 1}");
    const auto& column = table.text_column(name);
    for (Index r : rows) {
      const std::string& value = column[static_cast<std::size_t>(r)];
      const auto it = classes.find(value);
      if (it == classes.end())
        fail(table.locate(r, name), ": ", what, " value '", value, "' has no class in the mapping (",
             describe_mapping(classes), ")");
      out.push_back(it->second);
    }
    return out;
  }
  const auto column = table.column(name);
  std::map<double, Index> numeric_classes;
  for (const auto& [key, index] : classes) {
    double v;
    require(csv_detail::parse_double(key, v) && std::isfinite(v), "the ", what, " column '", name,
            "' holds numbers, so the keys of its mapping must be numbers; found '", key, "'");
    numeric_classes[v] = index;
  }
  for (Index r : rows) {
    const double x = column[static_cast<std::size_t>(r)];
    if (!numeric_classes.empty()) {
      const auto it = numeric_classes.find(x);
      if (it == numeric_classes.end())
        fail(table.locate(r, name), ": ", what, " value ", x, " has no class in the mapping (",
             describe_mapping(classes), ")");
      out.push_back(it->second);
      continue;
    }
    if (!(x >= 0 && x == std::floor(x) && x < 1e9))
      fail(table.locate(r, name), ": ", what, " value ", x,
           " is not a class index; expected a non-negative integer (or give a mapping)");
    out.push_back(static_cast<Index>(x));
  }
  return out;
}

}  // namespace selection_detail

// Extracts `rows` (all rows when empty) of `table` as chosen by `selection`, with the fitted
// missing-value `rules` applied.
template <class T>
SelectedColumns<T> select_columns(const Table& table, const ColumnSelection& selection,
                                  const MissingValueRules& rules = {}, std::span<const Index> rows = {}) {
  std::vector<Index> all;
  if (rows.empty()) {
    all.resize(static_cast<std::size_t>(table.n_rows()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Index>(i);
    rows = all;
  }
  for (Index r : rows)
    require(r >= 0 && r < table.n_rows(), "select_columns: row index ", r, " outside the table's ",
            table.n_rows(), " rows");
  require(!selection.features.empty(), "no feature columns selected; expected at least one feature name");
  for (std::size_t i = 0; i < selection.features.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      require(selection.features[i] != selection.features[j], "feature '", selection.features[i],
              "' is selected twice");
  for (const auto& rule : rules.rules) {
    bool selected = false;
    for (const auto& f : selection.features) selected = selected || f == rule.feature;
    require(selected, "the missing-value rules name feature '", rule.feature, "', which is not selected");
  }

  SelectedColumns<T> out;
  const auto n = static_cast<Index>(rows.size());
  const auto indicators = rules.indicator_names();
  const auto n_features = static_cast<Index>(selection.features.size());
  out.features.resize(n, n_features + static_cast<Index>(indicators.size()));
  out.feature_names = selection.features;
  out.feature_names.insert(out.feature_names.end(), indicators.begin(), indicators.end());

  for (Index j = 0; j < n_features; ++j) {
    const std::string& name = selection.features[static_cast<std::size_t>(j)];
    const auto column = table.column(name);
    const MissingValueRule* rule = rules.find(name);
    const bool has_indicator = rule && !rule->indicator.empty();
    Index indicator_col = n_features;  // indicators follow the features in the order of the rules
    for (const auto& other : rules.rules) {
      if (&other == rule) break;
      if (!other.indicator.empty()) ++indicator_col;
    }
    for (Index k = 0; k < n; ++k) {
      const Index r = rows[static_cast<std::size_t>(k)];
      double x = column[static_cast<std::size_t>(r)];
      const bool missing = rule && rule->is_missing(x);
      if (missing) x = rule->replacement;
      if (!std::isfinite(x))
        fail(table.locate(r, name), ": feature value ", x,
             " is not finite; expected a finite number (declare a missing-value marker to replace it)");
      out.features(k, j) = static_cast<T>(x);
      if (has_indicator) out.features(k, indicator_col) = missing ? T(1) : T(0);
    }
  }

  if (!selection.label.empty())
    out.labels =
        selection_detail::class_indices(table, selection.label, selection.label_classes, rows, "label");
  if (!selection.domain.empty())
    out.domains =
        selection_detail::class_indices(table, selection.domain, selection.domain_classes, rows, "domain");

  out.weights = Vector<T>::Ones(n);
  if (!selection.weight.empty()) {
    const auto column = table.column(selection.weight);
    for (Index k = 0; k < n; ++k) {
      const Index r = rows[static_cast<std::size_t>(k)];
      const double w = column[static_cast<std::size_t>(r)];
      if (!std::isfinite(w)) fail(table.locate(r, selection.weight), ": event weight ", w, " is not finite");
      out.weights(k) = static_cast<T>(w);
    }
  }
  return out;
}

}  // namespace agnostic::io
