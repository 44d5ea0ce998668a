#pragma once
// `agnostic fit WORKSPACE.json [options]`: parses the options into a stats::FitRequest, asks
// stats::fit_report (stats/fit_report.hpp) for the report and prints its JSON. Under mpirun (a build
// with AGNOSTIC_MPI) the report's toys and scans are shared by the ranks of distributed::world() and
// rank 0 prints.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/distributed/world.hpp"
#include "agnostic/stats/breakdown.hpp"
#include "agnostic/stats/fit_report.hpp"
#include "agnostic/stats/patchset.hpp"
#include "agnostic/stats/scan2d.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/stats/yields_table.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

// Whether the word after --scan is its optional MIN:MAX:N (and not the workspace file); MIN may be
// negative.
inline bool looks_like_poi_grid(const std::string& text) {
  return !text.empty() && std::count(text.begin(), text.end(), ':') == 2 && text.find('.') != 0 &&
         text.find(".json") == std::string::npos;
}

// Whether the word after --breakdown is its optional GROUPS.json (and not the workspace file: a
// workspace has "channels").
inline bool looks_like_groups_file(const std::string& text) {
  if (text.size() < 5 || text.compare(text.size() - 5, 5, ".json") != 0) return false;
  std::ifstream in(text);
  const std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return contents.find("\"channels\"") == std::string::npos;
}

