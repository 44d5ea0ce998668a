// `agnostic workspace inspect|prune|rename|combine|digest|sort WS ...`: pyhf's workspace tools (`pyhf
// inspect`, `pyhf prune`, ...), with pyhf's option names and outputs (stats/workspace_tools.hpp); and
// `agnostic workspace build SPEC.json --output WS.json`: templates from scored events
// (stats/workspace_build.hpp). docs/workspace.md. This file only reads the arguments and prints.
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/stats/workspace_build.hpp"
#include "agnostic/stats/workspace_tools.hpp"
#include "command_io.hpp"
#include "commands.hpp"

namespace agnostic::tools {
namespace {

const Option kOutputFile{
    .name = "--output-file",
    .value = "FILE",
    .meaning = "write the result there (as pyhf: indent 4, sorted keys) instead of printing it",
    .aliases = {"--output"}};

const char* const kInputNote = "WS is a pyhf JSON workspace; \"-\" reads it from standard input.";

// The workspace named by a positional argument ("-": standard input).
nlohmann::json read_workspace_argument(const std::string& path) {
  if (path != "-") return read_json_file(path, "workspace file");
  std::ostringstream text;
  text << std::cin.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(std::string("the workspace on standard input is not valid JSON: ") + e.what());
  }
}

// pyhf's way out: printed with a newline, or written to --output-file as json.dump writes it.
int write_result(const ParsedArguments& args, const nlohmann::json& result) {
  const std::string text = stats::python_json_text(result);
  if (args.given("--output-file")) {
    write_file_atomically(args.value("--output-file"), text);
  } else {
    std::cout << text << "\n";
  }
  return 0;
}

int inspect_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace inspect",
      .usage = {"WS [--output-file FILE]"},
      .description =
          "The summary `pyhf inspect` prints: channels and their bins, samples, parameters with their "
          "constraint\nand modifier types, measurements (the default one marked (*)). " +
          std::string(kInputNote),
      .options = {{.name = "--output-file",
                   .value = "FILE",
                   .meaning = "also write the summary as JSON (pyhf's keys)",
                   .aliases = {"--output"}}},
      .positional_count = 1,
      .positional_what = "workspace file",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const auto inspection = stats::inspect_workspace(read_workspace_argument(args.positional[0]));
  std::cout << stats::inspect_text(inspection);
  if (args.given("--output-file"))
    write_file_atomically(args.value("--output-file"), stats::python_json_text(stats::to_json(inspection)));
  return 0;
}

int prune_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace prune",
      .usage = {"WS [--channel NAME]... [--sample NAME]... [--modifier NAME]... [--modifier-type TYPE]...\n"
                "                         [--measurement NAME]... [--output-file FILE]"},
      .description =
          "Removes components, as `pyhf prune`: a channel with its observation, a sample from every "
          "channel,\na modifier by name (with its parameter configs) or by type, a measurement. " +
          std::string(kInputNote),
      .options =
          {{.name = "--channel", .value = "NAME", .meaning = "a channel to remove", .repeatable = true},
           {.name = "--sample", .value = "NAME", .meaning = "a sample to remove", .repeatable = true},
           {.name = "--modifier", .value = "NAME", .meaning = "a modifier to remove", .repeatable = true},
           {.name = "--modifier-type",
            .value = "TYPE",
            .meaning = "every modifier of that type (normfactor, normsys, histosys, ...)",
            .repeatable = true},
           {.name = "--measurement",
            .value = "NAME",
            .meaning = "a measurement to remove",
            .repeatable = true},
           kOutputFile},
      .positional_count = 1,
      .positional_what = "workspace file",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  stats::WorkspacePrune prune;
  prune.channels = args.all("--channel");
  prune.samples = args.all("--sample");
  prune.modifiers = args.all("--modifier");
  prune.modifier_types = args.all("--modifier-type");
  prune.measurements = args.all("--measurement");
  return write_result(args, stats::prune_workspace(read_workspace_argument(args.positional[0]), prune));
}

