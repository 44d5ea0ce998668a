#pragma once
// Uncertainty breakdown of the POI by the freeze-groups method (combine's "breakdown", cabinetry's
// grouped impacts): the MINOS interval of the POI with every parameter floating gives the total
// uncertainty (up: hi - mu_hat, down: mu_hat - lo); refitting with one group's parameters held at
// their best-fit values gives a smaller interval, and the group's impact is what it removed,
// subtracted in quadrature: impact_up = sqrt(max(0, up_total^2 - up_frozen^2)), the same for down.
// "stat only" is the interval with every parameter but the POI held; "total" the full one.
//
// Default groups by modifier type: stat (staterror, shapesys), norm (normsys, lumi), shape (histosys;
// an alpha shared by a normsys and a histosys counts as shape), free (normfactors other than the POI,
// shapefactors). A GROUPS.json file instead: {"group name": ["parameter or modifier name", ...], ...},
// in its order (a modifier name stands for each of its per-bin parameters).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

struct BreakdownGroup {
  std::string name;
  std::vector<std::string> parameters;  // parameter names ("mu", "gamma_stat[3]") or modifier names
};

struct BreakdownEntry {
  std::string group;  // a group's name, "stat only" or "total"
  double impact_up = 0.0, impact_down = 0.0;
  std::vector<std::string> parameters;  // the floating parameters it held (empty for "total")
};

// The default groups of a workspace's model (see the header comment); groups without a parameter that
// floats in `model` are left out.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<BreakdownGroup> default_breakdown_groups(const Workspace& workspace,
                                                            const BinnedLikelihood& model) {
  std::map<std::string, std::set<std::string>> types;  // modifier name -> its types in the workspace
  for (const auto& c : workspace.channels)
    for (const auto& s : c.samples)
      for (const auto& m : s.modifiers) types[m.name].insert(m.type);
  std::vector<BreakdownGroup> groups{{"stat", {}}, {"norm", {}}, {"shape", {}}, {"free", {}}};
  for (int i = 0; i < model.n_params(); ++i) {
    if (i == model.poi() || model.fixed()[static_cast<std::size_t>(i)]) continue;
    const auto& t = types[model.parameter(i).modifier];
    std::size_t g = 0;
    if (t.count("staterror") || t.count("shapesys"))
      g = 0;
    else if (t.count("histosys"))
      g = 2;
    else if (t.count("normsys") || t.count("lumi"))
      g = 1;
    else
      g = 3;  // normfactor, shapefactor
    groups[g].parameters.push_back(model.names()[static_cast<std::size_t>(i)]);
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [](const BreakdownGroup& g) { return g.parameters.empty(); }),
               groups.end());
  return groups;
}

