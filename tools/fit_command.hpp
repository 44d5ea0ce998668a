#pragma once
// `agnostic fit WORKSPACE.json [options]`: parses the options into a stats::FitRequest, asks
// stats::fit_report (stats/fit_report.hpp) for the report and prints its JSON. Under mpirun (a build
// with AGNOSTIC_MPI) the report's toys and scans are shared by the ranks of distributed::world() and
// rank 0 prints.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/distributed/world.hpp"
#include "agnostic/stats/fit_report.hpp"
#include "agnostic/stats/patchset.hpp"
#include "agnostic/stats/workspace.hpp"
#include "command_io.hpp"

namespace agnostic::tools {

inline constexpr const char* kFitUsage =
    R"(usage: agnostic fit WORKSPACE.json [options]
       agnostic fit BKGONLY.json --patchset PATCHSET.json --patch NAME|all [options]
       agnostic fit --list-patches PATCHSET.json

Fits a pyhf JSON workspace (schema 1.0.0) by maximum likelihood and prints one JSON document:
status, poi, bestfit, errors (Hessian), nll, significance (observed Z0), significance_exp (median
expected Z0, Asimov data at POI = 1), correlation (of the floating parameters), prefit and postfit
(yields per channel, sample and bin with the uncertainty band), plus the keys of what was asked for below.

options:
  --asimov                    fit the Asimov data of the nominal model instead of the observations
  --poi NAME                  parameter of interest (default: the measurement's)
  --measurement NAME          measurement to use (default: the first)
  --minos                     MINOS interval of the POI (profiled -log L rises by 0.5)  -> "minos"
  --scan [MIN:MAX:N]          profile scan of the POI (default mu_hat +- 3 sigma, 31)   -> "scan"
  --cls MU                    CLs at POI = MU with the expected band                    -> "cls"
  --upper-limit               CLs upper limit, observed and expected band               -> "upper_limit"
  --cl X                      confidence level of --upper-limit (default 0.95)
  --cls-scan MIN:MAX:N        CLs (observed, band) at N points of the POI               -> "cls_scan"
  --test-stat qtilde|q        statistic for --cls, --upper-limit, --cls-scan (default qtilde)
  --impacts                   pulls, constraints and impacts on the POI, ranked         -> "impacts"
  --toys N                    with --cls/--upper-limit/--cls-scan: CLs from N toys per hypothesis
                              and point; alone: N toys drawn from the best fit (to the
                              observations, or to the Asimov data with --asimov), each
                              fitted; the POI's fitted values, errors and pulls          -> "toys"
  --seed S                    seed of the toys (default 1)
  --threads N                 threads (toys, limits, impacts, patches; default: all)
  --patchset FILE --patch NAME|all   apply a patch of a HEPData patchset to WORKSPACE first;
                              "all": one result per patch                               -> "results"
  --list-patches FILE         list the patches of a patchset (no workspace needed)
  --normsys-interp code1|code4     normsys interpolation (default code4, pyhf's)
  --histosys-interp code0|code4p   histosys interpolation (default code4p, pyhf's)

Built with -DAGNOSTIC_MPI=ON, `mpirun -n K agnostic fit ...` shares the work across the K ranks and
rank 0 prints (docs/distributed.md): the toys of --toys alone (the pull study), and the toys of
every hypothesis of --cls MU, --upper-limit and --cls-scan with --toys N, bit for bit the output of
one process; the points of --scan in K contiguous blocks (each block warm-started on its own: equal
to one process's scan to the minimiser's tolerance, not bit for bit).
)";

struct FitCommandOptions {
  std::string workspace;
  stats::FitRequest request;
  int threads = 0;  // 0: leave the default
  std::string patchset, patch, list_patches;
  bool help = false;
};

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

// Whether the word after --scan is its optional MIN:MAX:N (and not the workspace file).
inline bool looks_like_poi_grid(const std::string& text) {
  return !text.empty() && text[0] != '-' && std::count(text.begin(), text.end(), ':') == 2 &&
         text.find('.') != 0 && text.find(".json") == std::string::npos;
}

inline FitCommandOptions parse_fit_options(int argc, char** argv) {
  FitCommandOptions o;
  bool seed_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      require(i + 1 < argc, "option ", a, " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--asimov") {
      o.request.asimov = true;
    } else if (a == "--minos") {
      o.request.minos = true;
    } else if (a == "--scan") {
      o.request.scan = true;
      if (i + 1 < argc && looks_like_poi_grid(argv[i + 1])) o.request.scan_grid = parse_poi_grid(a, value());
    } else if (a == "--upper-limit") {
      o.request.upper_limit = true;
    } else if (a == "--cl") {
      o.request.cl = parse_number(a, value());
      require(o.request.cl > 0.0 && o.request.cl < 1.0, "option --cl: must lie in (0, 1), got ",
              o.request.cl);
    } else if (a == "--cls-scan") {
      o.request.cls_grid = parse_poi_grid(a, value());
    } else if (a == "--impacts") {
      o.request.impacts = true;
    } else if (a == "--patchset") {
      o.patchset = value();
    } else if (a == "--patch") {
      o.patch = value();
    } else if (a == "--list-patches") {
      o.list_patches = value();
    } else if (a == "--poi") {
      o.request.model.poi = value();
    } else if (a == "--measurement") {
      o.request.model.measurement = value();
    } else if (a == "--cls") {
      o.request.cls_mu = parse_number(a, value());
    } else if (a == "--test-stat") {
      o.request.test_statistic = stats::parse_test_statistic(value());
    } else if (a == "--toys") {
      o.request.toys = static_cast<int>(parse_integer(a, value(), 1));
    } else if (a == "--seed") {
      o.request.seed = static_cast<std::uint64_t>(parse_integer(a, value(), 0));
      seed_given = true;
    } else if (a == "--threads") {
      o.threads = static_cast<int>(parse_integer(a, value(), 1));
    } else if (a == "--normsys-interp") {
      const std::string v = value();
      require(v == "code1" || v == "code4", "option --normsys-interp: unknown interpolation '", v,
              "' (allowed: code1, code4)");
      o.request.model.normsys = v == "code1" ? stats::NormsysInterp::code1 : stats::NormsysInterp::code4;
    } else if (a == "--histosys-interp") {
      const std::string v = value();
      require(v == "code0" || v == "code4p", "option --histosys-interp: unknown interpolation '", v,
              "' (allowed: code0, code4p)");
      o.request.model.histosys = v == "code0" ? stats::HistosysInterp::code0 : stats::HistosysInterp::code4p;
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown option '", a,
           "' (allowed: --asimov, --poi, --measurement, --minos, --scan, --cls, --upper-limit, --cl, "
           "--cls-scan, "
           "--test-stat, --impacts, --toys, --seed, --threads, --patchset, --patch, --list-patches, "
           "--normsys-interp, --histosys-interp, --help)");
    } else {
      require(o.workspace.empty(), "only one workspace file can be given, got '", o.workspace, "' and '", a,
              "'");
      o.workspace = a;
    }
  }
  require(o.help || !o.workspace.empty() || !o.list_patches.empty(), "no workspace file given\n", kFitUsage);
  require(!seed_given || o.request.toys > 0, "option --seed needs --toys N");
  require(o.patchset.empty() == o.patch.empty(), "options --patchset FILE and --patch NAME|all go together");
  require(o.request.cl == 0.95 || o.request.upper_limit, "option --cl needs --upper-limit");
  return o;
}

// The whole document: one workspace, one patch of a patchset, or every patch (parallel over patches).
inline nlohmann::ordered_json fit_document(const FitCommandOptions& o, Communicator& world) {
  if (o.threads > 0) set_threads(o.threads);
  if (!o.list_patches.empty()) {
    require(o.workspace.empty() && o.patchset.empty(),
            "--list-patches PATCHSET.json takes no workspace and no --patchset/--patch");
    return stats::patch_list_json(stats::read_patchset(o.list_patches));
  }
  const stats::Workspace ws = stats::read_workspace(o.workspace);
  if (o.patchset.empty()) return stats::to_json(stats::fit_report(ws, o.request, world));
  const stats::PatchSet ps = stats::read_patchset(o.patchset);
  if (o.patch != "all") return stats::to_json(stats::fit_report(ws, ps, o.patch, o.request, world));
  return stats::to_json(stats::fit_report(ws, ps, o.request, world));
}

inline int run_fit(int argc, char** argv) {
  const FitCommandOptions o = parse_fit_options(argc, argv);
  if (o.help) {
    std::cout << kFitUsage;
    return 0;
  }
  Communicator& world = distributed::world();
  const nlohmann::ordered_json document = fit_document(o, world);
  if (world.rank() != 0) return 0;  // every rank holds the document; rank 0 prints it
  std::cout << document.dump(2) << std::endl;
  return 0;
}

}  // namespace agnostic::tools
