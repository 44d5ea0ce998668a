#pragma once
// `agnostic fit WORKSPACE.json [options]`: fits a pyhf workspace and prints one JSON document.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/fit_yields.hpp"
#include "agnostic/stats/impacts.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/limits.hpp"
#include "agnostic/stats/patchset.hpp"
#include "agnostic/stats/toys.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/statistics.hpp"
#endif
#include "agnostic/stats/workspace.hpp"

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

struct GridSpec {
  double min = 0.0, max = 0.0;
  int n = 0;
};

struct FitCommandOptions {
  std::string workspace;
  bool asimov = false, minos = false, scan = false, upper_limit = false, impacts = false;
  std::optional<GridSpec> scan_grid, cls_grid;
  std::optional<double> cls_mu;
  double cl = 0.95;
  stats::TestStatistic test_statistic = stats::TestStatistic::qtilde;
  int toys = 0;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: leave the default
  std::string patchset, patch, list_patches;
  stats::ModelOptions model;
  bool help = false;
};

namespace fit_command_detail {

// MIN:MAX:N with MIN <= MAX and N >= 2.
inline GridSpec parse_grid(const std::string& option, const std::string& text) {
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? std::string::npos : text.find(':', first + 1);
  require(second != std::string::npos, "option ", option, ": expected MIN:MAX:N, got '", text, "'");
  GridSpec g;
  g.min = parse_number(option + " (MIN)", text.substr(0, first));
  g.max = parse_number(option + " (MAX)", text.substr(first + 1, second - first - 1));
  g.n = static_cast<int>(parse_integer(option + " (N)", text.substr(second + 1), 2));
  require(g.min < g.max, "option ", option, ": MIN ", g.min, " must be below MAX ", g.max);
  return g;
}

inline bool looks_like_grid(const std::string& text) {
  return !text.empty() && text[0] != '-' && std::count(text.begin(), text.end(), ':') == 2 &&
         text.find('.') != 0 && text.find(".json") == std::string::npos;
}

}  // namespace fit_command_detail

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
      o.asimov = true;
    } else if (a == "--minos") {
      o.minos = true;
    } else if (a == "--scan") {
      o.scan = true;
      if (i + 1 < argc && fit_command_detail::looks_like_grid(argv[i + 1]))
        o.scan_grid = fit_command_detail::parse_grid(a, value());
    } else if (a == "--upper-limit") {
      o.upper_limit = true;
    } else if (a == "--cl") {
      o.cl = parse_number(a, value());
      require(o.cl > 0.0 && o.cl < 1.0, "option --cl: must lie in (0, 1), got ", o.cl);
    } else if (a == "--cls-scan") {
      o.cls_grid = fit_command_detail::parse_grid(a, value());
    } else if (a == "--impacts") {
      o.impacts = true;
    } else if (a == "--patchset") {
      o.patchset = value();
    } else if (a == "--patch") {
      o.patch = value();
    } else if (a == "--list-patches") {
      o.list_patches = value();
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
  require(!seed_given || o.toys > 0, "option --seed needs --toys N");
  require(o.patchset.empty() == o.patch.empty(), "options --patchset FILE and --patch NAME|all go together");
  require(o.cl == 0.95 || o.upper_limit, "option --cl needs --upper-limit");
  return o;
}

namespace fit_command_detail {

// {"channels": [{"name", "samples": [{"name", "yields"}], "total", "data", "uncertainty"}]}
inline nlohmann::ordered_json yields_json(const std::vector<stats::ChannelYields>& channels) {
  auto list = [](const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& c : channels) {
    nlohmann::ordered_json samples = nlohmann::ordered_json::array();
    for (const auto& [name, yields] : c.samples)
      samples.push_back({{"name", name}, {"yields", list(yields)}});
    out.push_back({{"name", c.name},
                   {"samples", samples},
                   {"total", list(c.total)},
                   {"data", list(c.data)},
                   {"uncertainty", list(c.uncertainty)}});
  }
  return {{"channels", out}};
}

// NaN (a limit not found) becomes null.
inline nlohmann::ordered_json number_or_null(double x) {
  return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr);
}

template <std::size_t N>
nlohmann::ordered_json numbers_or_null(const std::array<double, N>& xs) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double x : xs) out.push_back(number_or_null(x));
  return out;
}

