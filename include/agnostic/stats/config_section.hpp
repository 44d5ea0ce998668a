#pragma once
// A checked view of one JSON object of a statistics config file (`agnostic sample`'s config,
// docs/sampling.md): unknown keys, values of the wrong type and values outside their allowed set are
// Errors naming the file, the key path ("sampling.events"), the bad value and what is allowed, the
// same standard as train/config.hpp's ConfigSection (which stats/ cannot include: train/ and stats/
// sit side by side above optim/).
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::stats {

class StatsConfigSection {
 public:
  StatsConfigSection(const nlohmann::json& j, std::string path, std::string source,
                     std::vector<std::string> allowed)
      : j_(j), path_(std::move(path)), source_(std::move(source)), allowed_(std::move(allowed)) {
    if (!j_.is_object())
      fail_at(path_.empty() ? "(top level)" : path_, "is ", j_.dump(), "; expected an object {...}");
    for (const auto& item : j_.items()) {
      bool known = false;
      for (const auto& a : allowed_) known = known || a == item.key();
      if (!known)
        fail_at(child(item.key()), "is not a known key; allowed keys",
                path_.empty() ? std::string() : " in '" + path_ + "'", ": ", list(allowed_));
    }
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& raw(const std::string& key) const { return j_[key]; }
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& source() const { return source_; }

  StatsConfigSection section(const std::string& key, std::vector<std::string> allowed) const {
    return StatsConfigSection(has(key) ? j_[key] : empty_object(), child(key), source_, std::move(allowed));
  }

  double number(const std::string& key, double fallback, double lo, double hi) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    if (!v.is_number()) fail_at(child(key), "is ", v.dump(), "; expected a number");
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi))
      fail_at(child(key), "is ", v.dump(), "; expected a number in [", lo, ", ", hi, "]");
    return x;
  }

  Index integer(const std::string& key, Index fallback, Index lo, Index hi) const {
    if (!has(key)) return fallback;
    const auto& v = j_[key];
    const bool whole = v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                                 v.get<double>() == std::floor(v.get<double>()));
    if (!whole || v.get<double>() < static_cast<double>(lo) || v.get<double>() > static_cast<double>(hi))
      fail_at(child(key), "is ", v.dump(), "; expected an integer from ", lo, " to ", hi);
    return static_cast<Index>(v.get<double>());
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

  // A list of strings; `required` makes a missing key an error.
  std::vector<std::string> strings(const std::string& key, bool required) const {
    if (!has(key)) {
      if (required) fail_at(child(key), "is missing; expected a list of names [\"a\", \"b\", ...]");
      return {};
    }
    const auto& v = j_[key];
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array()) fail_at(child(key), "is ", v.dump(), "; expected a list of names [\"a\", \"b\", ...]");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        fail_at(child(key) + "[" + std::to_string(i) + "]", "is ", v[i].dump(), "; expected a string");
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  // A list of finite numbers.
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

}  // namespace agnostic::stats