inline const CommandSpec& fit_spec() {
  static const stats::FitRequest defaults;
  static const CommandSpec spec{
      .name = "fit",
      .usage = {"WORKSPACE.json [options]",
                "BKGONLY.json --patchset PATCHSET.json --patch NAME|all [options]",
                "--list-patches PATCHSET.json"},
      .description =
          "Fits a pyhf JSON workspace (schema 1.0.0) by maximum likelihood and prints one JSON document:\n"
          "status, poi, bestfit, errors (Hessian), nll, significance (observed Z0), significance_exp "
          "(median\n"
          "expected Z0, Asimov data at POI = 1), correlation (of the floating parameters), prefit and "
          "postfit\n"
          "(yields per channel, sample and bin with the uncertainty band), plus the keys of what was asked "
          "for\n"
          "below (-> \"key\").",
      .options =
          {{.name = "--asimov",
            .meaning = "fit the Asimov data of the nominal model instead of the observations"},
           {.name = "--poi",
            .value = "NAME",
            .meaning = "parameter of interest (default: the measurement's)"},
           {.name = "--measurement", .value = "NAME", .meaning = "measurement to use (default: the first)"},
           {.name = "--minos",
            .meaning = "MINOS interval of the POI (profiled -log L rises by 0.5) -> \"minos\""},
           {.name = "--scan",
            .value = "MIN:MAX:N",
            .meaning = "profile scan of the POI (default mu_hat +- 3 sigma, 31 points) -> \"scan\"",
            .optional_value = true,
            .takes_next = &looks_like_poi_grid},
           {.name = "--cls", .value = "MU", .meaning = "CLs at POI = MU with the expected band -> \"cls\""},
           {.name = "--upper-limit",
            .meaning = "CLs upper limit, observed and expected band -> \"upper_limit\""},
           {.name = "--cl",
            .value = "X",
            .meaning = "confidence level of --upper-limit",
            .default_value = (std::ostringstream() << defaults.cl).str()},
           {.name = "--cls-scan",
            .value = "MIN:MAX:N",
            .meaning = "CLs (observed, band) at N points of the POI -> \"cls_scan\""},
           {.name = "--test-stat",
            .value = "qtilde|q",
            .meaning = "statistic for --cls, --upper-limit, --cls-scan",
            .default_value = "qtilde"},
           {.name = "--impacts",
            .meaning = "pulls, constraints and impacts on the POI, ranked -> \"impacts\""},
           {.name = "--toys",
            .value = "N",
            .meaning = "with --cls/--upper-limit/--cls-scan: CLs from N toys per hypothesis and point;\n"
                       "with --goodness-of-fit, --significance: their toy p-values;\n"
                       "alone: N toys drawn from the best fit (to the observations, or to the Asimov data\n"
                       "with --asimov), each fitted; the POI's fitted values, errors and pulls -> \"toys\""},
           {.name = "--seed",
            .value = "S",
            .meaning = "seed of the toys",
            .default_value = std::to_string(defaults.seed)},
           {.name = "--threads",
            .value = "N",
            .meaning = "threads (toys, limits, impacts, patches; default: all)"},
           {.name = "--patchset",
            .value = "FILE",
            .meaning = "with --patch: apply a patch of a HEPData patchset to WORKSPACE first"},
           {.name = "--patch",
            .value = "NAME|all",
            .meaning = "the patch; \"all\": one result per patch -> \"results\""},
           {.name = "--list-patches",
            .value = "FILE",
            .meaning = "list the patches of a patchset (no workspace needed)"},
           {.name = "--fix",
            .value = "NAME=VALUE",
            .meaning = "hold a parameter (or every element of a per-bin modifier) at VALUE in every fit",
            .repeatable = true},
           {.name = "--set",
            .value = "NAME=VALUE",
            .meaning = "start value of a parameter (or of every element of a per-bin modifier)",
            .repeatable = true},
           {.name = "--mask",
            .value = "CHANNEL",
            .meaning = "leave the channel's bins out of the likelihood (its constraints stay);\n"
                       "its post-fit prediction is still reported",
            .repeatable = true},
           {.name = "--breakdown",
            .value = "GROUPS.json",
            .meaning = "uncertainty breakdown of the POI by freezing groups of parameters (default groups:\n"
                       "stat, norm, shape, free), plus \"stat only\" and \"total\" -> \"breakdown\"",
            .optional_value = true,
            .takes_next = &looks_like_groups_file},
           {.name = "--scan2d",
            .value = "A:MIN:MAX:N,B:MIN:MAX:N",
            .meaning = "2-D profile scan of parameters A and B, Delta(-2 ln L) on the grid with the 68 %\n"
                       "and 95 % contours as polylines -> \"scan2d\""},
           {.name = "--significance",
            .meaning = "discovery test in detail: q0, p0 and Z0, observed and expected (Asimov), with\n"
                       "--toys N also from N background-only and N signal toys -> \"discovery\""},
           {.name = "--goodness-of-fit",
            .meaning = "saturated-model goodness of fit, with --toys N also from N toys -> "
                       "\"goodness_of_fit\""},
           {.name = "--yields-table",
            .value = "md|tex|csv",
            .meaning = "print the pre- and post-fit yields per channel and sample with their uncertainties\n"
                       "and the data as a Markdown, LaTeX or CSV table instead of the JSON (which\n"
                       "--output FILE still writes) -> \"yields_table\""},
           {.name = "--output",
            .value = "FILE",
            .meaning = "write the JSON document to FILE (whole or not at all) instead of stdout"},
           {.name = "--normsys-interp",
            .value = "code1|code4",
            .meaning = "normsys interpolation (pyhf's)",
            .default_value = "code4"},
           {.name = "--histosys-interp",
            .value = "code0|code4p",
            .meaning = "histosys interpolation (pyhf's)",
            .default_value = "code4p"}},
      .positional_count = -1,
      .positional_what = "workspace file",
      .notes =
          "Built with -DAGNOSTIC_MPI=ON, `mpirun -n K agnostic fit ...` shares the work across the K ranks "
          "and\n"
          "rank 0 prints (docs/distributed.md): the toys of --toys alone (the pull study), and the toys of\n"
          "every hypothesis of --cls MU, --upper-limit and --cls-scan with --toys N, bit for bit the output "
          "of\n"
          "one process; the points of --scan in K contiguous blocks (each block warm-started on its own: "
          "equal\n"
          "to one process's scan to the minimiser's tolerance, not bit for bit).",
  };
  return spec;
}

struct FitCommandOptions {
  std::string workspace;
  stats::FitRequest request;
  int threads = 0;  // 0: leave the default
  std::string patchset, patch, list_patches;
  std::string output;                       // "" = stdout
  std::optional<stats::TableFormat> table;  // --yields-table
  bool help = false;
};

// NAME=VALUE of --fix and --set; a NAME given twice is an error.
inline void parse_parameter_values(const std::string& option, const std::vector<std::string>& texts,
                                   std::map<std::string, double>& into) {
  for (const std::string& text : texts) {
    const auto eq = text.find('=');
    require(eq != std::string::npos && eq > 0 && eq + 1 < text.size(), "option ", option,
            ": expected NAME=VALUE, got '", text, "'");
    const std::string name = text.substr(0, eq);
    require(into.count(name) == 0, "option ", option, ": parameter '", name, "' given twice");
    into[name] = parse_number(option + " " + name, text.substr(eq + 1));
  }
}