// The toy and scan computations of the command: under mpirun shared by the ranks
// (distributed/statistics.hpp, docs/distributed.md), every rank getting the whole result; without
// MPI the same computation in this process.
inline stats::ToyClsResult toy_cls(const stats::BinnedLikelihood& m, const stats::Data& d, double mu,
                                   const FitCommandOptions& o) {
#ifdef AGNOSTIC_MPI
  return distributed::toy_cls(distributed::world(), m, d, mu, o.toys, o.seed, o.test_statistic);
#else
  return stats::toy_cls(m, d, mu, o.toys, o.seed, o.test_statistic);
#endif
}
inline std::vector<stats::ToyClsResult> toy_cls_scan(const stats::BinnedLikelihood& m, const stats::Data& d,
                                                     const std::vector<double>& grid,
                                                     const FitCommandOptions& o) {
#ifdef AGNOSTIC_MPI
  return distributed::toy_cls_points(distributed::world(), m, d, grid, o.toys, o.seed, o.test_statistic);
#else
  return stats::toy_cls_points(m, d, grid, o.toys, o.seed, o.test_statistic);
#endif
}
inline stats::ToyUpperLimit toy_upper_limit(const stats::BinnedLikelihood& m, const stats::Data& d,
                                            const std::vector<double>& grid, const FitCommandOptions& o) {
#ifdef AGNOSTIC_MPI
  return distributed::toy_upper_limit(distributed::world(), m, d, grid, o.toys, o.seed, o.test_statistic,
                                      o.cl);
#else
  return stats::toy_upper_limit(m, d, grid, o.toys, o.seed, o.test_statistic, o.cl);
#endif
}
inline std::vector<std::pair<double, double>> profile_scan(const stats::BinnedLikelihood& m,
                                                           const stats::Data& d, const std::string& poi,
                                                           double lo, double hi, int n) {
#ifdef AGNOSTIC_MPI
  return distributed::profile_scan(distributed::world(), m, d, poi, lo, hi, n);
#else
  return stats::profile_scan(m, d, poi, lo, hi, n);
#endif
}
inline stats::ToyEnsemble run_toys(const stats::BinnedLikelihood& m, const Eigen::VectorXd& truth,
                                   const stats::ToyOptions& t) {
#ifdef AGNOSTIC_MPI
  return distributed::run_toys(distributed::world(), m, truth, t);
#else
  return stats::run_toys(m, truth, t);
#endif
}

inline std::vector<double> grid_values(const GridSpec& g, const stats::BinnedLikelihood& model,
                                       const std::string& option) {
  const int p = model.poi();
  require(g.min >= model.lower()[p] && g.max <= model.upper()[p], "option ", option, ": range [", g.min, ", ",
          g.max, "] leaves the bounds of the POI '", model.names()[static_cast<std::size_t>(p)], "' [",
          model.lower()[p], ", ", model.upper()[p], "]");
  return stats::linear_grid(g.min, g.max, g.n);
}

}  // namespace fit_command_detail

