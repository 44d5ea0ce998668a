#pragma once
// A trained conditional GAN as a user keeps it (generator.json) and what it is used for: generating
// events at given conditions, and the signal-region templates of an ensemble of generators.
//
// RangeScaling maps every column linearly onto [-1, 1] by the training data's minimum and maximum
// (the generator's tanh output covers exactly that range); it is stored with the model and undone
// on generation. A CganGenerator holds the condition and feature names, the latent dimension, the
// two scalings and one or more members (the ensemble of Chisholm et al. (arXiv:2112.00650) sec. 3.4), each a
// stack of dense layers with its seed and quality chi2. File format (docs/cgan.md):
//   {"format": "agnostic-cgan-generator", "version": 1, "conditions": [...], "features": [...],
//    "latent": 9, "scaling": {"conditions": {"low": [...], "high": [...]}, "features": {...}},
//    "members": [{"seed": 1, "quality_chi2": 2.1, "layers": [<dense layers as in model.json>]}]}
//
// generate(): for each row of the conditions, K events; event e (counted over all rows, K per row)
// comes from member e mod M, its noise drawn from one Rng(seed) in event order, so the same seed
// gives the same events whatever the number of threads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/number_text.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/table.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"

namespace agnostic::adversarial {

inline constexpr const char* kCganGeneratorFormat = "agnostic-cgan-generator";

struct RangeScaling {
  std::vector<double> low, high;

  // The columns' minimum and maximum (a constant column gets the range [v - 1, v + 1]).
  static RangeScaling fit(const MatrixD& x) {
    require(x.rows() > 0, "RangeScaling: no events to take the range from");
    RangeScaling s;
    for (Index j = 0; j < x.cols(); ++j) {
      double lo = x.col(j).minCoeff(), hi = x.col(j).maxCoeff();
      if (!(hi > lo)) {
        lo -= 1.0;
        hi += 1.0;
      }
      s.low.push_back(lo);
      s.high.push_back(hi);
    }
    return s;
  }
  Index size() const { return static_cast<Index>(low.size()); }
  template <class T>
  Matrix<T> apply(const MatrixD& x) const {
    require(x.cols() == size(), "RangeScaling: ", x.cols(), " columns given, the scaling has ", size());
    Matrix<T> y(x.rows(), x.cols());
    for (Index j = 0; j < x.cols(); ++j) {
      const std::size_t u = static_cast<std::size_t>(j);
      y.col(j) = ((x.col(j).array() - low[u]) * (2.0 / (high[u] - low[u])) - 1.0).template cast<T>();
    }
    return y;
  }
  template <class T>
  MatrixD undo(const Matrix<T>& y) const {
    require(y.cols() == size(), "RangeScaling: ", y.cols(), " columns given, the scaling has ", size());
    MatrixD x(y.rows(), y.cols());
    for (Index j = 0; j < y.cols(); ++j) {
      const std::size_t u = static_cast<std::size_t>(j);
      x.col(j) = (y.col(j).template cast<double>().array() + 1.0) * (0.5 * (high[u] - low[u])) + low[u];
    }
    return x;
  }
};

struct CganMember {
  std::uint64_t seed = 0;
  double quality_chi2 = 0.0;
  std::vector<io::DenseWeights<float>> layers;
};

struct CganGenerator {
  std::vector<std::string> conditions, features;
  Index latent = 0;
  RangeScaling condition_scaling, feature_scaling;
  std::vector<CganMember> members;
};

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json to_json(const CganGenerator& g) {
  auto scaling = [](const RangeScaling& s) { return nlohmann::json{{"low", s.low}, {"high", s.high}}; };
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t m = 0; m < g.members.size(); ++m) {
    nlohmann::json layers = nlohmann::json::array();
    for (std::size_t l = 0; l < g.members[m].layers.size(); ++l)
      layers.push_back(io::model_detail::layer_to_json(
          g.members[m].layers[l], "members[" + std::to_string(m) + "].layers[" + std::to_string(l) + "]"));
    members.push_back(
        {{"seed", g.members[m].seed}, {"quality_chi2", g.members[m].quality_chi2}, {"layers", layers}});
  }
  return {
      {"format", kCganGeneratorFormat},
      {"version", 1},
      {"conditions", g.conditions},
      {"features", g.features},
      {"latent", g.latent},
      {"scaling", {{"conditions", scaling(g.condition_scaling)}, {"features", scaling(g.feature_scaling)}}},
      {"members", members}};
}

