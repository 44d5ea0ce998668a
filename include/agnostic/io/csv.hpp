#pragma once
// CSV files in and out.
//
// Accepted input: a header row of column names, then one row per event; fields separated by a
// comma (or a chosen delimiter); lines whose first non-blank character is `#` and blank lines are
// skipped; names and fields may be quoted ("a,b" and "say ""hi""" as in RFC 4180); LF or CRLF line
// endings; a UTF-8 byte-order mark is skipped. Numbers may be written in any usual notation:
// 1, -2.5, +3, 1e-3, .5, 1.E+2, inf, -Infinity, nan. A column whose first value is not a number
// becomes a text column (like the Higgs `Label`), unless the options forbid it; any later value
// of a numeric column that is not a number is an error naming the file, line and column.
//
// The reader works on the whole file in memory, once through (linear time), and parses numbers
// with std::from_chars straight from the buffer without building a string per field.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::io {

struct CsvOptions {
  char delimiter = ',';
  char comment = '#';
  // Columns to keep as text whatever they hold.
  std::vector<std::string> text_columns = {};
  // When true, a column whose first value is not a number is read as text; when false it is an
  // error (every column not in `text_columns` must be numeric).
  bool infer_text_columns = true;
};

namespace csv_detail {

// Parses a whole field as a double: the full text must be consumed. Returns false on anything else.
// Overflow (1e400) is refused; underflow (1e-400) gives the nearest representable value.
inline bool parse_double(std::string_view s, double& value) {
  if (s.empty()) return false;
  const char* begin = s.data();
  const char* end = begin + s.size();
  // from_chars does not take a leading '+'; a single one is a normal way to write a number.
  if (*begin == '+' && s.size() > 1 && begin[1] != '-' && begin[1] != '+') ++begin;
  const auto result = std::from_chars(begin, end, value, std::chars_format::general);
  if (result.ptr != end) return false;
  if (result.ec == std::errc()) return true;
  if (result.ec != std::errc::result_out_of_range) return false;
  // Out of range: let strtod decide between underflow (accepted) and overflow (refused).
  const std::string copy(begin, end);
  errno = 0;
  const double v = std::strtod(copy.c_str(), nullptr);
  if (std::isinf(v)) return false;
  value = v;
  return true;
}

// True for text such as 1e400 that is a number but beyond the largest double.
inline bool looks_too_large(std::string_view s) {
  if (s.empty() || s.size() > 400) return false;
  const std::string copy(s);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  const bool literal_inf = copy.find_first_of("iI") != std::string::npos;
  return end == copy.c_str() + copy.size() && std::isinf(v) && !literal_inf;
}

inline std::string quote_for_message(std::string_view s) {
  constexpr std::size_t kMax = 40;
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on chains of string operator+.
  std::string out(1, '\'');
  out.append(s.substr(0, kMax));
  out.push_back('\'');
  if (s.size() > kMax) {
    out.insert(out.size() - 1, "...");
    out.append(" (").append(std::to_string(s.size())).append(" characters)");
  }
  return out;
}

[[noreturn]] inline void field_fail(const std::string& source, long line, std::size_t column,
                                    const std::string& name, const std::string& what) {
  fail("file '", source, "', line ", line, ", column ", column + 1, " ('", name, "'): ", what);
}

// One field of the record being read: either a view into the file buffer or, for quoted fields
// with doubled quotes, a slice of the record's scratch string.
struct FieldRef {
  std::size_t begin = 0, size = 0;
  bool in_scratch = false;
};

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& source, const CsvOptions& options)
      : text_(text), source_(source), options_(options) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  // Reads the next record (skipping comment and blank lines). Returns false at the end of input.
  bool next(std::vector<FieldRef>& fields) {
    fields.clear();
    scratch_.clear();
    if (!skip_to_record()) return false;
    record_line_ = line_;
    for (;;) {
      fields.push_back(read_field(fields.size()));
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      if (c == options_.delimiter) {
        ++pos_;
        continue;
      }
      end_line();  // c is '\r' or '\n': read_field stops only there or at a delimiter
      break;
    }
    return true;
  }

  std::string_view view(const FieldRef& f) const {
    return f.in_scratch ? std::string_view(scratch_).substr(f.begin, f.size) : text_.substr(f.begin, f.size);
  }
  long record_line() const { return record_line_; }

 private:
  bool blank(char c) const { return (c == ' ' || c == '\t') && c != options_.delimiter; }

  void end_line() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }

  bool skip_to_record() {
    while (pos_ < text_.size()) {
      std::size_t p = pos_;
      while (p < text_.size() && blank(text_[p])) ++p;
      if (p < text_.size() && text_[p] == options_.comment) {
        while (p < text_.size() && text_[p] != '\n' && text_[p] != '\r') ++p;
      }
      if (p >= text_.size()) {
        pos_ = p;
        return false;
      }
      if (text_[p] == '\n' || text_[p] == '\r') {
        pos_ = p;
        end_line();
        continue;
      }
      return true;
    }
    return false;
  }

  FieldRef read_field(std::size_t index) {
    while (pos_ < text_.size() && blank(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') return read_quoted(index);
    const std::size_t begin = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == options_.delimiter || c == '\n' || c == '\r') break;
      ++pos_;
    }
    std::size_t end = pos_;
    while (end > begin && blank(text_[end - 1])) --end;
    return {begin, end - begin, false};
  }

  FieldRef read_quoted(std::size_t index) {
    const long open_line = line_;
    ++pos_;  // opening quote
    const std::size_t begin = pos_;
    bool escaped = false;
    std::size_t scratch_begin = scratch_.size();
    for (;;) {
      const std::size_t q = text_.find('"', pos_);
      if (q == std::string_view::npos)
        fail("file '", source_, "', line ", open_line, ", field ", index + 1,
             ": a quoted field never closes; expected a closing \" before the end of the file");
      for (std::size_t p = pos_; p < q; ++p)
        if (text_[p] == '\n') ++line_;
      if (q + 1 < text_.size() && text_[q + 1] == '"') {  // "" stands for one quote
        if (!escaped) {
          escaped = true;
          scratch_begin = scratch_.size();
          scratch_.append(text_.substr(begin, q - begin));
        } else {
          scratch_.append(text_.substr(pos_, q - pos_));
        }
        scratch_.push_back('"');
        pos_ = q + 2;
        continue;
      }
      FieldRef field{begin, q - begin, false};
      if (escaped) {
        scratch_.append(text_.substr(pos_, q - pos_));
        field = {scratch_begin, scratch_.size() - scratch_begin, true};
      }
      pos_ = q + 1;
      while (pos_ < text_.size() && blank(text_[pos_])) ++pos_;
      if (pos_ < text_.size()) {
        const char c = text_[pos_];
        if (c != options_.delimiter && c != '\n' && c != '\r')
          fail("file '", source_, "', line ", line_, ", field ", index + 1, ": unexpected character '", c,
               "' after a closing quote; expected the delimiter '", options_.delimiter,
               "' or the end of the line");
      }
      return field;
    }
  }

  std::string_view text_;
  const std::string& source_;
  const CsvOptions& options_;
  std::size_t pos_ = 0;
  long line_ = 1;
  long record_line_ = 1;
  std::string scratch_;
};

}  // namespace csv_detail

