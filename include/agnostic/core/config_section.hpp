#pragma once
// ConfigSection: a checked view of one JSON object of a config file at a key path. Unknown keys,
// values of the wrong type and values outside their allowed set are Errors that name the config
// file, the key path ("dann.lambda", "variables[2].bins"), the bad value and what is allowed:
//   config 'c.json': key 'optimiser.name' is "adamm"; allowed: sgd, rmsprop, adam, adamw
// Every config reader uses it — training configs (train/config.hpp and each method's own section
// in train/methods/) and the statistics configs (stats/sampling_config.hpp) — so all of them
// report errors the same way. A missing sub-section reads as an empty object (every key default).
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic {

class ConfigSection {
 public:
  ConfigSection(const nlohmann::json& j, std::string path, std::string source,
                std::vector<std::string> allowed)
      : j_(j), path_(std::move(path)), source_(std::move(source)), allowed_(std::move(allowed)) {
    if (!j_.is_object())
      fail_at(path_.empty() ? "(top level)" : path_, "is ", j_.dump(), "; expected an object {...}");
    for (const auto& [key, value] : j_.items()) {
      bool ok = false;
      for (const auto& a : allowed_) ok = ok || a == key;
      if (!ok)
        fail_at(child(key), "is not a known key; allowed keys", path_.empty() ? "" : " in '" + path_ + "'",
                ": ", list(allowed_));
    }
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& raw(const std::string& key) const { return j_[key]; }
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& source() const { return source_; }

  ConfigSection section(const std::string& key, std::vector<std::string> allowed) const {
    return ConfigSection(has(key) ? j_[key] : empty_object(), child(key), source_, std::move(allowed));
  }

  double number(const std::string& key, double fallback, double lo, double hi, bool lo_open = false) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_number()) fail_at(child(key), "is ", v.dump(), "; expected a number");
    const double x = v.get<double>();
    if (!(lo_open ? x > lo : x >= lo) || !(x <= hi))
      fail_at(child(key), "is ", v.dump(), "; expected a number in ", lo_open ? "(" : "[", lo, ", ", hi, "]");
    return x;
  }

  Index integer(const std::string& key, Index fallback, Index lo, Index hi = 1000000000) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == std::floor(v.get<double>())))
      fail_at(child(key), "is ", v.dump(), "; expected an integer from ", lo, " to ", hi);
    const double x = v.get<double>();
    if (x < static_cast<double>(lo) || x > static_cast<double>(hi))
      fail_at(child(key), "is ", v.dump(), "; expected an integer from ", lo, " to ", hi);
    return static_cast<Index>(x);
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) fail_at(child(key), "is ", j_[key].dump(), "; expected true or false");
    return j_[key].get<bool>();
  }

  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_string()) fail_at(child(key), "is ", j_[key].dump(), "; expected a string");
    return j_[key].get<std::string>();
  }

  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& allowed) const {
    const std::string s = string(key, fallback);
    for (const auto& a : allowed)
      if (a == s) return s;
    fail_at(child(key), "is \"", s, "\"; allowed: ", list(allowed));
  }

  // A list of names; `required` makes a missing key an error; with `one_name_allowed` a single
  // "name" stands for ["name"].
  std::vector<std::string> strings(const std::string& key, bool required,
                                   bool one_name_allowed = false) const {
    if (!has(key)) {
      if (required) fail_at(child(key), "is missing; expected a list of names [\"a\", \"b\", ...]");
      return {};
    }
    const auto& v = j_[key];
    if (one_name_allowed && v.is_string()) return {v.get<std::string>()};
    if (!v.is_array()) fail_at(child(key), "is ", v.dump(), "; expected a list of names [\"a\", \"b\", ...]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        fail_at(child(key) + "[" + std::to_string(i) + "]", "is ", v[i].dump(), "; expected a string");
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  // A list of finite numbers (required).
  std::vector<double> numbers(const std::string& key) const {
    if (!has(key)) fail_at(child(key), "is missing; expected a list of numbers [a, b, ...]");
    const auto& v = j_[key];
    if (!v.is_array()) fail_at(child(key), "is ", v.dump(), "; expected a list of numbers [a, b, ...]");
    std::vector<double> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number() || !std::isfinite(v[i].get<double>()))
        fail_at(child(key) + "[" + std::to_string(i) + "]", "is ", v[i].dump(), "; expected a finite number");
      out.push_back(v[i].get<double>());
    }
    return out;
  }

  // A list of layer widths such as [64, 64] (an empty list is allowed: no hidden layer).
  std::vector<Index> widths(const std::string& key, const std::vector<Index>& fallback) const {
    if (!has(key)) return fallback;
    const auto& h = j_[key];
    if (!h.is_array())
      fail_at(child(key), "is ", h.dump(), "; expected a list of layer widths such as [64, 64]");
    std::vector<Index> out;
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (!h[i].is_number_integer() || h[i].get<Index>() < 1 || h[i].get<Index>() > 100000)
        fail_at(child(key) + "[" + std::to_string(i) + "]", "is ", h[i].dump(),
                "; expected a layer width from 1 to 100000");
      out.push_back(h[i].get<Index>());
    }
    return out;
  }

  std::map<std::string, Index> classes(const std::string& key) const {
    std::map<std::string, Index> out;
    if (!has(key)) return out;
    const auto& v = j_[key];
    if (!v.is_object())
      fail_at(child(key), "is ", v.dump(), "; expected an object {\"value\": class index, ...}");
    for (const auto& [value, index] : v.items()) {
      if (!index.is_number_integer() || index.get<Index>() < 0)
        fail_at(child(key) + "." + value, "is ", index.dump(), "; expected a class index 0, 1, 2, ...");
      out[value] = index.get<Index>();
    }
    return out;
  }

  template <class... Parts>
  [[noreturn]] void fail_at(const std::string& key, Parts&&... parts) const {
    fail("config '", source_, "': key '", key, "' ", std::forward<Parts>(parts)...);
  }

  static std::string list(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  static const nlohmann::json& empty_object() {
    static const nlohmann::json object = nlohmann::json::object();
    return object;
  }

  const nlohmann::json& j_;
  std::string path_, source_;
  std::vector<std::string> allowed_;
};

}  // namespace agnostic