// MIN:MAX:N with MIN < MAX and N >= 2.
inline stats::PoiGrid parse_poi_grid(const std::string& option, const std::string& text) {
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? std::string::npos : text.find(':', first + 1);
  require(second != std::string::npos, "option ", option, ": expected MIN:MAX:N, got '", text, "'");
  stats::PoiGrid g;
  g.min = parse_number(option + " (MIN)", text.substr(0, first));
  g.max = parse_number(option + " (MAX)", text.substr(first + 1, second - first - 1));
  g.n = static_cast<int>(parse_integer(option + " (N)", text.substr(second + 1), 2));
  require(g.min < g.max, "option ", option, ": MIN ", g.min, " must be below MAX ", g.max);
  return g;
}

// A:MIN:MAX:N,B:MIN:MAX:N of --scan2d (a name may hold ':'; the last three fields are the numbers).
inline std::pair<stats::ParameterGrid, stats::ParameterGrid> parse_scan2d(const std::string& text) {
  const auto comma = text.find(',');
  require(comma != std::string::npos && text.find(',', comma + 1) == std::string::npos,
          "option --scan2d: expected A:MIN:MAX:N,B:MIN:MAX:N, got '", text, "'");
  auto one = [&](const std::string& part) {
    const auto third = part.rfind(':');
    const auto second =
        third == 0 || third == std::string::npos ? std::string::npos : part.rfind(':', third - 1);
    const auto first =
        second == 0 || second == std::string::npos ? std::string::npos : part.rfind(':', second - 1);
    require(first != std::string::npos && first > 0, "option --scan2d: expected NAME:MIN:MAX:N, got '", part,
            "'");
    stats::ParameterGrid g;
    g.name = part.substr(0, first);
    g.min = parse_number("--scan2d (MIN of " + g.name + ")", part.substr(first + 1, second - first - 1));
    g.max = parse_number("--scan2d (MAX of " + g.name + ")", part.substr(second + 1, third - second - 1));
    g.n = static_cast<int>(parse_integer("--scan2d (N of " + g.name + ")", part.substr(third + 1), 2));
    return g;
  };
  return {one(text.substr(0, comma)), one(text.substr(comma + 1))};
}

inline FitCommandOptions parse_fit_options(int argc, char** argv) {
  const ParsedArguments args = parse_arguments(argc, argv, fit_spec());
  FitCommandOptions o;
  o.help = args.help;
  if (o.help) return o;
  for (const std::string& a : args.positional) {
    require(o.workspace.empty(), "only one workspace file can be given, got '", o.workspace, "' and '", a,
            "'");
    o.workspace = a;
  }
  o.request.asimov = args.flag("--asimov");
  o.request.minos = args.flag("--minos");
  o.request.upper_limit = args.flag("--upper-limit");
  o.request.impacts = args.flag("--impacts");
  o.request.goodness_of_fit = args.flag("--goodness-of-fit");
  o.request.significance = args.flag("--significance");
  if (args.given("--scan2d")) o.request.scan2d = parse_scan2d(args.value("--scan2d"));
  if (args.given("--breakdown")) {
    o.request.breakdown = true;
    if (!args.value("--breakdown").empty())
      o.request.breakdown_groups = stats::read_breakdown_groups(args.value("--breakdown"));
  }
  parse_parameter_values("--fix", args.all("--fix"), o.request.model.fixed_values);
  parse_parameter_values("--set", args.all("--set"), o.request.model.start_values);
  for (const auto& [name, value] : o.request.model.start_values)
    require(o.request.model.fixed_values.count(name) == 0, "parameter '", name,
            "' is given to both --fix and --set; --fix sets its value");
  o.request.model.masked_channels = args.all("--mask");
  o.output = args.value("--output");
  if (args.given("--yields-table")) {
    o.table = stats::parse_table_format(args.value("--yields-table"));
    o.request.yields_table = true;
  }
  if (args.given("--scan")) {
    o.request.scan = true;
    if (!args.value("--scan").empty()) o.request.scan_grid = parse_poi_grid("--scan", args.value("--scan"));
  }
  if (args.given("--cl")) {
    o.request.cl = parse_number("--cl", args.value("--cl"));
    require(o.request.cl > 0.0 && o.request.cl < 1.0, "option --cl: must lie in (0, 1), got ", o.request.cl);
  }
  if (args.given("--cls-scan")) o.request.cls_grid = parse_poi_grid("--cls-scan", args.value("--cls-scan"));
  o.patchset = args.value("--patchset");
  o.patch = args.value("--patch");
  o.list_patches = args.value("--list-patches");
  if (args.given("--poi")) o.request.model.poi = args.value("--poi");
  if (args.given("--measurement")) o.request.model.measurement = args.value("--measurement");
  if (args.given("--cls")) o.request.cls_mu = parse_number("--cls", args.value("--cls"));
  if (args.given("--test-stat"))
    o.request.test_statistic = stats::parse_test_statistic(args.value("--test-stat"));
  if (args.given("--toys"))
    o.request.toys = static_cast<int>(parse_integer("--toys", args.value("--toys"), 1));
  if (args.given("--seed"))
    o.request.seed = static_cast<std::uint64_t>(parse_integer("--seed", args.value("--seed"), 0));
  if (args.given("--threads"))
    o.threads = static_cast<int>(parse_integer("--threads", args.value("--threads"), 1));
  if (args.given("--normsys-interp")) {
    const std::string v = args.value("--normsys-interp");
    require(v == "code1" || v == "code4", "option --normsys-interp: unknown interpolation '", v,
            "' (allowed: code1, code4)");
    o.request.model.normsys = v == "code1" ? stats::NormsysInterp::code1 : stats::NormsysInterp::code4;
  }
  if (args.given("--histosys-interp")) {
    const std::string v = args.value("--histosys-interp");
    require(v == "code0" || v == "code4p", "option --histosys-interp: unknown interpolation '", v,
            "' (allowed: code0, code4p)");
    o.request.model.histosys = v == "code0" ? stats::HistosysInterp::code0 : stats::HistosysInterp::code4p;
  }
  require(!o.workspace.empty() || !o.list_patches.empty(),
          "no workspace file given; run `agnostic fit --help` for the options");
  require(!args.given("--seed") || o.request.toys > 0, "option --seed needs --toys N");
  require(o.patchset.empty() == o.patch.empty(), "options --patchset FILE and --patch NAME|all go together");
  require(o.request.cl == 0.95 || o.request.upper_limit, "option --cl needs --upper-limit");
  return o;
}