// Parses CSV text already in memory; `source` is the name quoted in error messages.
inline Table parse_csv(std::string_view text, const std::string& source, const CsvOptions& options = {}) {
  using csv_detail::FieldRef;
  csv_detail::Scanner scanner(text, source, options);
  std::vector<FieldRef> fields;
  if (!scanner.next(fields)) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
      fail("file '", source, "' is empty; expected a header row with column names");
    fail("file '", source, "' holds only comments and blank lines; expected a header row with column names");
  }

  // Header.
  const long header_line = scanner.record_line();
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::string name(scanner.view(fields[i]));
    if (name.empty())
      fail("file '", source, "', line ", header_line, ", column ", i + 1,
           ": the header has an empty column name; expected a name for every column");
    for (std::size_t j = 0; j < i; ++j)
      if (names[j] == name)
        fail("file '", source, "', line ", header_line, ": columns ", j + 1, " and ", i + 1,
             " are both named '", name, "'; expected unique column names");
    names.push_back(std::move(name));
  }
  const std::size_t n_columns = names.size();
  for (const auto& wanted : options.text_columns) {
    bool found = false;
    for (const auto& n : names) found = found || n == wanted;
    if (!found) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
      fail("file '", source, "': text column '", wanted,
           "' requested in the options is not in the header (line ", header_line,
           "); the columns are: ", list);
    }
  }

  // Column kinds are fixed by the first data row (or by the options).
  std::vector<char> is_text(n_columns, 0);
  std::vector<std::vector<double>> numbers(n_columns);
  std::vector<std::vector<std::string>> texts(n_columns);
  bool kinds_known = false;
  // Counting line ends first (fast) gives an upper bound on the rows, so columns never reallocate.
  const auto row_guess = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;

  std::vector<long> row_lines;
  row_lines.reserve(row_guess);
  while (scanner.next(fields)) {
    const long line = scanner.record_line();
    row_lines.push_back(line);
    if (fields.size() != n_columns) {
      if (fields.size() < n_columns)
        fail("file '", source, "', line ", line, ": expected ", n_columns,
             " fields (one per header column), found ", fields.size(), "; column ", fields.size() + 1, " ('",
             names[fields.size()], "') is missing");
      fail("file '", source, "', line ", line, ": expected ", n_columns,
           " fields (one per header column), found ", fields.size(), "; field ", n_columns + 1,
           " has no column in the header");
    }
    if (!kinds_known) {
      for (std::size_t c = 0; c < n_columns; ++c) {
        bool forced = false;
        for (const auto& t : options.text_columns) forced = forced || t == names[c];
        double v;
        if (forced || !csv_detail::parse_double(scanner.view(fields[c]), v)) {
          if (!forced && !options.infer_text_columns)
            csv_detail::field_fail(source, line, c, names[c],
                                   "expected a number, found " +
                                       csv_detail::quote_for_message(scanner.view(fields[c])) +
                                       " (list the column in CsvOptions::text_columns to read it as text)");
          is_text[c] = 1;
          texts[c].reserve(row_guess);
        } else {
          numbers[c].reserve(row_guess);
        }
      }
      kinds_known = true;
    }
    for (std::size_t c = 0; c < n_columns; ++c) {
      const std::string_view field = scanner.view(fields[c]);
      if (is_text[c]) {
        texts[c].emplace_back(field);
        continue;
      }
      double v;
      if (!csv_detail::parse_double(field, v))
        csv_detail::field_fail(
            source, line, c, names[c],
            "expected a number" +
                std::string(csv_detail::looks_too_large(field) ? " within the range of a double" : "") +
                ", found " +
                (field.empty() ? std::string("an empty field") : csv_detail::quote_for_message(field)));
      numbers[c].push_back(v);
    }
  }

  Table table(source);
  for (std::size_t c = 0; c < n_columns; ++c) {
    if (is_text[c])
      table.add_text_column(names[c], std::move(texts[c]));
    else
      table.add_column(names[c], std::move(numbers[c]));
  }
  if (n_columns > 0) table.set_row_lines(std::move(row_lines));
  return table;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open file '", path, "' for reading: ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), size);
  require(static_cast<bool>(in), "could not read all ", size, " bytes of file '", path, "'");
  return text;
}

