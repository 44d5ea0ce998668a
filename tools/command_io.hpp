#pragma once
// The one argument parser of the `agnostic` commands. Each command describes itself once, as a
// CommandSpec: its synopsis, what it does, and a table of options (name, value name, meaning,
// default, aliases). The parser reads argv by that table and --help prints that table, so the help
// cannot disagree with what is accepted.
//
// What the parser accepts: `--opt value` and `--opt=value`; values that start with '-' (negative
// numbers: `--shift -0.5`, `--scan -1:3:21`); flags (`--resume`); `--` ends the options; `-h` or
// `--help` anywhere asks for the help. It refuses, with a message naming the argument: an unknown
// option, a missing value, a value given to a flag, a missing required option, a wrong number of
// positional arguments. Reading files and writing CSV are the library's (io/); this header needs
// only the standard library.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/number_text.hpp"

namespace agnostic::tools {

// One option: what the parser accepts and what --help prints, from the same entry.
struct Option {
  std::string name = {};     // "--output"
  std::string value = {};    // the value's name in the help ("FILE"); empty: a flag, which takes no value
  std::string meaning = {};  // one line per '\n' in the help
  // The value when the option is not given, shown in the help as "(default X)"; empty: none.
  std::string default_value = {};
  std::vector<std::string> aliases = {};  // other spellings, same meaning ("--out" for "--output")
  bool repeatable = false;                // every value is kept (ParsedArguments::all)
  bool required = false;
  // A value that may be left out ("--scan" or "--scan MIN:MAX:N"): the next argument is its value
  // when it does not start with "--" and, if given, takes_next(argument) says so.
  bool optional_value = false;
  bool (*takes_next)(const std::string& argument) = nullptr;
};

// A command: `agnostic <name> <usage>`, what it does, its options, then free notes.
struct CommandSpec {
  std::string name = {};
  std::vector<std::string> usage = {};  // synopsis lines, each after "agnostic <name> "
  std::string description = {};         // printed after the synopsis
  std::vector<Option> options = {};
  int positional_count = 0;          // how many positional arguments; -1: any number (checked by the command)
  std::string positional_what = {};  // their name in messages ("config file")
  std::string notes = {};            // printed after the options
};

struct ParsedArguments {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // option (its first name) -> every value given
  std::map<std::string, std::string> defaults;             // option -> its default_value
  std::set<std::string> flags;
  bool help = false;