// GROUPS.json: {"group name": ["parameter or modifier", ...], ...}, in the file's order.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<BreakdownGroup> read_breakdown_groups(const std::string& path) {
  (void)read_json_file(path, "breakdown groups file");  // its syntax errors, with line and column
  const auto doc = nlohmann::ordered_json::parse(read_file(path));
  require(doc.is_object() && !doc.empty(), path,
          ": expected an object {\"group name\": [\"parameter or modifier\", ...], ...}");
  std::vector<BreakdownGroup> groups;
  for (const auto& [name, list] : doc.items()) {
    require(list.is_array() && !list.empty(), path, ": group '", name,
            "' must be a non-empty array of parameter or modifier names");
    BreakdownGroup g{name, {}};
    for (const auto& p : list) {
      require(p.is_string(), path, ": group '", name, "' holds ", p.dump(), ", expected a name");
      // `.template`: GCC takes a structured binding (`list`) inside a template for a dependent name.
      g.parameters.push_back(p.template get<std::string>());
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

namespace breakdown_detail {

// Indices of the group's parameters that floated in `best` (the POI left out), by parameter or
// modifier name; an unknown name is an error naming the group.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<int> floating_members(const BinnedLikelihood& model, const FitResult& best,
                                         const BreakdownGroup& group) {
  std::vector<int> out;
  for (const std::string& name : group.parameters) {
    bool found = false;
    for (int i = 0; i < model.n_params(); ++i) {
      const auto& p = model.parameter(i);
      if (p.name != name && p.modifier != name) continue;
      found = true;
      if (i != model.poi() && best.floating[static_cast<std::size_t>(i)] &&
          std::find(out.begin(), out.end(), i) == out.end())
        out.push_back(i);
    }
    require(found, "breakdown group '", group.name, "': unknown parameter '", name,
            "'; the model has: ", [&] {
              std::string all;
              for (const auto& n : model.names()) all += (all.empty() ? "" : ", ") + n;
              return all;
            }());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// (up, down) of the POI's MINOS interval with `held` parameters fixed at their best-fit values.
AGNOSTIC_COMPILED_WHEN_USED
inline std::pair<double, double> interval_with_held(const BinnedLikelihood& model, const Data& data,
                                                    const FitResult& best, const std::vector<int>& held) {
  const int poi = model.poi();
  const std::string& name = model.names()[static_cast<std::size_t>(poi)];
  FitResult refit = best;
  if (!held.empty()) {
    FitOptions options;
    options.start = best.values;
    for (int i : held) options.fix[model.names()[static_cast<std::size_t>(i)]] = best.values[i];
    refit = fit(model, data, options);
  }
  const auto [lo, hi] = minos(model, data, refit, name);
  return {hi - refit.values[poi], refit.values[poi] - lo};
}

}  // namespace breakdown_detail

// The breakdown of the POI's uncertainty: one entry per group with a floating parameter (in the
// groups' order), then "stat only" and "total". `best` is the fit of `model` to `data` (with Hessian);
// the refits run in parallel.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<BreakdownEntry> breakdown(const BinnedLikelihood& model, const Data& data,
                                             const FitResult& best,
                                             const std::vector<BreakdownGroup>& groups) {
  using namespace breakdown_detail;
  const int poi = model.poi();
  require(best.floating.size() == static_cast<std::size_t>(model.n_params()) &&
              best.floating[static_cast<std::size_t>(poi)],
          "breakdown: the POI '", model.names()[static_cast<std::size_t>(poi)], "' must float in the fit");
  std::vector<std::vector<int>> held;
  std::vector<std::string> names;
  for (const BreakdownGroup& g : groups) {
    std::vector<int> members = floating_members(model, best, g);
    if (members.empty()) continue;
    held.push_back(std::move(members));
    names.push_back(g.name);
  }
  std::vector<int> all;
  for (int i = 0; i < model.n_params(); ++i)
    if (i != poi && best.floating[static_cast<std::size_t>(i)]) all.push_back(i);
  held.push_back(all);  // stat only
  held.push_back({});   // total
  names.push_back("stat only");
  names.push_back("total");
  std::vector<std::pair<double, double>> intervals(held.size());
  toys_detail::for_each_toy(
      static_cast<int>(held.size()),
      [&](int k) {
        intervals[static_cast<std::size_t>(k)] =
            interval_with_held(model, data, best, held[static_cast<std::size_t>(k)]);
      },
      "breakdown group");
  const auto [up_total, down_total] = intervals.back();
  std::vector<BreakdownEntry> out;
  for (std::size_t k = 0; k < held.size(); ++k) {
    BreakdownEntry e;
    e.group = names[k];
    for (int i : held[k]) e.parameters.push_back(model.names()[static_cast<std::size_t>(i)]);
    const auto [up, down] = intervals[k];
    if (k + 2 >= held.size()) {  // "stat only" and "total": the interval itself
      e.impact_up = up, e.impact_down = down;
    } else {
      e.impact_up = std::sqrt(std::max(0.0, up_total * up_total - up * up));
      e.impact_down = std::sqrt(std::max(0.0, down_total * down_total - down * down));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace agnostic::stats
