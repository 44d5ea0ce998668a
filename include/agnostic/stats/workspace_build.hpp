#pragma once
// Templates from scored events: the step cabinetry calls "templates". A build spec (JSON; keys in
// docs/workspace.md) names, per channel, the binning (edges, or equal population in one sample), the
// event files of each sample (a histogrammed column and a weight column, as `agnostic predict` writes
// them next to the inputs), their up/down variations (another weight column, or a shifted file) and
// the observed events; build_workspace() histograms them into a pyhf workspace with normfactor,
// normsys, histosys and staterror (sqrt of the sum of squared weights) modifiers, optionally smoothing
// and symmetrising each variation as TRExFitter and cabinetry offer. Unknown keys are errors naming
// the key.
#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/stats/histogram.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

// A weighted histogram: per-bin sums of the weights and of the squared weights.
struct EventHistogram {
  std::vector<double> sum_w, sum_w2;
};

// Events (value, weight) histogrammed in bins [e_i, e_{i+1}) by stats::Histogram: the last bin also
// takes values equal to its upper edge; values outside the edges are left out (no under- or overflow is
// folded in); a NaN value or a non-finite weight is an error naming `what` (the events' file and column).
AGNOSTIC_COMPILED_WHEN_USED
inline EventHistogram histogram_events(const std::vector<double>& values, const std::vector<double>& weights,
                                       const std::vector<double>& edges, const std::string& what) {
  Histogram h(Axis(edges), Flow::drop);
  for (std::size_t i = 0; i < values.size(); ++i) {
    try {
      h.fill({values[i]}, weights[i]);
    } catch (const Error& e) {
      fail(what, ", event ", i + 1, ": ", e.what());
    }
  }
  EventHistogram out;
  for (Index b = 0; b + 1 < static_cast<Index>(edges.size()); ++b) {
    out.sum_w.push_back(h.sum_of_weights(b));
    out.sum_w2.push_back(h.sum_of_squared_weights(b));
  }
  return out;
}

// Edges that give each of `bins` bins the same sum of weights of the events (values, weights), between
// lo and hi: inner edge k lies halfway between the first sorted value at which the cumulative weight
// reaches k/bins of the total and the next value.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> equal_population_edges(const std::vector<double>& values,
                                                  const std::vector<double>& weights, int bins, double lo,
                                                  double hi, const std::string& where) {
  require(bins >= 1, where, ": equal_population must be >= 1, got ", bins);
  std::vector<std::pair<double, double>> events;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i] >= lo && values[i] <= hi) events.emplace_back(values[i], weights[i]);
  std::sort(events.begin(), events.end());
  double total = 0.0;
  for (const auto& e : events) total += e.second;
  require(total > 0.0, where, ": the events in [", lo, ", ", hi, "] have no positive total weight");
  std::vector<double> edges{lo};
  double cumulative = 0.0;
  std::size_t j = 0;
  for (int k = 1; k < bins; ++k) {
    const double target = total * k / bins;
    while (j < events.size() && cumulative + events[j].second < target) cumulative += events[j++].second;
    require(j + 1 < events.size(), where, ": not enough events for ", bins, " bins of equal population");
    const double edge = 0.5 * (events[j].first + events[j + 1].first);
    require(edge > edges.back(), where, ": ", bins,
            " bins of equal population need more distinct values (two edges coincide at ", edge, ")");
    edges.push_back(edge);
  }
  require(hi > edges.back(), where, ": the upper end ", hi, " is not above the last inner edge ",
          edges.back());
  edges.push_back(hi);
  return edges;
}

// The smoothing of a variation: the relative deviation d_i = var_i / nom_i - 1 (0 where nom_i = 0) is
// replaced by a running median of three (the end bins kept), then by the 1/4-1/2-1/4 running mean
// ("hanning"; the end bins kept) -- the first two steps of ROOT's 353QH smoother; var_i = nom_i (1 + d_i).
// With fewer than three bins nothing changes.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> smooth_variation(const std::vector<double>& nominal,
                                            const std::vector<double>& varied) {
  const std::size_t n = nominal.size();
  if (n < 3) return varied;
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = nominal[i] != 0.0 ? varied[i] / nominal[i] - 1.0 : 0.0;
  std::vector<double> median = d;
  for (std::size_t i = 1; i + 1 < n; ++i) {
    double three[3] = {d[i - 1], d[i], d[i + 1]};
    std::sort(three, three + 3);
    median[i] = three[1];
  }
  std::vector<double> hanning = median;
  for (std::size_t i = 1; i + 1 < n; ++i)
    hanning[i] = 0.25 * median[i - 1] + 0.5 * median[i] + 0.25 * median[i + 1];
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = nominal[i] * (1.0 + hanning[i]);
  return out;
}

