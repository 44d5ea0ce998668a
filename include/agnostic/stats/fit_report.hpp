#pragma once
// The fit report: what `agnostic fit` computes for a pyhf workspace, as a library call. A FitRequest
// says what is asked (the data, MINOS, a profile scan, CLs at one POI value, an upper limit, a CLs
// scan, impacts, toys, their seed); fit_report() decides the rest (the best fit and its status, the
// correlation, the pre- and post-fit yields, the discovery significance when the POI may be 0 and 1,
// the default scan range, the grid of a toy upper limit) and returns a FitReport; to_json(report) is
// the JSON document the command prints, key for key. docs/fit.md shows both ways.
//
// The toys, the toy CLs and the scan take a Communicator (core/communicator.hpp): one_rank() by
// default; distributed::world() under mpirun shares them across the ranks (across_ranks.hpp), and
// every rank gets the same report, bit for bit one process's.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "agnostic/core/communicator.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/across_ranks.hpp"
#include "agnostic/stats/asymptotics.hpp"
#include "agnostic/stats/breakdown.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/fit_yields.hpp"
#include "agnostic/stats/goodness_of_fit.hpp"
#include "agnostic/stats/impacts.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/limits.hpp"
#include "agnostic/stats/patchset.hpp"
#include "agnostic/stats/scan2d.hpp"
#include "agnostic/stats/toys.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/stats/yields_table.hpp"

namespace agnostic::stats {

// n evenly spaced POI values from min to max (MIN:MAX:N on the command line).
struct PoiGrid {
  double min = 0.0, max = 0.0;
  int n = 0;
};

struct FitRequest {
  ModelOptions model;   // measurement, POI, interpolation codes
  bool asimov = false;  // fit the Asimov data of the nominal model instead of the observations
  bool minos = false;   // MINOS interval of the POI
  bool scan = false;    // profile scan of the POI: on scan_grid, else mu_hat +- 3 sigma in 31 points
  std::optional<PoiGrid> scan_grid;
  std::optional<double> cls_mu;  // CLs at this POI value with its expected band
  bool upper_limit = false;      // CLs upper limit at confidence level `cl`, observed and expected band
  double cl = 0.95;
  std::optional<PoiGrid> cls_grid;                       // CLs (observed, band) at each point of this grid
  TestStatistic test_statistic = TestStatistic::qtilde;  // of every CLs
  bool impacts = false;                                  // pulls, constraints and impacts on the POI
  bool goodness_of_fit = false;  // saturated-model goodness of fit (goodness_of_fit.hpp)
  // Uncertainty breakdown of the POI (breakdown.hpp) over these groups; none: the default groups
  bool breakdown = false;
  std::vector<BreakdownGroup> breakdown_groups;
  // 2-D profile scan of two parameters with its 68 % and 95 % contours (scan2d.hpp)
  std::optional<std::pair<ParameterGrid, ParameterGrid>> scan2d;
  bool yields_table = false;  // pre- and post-fit yields per channel and sample (yields_table.hpp)
  // The discovery significance in detail (p-values, q0, the expected band), with toys > 0 also from toys
  bool significance = false;
  // With CLs asked for: CLs from `toys` toys per hypothesis and point. With goodness_of_fit and
  // significance: their toy p-values. With none of these: a pull study of `toys` toys drawn from the
  // best fit, each fitted.
  int toys = 0;
  std::uint64_t seed = 1;  // of the toys
};

// One point of the profile scan: -log L and its rise above the best fit's.
struct ScanPoint {
  double mu = 0.0, nll = 0.0, delta_nll = 0.0;
};

struct FitReport {
  FitRequest request;
  // "ok", or why the fit is not to be trusted: untrusted_reasons() (fit.hpp) joined by "; "
  std::string status;
  std::string poi;
  int poi_index = 0;               // in the model's parameter order
  std::vector<std::string> names;  // every parameter, in model order (the order of best.values)
  FitResult best;
  Correlation correlation;
  std::vector<ChannelYields> prefit, postfit;
  // Only when the POI floats and its bounds hold 0 and 1: observed and median expected Z0.
  std::optional<DiscoveryResult> discovery;
  std::optional<std::pair<double, double>> minos;
  std::optional<std::vector<ScanPoint>> scan;
  // What CLs was asked for, asymptotically or (request.toys > 0) from toys. With toys the upper
  // limit keeps the asymptotic one beside it (the toy grid is drawn around it).
  std::optional<ClsResult> cls;
  std::optional<ToyClsResult> toy_cls;
  std::optional<UpperLimit> upper_limit;
  std::optional<ToyUpperLimit> toy_upper_limit;
  std::optional<std::vector<ClsResult>> cls_scan;
  std::optional<std::vector<ToyClsResult>> toy_cls_scan;
  std::optional<std::vector<Impact>> impacts;
  std::optional<ToyEnsemble> toys;  // the pull study (toys without CLs or goodness of fit)
  std::optional<GoodnessOfFit> goodness_of_fit;
  std::optional<std::vector<BreakdownEntry>> breakdown;
  std::optional<ToyDiscovery> toy_discovery;  // significance with toys
  std::optional<std::vector<YieldsTableChannel>> yields_table;
  std::optional<Scan2D> scan2d;
  // Negative expected yields per channel, sample and bin, pre- and post-fit (negative_yield_warnings)
  std::vector<std::string> warnings;

