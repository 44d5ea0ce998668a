#pragma once
// The config of `agnostic sample` (docs/sampling.md lists every key): which control-region file the
// generation templates are filled from, each variable's binning, the templates in the conditional
// order they are drawn (Chisholm et al., arXiv:2112.00650 sec. 2.4, table 2), with or without replacement,
// how many events, the seed, and where the events and the validation go. Reading is strict
// (core/config_section.hpp); relative input paths are taken relative to the config file's directory, output
// paths relative to where the command runs (as for `agnostic train`).
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/config_section.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/stats/ancestral.hpp"
#include "agnostic/stats/histogram.hpp"

namespace agnostic::stats {

// One factor p(draw | given) of the config's "templates" list, by variable name.
struct TemplateConfig {
  std::vector<std::string> draw;
  std::vector<std::string> given;
};

struct SamplingConfig {
  std::string source;                  // the config file, for messages
  std::vector<std::string> files;      // control-region data files (stacked)
  std::string weight;                  // optional event-weight column ("" = unweighted)
  std::vector<std::string> variables;  // in output order
  std::vector<Axis> axes;              // one per variable
  std::vector<TemplateConfig> templates;
  Index events = 100000;
  std::uint64_t seed = 1;
  bool replacement = false;  // fill the templates from a bootstrap resample of the data
  Flow flow = Flow::drop;
  EmptySlice empty_slice = EmptySlice::error;
  std::string output_events = "sampled.csv";
  std::string output_validation = "validation.json";