  bool flag(const std::string& name) const { return flags.count(name) > 0; }
  // Whether the option was on the command line (with or without a value).
  bool given(const std::string& name) const { return values.count(name) > 0 || flags.count(name) > 0; }
  // The last value given, else the option's default, else "".
  std::string value(const std::string& name) const {
    if (const auto it = values.find(name); it != values.end()) return it->second.back();
    const auto d = defaults.find(name);
    return d == defaults.end() ? std::string() : d->second;
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

namespace command_detail {

// "--output DIR" (or "--scan [MIN:MAX:N]"): an option as the help and the messages write it.
inline std::string spelled(const Option& o, const std::string& name) {
  if (o.value.empty()) return name;
  return o.optional_value ? name + " [" + o.value + "]" : name + " " + o.value;
}

inline bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

// "-x" where x is not a digit or '.': a short option, which no command has (a negative number or a
// lone "-" is an argument).
inline bool is_short_option(const std::string& arg) {
  return arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' && !(arg[1] >= '0' && arg[1] <= '9') &&
         arg[1] != '.';
}

inline const char* count_word(int n) {
  static const char* const words[] = {"no", "one", "two", "three"};
  return n >= 0 && n < 4 ? words[n] : "several";
}

}  // namespace command_detail

// The help of a command, generated from its table.
inline std::string help_text(const CommandSpec& spec) {
  using command_detail::spelled;
  std::ostringstream out;
  for (std::size_t i = 0; i < spec.usage.size(); ++i)
    out << (i == 0 ? "usage: " : "       ") << "agnostic " << spec.name << " " << spec.usage[i] << "\n";
  if (!spec.description.empty()) out << "\n" << spec.description << "\n";
  std::vector<std::pair<std::string, std::string>> rows;  // left column, meaning
  for (const Option& o : spec.options) {
    std::string left = spelled(o, o.name);
    for (const auto& alias : o.aliases) left += ", " + spelled(o, alias);
    std::string meaning = o.meaning;
    std::string extra;
    if (!o.default_value.empty()) extra += "default " + o.default_value;
    if (o.required) extra += std::string(extra.empty() ? "" : "; ") + "required";
    if (o.repeatable) extra += std::string(extra.empty() ? "" : "; ") + "repeatable";
    if (!extra.empty()) meaning += " (" + extra + ")";
    rows.emplace_back(left, meaning);
  }
  rows.emplace_back("--help, -h", "print this help");
  constexpr std::size_t kWidestColumn = 26;
  std::size_t width = 0;
  for (const auto& row : rows)
    if (row.first.size() <= kWidestColumn) width = std::max(width, row.first.size());
  const std::string indent(2 + width + 2, ' ');
  out << "\noptions:\n";
  for (const auto& [left, meaning] : rows) {
    out << "  " << left;
    if (left.size() > width) {
      out << "\n" << indent;
    } else {
      out << std::string(width - left.size() + 2, ' ');
    }
    for (const char c : meaning) {
      out << c;
      if (c == '\n') out << indent;
    }
    out << "\n";
  }
  if (!spec.notes.empty()) out << "\n" << spec.notes << "\n";
  return out.str();
}

// Prints the help of a command on standard output; returns the exit status of `--help`, 0.
inline int print_help(const CommandSpec& spec) {
  std::cout << help_text(spec);
  return 0;
}

// Reads argv (argv[0] is the command's name) by the command's table. With --help, returns at once
// with `help` set (nothing else checked), so that a command can always print its help.
inline ParsedArguments parse_arguments(int argc, char** argv, const CommandSpec& spec) {
  using command_detail::spelled;
  using command_detail::starts_with;
  ParsedArguments out;
  for (const Option& o : spec.options)
    if (!o.default_value.empty()) out.defaults[o.name] = o.default_value;
  auto find = [&](const std::string& name) -> const Option* {
    for (const Option& o : spec.options) {
      if (o.name == name) return &o;
      for (const auto& alias : o.aliases)
        if (alias == name) return &o;
    }
    return nullptr;
  };
  auto allowed = [&] {
    std::string list;
    for (const Option& o : spec.options) list += (list.empty() ? "" : ", ") + o.name;
    return list + (list.empty() ? "" : ", ") + "--help";
  };
  const std::string see_help = "run `agnostic " + spec.name + " --help` for the options";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      out.help = true;
      return out;
    }
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (options_ended || !(starts_with(arg, "--") || command_detail::is_short_option(arg))) {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const Option* o = find(name);
    if (!o) fail("unknown option '", name, "'; ", spec.name, " takes: ", allowed());
    if (o->value.empty()) {
      require(eq == std::string::npos, "option ", name, " takes no value, got '", arg, "'");
      out.flags.insert(o->name);
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (o->optional_value) {
      const bool next_is_value = i + 1 < argc && !starts_with(argv[i + 1], "--") &&
                                 (o->takes_next == nullptr || o->takes_next(argv[i + 1]));
      if (!next_is_value) {
        out.flags.insert(o->name);
        continue;
      }
      value = argv[++i];
    } else {
      require(i + 1 < argc, "option ", name, " needs a value (", spelled(*o, name), ")");
      require(!starts_with(argv[i + 1], "--"), "option ", name, " needs a value (", spelled(*o, name),
              "), got the option '", argv[i + 1], "'; write ", name,
              "=VALUE for a value that starts with --");
      value = argv[++i];
    }
    out.values[o->name].push_back(value);
  }
  for (const Option& o : spec.options)
    require(!o.required || out.given(o.name), "missing option ", spelled(o, o.name), "; ", see_help);
  const int n = static_cast<int>(out.positional.size());
  if (spec.positional_count == 0) {
    require(n == 0, "unexpected argument '", n > 0 ? out.positional[0] : "", "'; ", see_help);
  } else if (spec.positional_count > 0 && n != spec.positional_count) {
    std::string got;
    for (const auto& p : out.positional) got += (got.empty() ? ": '" : "', '") + p;
    fail("expected ", command_detail::count_word(spec.positional_count), " ", spec.positional_what,
         spec.positional_count > 1 ? "s" : "", ", got ", n, " argument", n == 1 ? "" : "s",
         got.empty() ? "" : got + "'", "; ", see_help);
  }
  return out;
}

}  // namespace agnostic::tools