  bool toy_cls_asked() const {
    return request.toys > 0 && (request.cls_mu || request.upper_limit || request.cls_grid);
  }
};

namespace fit_report_detail {

// The grid's values after checking it lies inside the POI's bounds; `option` names it in messages.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> grid_values(const PoiGrid& g, const BinnedLikelihood& model,
                                       const std::string& option) {
  const int p = model.poi();
  require(g.min >= model.lower()[p] && g.max <= model.upper()[p], "option ", option, ": range [", g.min, ", ",
          g.max, "] leaves the bounds of the POI '", model.names()[static_cast<std::size_t>(p)], "' [",
          model.lower()[p], ", ", model.upper()[p], "]");
  return linear_grid(g.min, g.max, g.n);
}

// The grid of a toy upper limit without a CLs grid: 16 points from half the smallest to 1.5 times
// the largest of the asymptotic limits (observed, expected -2 and +2 sigma) inside the search range.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> toy_limit_grid(const UpperLimit& a) {
  double lo = a.search_hi, hi = a.search_lo;
  for (double x : {a.obs, a.exp[0], a.exp[4]})
    if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!(lo < hi)) lo = a.search_lo, hi = a.search_hi;
  return linear_grid(std::max(a.search_lo, 0.5 * lo), std::min(a.search_hi, 1.5 * hi), 16);
}

}  // namespace fit_report_detail