int rename_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace rename",
      .usage = {"WS [--channel OLD NEW]... [--sample OLD NEW]... [--modifier OLD NEW]...\n"
                "                         [--measurement OLD NEW]... [--output-file FILE]"},
      .description =
          "Renames components, as `pyhf rename`: a channel with its observation, a sample in every "
          "channel, a\nmodifier with its parameter configs and the POI, a measurement. " +
          std::string(kInputNote),
      .options =
          {{.name = "--channel", .value = "OLD NEW", .meaning = "rename a channel", .repeatable = true},
           {.name = "--sample", .value = "OLD NEW", .meaning = "rename a sample", .repeatable = true},
           {.name = "--modifier", .value = "OLD NEW", .meaning = "rename a modifier", .repeatable = true},
           {.name = "--measurement",
            .value = "OLD NEW",
            .meaning = "rename a measurement",
            .repeatable = true},
           kOutputFile},
      .positional_count = 1,
      .positional_what = "workspace file",
  };
  // The four renaming options take two values, which the table's parser does not read: they are
  // taken out here, and the rest (the workspace, --output-file, --help) parsed by the table.
  stats::WorkspaceRename rename;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    std::vector<std::pair<std::string, std::string>>* target = arg == "--channel"       ? &rename.channels
                                                               : arg == "--sample"      ? &rename.samples
                                                               : arg == "--modifier"    ? &rename.modifiers
                                                               : arg == "--measurement" ? &rename.measurements
                                                                                        : nullptr;
    if (i == 0 || target == nullptr) {
      rest.push_back(argv[i]);
      continue;
    }
    require(i + 2 < argc, "option ", arg, " needs two values (", arg, " OLD NEW)");
    target->emplace_back(argv[i + 1], argv[i + 2]);
    i += 2;
  }
  const ParsedArguments args = parse_arguments(static_cast<int>(rest.size()), rest.data(), spec);
  if (args.help) return print_help(spec);
  return write_result(args, stats::rename_workspace(read_workspace_argument(args.positional[0]), rename));
}

int combine_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace combine",
      .usage =
          {"WS1 WS2 [--join none|outer|'left outer'|'right outer'] [--merge-channels] [--output-file FILE]"},
      .description =
          "Combines two workspaces, as `pyhf combine`: channels, observations and measurements joined by "
          "name.\n"
          "none: no name may be in both; outer: an item in both must be identical (measurements with the "
          "same\n"
          "POI have their parameter configs joined); left/right outer: the left/right workspace's item wins.",
      .options = {{.name = "--join",
                   .value = "JOIN",
                   .meaning = "none, outer, 'left outer' or 'right outer'",
                   .default_value = "none"},
                  {.name = "--merge-channels",
                   .meaning = "join the samples of channels in both workspaces (outer joins only)"},
                  {.name = "--no-merge-channels", .meaning = "do not (the default)"},
                  kOutputFile},
      .positional_count = 2,
      .positional_what = "workspace files",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  require(!(args.flag("--merge-channels") && args.flag("--no-merge-channels")),
          "options --merge-channels and --no-merge-channels contradict each other");
  const auto join = stats::parse_workspace_join(args.value("--join"));
  return write_result(args, stats::combine_workspaces(read_workspace_argument(args.positional[0]),
                                                      read_workspace_argument(args.positional[1]), join,
                                                      args.flag("--merge-channels")));
}

int digest_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace digest",
      .usage = {"WS [--algorithm sha256] [--json|--plaintext]"},
      .description =
          "The digest `pyhf digest` prints: sha256 of the workspace serialised as Python's json.dumps("
          "ws,\nsort_keys=True, ensure_ascii=False) does, in UTF-8. " +
          std::string(kInputNote),
      .options = {{.name = "--algorithm",
                   .value = "NAME",
                   .meaning = "the hash (only sha256 is offered)",
                   .default_value = "sha256"},
                  {.name = "--json", .meaning = "print {\"sha256\": DIGEST} instead of sha256:DIGEST"},
                  {.name = "--plaintext", .meaning = "print sha256:DIGEST (the default)"}},
      .positional_count = 1,
      .positional_what = "workspace file",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  require(args.value("--algorithm") == "sha256", "option --algorithm: only sha256 is offered, got '",
          args.value("--algorithm"), "'");
  require(!(args.flag("--json") && args.flag("--plaintext")),
          "options --json and --plaintext contradict each other");
  const nlohmann::json ws = read_workspace_argument(args.positional[0]);
  stats::parse_workspace(ws, args.positional[0]);
  const std::string digest = stats::workspace_digest(ws);
  if (args.flag("--json")) {
    std::cout << stats::python_json_text(nlohmann::json{{"sha256", digest}}) << "\n";
  } else {
    std::cout << "sha256:" << digest << "\n";
  }
  return 0;
}

