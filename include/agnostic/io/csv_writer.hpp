#pragma once
// Writing a CSV of named columns (predictions, generated events): the values are given as text so
// that each column can choose its own form, and number_text() gives the shortest text that reads
// back as the same value. The file is written atomically (core/atomic_file.hpp), so a reader never
// sees half a file.
#include <charconv>
#include <ostream>
#include <string>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"

namespace agnostic::io {

// The shortest text that reads back as the same value.
template <class T>
std::string number_text(T x) {
  char buffer[64];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, r.ptr);
}

class CsvColumns {
 public:
  void add(std::string name, std::vector<std::string> values) {
    require(columns_.empty() || values.size() == columns_.front().size(), "CsvColumns: column '", name,
            "' has ", values.size(), " rows, the others ", columns_.empty() ? 0 : columns_.front().size());
    names_.push_back(std::move(name));
    columns_.push_back(std::move(values));
  }
  template <class Range>
  void add_numbers(std::string name, const Range& values) {
    std::vector<std::string> text;
    for (const auto& v : values) text.push_back(number_text(v));
    add(std::move(name), std::move(text));
  }

  std::size_t rows() const { return columns_.empty() ? 0 : columns_.front().size(); }

  // Writes the header and the rows (a header alone when there are no rows).
  void write(const std::string& path) const {
    write_file_atomically_with(path, [&](std::ostream& out) {
      for (std::size_t k = 0; k < names_.size(); ++k) out << (k ? "," : "") << quoted(names_[k]);
      out << '\n';
      for (std::size_t r = 0; r < rows(); ++r) {
        for (std::size_t k = 0; k < columns_.size(); ++k) out << (k ? "," : "") << quoted(columns_[k][r]);
        out << '\n';
      }
    });
  }

  // A field as CSV writes it: quoted when it holds a comma, a quote or a line break.
  static std::string quoted(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> columns_;
};

}  // namespace agnostic::io
