#pragma once
// `agnostic fit WORKSPACE.json [options]`: fits a pyhf workspace and prints one JSON document.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::tools {

inline constexpr const char* kFitUsage =
    R"(usage: agnostic fit WORKSPACE.json [options]

Fits a pyhf JSON workspace (schema 1.0.0) by maximum likelihood and prints one JSON document:
status, poi, bestfit, errors (Hessian), nll, significance (observed Z0), significance_exp (median
expected Z0, Asimov data at POI = 1), plus the keys of what was asked for below.

options:
  --asimov                    fit the Asimov data of the nominal model instead of the observations
  --poi NAME                  parameter of interest (default: the measurement's)
  --measurement NAME          measurement to use (default: the first)
  --minos                     MINOS interval of the POI (profiled -log L rises by 0.5)  -> "minos"
  --cls MU                    asymptotic CLs at POI = MU with the expected band         -> "cls"
  --test-stat qtilde|q        statistic for --cls (default qtilde)
  --scan                      profile scan of the POI, 2 delta(-log L) at 31 points     -> "scan"
  --toys N                    N toys around the best fit, POI pulls                     -> "toys"
  --seed S                    seed of the toys (default 1)
  --threads N                 threads for the toys (default: all)
  --normsys-interp code1|code4     normsys interpolation (default code4, pyhf's)
  --histosys-interp code0|code4p   histosys interpolation (default code4p, pyhf's)
)";

struct FitCommandOptions {
  std::string workspace;
  bool asimov = false, minos = false, scan = false;
  std::optional<double> cls_mu;
  stats::TestStatistic test_statistic = stats::TestStatistic::qtilde;
  int toys = 0;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: leave the default
  stats::ModelOptions model;
  bool help = false;
};

namespace fit_command_detail {

inline double parse_number(const std::string& option, const std::string& text) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && !text.empty() && std::isfinite(value), "option ", option,
          ": expected a number, got '", text, "'");
  return value;
}

inline long long parse_integer(const std::string& option, const std::string& text, long long minimum) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == text.size() && !text.empty(), "option ", option, ": expected an integer, got '", text, "'");
  require(value >= minimum, "option ", option, ": must be >= ", minimum, ", got ", value);
  return value;
}

}  // namespace fit_command_detail

inline FitCommandOptions parse_fit_options(int argc, char** argv) {
  using fit_command_detail::parse_integer;
  using fit_command_detail::parse_number;
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
      o.asimov = true;
    } else if (a == "--minos") {
      o.minos = true;
    } else if (a == "--scan") {
      o.scan = true;
    } else if (a == "--poi") {
      o.model.poi = value();
    } else if (a == "--measurement") {
      o.model.measurement = value();
    } else if (a == "--cls") {
      o.cls_mu = parse_number(a, value());
    } else if (a == "--test-stat") {
      o.test_statistic = stats::parse_test_statistic(value());
    } else if (a == "--toys") {
      o.toys = static_cast<int>(parse_integer(a, value(), 1));
    } else if (a == "--seed") {
      o.seed = static_cast<std::uint64_t>(parse_integer(a, value(), 0));
      seed_given = true;
    } else if (a == "--threads") {
      o.threads = static_cast<int>(parse_integer(a, value(), 1));
    } else if (a == "--normsys-interp") {
      const std::string v = value();
      require(v == "code1" || v == "code4", "option --normsys-interp: unknown interpolation '", v,
              "' (allowed: code1, code4)");
      o.model.normsys = v == "code1" ? stats::NormsysInterp::code1 : stats::NormsysInterp::code4;
    } else if (a == "--histosys-interp") {
      const std::string v = value();
      require(v == "code0" || v == "code4p", "option --histosys-interp: unknown interpolation '", v,
              "' (allowed: code0, code4p)");
      o.model.histosys = v == "code0" ? stats::HistosysInterp::code0 : stats::HistosysInterp::code4p;
    } else if (!a.empty() && a[0] == '-') {
      fail("unknown option '", a,
           "' (allowed: --asimov, --poi, --measurement, --minos, --cls, --test-stat, --scan, --toys, --seed, "
           "--threads, --normsys-interp, --histosys-interp, --help)");
    } else {
      require(o.workspace.empty(), "only one workspace file can be given, got '", o.workspace, "' and '", a,
              "'");
      o.workspace = a;
    }
  }
  require(o.help || !o.workspace.empty(), "no workspace file given\n", kFitUsage);
  require(!seed_given || o.toys > 0, "option --seed needs --toys N");
  return o;
}