  int variable_index(const std::string& name) const {
    for (std::size_t v = 0; v < variables.size(); ++v)
      if (variables[v] == name) return static_cast<int>(v);
    return -1;
  }
};

namespace sampling_config_detail {

inline std::string resolve(const std::string& path, const std::filesystem::path& base) {
  const std::filesystem::path p(path);
  return p.is_absolute() || base.empty() ? p.string() : (base / p).lexically_normal().string();
}

// {"name": ..., "bins": N, "range": [lo, hi]} or {"name": ..., "edges": [e0, e1, ...]}.
inline Axis read_axis(const ConfigSection& v, const std::string& name) {
  if (v.has("edges")) {
    if (v.has("bins") || v.has("range"))
      v.fail_at(v.child("edges"),
                "is given together with 'bins'/'range'; give either edges or bins and range");
    const std::vector<double> edges = v.numbers("edges");
    if (edges.size() < 2)
      v.fail_at(v.child("edges"), "has ", edges.size(), " entries; expected at least 2 edges");
    for (std::size_t k = 1; k < edges.size(); ++k)
      if (!(edges[k] > edges[k - 1]))
        v.fail_at(v.child("edges"), "is not strictly increasing at entry ", k, " (", edges[k - 1], " then ",
                  edges[k], ")");
    return Axis(edges, name);
  }
  if (!v.has("bins") || !v.has("range"))
    v.fail_at(v.child("bins"),
              "is missing; each variable needs \"bins\": N and \"range\": [lo, hi], or \"edges\"");
  const Index bins = v.integer("bins", 0, 1, 100000);
  const std::vector<double> range = v.numbers("range");
  if (range.size() != 2 || !(range[1] > range[0]))
    v.fail_at(v.child("range"), "is ", v.raw("range").dump(), "; expected [lo, hi] with lo < hi");
  return Axis::uniform(bins, range[0], range[1], name);
}

}  // namespace sampling_config_detail

// `base`: the directory relative input paths start from (the config file's).
inline SamplingConfig sampling_config_from_json(const nlohmann::json& j, const std::string& source,
                                                const std::filesystem::path& base = {}) {
  using sampling_config_detail::read_axis;
  using sampling_config_detail::resolve;
  SamplingConfig c;
  c.source = source;
  const ConfigSection top(j, "", source, {"data", "variables", "templates", "sampling", "output"});

  if (!top.has("data")) top.fail_at("data", "is missing; expected {\"files\": [\"control.csv\"]}");
  const ConfigSection data = top.section("data", {"files", "weight"});
  for (const auto& f : data.strings("files", true, true)) c.files.push_back(resolve(f, base));
  if (c.files.empty()) data.fail_at(data.child("files"), "is empty; expected at least one data file");
  c.weight = data.string("weight", "");

  if (!top.has("variables") || !top.raw("variables").is_array() || top.raw("variables").empty())
    top.fail_at("variables", "is ",
                top.has("variables") ? top.raw("variables").dump() : std::string("missing"),
                "; expected a non-empty list [{\"name\": \"x\", \"bins\": 20, \"range\": [0, 1]}, ...]");
  const auto& variables = top.raw("variables");
  for (std::size_t k = 0; k < variables.size(); ++k) {
    const ConfigSection v(variables[k], "variables[" + std::to_string(k) + "]", source,
                          {"name", "bins", "range", "edges"});
    if (!v.has("name")) v.fail_at(v.child("name"), "is missing; every variable needs a column name");
    const std::string name = v.string("name", "");
    if (name.empty()) v.fail_at(v.child("name"), "is empty; expected a column name");
    if (c.variable_index(name) >= 0) v.fail_at(v.child("name"), "is \"", name, "\", which is listed twice");
    c.variables.push_back(name);
    c.axes.push_back(read_axis(v, name));
  }

  if (!top.has("templates") || !top.raw("templates").is_array() || top.raw("templates").empty())
    top.fail_at(
        "templates", "is ", top.has("templates") ? top.raw("templates").dump() : std::string("missing"),
        "; expected a non-empty list [{\"draw\": [\"x\"]}, {\"draw\": [\"y\"], \"given\": [\"x\"]}, ...]");
  const auto& templates = top.raw("templates");
  std::set<std::string> drawn;
  for (std::size_t k = 0; k < templates.size(); ++k) {
    const ConfigSection t(templates[k], "templates[" + std::to_string(k) + "]", source, {"draw", "given"});
    TemplateConfig tc{t.strings("draw", true, true), t.strings("given", false, true)};
    if (tc.draw.empty()) t.fail_at(t.child("draw"), "is empty; a template draws 1 to 3 variables");
    if (tc.draw.size() + tc.given.size() > 3)
      t.fail_at(t.child("draw"), "and 'given' span ", tc.draw.size() + tc.given.size(),
                " variables; templates have 1 to 3 dimensions");
    for (const auto& name : tc.given) {
      if (c.variable_index(name) < 0)
        t.fail_at(t.child("given"), "names \"", name,
                  "\", which is not in 'variables': ", t.list(c.variables));
      if (!drawn.count(name))
        t.fail_at(t.child("given"), "names \"", name,
                  "\", which no earlier template draws; list the templates in the order they are drawn");
    }
    for (const auto& name : tc.draw) {
      if (c.variable_index(name) < 0)
        t.fail_at(t.child("draw"), "names \"", name,
                  "\", which is not in 'variables': ", t.list(c.variables));
      if (!drawn.insert(name).second)
        t.fail_at(t.child("draw"), "names \"", name,
                  "\", which an earlier template (or this one) already draws");
    }
    c.templates.push_back(std::move(tc));
  }
  for (const auto& name : c.variables)
    if (!drawn.count(name))
      top.fail_at("templates", "draws no template for variable \"", name, "\"; every variable is drawn once");

  const ConfigSection s = top.section("sampling", {"events", "seed", "replacement", "flow", "empty_slice"});
  c.events = s.integer("events", c.events, 1, 1000000000);
  c.seed = static_cast<std::uint64_t>(s.integer("seed", 1, 0, 4000000000000000000));
  c.replacement = s.boolean("replacement", false);
  c.flow = s.choice("flow", "drop", {"drop", "fold"}) == "fold" ? Flow::fold : Flow::drop;
  c.empty_slice = s.choice("empty_slice", "error", {"error", "marginal"}) == "marginal" ? EmptySlice::marginal
                                                                                        : EmptySlice::error;

  const ConfigSection o = top.section("output", {"events", "validation"});
  c.output_events = o.string("events", c.output_events);
  c.output_validation = o.string("validation", c.output_validation);
  if (c.output_events.empty()) o.fail_at(o.child("events"), "is empty; expected a CSV file name");
  return c;
}

inline SamplingConfig read_sampling_config(const std::string& path) {
  return sampling_config_from_json(read_json_file(path, "sampling config"), path,
                                   std::filesystem::path(path).parent_path());
}

// The sampler the config describes, its templates not yet filled.
inline AncestralSampler make_sampler(const SamplingConfig& c) {
  AncestralSampler sampler(c.variables, c.flow, c.empty_slice);
  for (const auto& t : c.templates) {
    TemplateStep step;
    for (const auto& name : t.draw) {
      step.draw.push_back(c.variable_index(name));
      step.draw_axes.push_back(c.axes[static_cast<std::size_t>(c.variable_index(name))]);
    }
    for (const auto& name : t.given) {
      step.given.push_back(c.variable_index(name));
      step.given_axes.push_back(c.axes[static_cast<std::size_t>(c.variable_index(name))]);
    }
    sampler.add(std::move(step));
  }
  return sampler;
}

// The sampler of the config, filled from the control-region events (one row per event, columns in the
// config's variable order; weights one per event): as they are, or, with "replacement", from as many
// events drawn from them with replacement. The same config and data give the same templates and events:
// one Rng seeded with the config's seed draws the resample first, then the events.
inline AncestralSampler fill_sampler(const SamplingConfig& c, const MatrixD& control, const VectorD& weights,
                                     Rng& rng) {
  AncestralSampler sampler = make_sampler(c);
  if (c.replacement)
    sampler.fill_with_replacement(control, weights, rng);
  else
    sampler.fill(control, weights);
  return sampler;
}

inline MatrixD sample_from_config(const SamplingConfig& c, const MatrixD& control, const VectorD& weights) {
  Rng rng(c.seed);
  const AncestralSampler sampler = fill_sampler(c, control, weights, rng);
  return sampler.sample(c.events, rng);
}

}  // namespace agnostic::stats
