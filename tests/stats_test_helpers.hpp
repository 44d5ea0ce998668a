#pragma once
// What the test_stats files share (one definition for the family's single translation unit,
// tests/CMakeLists.txt): the reference folder, JSON loading, model options by interpolation code,
// and tests/reference/stats_metrics.json with its vectors.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/likelihood.hpp"

namespace agnostic_test {

inline const std::string kReference = std::string(AGNOSTIC_SHARED_DIR) + "/reference/";

inline nlohmann::json load(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline agnostic::stats::ModelOptions with(
    agnostic::stats::NormsysInterp normsys, agnostic::stats::HistosysInterp histosys,
    agnostic::stats::NonPositive non_positive = agnostic::stats::NonPositive::clip) {
  agnostic::stats::ModelOptions o;
  o.normsys = normsys;
  o.histosys = histosys;
  o.non_positive = non_positive;
  return o;
}

// tests/reference/stats_metrics.json (written by tests/reference/stats_metrics.py).
inline const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(AGNOSTIC_SOURCE_DIR) + "/tests/reference/stats_metrics.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

inline agnostic::VectorD vec(const nlohmann::json& j) {
  agnostic::VectorD v(static_cast<agnostic::Index>(j.size()));
  for (std::size_t i = 0; i < j.size(); ++i) v(static_cast<agnostic::Index>(i)) = j[i].get<double>();
  return v;
}

}  // namespace agnostic_test