// Everything the command computes for one workspace, as the JSON document it prints.
inline nlohmann::ordered_json fit_report(const stats::Workspace& ws, const FitCommandOptions& o) {
  using namespace agnostic::stats;
  using fit_command_detail::number_or_null;
  using fit_command_detail::numbers_or_null;
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
  {
    const Correlation c = correlation(model, best);
    nlohmann::ordered_json matrix = nlohmann::ordered_json::array();
    for (Eigen::Index i = 0; i < c.matrix.rows(); ++i) {
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (Eigen::Index j = 0; j < c.matrix.cols(); ++j) row.push_back(c.matrix(i, j));
      matrix.push_back(row);
    }
    out["correlation"] = {{"names", c.names}, {"matrix", matrix}};
  }
  out["prefit"] = fit_command_detail::yields_json(prefit_yields(model, data));
  out["postfit"] = fit_command_detail::yields_json(postfit_yields(model, data, best));

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
  if (o.scan) {
    require(poi_free, "--scan: the POI '", poi_name, "' is fixed in the model");
    double lo = 0.0, hi = 0.0;
    int n = 31;
    if (o.scan_grid) {
      (void)fit_command_detail::grid_values(*o.scan_grid, model, "--scan");
      lo = o.scan_grid->min, hi = o.scan_grid->max, n = o.scan_grid->n;
    } else {
      const double width = best.errors[poi] > 0.0 ? 3.0 * best.errors[poi] : 1.0;
      lo = std::max(model.lower()[poi], best.values[poi] - width);
      hi = std::min(model.upper()[poi], best.values[poi] + width);
    }
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (const auto& [value, t] : fit_command_detail::profile_scan(model, data, poi_name, lo, hi, n))
      points.push_back({{"mu", value}, {"nll", best.nll + 0.5 * t}, {"delta_nll", 0.5 * t}});
    out["scan"] = points;
  }

  const bool toy_cls = o.toys > 0 && (o.cls_mu || o.upper_limit || o.cls_grid);
  const bool need_cls = o.cls_mu || o.upper_limit || o.cls_grid;
  if (need_cls) {
    require(poi_free, "the POI '", poi_name, "' is fixed in the model; CLs needs it free");
    const AsymptoticClsCalculator calc(model, data, o.test_statistic, {}, &best);
    const std::string stat = to_string(o.test_statistic);
    auto toy_json = [&](const ToyClsResult& t) {
      return nlohmann::ordered_json{{"mu", t.mu},       {"obs", t.cls_obs},   {"obs_error", t.cls_obs_error},
                                    {"exp", t.cls_exp}, {"clsb", t.clsb_obs}, {"clb", t.clb_obs},
                                    {"q_obs", t.q_obs}};
    };
    if (o.cls_mu) {
      if (toy_cls) {
        const ToyClsResult t = fit_command_detail::toy_cls(model, data, *o.cls_mu, o);
        nlohmann::ordered_json c = toy_json(t);
        c["test_stat"] = stat;
        c["method"] = "toys";
        c["toys"] = o.toys;
        c["seed"] = o.seed;
        out["cls"] = c;
      } else {
        inference_detail::check_poi_value(model, *o.cls_mu, "--cls");
        const ClsResult c = calc.at(*o.cls_mu);
        out["cls"] = {{"mu", c.mu},       {"test_stat", stat}, {"method", "asymptotic"},
                      {"obs", c.cls_obs}, {"exp", c.cls_exp},  {"clsb", c.clsb_obs},
                      {"clb", c.clb_obs}, {"q_obs", c.q_obs},  {"q_asimov", c.q_asimov}};
      }
    }
    std::vector<ToyClsResult> toy_scan;
    if (o.upper_limit) {
      UpperLimitOptions ul;
      ul.cl = o.cl;
      const UpperLimit a = upper_limit(calc, ul);
      nlohmann::ordered_json u{{"cl", o.cl}, {"test_stat", stat}};
      if (!toy_cls) {
        u["method"] = "asymptotic";
        u["obs"] = number_or_null(a.obs);
        u["exp"] = numbers_or_null(a.exp);
        u["search_range"] = {a.search_lo, a.search_hi};
        if (!a.notes.empty()) u["notes"] = a.notes;
      } else {
        // the toy grid: --cls-scan's, else around the asymptotic limits
        std::vector<double> grid;
        if (o.cls_grid) {
          grid = fit_command_detail::grid_values(*o.cls_grid, model, "--cls-scan");
        } else {
          double lo = a.search_hi, hi = a.search_lo;
          for (double x : {a.obs, a.exp[0], a.exp[4]})
            if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
          if (!(lo < hi)) lo = a.search_lo, hi = a.search_hi;
          grid = linear_grid(std::max(a.search_lo, 0.5 * lo), std::min(a.search_hi, 1.5 * hi), 16);
        }
        const ToyUpperLimit t = fit_command_detail::toy_upper_limit(model, data, grid, o);
        u["method"] = "toys";
        u["obs"] = number_or_null(t.obs);
        u["obs_error"] = number_or_null(t.obs_error);
        u["exp"] = numbers_or_null(t.exp);
        u["toys"] = o.toys;
        u["seed"] = o.seed;
        u["asymptotic"] = {{"obs", number_or_null(a.obs)}, {"exp", numbers_or_null(a.exp)}};
        if (!t.notes.empty()) u["notes"] = t.notes;
        toy_scan = t.scan;
      }
      out["upper_limit"] = u;
    }
    if (o.cls_grid) {
      const std::vector<double> grid = fit_command_detail::grid_values(*o.cls_grid, model, "--cls-scan");
      nlohmann::ordered_json points = nlohmann::ordered_json::array();
      if (toy_cls) {
        if (toy_scan.size() != grid.size()) toy_scan = fit_command_detail::toy_cls_scan(model, data, grid, o);
        for (const auto& t : toy_scan) points.push_back(toy_json(t));
      } else {
        for (const ClsResult& c : cls_scan(calc, grid))
          points.push_back({{"mu", c.mu}, {"obs", c.cls_obs}, {"exp", c.cls_exp}});
      }
      out["cls_scan"] = points;
    }
  }
  if (o.impacts) {
    require(poi_free, "--impacts: the POI '", poi_name, "' is fixed in the model");
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Impact& i : impacts(model, data, best))
      list.push_back({{"name", i.name},
                      {"pull", number_or_null(i.pull)},
                      {"constraint", number_or_null(i.constraint)},
                      {"prefit_up", number_or_null(i.prefit_up)},
                      {"prefit_down", number_or_null(i.prefit_down)},
                      {"postfit_up", i.postfit_up},
                      {"postfit_down", i.postfit_down}});
    out["impacts"] = list;
  }
  if (o.toys > 0 && !toy_cls) {
    ToyOptions t;
    t.n = o.toys;
    t.seed = o.seed;
    const ToyEnsemble e = fit_command_detail::run_toys(model, best.values, t);
    nlohmann::ordered_json values = nlohmann::ordered_json::array(), errors = values, pulls = values;
    for (int i = 0; i < e.n; ++i) {  // a failed toy: null in all three lists
      const double pull = e.pull(i, poi);
      values.push_back(std::isnan(pull) ? nlohmann::ordered_json(nullptr) : number_or_null(e.values(i, poi)));
      errors.push_back(std::isnan(pull) ? nlohmann::ordered_json(nullptr) : number_or_null(e.errors(i, poi)));
      pulls.push_back(number_or_null(pull));
    }
    const PullSummary& summary = e.pull_summaries[static_cast<std::size_t>(poi)];
    out["toys"] = {{"n", e.n},
                   {"n_converged", e.n_converged},
                   {"seed", o.seed},
                   {"truth", "bestfit"},
                   {"poi_truth", e.truth[poi]},
                   {"pull_mean", summary.mean},
                   {"pull_mean_error", summary.mean_error},
                   {"pull_width", summary.width},
                   {"pull_width_error", summary.width_error},
                   {"values", values},
                   {"errors", errors},
                   {"pulls", pulls}};
  }
  return out;
}