inline Table read_csv(const std::string& path, const CsvOptions& options = {}) {
  return parse_csv(read_text_file(path), path, options);
}

namespace csv_detail {

inline void write_field(std::ostream& out, std::string_view s, char delimiter) {
  const bool needs_quotes = s.empty() || s.find_first_of("\"\r\n#") != std::string_view::npos ||
                            s.find(delimiter) != std::string_view::npos || s.front() == ' ' ||
                            s.back() == ' ';
  if (!needs_quotes) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace csv_detail

// Writes numeric columns, then text columns; numbers in the shortest form that reads back to the
// same double, so write_csv followed by read_csv is exact.
inline void write_csv(std::ostream& out, const Table& table, char delimiter = ',') {
  const auto& names = table.column_names();
  const auto& text_names = table.text_column_names();
  bool first = true;
  for (const auto* list : {&names, &text_names})
    for (const auto& n : *list) {
      if (!std::exchange(first, false)) out << delimiter;
      csv_detail::write_field(out, n, delimiter);
    }
  out << '\n';
  std::vector<ColumnView> columns;
  for (const auto& n : names) columns.push_back(table.column(n));
  std::vector<const std::vector<std::string>*> text_columns;
  for (const auto& n : text_names) text_columns.push_back(&table.text_column(n));
  char buffer[64];
  for (Index r = 0; r < table.n_rows(); ++r) {
    const auto row = static_cast<std::size_t>(r);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) out << delimiter;
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, columns[c][row]);
      out.write(buffer, result.ptr - buffer);
    }
    for (std::size_t c = 0; c < text_columns.size(); ++c) {
      if (c > 0 || !columns.empty()) out << delimiter;
      csv_detail::write_field(out, (*text_columns[c])[row], delimiter);
    }
    out << '\n';
  }
}

inline void write_csv(const std::string& path, const Table& table, char delimiter = ',') {
  write_file_atomically_with(path, [&](std::ostream& out) { write_csv(out, table, delimiter); });
}

}  // namespace agnostic::io