AGNOSTIC_COMPILED_WHEN_USED
inline bool is_cgan_generator(const nlohmann::json& j) {
  return j.is_object() && j.contains("format") && j["format"] == kCganGeneratorFormat;
}

AGNOSTIC_COMPILED_WHEN_USED
inline CganGenerator cgan_generator_from_json(const nlohmann::json& j, const std::string& source) {
  auto where = [&](const std::string& key) { return "generator '" + source + "': key '" + key + "'"; };
  require(is_cgan_generator(j), "generator '", source,
          "': not a cGAN generator file (expected \"format\": \"", kCganGeneratorFormat, "\")");
  for (const auto& item : j.items())
    require(item.key() == "format" || item.key() == "version" || item.key() == "conditions" ||
                item.key() == "features" || item.key() == "latent" || item.key() == "scaling" ||
                item.key() == "members",
            where(item.key()),
            " is not known; allowed: format, version, conditions, features, latent, scaling, members");
  require(j.contains("version") && j["version"] == 1, where("version"), " is ",
          j.contains("version") ? j["version"].dump() : "missing", "; this build reads version 1");
  CganGenerator g;
  auto names = [&](const char* key) {
    require(j.contains(key), where(key), " is missing");
    return io::model_detail::names_from_json(j[key], where(key));
  };
  g.conditions = names("conditions");
  g.features = names("features");
  require(!g.conditions.empty() && !g.features.empty(), where("conditions"),
          " and 'features' must both name at least one column");
  require(j.contains("latent") && j["latent"].is_number_integer() && j["latent"].get<Index>() >= 1,
          where("latent"), " is ", j.contains("latent") ? j["latent"].dump() : "missing",
          "; expected a whole number >= 1");
  g.latent = j["latent"].get<Index>();
  auto scaling = [&](const char* key, std::size_t n) {
    const std::string k = std::string("scaling.") + key;
    require(j.contains("scaling") && j["scaling"].is_object() && j["scaling"].contains(key), where(k),
            " is missing");
    const nlohmann::json& s = j["scaling"][key];
    RangeScaling r;
    require(s.is_object() && s.contains("low") && s.contains("high"), where(k),
            " needs {\"low\": [...], \"high\": [...]}");
    r.low = io::model_detail::numbers_from_json<double>(s["low"], where(k + ".low"));
    r.high = io::model_detail::numbers_from_json<double>(s["high"], where(k + ".high"));
    require(r.low.size() == n && r.high.size() == n, where(k), " has ", r.low.size(), " / ", r.high.size(),
            " entries; expected ", n);
    for (std::size_t i = 0; i < n; ++i)
      require(r.high[i] > r.low[i], where(k), ": entry ", i, " has high ", r.high[i], " <= low ", r.low[i]);
    return r;
  };
  g.condition_scaling = scaling("conditions", g.conditions.size());
  g.feature_scaling = scaling("features", g.features.size());
  require(j.contains("members") && j["members"].is_array() && !j["members"].empty(), where("members"),
          " must be a non-empty list");
  for (std::size_t m = 0; m < j["members"].size(); ++m) {
    const nlohmann::json& mj = j["members"][m];
    const std::string at = "members[" + std::to_string(m) + "]";
    require(mj.is_object() && mj.contains("layers") && mj["layers"].is_array() && !mj["layers"].empty(),
            where(at), " needs a non-empty 'layers' list");
    CganMember member;
    if (mj.contains("seed")) member.seed = mj["seed"].get<std::uint64_t>();
    if (mj.contains("quality_chi2")) member.quality_chi2 = mj["quality_chi2"].get<double>();
    Index n_in = g.latent + static_cast<Index>(g.conditions.size());
    for (std::size_t l = 0; l < mj["layers"].size(); ++l) {
      member.layers.push_back(io::model_detail::layer_from_json<float>(
          mj["layers"][l], n_in, l == 0 ? "latent + conditions" : "the layer before",
          "generator '" + source + "' " + at + ".layers[" + std::to_string(l) + "]"));
      n_in = member.layers.back().n_out();
    }
    require(n_in == static_cast<Index>(g.features.size()), where(at), " gives ", n_in, " outputs; ",
            g.features.size(), " features are named");
    g.members.push_back(std::move(member));
  }
  return g;
}