// Fits the workspace and computes what `request` asks for, in this order (the first error wins):
// the best fit, the goodness of fit, the significance, MINOS, the scan, CLs at one value, the upper
// limit, the CLs scan, the impacts, the breakdown, the toys.
AGNOSTIC_COMPILED_WHEN_USED
inline FitReport fit_report(const Workspace& workspace, const FitRequest& request,
                            Communicator& comm = one_rank()) {
  using fit_report_detail::grid_values;
  FitReport r;
  r.request = request;
  const FitRequest& o = r.request;
  const BinnedLikelihood model(workspace, o.model);
  const Data data = o.asimov ? nominal_asimov_data(model) : model.observed();
  const int poi = model.poi();
  r.poi = model.names()[static_cast<std::size_t>(poi)];
  r.poi_index = poi;
  r.names = model.names();

  r.best = fit(model, data);
  const FitResult& best = r.best;
  r.status = "ok";
  const std::vector<std::string> reasons = untrusted_reasons(model, best);
  for (std::size_t i = 0; i < reasons.size(); ++i) r.status = (i == 0 ? "" : r.status + "; ") + reasons[i];
  r.prefit = prefit_yields(model, data);
  const bool any_floating =
      std::find(best.floating.begin(), best.floating.end(), true) != best.floating.end();
  if (best.covariance_quality == CovarianceQuality::not_available && any_floating) {
    // no covariance to propagate: no correlations, the post-fit yields without a band (null)
    const Eigen::MatrixXd none = Eigen::MatrixXd::Zero(model.n_params(), model.n_params());
    r.postfit = channel_yields(model, data, best.values, none);
    for (auto& c : r.postfit) c.uncertainty.setConstant(std::numeric_limits<double>::quiet_NaN());
  } else {
    r.correlation = correlation(model, best);
    r.postfit = postfit_yields(model, data, best);
  }
  for (const auto& [where, params] :
       {std::pair<const char*, const Eigen::VectorXd*>{"prefit", &model.init()}, {"postfit", &best.values}})
    for (std::string& w : negative_yield_warnings(model, *params, where)) r.warnings.push_back(std::move(w));
  if (o.yields_table) r.yields_table = yields_table(model, data, best);
  if (o.goodness_of_fit) r.goodness_of_fit = goodness_of_fit(model, data, best, o.toys, o.seed);

  const bool poi_free = !model.fixed()[static_cast<std::size_t>(poi)];
  const bool zero_allowed = model.lower()[poi] <= 0.0 && model.upper()[poi] >= 1.0;
  if (poi_free && zero_allowed) r.discovery = discovery(model, data, {}, 1.0, &best);
  if (o.significance) {
    require(r.discovery.has_value(), "--significance: the POI '", r.poi,
            "' must float with 0 and 1 inside its bounds [", model.lower()[poi], ", ", model.upper()[poi],
            "]");
    if (o.toys > 0) r.toy_discovery = toy_discovery(model, data, o.toys, o.seed);
  }
  if (o.minos) {
    require(poi_free, "--minos: the POI '", r.poi, "' is fixed in the model");
    r.minos = minos(model, data, best, r.poi);
  }
  if (o.scan) {
    require(poi_free, "--scan: the POI '", r.poi, "' is fixed in the model");
    double lo = 0.0, hi = 0.0;
    int n = 31;
    if (o.scan_grid) {
      (void)grid_values(*o.scan_grid, model, "--scan");
      lo = o.scan_grid->min, hi = o.scan_grid->max, n = o.scan_grid->n;
    } else {
      const double width = best.errors[poi] > 0.0 ? 3.0 * best.errors[poi] : 1.0;
      lo = std::max(model.lower()[poi], best.values[poi] - width);
      hi = std::min(model.upper()[poi], best.values[poi] + width);
    }
    r.scan.emplace();
    for (const auto& [value, t] : profile_scan(comm, model, data, r.poi, lo, hi, n))
      r.scan->push_back({value, best.nll + 0.5 * t, 0.5 * t});
  }

  if (o.scan2d) r.scan2d = profile_scan_2d(model, data, best, o.scan2d->first, o.scan2d->second);

  const bool cls_from_toys = r.toy_cls_asked();
  if (o.cls_mu || o.upper_limit || o.cls_grid) {
    require(poi_free, "the POI '", r.poi, "' is fixed in the model; CLs needs it free");
    const AsymptoticClsCalculator calc(model, data, o.test_statistic, {}, &best);
    if (o.cls_mu) {
      if (cls_from_toys) {
        r.toy_cls = toy_cls(comm, model, data, *o.cls_mu, o.toys, o.seed, o.test_statistic);
      } else {
        inference_detail::check_poi_value(model, *o.cls_mu, "--cls");
        r.cls = calc.at(*o.cls_mu);
      }
    }
    if (o.upper_limit) {
      UpperLimitOptions ul;
      ul.cl = o.cl;
      r.upper_limit = upper_limit(calc, ul);
      if (cls_from_toys) {
        const std::vector<double> grid = o.cls_grid ? grid_values(*o.cls_grid, model, "--cls-scan")
                                                    : fit_report_detail::toy_limit_grid(*r.upper_limit);
        r.toy_upper_limit = toy_upper_limit(comm, model, data, grid, o.toys, o.seed, o.test_statistic, o.cl);
      }
    }
    if (o.cls_grid) {
      const std::vector<double> grid = grid_values(*o.cls_grid, model, "--cls-scan");
      if (cls_from_toys) {
        // the toy upper limit computed these points already when it ran on the same grid
        if (r.toy_upper_limit && r.toy_upper_limit->scan.size() == grid.size())
          r.toy_cls_scan = r.toy_upper_limit->scan;
        else
          r.toy_cls_scan = toy_cls_points(comm, model, data, grid, o.toys, o.seed, o.test_statistic);
      } else {
        r.cls_scan = cls_scan(calc, grid);
      }
    }
  }
  if (o.impacts) {
    require(poi_free, "--impacts: the POI '", r.poi, "' is fixed in the model");
    r.impacts = impacts(model, data, best);
  }
  if (o.breakdown) {
    require(poi_free, "--breakdown: the POI '", r.poi, "' is fixed in the model");
    r.breakdown = breakdown(
        model, data, best,
        o.breakdown_groups.empty() ? default_breakdown_groups(workspace, model) : o.breakdown_groups);
  }
  if (o.toys > 0 && !cls_from_toys && !o.goodness_of_fit && !o.significance) {
    ToyOptions t;
    t.n = o.toys;
    t.seed = o.seed;
    r.toys = run_toys(comm, model, best.values, t);
  }
  return r;
}