// The patchset's description and its patches' names and values.
inline nlohmann::ordered_json patch_list(const stats::PatchSet& ps) {
  nlohmann::ordered_json patches = nlohmann::ordered_json::array();
  for (const auto& p : ps.patches) patches.push_back({{"name", p.name}, {"values", p.values}});
  return {
      {"patchset", ps.source}, {"description", ps.description}, {"labels", ps.labels}, {"patches", patches}};
}

// The whole document: one workspace, one patch of a patchset, or every patch (parallel over patches).
inline nlohmann::ordered_json fit_report(const FitCommandOptions& o) {
  using namespace agnostic::stats;
  if (o.threads > 0) set_threads(o.threads);
  if (!o.list_patches.empty()) {
    require(o.workspace.empty() && o.patchset.empty(),
            "--list-patches PATCHSET.json takes no workspace and no --patchset/--patch");
    return patch_list(read_patchset(o.list_patches));
  }
  const Workspace ws = read_workspace(o.workspace);
  if (o.patchset.empty()) return fit_report(ws, o);
  const PatchSet ps = read_patchset(o.patchset);
  if (o.patch != "all") {
    nlohmann::ordered_json out{{"patch", o.patch}, {"values", ps.patch(o.patch).values}};
    out.update(fit_report(patched_workspace(ws, ps, o.patch), o));
    return out;
  }
  std::vector<nlohmann::ordered_json> results(ps.patches.size());
  toys_detail::for_each_toy(
      static_cast<int>(ps.patches.size()),
      [&](int i) {
        const Patch& p = ps.patches[static_cast<std::size_t>(i)];
        nlohmann::ordered_json r{{"patch", p.name}, {"values", p.values}};
        r.update(fit_report(patched_workspace(ws, ps, p.name), o));
        results[static_cast<std::size_t>(i)] = r;
      },
      "patch");
  return {{"patchset", o.patchset}, {"workspace", o.workspace}, {"results", results}};
}

inline int run_fit(int argc, char** argv) {
  const FitCommandOptions o = parse_fit_options(argc, argv);
  if (o.help) {
    std::cout << kFitUsage;
    return 0;
  }
  const nlohmann::ordered_json report = fit_report(o);
#ifdef AGNOSTIC_MPI
  if (distributed::world().rank() != 0) return 0;  // every rank holds the report; rank 0 prints it
#endif
  std::cout << report.dump(2) << std::endl;
  return 0;
}

}  // namespace agnostic::tools
