#pragma once
// JSON for OptimiserState (nlohmann::json, found by argument-dependent lookup:
// `nlohmann::json j = optimiser.state();` and `optimiser.load_state(j.get<OptimiserState<float>>())`).
//
//   {"kind": "adam", "counters": {"steps": 12, "steps:net.0.weight": 12, ...},
//    "scalars": {"learning_rate": 0.001},
//    "buffers": {"exp_avg:net.0.weight": {"rows": 20, "cols": 41, "data": [row-major values]}, ...}}
//
// Numbers are written with enough digits to read back the same float or double bits.
#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/optim/optimiser.hpp"

namespace agnostic {

template <class T>
void to_json(nlohmann::json& j, const OptimiserState<T>& s) {
  j = nlohmann::json::object();
  j["kind"] = s.kind;
  j["counters"] = s.counters;
  j["scalars"] = s.scalars;
  nlohmann::json buffers = nlohmann::json::object();
  for (const auto& [name, m] : s.buffers) {
    nlohmann::json data = nlohmann::json::array();
    for (Index r = 0; r < m.rows(); ++r)
      for (Index c = 0; c < m.cols(); ++c) data.push_back(m(r, c));
    buffers[name] = {{"rows", m.rows()}, {"cols", m.cols()}, {"data", std::move(data)}};
  }
  j["buffers"] = std::move(buffers);
}

namespace detail {
inline const nlohmann::json& state_member(const nlohmann::json& object, const char* key,
                                          const std::string& where) {
  require(object.is_object() && object.contains(key), "optimiser state: ", where, " has no key '", key, "'");
  return object.at(key);
}
}  // namespace detail

template <class T>
void from_json(const nlohmann::json& j, OptimiserState<T>& s) {
  try {
    s.kind = detail::state_member(j, "kind", "the top level").get<std::string>();
    s.counters =
        detail::state_member(j, "counters", "the top level").get<std::map<std::string, std::int64_t>>();
    s.scalars = detail::state_member(j, "scalars", "the top level").get<std::map<std::string, double>>();
    s.buffers.clear();
    for (const auto& [name, b] : detail::state_member(j, "buffers", "the top level").items()) {
      const std::string where = "buffer '" + name + "'";
      const auto rows = detail::state_member(b, "rows", where).template get<Index>(),
                 cols = detail::state_member(b, "cols", where).template get<Index>();
      const nlohmann::json& data = detail::state_member(b, "data", where);
      require(rows >= 0 && cols >= 0 && data.is_array() && static_cast<Index>(data.size()) == rows * cols,
              "optimiser state: ", where, " is ", rows, " x ", cols, " but has ", data.size(), " values");
      Matrix<T> m(rows, cols);
      for (Index r = 0; r < rows; ++r)
        for (Index c = 0; c < cols; ++c)
          m(r, c) = data[static_cast<std::size_t>(r * cols + c)].template get<T>();
      s.buffers.emplace(name, std::move(m));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("optimiser state: malformed JSON (", e.what(), ")");
  }
}

}  // namespace agnostic