namespace workspace_build_detail {

using nlohmann::json;

AGNOSTIC_COMPILED_WHEN_USED
inline void only_keys(const json& object, std::initializer_list<const char*> allowed,
                      const std::string& where) {
  require(object.is_object(), where, ": expected a JSON object, got ", object.type_name());
  for (const auto& item : object.items()) {
    bool known = false;
    std::string list;
    for (const char* key : allowed) {
      known = known || item.key() == key;
      list += (list.empty() ? "" : ", ") + std::string(key);
    }
    require(known, where, ": unknown key '", item.key(), "' (keys: ", list, ")");
  }
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::string text_of(const json& object, const char* key, const std::string& where,
                           std::string fallback = {}, bool required = false) {
  if (!object.contains(key)) {
    require(!required, where, ": missing key '", key, "'");
    return fallback;
  }
  const json& v = object.at(key);
  if (v.is_null()) return "";
  require(v.is_string(), where, ".", key, ": expected a string, got ", v.dump());
  return v.get<std::string>();
}

AGNOSTIC_COMPILED_WHEN_USED
inline double number_of(const json& object, const char* key, const std::string& where) {
  require(object.contains(key), where, ": missing key '", key, "'");
  require(object.at(key).is_number(), where, ".", key, ": expected a number, got ", object.at(key).dump());
  return object.at(key).get<double>();
}

// Where a set of events comes from: a file, its histogrammed column and its weight column ("" = 1).
struct EventSource {
  std::string file, variable, weight;
};

// The events' values and weights, read once per file.
struct EventReader {
  std::filesystem::path base;  // relative file names are relative to the spec's folder
  std::deque<std::pair<std::string, io::Table>> tables;  // a deque: references stay valid

  const io::Table& table(const std::string& file) {
    for (const auto& [name, t] : tables)
      if (name == file) return t;
    const std::filesystem::path path =
        std::filesystem::path(file).is_absolute() ? std::filesystem::path(file) : base / file;
    tables.emplace_back(file, io::read_table(path.string()));
    return tables.back().second;
  }

  std::pair<std::vector<double>, std::vector<double>> events(const EventSource& source) {
    const io::Table& t = table(source.file);
    const auto values = t.column(source.variable);
    std::vector<double> weights(values.size(), 1.0);
    if (!source.weight.empty()) {
      const auto w = t.column(source.weight);
      weights.assign(w.begin(), w.end());
    }
    return {std::vector<double>(values.begin(), values.end()), weights};
  }
};

// A source from an object with "file", "variable", "weight", each defaulting to `defaults`'.
AGNOSTIC_COMPILED_WHEN_USED
inline EventSource source_of(const json& object, const EventSource& defaults, const std::string& where) {
  only_keys(object, {"file", "variable", "weight"}, where);
  EventSource s;
  s.file = text_of(object, "file", where, defaults.file);
  require(!s.file.empty(), where, ": missing key 'file'");
  s.variable = text_of(object, "variable", where, defaults.variable);
  s.weight = text_of(object, "weight", where, defaults.weight);
  return s;
}

// "FILE, column 'VARIABLE' weighted by 'WEIGHT'": the events' name in a histogram's error messages.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string describe(const EventSource& source) {
  return source.file + ", column '" + source.variable + "'" +
         (source.weight.empty() ? "" : " weighted by '" + source.weight + "'");
}

AGNOSTIC_COMPILED_WHEN_USED
inline double sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

}  // namespace workspace_build_detail