AGNOSTIC_COMPILED_WHEN_USED
inline CganGenerator read_cgan_generator(const std::string& path) {
  return cgan_generator_from_json(read_json_file(path, "generator file"), path);
}

// The condition columns of `table` in the generator's order (raw units), one row per event.
AGNOSTIC_COMPILED_WHEN_USED
inline MatrixD condition_matrix(const CganGenerator& g, const io::Table& table) {
  MatrixD c(table.n_rows(), static_cast<Index>(g.conditions.size()));
  for (std::size_t j = 0; j < g.conditions.size(); ++j) {
    require(table.has_column(g.conditions[j]), "the conditions ", table.source().empty() ? "" : "'",
            table.source(), table.source().empty() ? "" : "' ", "have no numeric column '", g.conditions[j],
            "' (the generator's conditions: ", nlohmann::json(g.conditions).dump(), ")");
    const auto column = table.column(g.conditions[j]);
    for (Index i = 0; i < c.rows(); ++i) {
      const double v = column[static_cast<std::size_t>(i)];
      require(std::isfinite(v), "the conditions: ", table.locate(i, g.conditions[j]), " is ", v,
              "; a condition must be a finite number");
      c(i, static_cast<Index>(j)) = v;
    }
  }
  return c;
}

// K = per_event events per row of `conditions` (raw units): rows are events (row i's K events at
// rows i K .. i K + K - 1), columns the conditions then the features. With `only_member`, every event
// comes from that member; otherwise event e from member e mod M.
AGNOSTIC_COMPILED_WHEN_USED
inline MatrixD generate(const CganGenerator& g, const MatrixD& conditions, Index per_event,
                        std::uint64_t seed, std::optional<std::size_t> only_member = std::nullopt) {
  require(per_event >= 1, "generate: events per condition row is ", per_event, "; must be >= 1");
  require(conditions.cols() == static_cast<Index>(g.conditions.size()), "generate: ", conditions.cols(),
          " condition columns given, the generator takes ", g.conditions.size());
  require(!only_member || *only_member < g.members.size(), "generate: member ", only_member.value_or(0),
          " asked for, the generator has ", g.members.size());
  const Index n = conditions.rows() * per_event, nc = conditions.cols();
  const Index nf = static_cast<Index>(g.features.size());
  const Matrix<float> scaled = g.condition_scaling.apply<float>(conditions);
  Matrix<float> input(n, g.latent + nc);
  Rng rng(seed);
  for (Index e = 0; e < n; ++e) {
    for (Index j = 0; j < g.latent; ++j) input(e, j) = static_cast<float>(rng.normal());
    input.row(e).tail(nc) = scaled.row(e / per_event);
  }
  const std::size_t members = g.members.size();
  Matrix<float> out(n, nf);
  for (std::size_t m = 0; m < members; ++m) {
    if (only_member && m != *only_member) continue;
    std::vector<Index> rows;
    for (Index e = 0; e < n; ++e)
      if (only_member || static_cast<std::size_t>(e) % members == m) rows.push_back(e);
    if (rows.empty()) continue;
    Sequential<float> net = io::to_sequential(g.members[m].layers, false, "generator");
    net.freeze();
    auto member_input = [&](Index begin, Index end) {
      Matrix<float> x(end - begin, input.cols());
      for (Index k = begin; k < end; ++k) x.row(k - begin) = input.row(rows[static_cast<std::size_t>(k)]);
      return x;
    };
    Tape<float> tape;
    evaluate_in_chunks(tape, static_cast<Index>(rows.size()), kEvaluationChunk, member_input, net,
                       [&](Index begin, Var<float> y) {
                         for (Index k = 0; k < y.value().rows(); ++k)
                           out.row(rows[static_cast<std::size_t>(begin + k)]) = y.value().row(k);
                       });
  }
  MatrixD events(n, nc + nf);
  for (Index e = 0; e < n; ++e) events.row(e).head(nc) = conditions.row(e / per_event);
  events.rightCols(nf) = g.feature_scaling.undo(out);
  return events;
}