// The document of one workspace already read (also the Python module's agnostic.fit of a dict): the
// workspace, one patch of a patchset, or every patch (parallel over patches). With --yields-table,
// `table` gets the table's text.
inline nlohmann::ordered_json fit_document(const FitCommandOptions& o, const stats::Workspace& ws,
                                           Communicator& world, std::string* table = nullptr) {
  if (o.threads > 0) set_threads(o.threads);
  auto with_table = [&](const stats::FitReport& r) {
    if (table && o.table) *table = stats::yields_table_text(*r.yields_table, *o.table);
    return stats::to_json(r);
  };
  if (o.patchset.empty()) return with_table(stats::fit_report(ws, o.request, world));
  const stats::PatchSet ps = stats::read_patchset(o.patchset);
  if (o.patch != "all") {
    const stats::PatchFitReport r = stats::fit_report(ws, ps, o.patch, o.request, world);
    nlohmann::ordered_json out{{"patch", r.patch}, {"values", r.values}};
    out.update(with_table(r.report));
    return out;
  }
  require(!o.table, "--yields-table needs one workspace or one patch, not --patch all");
  return stats::to_json(stats::fit_report(ws, ps, o.request, world));
}

// The whole document: the patch list of --list-patches, or the document of the workspace file.
inline nlohmann::ordered_json fit_document(const FitCommandOptions& o, Communicator& world,
                                           std::string* table = nullptr) {
  if (!o.list_patches.empty()) {
    require(o.workspace.empty() && o.patchset.empty(),
            "--list-patches PATCHSET.json takes no workspace and no --patchset/--patch");
    return stats::patch_list_json(stats::read_patchset(o.list_patches));
  }
  return fit_document(o, stats::read_workspace(o.workspace), world, table);
}

inline int run_fit(int argc, char** argv) {
  const FitCommandOptions o = parse_fit_options(argc, argv);
  if (o.help) return print_help(fit_spec());
  Communicator& world = distributed::world();
  std::string table;
  const nlohmann::ordered_json document = fit_document(o, world, &table);
  if (world.rank() != 0) return 0;  // every rank holds the document; rank 0 prints it
  if (!o.output.empty()) write_file_atomically(o.output, document.dump(2) + "\n");
  if (o.table)
    std::cout << table << std::flush;
  else if (o.output.empty())
    std::cout << document.dump(2) << std::endl;
  return 0;
}

}  // namespace agnostic::tools
