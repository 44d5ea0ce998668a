#pragma once
// Small pieces shared by the commands: option parsing (reading data and writing CSV live in io/).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/number_text.hpp"
#include "agnostic/io/csv_writer.hpp"
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

// An option's value as a finite number, or an error naming the option and the text.
inline double parse_number(const std::string& option, const std::string& text) {
  double value = 0.0;
  require(read_finite_number(text, value), "option ", option, ": expected a number, got '", text, "'");
  return value;
}

// An option's value as a whole number >= minimum, or an error naming the option and the text.
inline long long parse_integer(const std::string& option, const std::string& text, long long minimum) {
  long long value = 0;
  require(read_whole_number(text, value), "option ", option, ": expected an integer, got '", text, "'");
  require(value >= minimum, "option ", option, ": must be >= ", minimum, ", got ", value);
  return value;
}

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

using io::CsvColumns;
using io::number_text;
using io::read_tables;

}  // namespace agnostic::tools