// One variation's templates after smoothing and symmetrisation. "symmetrise": a one-sided variation
// (only "up") is mirrored, down = 2 nominal - up; a two-sided one is averaged, up/down = nominal +- (up -
// down) / 2. Without it, a one-sided variation has down = nominal.
AGNOSTIC_COMPILED_WHEN_USED
inline std::pair<std::vector<double>, std::vector<double>> variation_templates(
    const std::vector<double>& nominal, std::vector<double> up, std::vector<double> down, bool has_down,
    bool smooth, bool symmetrise) {
  if (smooth) {
    up = smooth_variation(nominal, up);
    if (has_down) down = smooth_variation(nominal, down);
  }
  if (!has_down) down = nominal;
  for (std::size_t i = 0; i < nominal.size(); ++i) {
    if (!symmetrise) break;
    const double half = has_down ? 0.5 * (up[i] - down[i]) : up[i] - nominal[i];
    up[i] = nominal[i] + half;
    down[i] = nominal[i] - half;
  }
  return {up, down};
}

// The pyhf workspace a build spec describes (docs/workspace.md); `spec_folder` resolves relative files.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json build_workspace(const nlohmann::json& spec, const std::filesystem::path& spec_folder,
                                      const std::string& source = "build spec") {
  using namespace workspace_build_detail;
  only_keys(spec, {"channels", "measurement", "variable", "weight"}, source);
  EventReader reader{spec_folder, {}};
  const EventSource top{"", text_of(spec, "variable", source, "score"), text_of(spec, "weight", source, "")};
  require(spec.contains("channels") && spec.at("channels").is_array() && !spec.at("channels").empty(), source,
          ".channels: expected a non-empty array of channels");
  json channels = json::array(), observations = json::array();
  std::vector<std::string> modifier_names;
  for (std::size_t c = 0; c < spec.at("channels").size(); ++c) {
    const json& cs = spec.at("channels")[c];
    std::string where = source + ".channels[" + std::to_string(c) + "]";
    require(cs.is_object(), where, ": expected a JSON object, got ", cs.type_name());
    const std::string channel = text_of(cs, "name", where, "", true);
    where += " (channel '" + channel + "')";
    only_keys(cs, {"name", "binning", "samples", "data"}, where);
    require(cs.contains("samples") && cs.at("samples").is_array() && !cs.at("samples").empty(), where,
            ".samples: expected a non-empty array of samples");
    // The nominal events of every sample, read first: equal-population binning needs them.
    std::vector<EventSource> nominal_sources;
    std::vector<std::string> sample_names;
    for (std::size_t s = 0; s < cs.at("samples").size(); ++s) {
      const json& ss = cs.at("samples")[s];
      const std::string sw = where + ".samples[" + std::to_string(s) + "]";
      require(ss.is_object(), sw, ": expected a JSON object, got ", ss.type_name());
      sample_names.push_back(text_of(ss, "name", sw, "", true));
      for (std::size_t k = 0; k + 1 < sample_names.size(); ++k)
        require(sample_names[k] != sample_names.back(), sw, ": duplicate sample name '", sample_names.back(),
                "'");
      EventSource nominal = top;
      nominal.file = text_of(ss, "file", sw, "", true);
      nominal.variable = text_of(ss, "variable", sw, top.variable);
      nominal.weight = text_of(ss, "weight", sw, top.weight);
      nominal_sources.push_back(nominal);
    }
    require(cs.contains("binning"), where, ": missing key 'binning'");
    const json& binning = cs.at("binning");
    const std::string bw = where + ".binning";
    only_keys(binning, {"edges", "equal_population", "sample", "range"}, bw);
    std::vector<double> edges;
    if (binning.contains("edges")) {
      for (const char* key : {"equal_population", "sample", "range"})
        require(!binning.contains(key), bw, ": give either 'edges' or 'equal_population', not both ('", key,
                "')");
      require(binning.at("edges").is_array() && binning.at("edges").size() >= 2, bw,
              ".edges: expected an array of at least two numbers");
      for (const auto& e : binning.at("edges")) {
        require(e.is_number(), bw, ".edges: expected numbers, got ", e.dump());
        require(edges.empty() || e.get<double>() > edges.back(), bw, ".edges: must increase, got ",
                binning.at("edges").dump());
        edges.push_back(e.get<double>());
      }
    } else {
      require(binning.contains("equal_population"), bw, ": expected 'edges' or 'equal_population'");
      require(binning.at("equal_population").is_number_integer(), bw,
              ".equal_population: expected a whole number of bins, got ",
              binning.at("equal_population").dump());
      const std::string in = text_of(binning, "sample", bw, "", true);
      const auto at = std::find(sample_names.begin(), sample_names.end(), in);
      require(at != sample_names.end(), bw, ".sample: no sample named '", in, "' in the channel");
      const auto [values, weights] =
          reader.events(nominal_sources[static_cast<std::size_t>(at - sample_names.begin())]);
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      if (binning.contains("range")) {
        const json& r = binning.at("range");
        require(r.is_array() && r.size() == 2 && r[0].is_number() && r[1].is_number() && r[0] < r[1], bw,
                ".range: expected [low, high] with low < high, got ", r.dump());
        lo = r[0].get<double>();
        hi = r[1].get<double>();
      } else {  // every nominal sample's events
        for (const auto& ns : nominal_sources) {
          const auto [v, w] = reader.events(ns);
          for (double x : v) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
          }
        }
      }
      edges = equal_population_edges(values, weights, binning.at("equal_population").get<int>(), lo, hi, bw);
    }
    const std::size_t bins = edges.size() - 1;

    json samples = json::array();
    std::vector<double> total(bins, 0.0);
    for (std::size_t s = 0; s < cs.at("samples").size(); ++s) {
      const json& ss = cs.at("samples")[s];
      const std::string sw = where + ".samples[" + std::to_string(s) + "] (sample '" + sample_names[s] + "')";
      only_keys(ss,
                {"name", "file", "variable", "weight", "normfactors", "normsys", "staterror", "systematics"},
                sw);
      const auto [values, weights] = reader.events(nominal_sources[s]);
      const EventHistogram nominal = histogram_events(values, weights, edges, describe(nominal_sources[s]));
      for (std::size_t b = 0; b < bins; ++b) total[b] += nominal.sum_w[b];
      json modifiers = json::array();
      const auto add = [&](json modifier) {
        modifier_names.push_back(modifier.at("name"));
        modifiers.push_back(std::move(modifier));
      };
      if (ss.contains("normfactors")) {
        require(ss.at("normfactors").is_array(), sw, ".normfactors: expected an array of names");
        for (const auto& name : ss.at("normfactors")) {
          require(name.is_string(), sw, ".normfactors: expected names, got ", name.dump());
          add({{"name", name}, {"type", "normfactor"}, {"data", nullptr}});
        }
      }
      if (ss.contains("normsys")) {
        require(ss.at("normsys").is_array(), sw, ".normsys: expected an array of {\"name\", \"hi\", \"lo\"}");
        for (std::size_t k = 0; k < ss.at("normsys").size(); ++k) {
          const json& ns = ss.at("normsys")[k];
          const std::string nw = sw + ".normsys[" + std::to_string(k) + "]";
          only_keys(ns, {"name", "hi", "lo"}, nw);
          add({{"name", text_of(ns, "name", nw, "", true)},
               {"type", "normsys"},
               {"data", {{"hi", number_of(ns, "hi", nw)}, {"lo", number_of(ns, "lo", nw)}}}});
        }
      }
      if (ss.contains("systematics")) {
        require(ss.at("systematics").is_array(), sw, ".systematics: expected an array");
        for (std::size_t k = 0; k < ss.at("systematics").size(); ++k) {
          const json& sy = ss.at("systematics")[k];
          std::string yw = sw + ".systematics[" + std::to_string(k) + "]";
          only_keys(sy, {"name", "type", "up", "down", "smoothing", "symmetrise"}, yw);
          const std::string name = text_of(sy, "name", yw, "", true);
          yw += " ('" + name + "')";
          const std::string type = text_of(sy, "type", yw, "histosys");
          require(type == "histosys" || type == "normsys" || type == "normplusshape", yw,
                  ".type: unknown type '", type, "' (types: histosys, normsys, normplusshape)");
          const std::string smoothing = text_of(sy, "smoothing", yw, "none");
          require(smoothing == "none" || smoothing == "median3-hanning", yw,
                  ".smoothing: unknown smoothing '", smoothing, "' (none, median3-hanning)");
          bool symmetrise = false;
          if (sy.contains("symmetrise")) {
            require(sy.at("symmetrise").is_boolean(), yw, ".symmetrise: expected true or false, got ",
                    sy.at("symmetrise").dump());
            symmetrise = sy.at("symmetrise").get<bool>();
          }
          const auto varied = [&](const char* side) {
            const std::string vw = yw + "." + side;
            require(sy.at(side).is_object(), vw, ": expected {\"weight\": COLUMN} or {\"file\": FILE, ...}");
            EventSource vs = nominal_sources[s];
            if (!sy.at(side).contains("file")) {
              only_keys(sy.at(side), {"weight"}, vw);
              vs.weight = text_of(sy.at(side), "weight", vw, "", true);
            } else {
              vs = source_of(sy.at(side), nominal_sources[s], vw);
            }
            const auto [v, w] = reader.events(vs);
            return histogram_events(v, w, edges, describe(vs)).sum_w;
          };
          require(sy.contains("up"), yw, ": missing key 'up'");
          const bool has_down = sy.contains("down");
          auto [up, down] =
              variation_templates(nominal.sum_w, varied("up"), has_down ? varied("down") : nominal.sum_w,
                                  has_down, smoothing != "none", symmetrise);
          const double nominal_sum = sum(nominal.sum_w);
          if (type == "normsys" || type == "normplusshape") {
            require(nominal_sum != 0.0, yw, ": the nominal template sums to 0; no normsys can be formed");
            add({{"name", name},
                 {"type", "normsys"},
                 {"data", {{"hi", sum(up) / nominal_sum}, {"lo", sum(down) / nominal_sum}}}});
          }
          if (type == "histosys" || type == "normplusshape") {
            if (type == "normplusshape") {  // the shape alone: each template scaled to the nominal sum
              require(sum(up) != 0.0 && sum(down) != 0.0, yw, ": a varied template sums to 0");
              const double su = nominal_sum / sum(up), sd = nominal_sum / sum(down);
              for (auto& x : up) x *= su;
              for (auto& x : down) x *= sd;
            }
            add({{"name", name}, {"type", "histosys"}, {"data", {{"hi_data", up}, {"lo_data", down}}}});
          }
        }
      }
      bool staterror = true;
      if (ss.contains("staterror")) {
        require(ss.at("staterror").is_boolean(), sw, ".staterror: expected true or false, got ",
                ss.at("staterror").dump());
        staterror = ss.at("staterror").get<bool>();
      }
      if (staterror) {
        std::vector<double> sigma(bins);
        for (std::size_t b = 0; b < bins; ++b) sigma[b] = std::sqrt(nominal.sum_w2[b]);
        add({{"name", "staterror_" + channel}, {"type", "staterror"}, {"data", sigma}});
      }
      samples.push_back(
          {{"name", sample_names[s]}, {"data", nominal.sum_w}, {"modifiers", std::move(modifiers)}});
    }
    channels.push_back({{"name", channel}, {"samples", std::move(samples)}});

    require(cs.contains("data"), where, ": missing key 'data' ({\"file\": ...} or \"asimov\")");
    std::vector<double> observed = total;
    if (!(cs.at("data").is_string() && cs.at("data").get<std::string>() == "asimov")) {
      require(cs.at("data").is_object(), where, ".data: expected {\"file\": FILE, ...} or \"asimov\", got ",
              cs.at("data").dump());
      const EventSource data_defaults{"", top.variable,
                                      ""};  // data events: weight 1 unless a column is named
      const EventSource data = source_of(cs.at("data"), data_defaults, where + ".data");
      const auto [v, w] = reader.events(data);
      observed = histogram_events(v, w, edges, describe(data)).sum_w;
    }
    observations.push_back({{"name", channel}, {"data", observed}});
  }

  require(spec.contains("measurement"), source, ": missing key 'measurement' ({\"poi\": NAME, ...})");
  const json& ms = spec.at("measurement");
  const std::string mw = source + ".measurement";
  only_keys(ms, {"name", "poi", "parameters"}, mw);
  const std::string poi = text_of(ms, "poi", mw, "", true);
  require(std::find(modifier_names.begin(), modifier_names.end(), poi) != modifier_names.end(), mw, ".poi: '",
          poi, "' is no modifier of the built samples (give it in a sample's \"normfactors\")");
  json parameters = json::array();
  if (ms.contains("parameters")) {
    require(ms.at("parameters").is_array(), mw, ".parameters: expected an array of parameter configs");
    parameters = ms.at("parameters");
  }
  json out = {
      {"channels", std::move(channels)},
      {"observations", std::move(observations)},
      {"measurements", json::array({{{"name", text_of(ms, "name", mw, "measurement")},
                                     {"config", {{"poi", poi}, {"parameters", std::move(parameters)}}}}})},
      {"version", "1.0.0"}};
  parse_workspace(out, "the workspace built from " + source);
  return out;
}

}  // namespace agnostic::stats
