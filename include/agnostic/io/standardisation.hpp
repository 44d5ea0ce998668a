#pragma once
// Per-feature standardisation with lwtnn's convention: the network sees (x + offset) * scale,
// with offset = -mean and scale = 1 / standard deviation, computed on the training rows only and
// stored with the model (as lwtnn's `inputs` entries {"name", "offset", "scale"}), so inference
// applies exactly what training applied.
//
// The standard deviation is the population one (divide by the number of rows, or by the sum of
// weights when weighted), as in scikit-learn's StandardScaler. Means and variances are unweighted
// unless event weights are passed. A constant feature (standard deviation at most 1e-12 times its
// mean's magnitude, which also absorbs the rounding of a mean of equal values) gets scale 1, so it
// is shifted to 0 rather than blown up.
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::io {

struct Standardisation {
  std::vector<std::string> names;
  std::vector<double> offset;
  std::vector<double> scale;

  Index size() const { return static_cast<Index>(names.size()); }

  // In place on a rows x size() matrix.
  template <class T>
  void apply(Matrix<T>& x) const {
    require(x.cols() == size(), "standardisation: the data have ", x.cols(), " columns but ", size(),
            " inputs were standardised (", describe(), ")");
    for (Index j = 0; j < x.cols(); ++j) {
      const auto o = static_cast<double>(offset[static_cast<std::size_t>(j)]);
      const auto s = static_cast<double>(scale[static_cast<std::size_t>(j)]);
      for (Index i = 0; i < x.rows(); ++i) x(i, j) = static_cast<T>((static_cast<double>(x(i, j)) + o) * s);
    }
  }

  template <class T>
  Matrix<T> applied(Matrix<T> x) const {
    apply(x);
    return x;
  }

  std::string describe() const {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
  }
};

// Fits on `rows` of `x` (all rows when empty); with `weights` (one per row of x) the mean and
// variance are weighted.
template <class T>
Standardisation fit_standardisation(const Matrix<T>& x, std::vector<std::string> names,
                                    std::span<const Index> rows = {}, std::span<const T> weights = {}) {
  require(static_cast<Index>(names.size()) == x.cols(), "fit_standardisation: ", names.size(), " names for ",
          x.cols(), " columns");
  require(weights.empty() || static_cast<Index>(weights.size()) == x.rows(),
          "fit_standardisation: ", weights.size(), " weights for ", x.rows(), " rows");
  const Index n = rows.empty() ? x.rows() : static_cast<Index>(rows.size());
  require(n > 0, "fit_standardisation: no rows to compute the mean and standard deviation on");
  auto row_at = [&](Index k) { return rows.empty() ? k : rows[static_cast<std::size_t>(k)]; };
  for (Index k = 0; k < n; ++k)
    require(row_at(k) >= 0 && row_at(k) < x.rows(), "fit_standardisation: row index ", row_at(k),
            " outside the ", x.rows(), " rows");

  double weight_sum = static_cast<double>(n);
  if (!weights.empty()) {
    weight_sum = 0.0;
    for (Index k = 0; k < n; ++k)
      weight_sum += static_cast<double>(weights[static_cast<std::size_t>(row_at(k))]);
    require(weight_sum > 0 && std::isfinite(weight_sum),
            "fit_standardisation: the weights of the chosen rows sum to ", weight_sum,
            "; expected a positive sum for weighted means");
  }
  auto weight_of = [&](Index k) {
    return weights.empty() ? 1.0 : static_cast<double>(weights[static_cast<std::size_t>(row_at(k))]);
  };

  Standardisation out;
  out.names = std::move(names);
  for (Index j = 0; j < x.cols(); ++j) {
    // Two passes (mean, then squared deviations) keep the variance accurate for large offsets.
    double mean = 0.0;
    for (Index k = 0; k < n; ++k) mean += weight_of(k) * static_cast<double>(x(row_at(k), j));
    mean /= weight_sum;
    double var = 0.0;
    for (Index k = 0; k < n; ++k) {
      const double d = static_cast<double>(x(row_at(k), j)) - mean;
      var += weight_of(k) * d * d;
    }
    var /= weight_sum;
    const std::string& name = out.names[static_cast<std::size_t>(j)];
    require(std::isfinite(mean) && std::isfinite(var), "fit_standardisation: feature '", name,
            "' has a non-finite mean or variance (mean ", mean, ", variance ", var, ")");
    require(var >= 0, "fit_standardisation: feature '", name, "' has a negative weighted variance (", var,
            ") because of negative event weights; use unweighted standardisation");
    const double sd = std::sqrt(var);
    out.offset.push_back(-mean);
    out.scale.push_back(sd <= 1e-12 * std::abs(mean) || sd == 0.0 ? 1.0 : 1.0 / sd);
  }
  return out;
}

// lwtnn's `inputs`: [{"name": ..., "offset": ..., "scale": ...}, ...].
inline void to_json(nlohmann::json& j, const Standardisation& s) {
  j = nlohmann::json::array();
  for (std::size_t i = 0; i < s.names.size(); ++i)
    j.push_back({{"name", s.names[i]}, {"offset", s.offset[i]}, {"scale", s.scale[i]}});
}

inline void from_json(const nlohmann::json& j, Standardisation& s) {
  require(j.is_array(), "inputs: expected a JSON array of {\"name\", \"offset\", \"scale\"}, found ",
          j.type_name());
  s = Standardisation{};
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string at = "inputs[" + std::to_string(i) + "]";
    require(e.is_object(), at, ": expected an object {\"name\", \"offset\", \"scale\"}, found ",
            e.type_name());
    for (const auto& [key, value] : e.items())
      require(key == "name" || key == "offset" || key == "scale", at, ": unknown key '", key,
              "'; expected 'name', 'offset', 'scale'");
    require(e.contains("name") && e["name"].is_string(), at, ": key 'name' must be a string");
    require(e.contains("offset") && e["offset"].is_number(), at, ": key 'offset' must be a number");
    require(e.contains("scale") && e["scale"].is_number(), at, ": key 'scale' must be a number");
    const double offset = e["offset"].get<double>(), scale = e["scale"].get<double>();
    require(std::isfinite(offset) && std::isfinite(scale) && scale != 0.0, at,
            ": offset and scale must be finite and the scale non-zero, found offset ", offset, ", scale ",
            scale);
    s.names.push_back(e["name"].get<std::string>());
    s.offset.push_back(offset);
    s.scale.push_back(scale);
  }
}

}  // namespace agnostic::io
