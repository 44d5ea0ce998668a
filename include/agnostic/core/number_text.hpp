#pragma once
// Reading a whole piece of text (an option's value, a cut's threshold, a bin edge) as a number: the
// text must be consumed to its end, and a real number must be finite. Callers word the error, since
// only they know what the text was for. (CSV fields have their own, faster reader: io/csv.hpp.)
#include <cmath>
#include <exception>
#include <string>

namespace agnostic {

// True, with `value` set, when all of `text` is a finite number as std::stod reads it.
inline bool read_finite_number(const std::string& text, double& value) {
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return !text.empty() && used == text.size() && std::isfinite(value);
}

// True, with `value` set, when all of `text` is a whole number as std::stoll reads it.
inline bool read_whole_number(const std::string& text, long long& value) {
  std::size_t used = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return !text.empty() && used == text.size();
}

}  // namespace agnostic