// The events of generate() as the CSV `agnostic generate` writes: the condition columns, then the
// generated features, one row per event.
AGNOSTIC_COMPILED_WHEN_USED
inline io::CsvColumns generated_events_csv(const CganGenerator& g, const MatrixD& events) {
  std::vector<std::string> names = g.conditions;
  names.insert(names.end(), g.features.begin(), g.features.end());
  require(static_cast<Index>(names.size()) == events.cols(), "generated events: ", events.cols(),
          " columns for ", names.size(), " names");
  io::CsvColumns csv;
  for (std::size_t j = 0; j < names.size(); ++j) {
    const auto column = events.col(static_cast<Index>(j));
    csv.add_numbers(names[j], std::vector<double>(column.data(), column.data() + column.size()));
  }
  return csv;
}

// A cut "COLUMN>VALUE" or "COLUMN<VALUE" (strict), as `agnostic template --where` takes it.
struct ColumnCut {
  std::string column;
  bool greater = true;
  double value = 0.0;
  bool passes(double x) const { return greater ? x > value : x < value; }
};

AGNOSTIC_COMPILED_WHEN_USED
inline ColumnCut parse_column_cut(const std::string& text) {
  const auto at = text.find_first_of("<>");
  require(at != std::string::npos && at > 0 && at + 1 < text.size(), "cut '", text,
          "' is not of the form COLUMN>VALUE or COLUMN<VALUE");
  ColumnCut c;
  c.column = text.substr(0, at);
  c.greater = text[at] == '>';
  const std::string v = text.substr(at + 1);
  require(read_finite_number(v, c.value), "cut '", text, "': '", v, "' is not a finite number");
  return c;
}

// Bin edges as `agnostic template --bins` takes them: "e0,e1,...,eB" or "B:LO:HI" (B equal bins).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> parse_bin_edges(const std::string& text) {
  auto number = [&](const std::string& t) {
    double v = 0.0;
    require(read_finite_number(t, v), "bins '", text, "': '", t,
            "' is not a finite number (expected e0,e1,...,eB or B:LO:HI)");
    return v;
  };
  std::vector<std::string> parts;
  const char separator = text.find(':') != std::string::npos ? ':' : ',';
  std::size_t begin = 0;
  for (std::size_t at = text.find(separator);; at = text.find(separator, begin)) {
    parts.push_back(text.substr(begin, at == std::string::npos ? std::string::npos : at - begin));
    if (at == std::string::npos) break;
    begin = at + 1;
  }
  std::vector<double> edges;
  if (separator == ':') {
    require(parts.size() == 3, "bins '", text, "': expected B:LO:HI (3 parts), got ", parts.size());
    const double b = number(parts[0]), lo = number(parts[1]), hi = number(parts[2]);
    require(b >= 1 && b == std::floor(b) && b <= 1e6 && hi > lo, "bins '", text,
            "': expected a whole number of bins >= 1 and LO < HI");
    for (int k = 0; k <= static_cast<int>(b); ++k) edges.push_back(lo + (hi - lo) * k / b);
  } else {
    for (const auto& p : parts) edges.push_back(number(p));
  }
  require(edges.size() >= 2, "bins '", text, "': at least 2 edges are needed");
  for (std::size_t k = 1; k < edges.size(); ++k)
    require(edges[k] > edges[k - 1], "bins '", text, "': the edges are not strictly increasing at entry ", k);
  return edges;
}