// Everything the command computes, as the JSON document it prints.
inline nlohmann::ordered_json fit_report(const FitCommandOptions& o) {
  using namespace agnostic::stats;
  const Workspace ws = read_workspace(o.workspace);
  const BinnedLikelihood model(ws, o.model);
  const Data data = o.asimov ? nominal_asimov_data(model) : model.observed();
  const int poi = model.poi();
  const std::string& poi_name = model.names()[static_cast<std::size_t>(poi)];

  const FitResult best = fit(model, data);
  nlohmann::ordered_json out;  // keys in the order a reader expects, status first
  out["status"] = !best.converged                   ? "failed: " + best.status
                  : !best.hessian_positive_definite ? std::string("hessian not positive definite")
                                                    : std::string("ok");
  out["poi"] = poi_name;
  out["data"] = o.asimov ? "asimov" : "observed";
  out["bestfit"] = nlohmann::ordered_json::object();
  out["errors"] = nlohmann::ordered_json::object();
  for (int i = 0; i < model.n_params(); ++i) {
    out["bestfit"][model.names()[static_cast<std::size_t>(i)]] = best.values[i];
    out["errors"][model.names()[static_cast<std::size_t>(i)]] = best.errors[i];
  }
  out["nll"] = best.nll;
  out["edm"] = best.edm;

  const bool poi_free = !model.fixed()[static_cast<std::size_t>(poi)];
  const bool zero_allowed = model.lower()[poi] <= 0.0 && model.upper()[poi] >= 1.0;
  if (poi_free && zero_allowed) {
    const DiscoveryResult d = discovery(model, data, {}, 1.0, &best);
    out["significance"] = d.z_obs;
    out["significance_exp"] = d.z_exp;
  }
  if (o.minos) {
    require(poi_free, "--minos: the POI '", poi_name, "' is fixed in the model");
    const auto [lo, hi] = minos(model, data, best, poi_name);
    out["minos"] = {{poi_name, {lo, hi}}};
  }
  if (o.cls_mu) {
    const ClsResult c = asymptotic_cls(model, data, *o.cls_mu, o.test_statistic, {}, &best);
    out["cls"] = {{"mu", c.mu},       {"test_stat", to_string(c.statistic)},
                  {"obs", c.cls_obs}, {"exp", c.cls_exp},
                  {"q_obs", c.q_obs}, {"q_asimov", c.q_asimov}};
  }
  if (o.scan) {
    require(poi_free, "--scan: the POI '", poi_name, "' is fixed in the model");
    const double width = best.errors[poi] > 0.0 ? 3.0 * best.errors[poi] : 1.0;
    const double lo = std::max(model.lower()[poi], best.values[poi] - width);
    const double hi = std::min(model.upper()[poi], best.values[poi] + width);
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (const auto& [value, t] : profile_scan(model, data, poi_name, lo, hi, 31))
      points.push_back({value, t});
    out["scan"] = {{"param", poi_name}, {"points", points}};
  }
  if (o.toys > 0) {
    if (o.threads > 0) set_threads(o.threads);
    ToyOptions t;
    t.n = o.toys;
    t.seed = o.seed;
    const ToyEnsemble e = run_toys(model, best.values, t);
    out["toys"] = {{"n", e.n},
                   {"n_converged", e.n_converged},
                   {"seed", o.seed},
                   {"pull_mean", e.pull_mean[poi]},
                   {"pull_width", e.pull_width[poi]}};
  }
  return out;
}

inline int run_fit(int argc, char** argv) {
  const FitCommandOptions o = parse_fit_options(argc, argv);
  if (o.help) {
    std::cout << kFitUsage;
    return 0;
  }
  std::cout << fit_report(o).dump(2) << std::endl;
  return 0;
}

}  // namespace agnostic::tools
