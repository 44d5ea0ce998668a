#pragma once
// Small pieces shared by the train, predict and inspect commands: option parsing, reading several
// data files as one table, and writing a CSV of numbers.
#include <charconv>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/table.hpp"

namespace agnostic::tools {

struct ParsedArguments {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // option -> every value given
  std::set<std::string> flags;
  bool help = false;

  bool flag(const std::string& name) const { return flags.count(name) > 0; }
  std::string value(const std::string& name) const {
    const auto it = values.find(name);
    return it == values.end() ? std::string() : it->second.back();
  }
  std::vector<std::string> all(const std::string& name) const {
    const auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>() : it->second;
  }
};

// argv[0] is the command name. Options with values take the next argument ("--out DIR") or the
// part after '=' ("--out=DIR").
inline ParsedArguments parse_arguments(int argc, char** argv, const std::vector<std::string>& with_value,
                                       const std::vector<std::string>& flags) {
  ParsedArguments out;
  auto known = [](const std::vector<std::string>& list, const std::string& s) {
    for (const auto& k : list)
      if (k == s) return true;
    return false;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      out.positional.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (known(flags, arg)) {
      require(!has_value, "option ", arg, " takes no value");
      out.flags.insert(arg);
    } else if (known(with_value, arg)) {
      if (!has_value) {
        require(i + 1 < argc, "option ", arg, " needs a value");
        value = argv[++i];
      }
      out.values[arg].push_back(value);
    } else {
      std::string allowed;
      for (const auto& k : with_value) allowed += (allowed.empty() ? "" : ", ") + k;
      for (const auto& k : flags) allowed += (allowed.empty() ? "" : ", ") + k;
      fail("unknown option '", arg, "'; allowed: ", allowed, ", --help");
    }
  }
  return out;
}

// Reads the files one after the other and stacks their rows; every file must have the same
// columns (numeric and text) in the same order.
inline io::Table read_tables(const std::vector<std::string>& files) {
  require(!files.empty(), "no data files given");
  io::Table first = io::read_table(files.front());
  if (files.size() == 1) return first;
  std::vector<std::vector<double>> numeric;
  std::vector<std::vector<std::string>> text;
  for (const auto& name : first.column_names()) {
    const auto c = first.column(name);
    numeric.emplace_back(c.begin(), c.end());
  }
  for (const auto& name : first.text_column_names()) text.push_back(first.text_column(name));
  for (std::size_t f = 1; f < files.size(); ++f) {
    const io::Table next = io::read_table(files[f]);
    require(
        next.column_names() == first.column_names() && next.text_column_names() == first.text_column_names(),
        "data file '", files[f], "' has the columns ", next.describe_columns(), " but '", files.front(),
        "' has ", first.describe_columns(), "; every data file must have the same columns");
    for (std::size_t k = 0; k < numeric.size(); ++k) {
      const auto c = next.column(first.column_names()[k]);
      numeric[k].insert(numeric[k].end(), c.begin(), c.end());
    }
    for (std::size_t k = 0; k < text.size(); ++k) {
      const auto& c = next.text_column(first.text_column_names()[k]);
      text[k].insert(text[k].end(), c.begin(), c.end());
    }
  }
  std::string source;
  for (const auto& f : files) source += (source.empty() ? "" : " + ") + f;
  io::Table out(source);
  for (std::size_t k = 0; k < numeric.size(); ++k)
    out.add_column(first.column_names()[k], std::move(numeric[k]));
  for (std::size_t k = 0; k < text.size(); ++k)
    out.add_text_column(first.text_column_names()[k], std::move(text[k]));
  return out;
}

// The shortest text that reads back as the same value.
template <class T>
std::string number_text(T x) {
  char buffer[64];
  const auto r = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, r.ptr);
}

// Writes `columns` (all of the same length) under `header` as CSV, atomically enough for a
// command-line tool: to a temporary file, then renamed.
class CsvColumns {
 public:
  void add(std::string name, std::vector<std::string> values) {
    require(columns_.empty() || values.size() == columns_.front().size(), "CsvColumns: column '", name,
            "' has ", values.size(), " rows, the others ", columns_.empty() ? 0 : columns_.front().size());
    names_.push_back(std::move(name));
    columns_.push_back(std::move(values));
  }
  void write(const std::string& path) const {
    const std::string temporary = path + ".tmp";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      require(out.good(), "cannot open '", temporary, "' for writing");
      for (std::size_t k = 0; k < names_.size(); ++k) out << (k ? "," : "") << quoted(names_[k]);
      out << '\n';
      const std::size_t rows = columns_.empty() ? 0 : columns_.front().size();
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < columns_.size(); ++k) out << (k ? "," : "") << columns_[k][r];
        out << '\n';
      }
      out.flush();
      require(out.good(), "writing '", temporary, "' failed (disk full?)");
    }
    require(std::rename(temporary.c_str(), path.c_str()) == 0, "cannot rename '", temporary, "' to '", path,
            "'");
  }

 private:
  static std::string quoted(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }
  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> columns_;
};

}  // namespace agnostic::tools