// The histogram (weight `weight` per event) of column `column` of `events` (columns named `names`)
// in bins `edges`, counting the events that pass every cut; events outside the edges are not counted.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> cut_histogram(const MatrixD& events, const std::vector<std::string>& names,
                                         const std::string& column, const std::vector<double>& edges,
                                         const std::vector<ColumnCut>& cuts, double weight = 1.0) {
  auto index_of = [&](const std::string& name) {
    const auto it = std::find(names.begin(), names.end(), name);
    require(it != names.end(), "column '", name, "' is not one of ", nlohmann::json(names).dump());
    return static_cast<Index>(it - names.begin());
  };
  require(edges.size() >= 2, "the histogram needs at least 2 bin edges, got ", edges.size());
  const Index x = index_of(column);
  std::vector<Index> cut_columns;
  for (const ColumnCut& c : cuts) cut_columns.push_back(index_of(c.column));
  std::vector<double> h(edges.size() - 1, 0.0);
  for (Index e = 0; e < events.rows(); ++e) {
    bool pass = true;
    for (std::size_t k = 0; k < cuts.size() && pass; ++k) pass = cuts[k].passes(events(e, cut_columns[k]));
    const double v = events(e, x);
    if (!pass || !(v >= edges.front() && v < edges.back())) continue;
    h[static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin() - 1)] +=
        weight;
  }
  return h;
}

// The columns of `table` named `names`, one row per event (every name must be a numeric column).
AGNOSTIC_COMPILED_WHEN_USED
inline MatrixD table_columns(const io::Table& table, const std::vector<std::string>& names) {
  MatrixD m(table.n_rows(), static_cast<Index>(names.size()));
  for (std::size_t j = 0; j < names.size(); ++j) {
    require(table.has_column(names[j]), "'", table.source(), "' has no numeric column '", names[j], "' (",
            table.describe_columns(), ")");
    const auto column = table.column(names[j]);
    for (Index i = 0; i < m.rows(); ++i) m(i, static_cast<Index>(j)) = column[static_cast<std::size_t>(i)];
  }
  return m;
}

// Each member's histogram of `column` (a condition or a feature) for the events it generates at
// the rows of `conditions` (K per row, seed + member index) that pass every cut, divided by K: one
// row per member, in events per set of condition rows (the template of a data set with those
// conditions).
AGNOSTIC_COMPILED_WHEN_USED
inline MatrixD ensemble_histograms(const CganGenerator& g, const MatrixD& conditions,
                                   const std::string& column, const std::vector<double>& edges,
                                   const std::vector<ColumnCut>& cuts, Index per_event, std::uint64_t seed) {
  std::vector<std::string> names = g.conditions;
  names.insert(names.end(), g.features.begin(), g.features.end());
  MatrixD h(static_cast<Index>(g.members.size()), static_cast<Index>(edges.size()) - 1);
  for (std::size_t m = 0; m < g.members.size(); ++m) {
    const std::vector<double> row = cut_histogram(generate(g, conditions, per_event, seed + m, m), names,
                                                  column, edges, cuts, 1.0 / static_cast<double>(per_event));
    for (std::size_t b = 0; b < row.size(); ++b) h(static_cast<Index>(m), static_cast<Index>(b)) = row[b];
  }
  return h;
}

}  // namespace agnostic::adversarial