int sort_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace sort",
      .usage = {"WS [--output-file FILE]"},
      .description =
          "Sorts the workspace, as `pyhf sort`: channels, samples, observations, measurements and "
          "parameter configs\nby name, modifiers by name then type. " +
          std::string(kInputNote),
      .options = {kOutputFile},
      .positional_count = 1,
      .positional_what = "workspace file",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  return write_result(args, stats::sorted_workspace(read_workspace_argument(args.positional[0])));
}

int build_main(int argc, char** argv) {
  static const CommandSpec spec{
      .name = "workspace build",
      .usage = {"SPEC.json --output WS.json"},
      .description =
          "Builds a pyhf workspace from scored events (cabinetry's \"templates\"): per channel, the binning "
          "(edges or\nequal population in one sample), the samples' event files (a histogrammed column and a "
          "weight column,\nas `agnostic predict` writes them), their up/down variations (another weight "
          "column or "
          "a shifted file)\nand the observed events, histogrammed into normfactor, normsys, histosys and "
          "staterror "
          "modifiers.\nThe keys of SPEC.json are in docs/workspace.md; its relative file names are relative "
          "to its "
          "folder.",
      .options = {{.name = "--output",
                   .value = "WS.json",
                   .meaning = "the workspace (indent 4, sorted keys, as pyhf writes)",
                   .aliases = {"--output-file"},
                   .required = true}},
      .positional_count = 1,
      .positional_what = "build spec",
  };
  const ParsedArguments args = parse_arguments(argc, argv, spec);
  if (args.help) return print_help(spec);
  const std::string& path = args.positional[0];
  const nlohmann::json ws = stats::build_workspace(read_json_file(path, "build spec"),
                                                   std::filesystem::path(path).parent_path(), path);
  write_file_atomically(args.value("--output"), stats::python_json_text(ws) + "\n");
  std::size_t samples = 0, modifiers = 0, bins = 0;
  for (const auto& channel : ws["channels"]) {
    bins += channel["samples"][0]["data"].size();
    samples += channel["samples"].size();
    for (const auto& sample : channel["samples"]) modifiers += sample["modifiers"].size();
  }
  std::cout << "agnostic workspace build: " << ws["channels"].size() << " channels, " << bins << " bins, "
            << samples << " samples, " << modifiers << " modifiers -> " << args.value("--output") << "\n";
  return 0;
}

struct WorkspaceSubcommand {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

const WorkspaceSubcommand kWorkspaceSubcommands[] = {
    {"inspect", "summary of channels, samples, parameters and measurements (pyhf inspect)", inspect_main},
    {"prune", "remove channels, samples, modifiers (by name or type), measurements (pyhf prune)", prune_main},
    {"rename", "rename channels, samples, modifiers, measurements (pyhf rename)", rename_main},
    {"combine", "join two workspaces (pyhf combine)", combine_main},
    {"digest", "sha256 of the workspace (pyhf digest)", digest_main},
    {"sort", "sort channels, samples, modifiers, ... by name (pyhf sort)", sort_main},
    {"build", "a workspace from scored events: templates, modifiers, data (SPEC.json --output WS.json)",
     build_main},
};

int workspace_usage(std::ostream& out) {
  out << "usage: agnostic workspace <tool> WS ... [options]\n"
         "       agnostic workspace build SPEC.json --output WS.json\n\ntools:\n";
  for (const auto& s : kWorkspaceSubcommands) out << "  " << s.name << "\t" << s.summary << "\n";
  out << "\nRun `agnostic workspace <tool> --help` for the options of one tool (docs/workspace.md).\n";
  return 2;
}

}  // namespace

int workspace_main(int argc, char** argv) {
  if (argc < 2) return workspace_usage(std::cerr);
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    workspace_usage(std::cout);
    return 0;
  }
  for (const auto& s : kWorkspaceSubcommands)
    if (name == s.name) return s.run(argc - 1, argv + 1);
  std::string names;
  for (const auto& s : kWorkspaceSubcommands) names += (names.empty() ? "" : ", ") + std::string(s.name);
  throw Error("unknown workspace tool '" + name + "' (tools: " + names + ")");
}

}  // namespace agnostic::tools