namespace fit_report_detail {

using Json = nlohmann::ordered_json;

// {"channels": [{"name", "samples": [{"name", "yields"}], "total", "data", "uncertainty"}]}
AGNOSTIC_COMPILED_WHEN_USED
inline Json yields_json(const std::vector<ChannelYields>& channels) {
  auto list = [](const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); };
  Json out = Json::array();
  for (const auto& c : channels) {
    Json samples = Json::array();
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
AGNOSTIC_COMPILED_WHEN_USED
inline Json number_or_null(double x) {
  return std::isfinite(x) ? Json(x) : Json(nullptr);
}

template <std::size_t N>
Json numbers_or_null(const std::array<double, N>& xs) {
  Json out = Json::array();
  for (double x : xs) out.push_back(number_or_null(x));
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline Json toy_cls_json(const ToyClsResult& t) {
  return Json{{"mu", t.mu},       {"obs", t.cls_obs},   {"obs_error", t.cls_obs_error},
              {"exp", t.cls_exp}, {"clsb", t.clsb_obs}, {"clb", t.clb_obs},
              {"q_obs", t.q_obs}};
}

AGNOSTIC_COMPILED_WHEN_USED
inline Json toys_json(const ToyEnsemble& e, int poi, std::uint64_t seed) {
  Json values = Json::array(), errors = values, pulls = values;
  for (int i = 0; i < e.n; ++i) {  // a failed toy: null in all three lists
    const double pull = e.pull(i, poi);
    values.push_back(std::isnan(pull) ? Json(nullptr) : number_or_null(e.values(i, poi)));
    errors.push_back(std::isnan(pull) ? Json(nullptr) : number_or_null(e.errors(i, poi)));
    pulls.push_back(number_or_null(pull));
  }
  const PullSummary& summary = e.pull_summaries[static_cast<std::size_t>(poi)];
  return {{"n", e.n},
          {"n_converged", e.n_converged},
          {"seed", seed},
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

// {"saturated_q", "ndof", "p_value", "p_value_toys", "toys", "per_channel": [...]}; undefined
// p-values (ndof < 1, no toys) are null.
AGNOSTIC_COMPILED_WHEN_USED
inline Json goodness_of_fit_json(const GoodnessOfFit& g) {
  Json channels = Json::array();
  for (const ChannelGoodnessOfFit& c : g.per_channel)
    channels.push_back({{"channel", c.channel},
                        {"masked", c.masked},
                        {"saturated_q", c.saturated_q},
                        {"ndof", c.ndof},
                        {"p_value", number_or_null(c.p_value)},
                        {"p_value_toys", number_or_null(c.p_value_toys)}});
  return {{"saturated_q", g.saturated_q},
          {"ndof", g.ndof},
          {"p_value", number_or_null(g.p_value)},
          {"p_value_toys", number_or_null(g.p_value_toys)},
          {"toys", g.toys},
          {"toys_converged", g.toys_converged},
          {"per_channel", channels}};
}

// {"parameters", "a_values", "b_values", "delta_2nll" (one row per A value), "contours": [{"cl", "level",
// "lines": [[[a, b], ...], ...]}]}
AGNOSTIC_COMPILED_WHEN_USED
inline Json scan2d_json(const Scan2D& s) {
  Json grid = Json::array();
  for (Eigen::Index i = 0; i < s.delta.rows(); ++i) {
    Json row = Json::array();
    for (Eigen::Index j = 0; j < s.delta.cols(); ++j) row.push_back(number_or_null(s.delta(i, j)));
    grid.push_back(row);
  }
  Json contours = Json::array();
  for (const Contour& c : s.contours)
    contours.push_back({{"cl", c.cl}, {"level", c.level}, {"lines", c.lines}});
  return {{"parameters", {s.a, s.b}},
          {"a_values", s.a_values},
          {"b_values", s.b_values},
          {"delta_2nll", grid},
          {"contours", contours}};
}

// The discovery test in detail: asymptotic, or from toys with the asymptotic numbers beside.
AGNOSTIC_COMPILED_WHEN_USED
inline Json discovery_json(const DiscoveryResult& d, const std::optional<ToyDiscovery>& toys,
                           const FitRequest& o) {
  Json asymptotic{{"mu_hat", d.mu_hat},       {"q0_obs", d.q0_obs}, {"p0_obs", d.p0_obs}, {"z_obs", d.z_obs},
                  {"q0_asimov", d.q0_asimov}, {"p0_exp", d.p0_exp}, {"z_exp", d.z_exp}};
  if (!toys) {
    Json out{{"method", "asymptotic"}};
    out.update(asymptotic);
    return out;
  }
  auto z = [](double p) {
    return p > 0.0 ? normal_quantile(1.0 - p) : std::numeric_limits<double>::infinity();
  };
  return {{"method", "toys"},        {"toys", o.toys},
          {"seed", o.seed},          {"q0_obs", toys->q0_obs},
          {"p0_obs", toys->p0_obs},  {"z_obs", number_or_null(z(toys->p0_obs))},
          {"p0_exp", toys->p0_exp},  {"z_exp", number_or_null(z(toys->p0_exp[2]))},
          {"asymptotic", asymptotic}};
}

}  // namespace fit_report_detail

// The report as `agnostic fit` prints it: status first, then the keys of what was asked for.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::ordered_json to_json(const FitReport& r) {
  using namespace fit_report_detail;
  const FitRequest& o = r.request;
  Json out;
  out["status"] = r.status;
  out["poi"] = r.poi;
  out["data"] = o.asimov ? "asimov" : "observed";
  out["bestfit"] = Json::object();
  out["errors"] = Json::object();
  for (std::size_t i = 0; i < r.names.size(); ++i) {
    out["bestfit"][r.names[i]] = r.best.values[static_cast<Eigen::Index>(i)];
    out["errors"][r.names[i]] = r.best.errors[static_cast<Eigen::Index>(i)];
  }
  out["nll"] = r.best.nll;
  out["edm"] = r.best.edm;
  out["covariance_quality"] = to_string(r.best.covariance_quality);
  {
    Json matrix = Json::array();
    for (Eigen::Index i = 0; i < r.correlation.matrix.rows(); ++i) {
      Json row = Json::array();
      for (Eigen::Index j = 0; j < r.correlation.matrix.cols(); ++j)
        row.push_back(r.correlation.matrix(i, j));
      matrix.push_back(row);
    }
    out["correlation"] = {{"names", r.correlation.names}, {"matrix", matrix}};
  }
  out["prefit"] = yields_json(r.prefit);
  out["postfit"] = yields_json(r.postfit);
  if (r.yields_table) {
    Json channels = Json::array();
    for (const YieldsTableChannel& c : *r.yields_table) {
      Json rows = Json::array();
      for (const YieldsTableRow& row : c.rows)
        rows.push_back({{"sample", row.sample},
                        {"prefit", row.prefit.value},
                        {"prefit_error", number_or_null(row.prefit.error)},
                        {"postfit", row.postfit.value},
                        {"postfit_error", number_or_null(row.postfit.error)}});
      channels.push_back({{"channel", c.name}, {"samples", rows}, {"data", c.data}});
    }
    out["yields_table"] = channels;
  }
  if (r.discovery) {
    out["significance"] = r.discovery->z_obs;
    out["significance_exp"] = r.discovery->z_exp;
  }
  if (o.significance && r.discovery) out["discovery"] = discovery_json(*r.discovery, r.toy_discovery, o);
  if (r.goodness_of_fit) out["goodness_of_fit"] = goodness_of_fit_json(*r.goodness_of_fit);
  if (r.minos) out["minos"] = {{r.poi, {r.minos->first, r.minos->second}}};
  if (r.scan) {
    Json points = Json::array();
    for (const ScanPoint& p : *r.scan)
      points.push_back({{"mu", p.mu}, {"nll", p.nll}, {"delta_nll", p.delta_nll}});
    out["scan"] = points;
  }
  if (r.scan2d) out["scan2d"] = scan2d_json(*r.scan2d);
  const std::string stat = to_string(o.test_statistic);
  if (r.toy_cls) {
    Json c = toy_cls_json(*r.toy_cls);
    c["test_stat"] = stat;
    c["method"] = "toys";
    c["toys"] = o.toys;
    c["seed"] = o.seed;
    out["cls"] = c;
  } else if (r.cls) {
    const ClsResult& c = *r.cls;
    out["cls"] = {{"mu", c.mu},       {"test_stat", stat}, {"method", "asymptotic"},
                  {"obs", c.cls_obs}, {"exp", c.cls_exp},  {"clsb", c.clsb_obs},
                  {"clb", c.clb_obs}, {"q_obs", c.q_obs},  {"q_asimov", c.q_asimov}};
  }
  if (r.upper_limit) {
    const UpperLimit& a = *r.upper_limit;
    Json u{{"cl", o.cl}, {"test_stat", stat}};
    if (!r.toy_upper_limit) {
      u["method"] = "asymptotic";
      u["obs"] = number_or_null(a.obs);
      u["exp"] = numbers_or_null(a.exp);
      u["search_range"] = {a.search_lo, a.search_hi};
      if (!a.notes.empty()) u["notes"] = a.notes;
    } else {
      const ToyUpperLimit& t = *r.toy_upper_limit;
      u["method"] = "toys";
      u["obs"] = number_or_null(t.obs);
      u["obs_error"] = number_or_null(t.obs_error);
      u["exp"] = numbers_or_null(t.exp);
      u["toys"] = o.toys;
      u["seed"] = o.seed;
      u["asymptotic"] = {{"obs", number_or_null(a.obs)}, {"exp", numbers_or_null(a.exp)}};
      if (!t.notes.empty()) u["notes"] = t.notes;
    }
    out["upper_limit"] = u;
  }
  if (r.toy_cls_scan) {
    Json points = Json::array();
    for (const ToyClsResult& t : *r.toy_cls_scan) points.push_back(toy_cls_json(t));
    out["cls_scan"] = points;
  } else if (r.cls_scan) {
    Json points = Json::array();
    for (const ClsResult& c : *r.cls_scan)
      points.push_back({{"mu", c.mu}, {"obs", c.cls_obs}, {"exp", c.cls_exp}});
    out["cls_scan"] = points;
  }
  if (r.impacts) {
    Json list = Json::array();
    for (const Impact& i : *r.impacts)
      list.push_back({{"name", i.name},
                      {"pull", number_or_null(i.pull)},
                      {"constraint", number_or_null(i.constraint)},
                      {"prefit_up", number_or_null(i.prefit_up)},
                      {"prefit_down", number_or_null(i.prefit_down)},
                      {"postfit_up", i.postfit_up},
                      {"postfit_down", i.postfit_down}});
    out["impacts"] = list;
  }
  if (r.breakdown) {
    Json list = Json::array();
    for (const BreakdownEntry& e : *r.breakdown)
      list.push_back({{"group", e.group},
                      {"impact_up", e.impact_up},
                      {"impact_down", e.impact_down},
                      {"parameters", e.parameters}});
    out["breakdown"] = list;
  }
  if (r.toys) out["toys"] = toys_json(*r.toys, r.poi_index, o.seed);
  if (!r.warnings.empty()) out["warnings"] = r.warnings;
  return out;
}

// -- patchsets (HEPData): one report per signal point ---------------------------------------------

struct PatchFitReport {
  std::string patch;
  nlohmann::json values;  // the patch's signal-point coordinates
  FitReport report;
};

struct PatchSetFitReport {
  std::string patchset, workspace;      // the files, as given (PatchSet::source, Workspace::source)
  std::vector<PatchFitReport> results;  // one per patch, in the patchset's order
};

// The report of the background-only workspace with the patch `patch` of `patchset` applied.
AGNOSTIC_COMPILED_WHEN_USED
inline PatchFitReport fit_report(const Workspace& background_only, const PatchSet& patchset,
                                 const std::string& patch, const FitRequest& request,
                                 Communicator& comm = one_rank()) {
  const nlohmann::json& values = patchset.patch(patch).values;
  return {patch, values, fit_report(patched_workspace(background_only, patchset, patch), request, comm)};
}

// Every patch's report, the patches shared among the threads (each patch's own toys and scans then
// run in its thread, on this rank).
AGNOSTIC_COMPILED_WHEN_USED
inline PatchSetFitReport fit_report(const Workspace& background_only, const PatchSet& patchset,
                                    const FitRequest& request, Communicator& comm = one_rank()) {
  PatchSetFitReport all{patchset.source, background_only.source, {}};
  all.results.resize(patchset.patches.size());
  toys_detail::for_each_toy(
      static_cast<int>(patchset.patches.size()),
      [&](int i) {
        const Patch& p = patchset.patches[static_cast<std::size_t>(i)];
        all.results[static_cast<std::size_t>(i)] = {
            p.name, p.values,
            fit_report(patched_workspace(background_only, patchset, p.name), request, comm)};
      },
      "patch");
  return all;
}

// {"patch", "values", then the report's keys}
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::ordered_json to_json(const PatchFitReport& r) {
  nlohmann::ordered_json out{{"patch", r.patch}, {"values", r.values}};
  out.update(to_json(r.report));
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::ordered_json to_json(const PatchSetFitReport& r) {
  std::vector<nlohmann::ordered_json> results;
  for (const PatchFitReport& p : r.results) results.push_back(to_json(p));
  return {{"patchset", r.patchset}, {"workspace", r.workspace}, {"results", results}};
}

// `agnostic fit --list-patches`: the patchset's description and its patches' names and values.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::ordered_json patch_list_json(const PatchSet& ps) {
  nlohmann::ordered_json patches = nlohmann::ordered_json::array();
  for (const auto& p : ps.patches) patches.push_back({{"name", p.name}, {"values", p.values}});
  return {
      {"patchset", ps.source}, {"description", ps.description}, {"labels", ps.labels}, {"patches", patches}};
}

}  // namespace agnostic::stats
