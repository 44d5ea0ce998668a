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
#include "agnostic/io/input_transforms.hpp"

namespace agnostic::io {

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

// Read as a model file reads it (io::standardisation_from_json), so the checks are one code.
inline void from_json(const nlohmann::json& j, Standardisation& s) {
  s = standardisation_from_json(parse_json_text(j.dump(), "inputs"));
}

}  // namespace agnostic::io
