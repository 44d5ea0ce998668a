// The commands' one argument parser (tools/command_io.hpp): `--opt value` and `--opt=value`,
// negative numbers as values, aliases, repeated options, optional values, and the messages for an
// unknown option, a missing value, a value given to a flag, a missing required option and a wrong
// number of arguments; --help generated from the table lists exactly the table. Then the built
// `agnostic` binary: every command's --help lists options that its parser accepts, unknown options
// are refused by name, and train's help lists every training method of train/config.hpp.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "cli_run.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tools/command_io.hpp"
#include "agnostic/train/config.hpp"

using namespace agnostic;
using agnostic::tools::CommandSpec;
using agnostic::tools::Option;
using agnostic::tools::ParsedArguments;

namespace {

bool looks_like_grid(const std::string& text) {
  return text.find(':') != std::string::npos;
}

// A command with every kind of option.
const CommandSpec& example_spec() {
  static const CommandSpec spec{
      .name = "example",
      .usage = {"INPUT [options]"},
      .description = "Does nothing; tests the parser.",
      .options =
          {{.name = "--output", .value = "DIR", .meaning = "where", .aliases = {"--out"}},
           {.name = "--shift", .value = "X", .meaning = "a number\nover two lines", .default_value = "0"},
           {.name = "--data", .value = "FILE", .meaning = "input files", .repeatable = true},
           {.name = "--model", .value = "M.json", .meaning = "a model", .required = true},
           {.name = "--resume", .meaning = "a flag"},
           {.name = "--scan",
            .value = "MIN:MAX:N",
            .meaning = "an optional value",
            .optional_value = true,
            .takes_next = &looks_like_grid}},
      .positional_count = 1,
      .positional_what = "input file",
  };
  return spec;
}

// Parses `words` (the command's name first) with `spec`.
ParsedArguments parse(const std::vector<std::string>& words, const CommandSpec& spec = example_spec()) {
  std::vector<std::string> copy = words;
  std::vector<char*> argv;
  for (auto& w : copy) argv.push_back(w.data());
  return tools::parse_arguments(static_cast<int>(argv.size()), argv.data(), spec);
}

std::string parse_error(const std::vector<std::string>& words, const CommandSpec& spec = example_spec()) {
  try {
    parse(words, spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The option names the options section of a help text lists (every spelling of every option).
std::vector<std::string> listed_options(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  bool in_options = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "options:") {
      in_options = true;
      continue;
    }
    if (!in_options) continue;
    if (line.empty()) break;
    if (line.rfind("  -", 0) != 0) continue;  // a continuation line of a meaning
    const std::string left = line.substr(2, line.find("  ", 2) - 2);
    std::istringstream spellings(left);
    for (std::string item; std::getline(spellings, item, ',');) {
      const auto start = item.find_first_not_of(' ');
      out.push_back(item.substr(start, item.find(' ', start) - start));
    }
  }
  return out;
}

using agnostic_test::kBinary;
using agnostic_test::Run;

Run run(const std::string& arguments) {
  const std::filesystem::path log =
      std::filesystem::temp_directory_path() / ("agnostic_test_cli_arguments_" + std::to_string(::getpid()));
  const int status =
      std::system(("'" + kBinary + "' " + arguments + " > '" + log.string() + "' 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

}  // namespace

TEST_CASE("parser: --opt value and --opt=value, aliases, repeated options, defaults") {
  const ParsedArguments a = parse({"example", "in.csv", "--output", "dir", "--model=m.json", "--data",
                                   "x.csv", "--data=y.csv", "--resume"});
  CHECK(a.positional == std::vector<std::string>{"in.csv"});
  CHECK(a.value("--output") == "dir");
  CHECK(a.value("--model") == "m.json");
  CHECK(a.all("--data") == std::vector<std::string>{"x.csv", "y.csv"});
  CHECK(a.flag("--resume"));
  CHECK(a.value("--shift") == "0");  // the table's default
  CHECK_FALSE(a.given("--shift"));
  // The alias is the same option, under its first name; the last of several values wins.
  const ParsedArguments b = parse({"example", "--out=first", "in.csv", "--model", "m", "--output", "second"});
  CHECK(b.value("--output") == "second");
  CHECK(b.all("--output") == std::vector<std::string>{"first", "second"});
  CHECK(b.values.count("--out") == 0);
  // A value may hold '=' and be empty.
  CHECK(parse({"example", "i", "--model", "m", "--output=a=b"}).value("--output") == "a=b");
  CHECK(parse({"example", "i", "--model", "m", "--output="}).value("--output").empty());
  // "--" ends the options.
  CHECK(parse({"example", "--model", "m", "--", "--odd-file-name"}).positional ==
        std::vector<std::string>{"--odd-file-name"});
}

TEST_CASE("parser: negative numbers are values and arguments, not options") {
  CHECK(parse({"example", "i", "--model", "m", "--shift", "-0.5"}).value("--shift") == "-0.5");
  CHECK(parse({"example", "i", "--model", "m", "--shift=-1e-3"}).value("--shift") == "-1e-3");
  CHECK(parse({"example", "i", "--model", "m", "--shift", "-.5"}).value("--shift") == "-.5");
  CHECK(parse({"example", "-3", "--model", "m"}).positional == std::vector<std::string>{"-3"});
  // An optional value: taken when the next argument is one (here: has a ':'), negative or not.
  const ParsedArguments grid = parse({"example", "i", "--model", "m", "--scan", "-1:3:21"});
  CHECK(grid.value("--scan") == "-1:3:21");
  CHECK(parse({"example", "i", "--model", "m", "--scan=-1:3:21"}).value("--scan") == "-1:3:21");
  const ParsedArguments alone = parse({"example", "--model", "m", "--scan", "i"});
  CHECK(alone.flag("--scan"));
  CHECK(alone.given("--scan"));
  CHECK(alone.value("--scan").empty());
  CHECK(alone.positional == std::vector<std::string>{"i"});
  CHECK(parse({"example", "i", "--model", "m", "--scan", "--resume"}).flag("--resume"));
}

TEST_CASE("parser: what is refused, and the message names it") {
  CHECK(parse_error({"example", "i", "--model", "m", "--bogus"}) ==
        "unknown option '--bogus'; example takes: --output, --shift, --data, --model, --resume, --scan, "
        "--help");
  CHECK(parse_error({"example", "i", "--model", "m", "--bogus=3"}).rfind("unknown option '--bogus';", 0) ==
        0);
  CHECK(parse_error({"example", "i", "--model", "m", "-x"}).rfind("unknown option '-x';", 0) == 0);
  CHECK(parse_error({"example", "i", "--model", "m", "--output"}) ==
        "option --output needs a value (--output DIR)");
  CHECK(parse_error({"example", "i", "--model", "m", "--out"}) == "option --out needs a value (--out DIR)");
  CHECK(parse_error({"example", "i", "--output", "--model", "m"}) ==
        "option --output needs a value (--output DIR), got the option '--model'; write --output=VALUE for a "
        "value that starts with --");
  CHECK(parse_error({"example", "i", "--model", "m", "--resume=yes"}) ==
        "option --resume takes no value, got '--resume=yes'");
  CHECK(parse_error({"example", "i"}) ==
        "missing option --model M.json; run `agnostic example --help` for the options");
  CHECK(parse_error({"example", "--model", "m"}) ==
        "expected one input file, got 0 arguments; run `agnostic example --help` for the options");
  CHECK(parse_error({"example", "a", "b", "--model", "m"}) ==
        "expected one input file, got 2 arguments: 'a', 'b'; run `agnostic example --help` for the options");
  CommandSpec none = example_spec();
  none.positional_count = 0;
  CHECK(parse_error({"example", "--model", "m", "stray"}, none) ==
        "unexpected argument 'stray'; run `agnostic example --help` for the options");
  // --help anywhere wins over every check, so that the help can always be printed.
  CHECK(parse({"example", "--bogus", "-h"}).help);
  CHECK(parse({"example", "--help"}).help);
}

TEST_CASE("parser: numbers in option values") {
  CHECK(tools::parse_number("--shift", "-0.25") == -0.25);
  CHECK_THROWS_WITH_AS(tools::parse_number("--shift", "1x"), "option --shift: expected a number, got '1x'",
                       Error);
  CHECK(tools::parse_integer("--seed", "0", 0) == 0);
  CHECK_THROWS_WITH_AS(tools::parse_integer("--seed", "-2", 0), "option --seed: must be >= 0, got -2", Error);
  CHECK_THROWS_WITH_AS(tools::parse_integer("--seed", "2.5", 0),
                       "option --seed: expected an integer, got '2.5'", Error);
}

TEST_CASE("help: generated from the table, it lists exactly the table's options") {
  const std::string help = tools::help_text(example_spec());
  CHECK(help.rfind("usage: agnostic example INPUT [options]\n\nDoes nothing; tests the parser.\n", 0) == 0);
  std::vector<std::string> expected;
  for (const Option& o : example_spec().options) {
    expected.push_back(o.name);
    for (const auto& alias : o.aliases) expected.push_back(alias);
  }
  expected.push_back("--help");
  expected.push_back("-h");
  CHECK(listed_options(help) == expected);
  CHECK(help.find("  --output DIR, --out DIR") != std::string::npos);
  CHECK(help.find("--scan [MIN:MAX:N]") != std::string::npos);
  CHECK(help.find("a number\n") != std::string::npos);
  CHECK(help.find("over two lines (default 0)") != std::string::npos);  // continuation, then the default
  CHECK(help.find("input files (repeatable)") != std::string::npos);
  CHECK(help.find("a model (required)") != std::string::npos);
}

TEST_CASE("agnostic: every command's --help lists what its parser accepts; unknown options are refused") {
  REQUIRE_MESSAGE(std::filesystem::exists(kBinary), "build the agnostic command first: " << kBinary);
  for (const char* command :
       {"fit", "train", "tune", "predict", "inspect", "export", "import", "sample", "template", "generate"}) {
    INFO(command);
    const Run help = run(std::string(command) + " --help");
    REQUIRE(help.code == 0);
    CHECK(help.output.rfind(std::string("usage: agnostic ") + command, 0) == 0);
    const std::vector<std::string> options = listed_options(help.output);
    CHECK(options.size() >= 2);  // at least --help and -h
    for (const std::string& option : options) {
      if (option == "--help" || option == "-h") continue;
      INFO(option);
      // The option alone: accepted as an option (it may still need a value or other options).
      const Run r = run(std::string(command) + " " + option);
      CHECK(r.output.find("unknown option") == std::string::npos);
    }
    const Run bogus = run(std::string(command) + " --bogus-option");
    CHECK(bogus.code == 1);
    CHECK(bogus.output.find("unknown option '--bogus-option'; " + std::string(command) + " takes: ") !=
          std::string::npos);
  }
}

TEST_CASE("agnostic train --help lists the methods of the config reader") {
  REQUIRE(std::filesystem::exists(kBinary));
  const Run help = run("train --help");
  REQUIRE(help.code == 0);
  for (const std::string& method : train::training_methods())
    CHECK(help.output.find(method) != std::string::npos);
  CHECK(help.output.find("--output DIR, --out DIR") != std::string::npos);
  // A value that starts with '-' is a value: here the directory "-x" that does not hold a config.
  const Run missing = run("train --output -x");
  CHECK(missing.output.find("expected one config file, got 0 arguments") != std::string::npos);
}

TEST_CASE("agnostic fit --scan takes a negative MIN:MAX:N, in both forms") {
  REQUIRE(std::filesystem::exists(kBinary));
  const std::filesystem::path ws = std::filesystem::temp_directory_path() /
                                   ("agnostic_test_cli_scan_" + std::to_string(::getpid()) + ".json");
  std::ofstream(ws) << R"({"channels": [{"name": "c", "samples": [
      {"name": "s", "data": [5, 3], "modifiers": [{"name": "mu", "type": "normfactor", "data": null}]},
      {"name": "b", "data": [50, 60], "modifiers": []}]}],
    "observations": [{"name": "c", "data": [55, 62]}],
    "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[-5, 10]]}]}}],
    "version": "1.0.0"})";
  for (const char* scan : {"--scan -1:3:5", "--scan=-1:3:5"}) {
    INFO(std::string(scan));
    const Run r = run("fit '" + ws.string() + "' " + scan);
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.output);
    REQUIRE(j.contains("scan"));
    CHECK(j["scan"].size() == 5);
    CHECK(j["scan"][0]["mu"].get<double>() == -1.0);
    CHECK(j["scan"][4]["mu"].get<double>() == 3.0);
  }
  // --scan alone keeps its default grid, and the workspace after it is not taken for MIN:MAX:N.
  const Run alone = run("fit --scan '" + ws.string() + "'");
  CHECK(alone.code == 0);
  CHECK(alone.output.find("\"scan\"") != std::string::npos);
  std::filesystem::remove(ws);
}
