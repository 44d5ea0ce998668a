#pragma once
// Systematic variations of a training config (the top-level list "systematics", issue 8; Wunsch et al.
// (arXiv:1907.11674) sec. 3) and the machinery that gives, for a batch of events, the nominal inputs and each
// variation's up and down versions of them.
//
// A config entry is one of two kinds:
//   {"name": "tau_pt", "weights": {"up": "w_up", "down": "w_down"}}
//       the varied sample is the nominal one with each event's weight multiplied by the factor in
//       column w_up (w_down): Wunsch et al.'s variations as statistical weights, no reprocessing. The factors
//       must be finite and >= 0.
//   {"name": "jes", "shift": {"feature": "PRI_jet_pt", "up": 1.03, "down": 0.97, "mode": "scale"}}
//       the RAW feature (as it is in the file) becomes x + up / x + down ("add") or x * up /
//       x * down ("scale"); then the missing-value rules and the standardisation of training are
//       applied, on the fly for each batch. A value that is missing (equal to the marker of
//       data.missing) stays missing: it is not shifted and gets the rule's replacement, as in the
//       nominal sample, so a shift never turns -999 into a "measured" -1028.97.
// plus "classes" (the class indices the variation applies to; default every class) and "penalty"
// (lambda >= 0 of Wunsch et al.'s loss, default 0).
//
// Reading happens in two steps so that every error comes before anything is written:
// read_systematics() checks what the config alone can say (keys, kinds, the shifted feature is an
// input, classes, unique names); SystematicVariations checks the data (the weight columns exist,
// their factors are finite and >= 0) when it is built from the PreparedData.
//
// SystematicVariations::vary(part, rows, nominal_features, out) fills a VariedBatch: for each
// systematic, its up and down Variation — weight factors per event (weights) or the standardised
// features of the shifted events (shift; every other column equals the nominal). The penalised
// classifier (penalised_classifier.hpp) and the inference-aware loss use the same batches.
//
// "soft_histogram": {"bins": 20, "range": [0, 1]} or {"edges": [e0, e1, ...]} — the bins of the
// soft histograms of the network output (Wunsch et al. eq. 1) and of the hard histograms of workspace.json —
// plus "min_count" (default 1): a bin enters the penalty Lambda only where its nominal soft count
// holds at least that many events (in units of the histogram's mean event weight). Without it the
// nearly empty bins, filled only by the Gaussian tails of events far away, dominate Lambda: their
// relative change under a variation is huge and says nothing about the shape (docs/systematics.md).
// "score_class" (a class index, or a value of data.label_classes): the class whose softmax
// probability is histogrammed when the classifier has one softmax output per class; default the
// last class, C - 1 (no key of a classifier config names a signal class, and for two classes the
// last is the binary classifier's class 1). It is also the workspace's signal (normfactor "mu").
// With a binary classifier (one sigmoid output, whose score is the probability of class 1) only
// 1 is accepted; anything else is an error rather than silently ignored (score_class()).
//
// "expected_yields": {"class": yield, ...} — the total yield each class stands for in the
// workspace (class given by its label value from data.label_classes, or by its index "0", "1").
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/soft_histogram.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/prepared_data.hpp"

namespace agnostic::train {

// What the config says about one systematic.
struct Systematic {
  struct Weights {
    std::string up, down;  // columns of per-event weight factors
  };
  struct Shift {
    std::string feature;
    double up = 0.0, down = 0.0;
    bool scale = false;  // false: x + a ("add"); true: x * a ("scale")
    double apply(double x, bool to_up) const {
      const double a = to_up ? up : down;
      return scale ? x * a : x + a;
    }
  };
  std::string name;
  std::optional<Weights> weights;
  std::optional<Shift> shift;
  std::vector<Index> classes;  // empty: every class
  double penalty = 0.0;        // lambda of L = L' + sum lambda (Lambda_up + Lambda_down)

  bool applies_to(Index cls) const {
    if (classes.empty()) return true;
    for (Index c : classes)
      if (c == cls) return true;
    return false;
  }
};

// The class indices of data.label_classes (value -> index), or "0", "1", ... when the label is numeric.
inline std::optional<Index> class_index_named(const TrainConfig& c, const std::string& name) {
  const auto it = c.data.columns.label_classes.find(name);
  if (it != c.data.columns.label_classes.end()) return it->second;
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos && name.size() < 9)
    return static_cast<Index>(std::stol(name));
  return std::nullopt;
}

// The "systematics" list of a config (empty without one). Config-only checks; see the top.
inline std::vector<Systematic> read_systematics(const TrainConfig& c) {
  std::vector<Systematic> out;
  const auto found = c.sections.find("systematics");
  if (found == c.sections.end() || found->second.is_null()) return out;
  const nlohmann::json& list = found->second;
  if (!list.is_array())
    fail("config '", c.source, "': key 'systematics' is ", list.dump(),
         "; expected a list of systematic variations [{\"name\": ..., \"weights\" or \"shift\": ...}, ...]");
  std::set<std::string> names;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "systematics[" + std::to_string(i) + "]";
    const ConfigSection s(list[i], path, c.source, {"name", "weights", "shift", "classes", "penalty"});
    Systematic sys;
    if (!s.has("name")) s.fail_at(s.child("name"), "is missing; expected a name such as \"tau_pt\"");
    sys.name = s.string("name", "");
    if (sys.name.empty() || sys.name.find_first_of(" \t\"/\\,") != std::string::npos)
      s.fail_at(s.child("name"), "is \"", sys.name,
                "\"; expected a non-empty name without spaces, quotes, slashes or commas");
    if (!names.insert(sys.name).second)
      s.fail_at(s.child("name"), "is \"", sys.name, "\", which an earlier systematic already uses");
    if (s.has("weights") == s.has("shift"))
      s.fail_at(path,
                s.has("weights") ? "has both 'weights' and 'shift'" : "has neither 'weights' nor 'shift'",
                "; give exactly one: \"weights\": {\"up\": COLUMN, \"down\": COLUMN} or \"shift\": "
                "{\"feature\": NAME, \"up\": a, \"down\": b, \"mode\": \"add\" or \"scale\"}");
    if (s.has("weights")) {
      const ConfigSection w = s.section("weights", {"up", "down"});
      for (const char* key : {"up", "down"})
        if (!w.has(key)) w.fail_at(w.child(key), "is missing; expected the name of a weight-factor column");
      sys.weights = Systematic::Weights{w.string("up", ""), w.string("down", "")};
    } else {
      const ConfigSection sh = s.section("shift", {"feature", "up", "down", "mode"});
      for (const char* key : {"feature", "up", "down"})
        if (!sh.has(key))
          sh.fail_at(sh.child(key), "is missing; a shift needs 'feature', 'up' and 'down' (and 'mode')");
      Systematic::Shift shift;
      shift.feature = sh.string("feature", "");
      bool is_input = false;
      for (const auto& f : c.data.columns.features) is_input = is_input || f == shift.feature;
      if (!is_input)
        sh.fail_at(sh.child("feature"), "is \"", shift.feature,
                   "\", which is not an input; allowed: the names in 'data.features' (",
                   ConfigSection::list(c.data.columns.features), ")");
      shift.up = sh.number("up", 0.0, -1e300, 1e300);
      shift.down = sh.number("down", 0.0, -1e300, 1e300);
      shift.scale = sh.choice("mode", "add", {"add", "scale"}) == "scale";
      sys.shift = shift;
    }
    if (s.has("classes")) {
      const nlohmann::json& cl = s.raw("classes");
      if (!cl.is_array() || cl.empty())
        s.fail_at(s.child("classes"), "is ", cl.dump(),
                  "; expected a non-empty list of class indices [0, 1, ...]");
      for (std::size_t k = 0; k < cl.size(); ++k) {
        if (!cl[k].is_number_integer() || cl[k].get<Index>() < 0)
          s.fail_at(s.child("classes") + "[" + std::to_string(k) + "]", "is ", cl[k].dump(),
                    "; expected a class index 0, 1, 2, ...");
        sys.classes.push_back(cl[k].get<Index>());
      }
    }
    sys.penalty = s.number("penalty", 0.0, 0.0, 1e12);
    out.push_back(std::move(sys));
  }
  return out;
}

// The bins of the soft histograms (and of the workspace's hard histograms).
struct SoftHistogramConfig {
  std::vector<double> edges;
  double min_count = 1.0;            // events a nominal bin needs to enter Lambda (mean-weight units)
  std::optional<Index> score_class;  // "score_class" as given (absent: the default, see score_class())
  std::string score_class_text;      // the value as written, for messages
  SoftHistogram histogram() const { return SoftHistogram(edges); }
  int bins() const { return static_cast<int>(edges.size()) - 1; }

  // The class whose probability is histogrammed, checked against the network: `classes` the
  // label's classes, `softmax` whether the network has one softmax output per class (false: one
  // sigmoid output, the probability of class 1).
  Index score_class_for(Index classes, bool softmax, const std::string& source) const {
    if (!softmax) {
      if (score_class && *score_class != 1)
        fail("config '", source, "': key 'soft_histogram.score_class' is ", score_class_text,
             ", but a binary classifier (one sigmoid output) histograms the probability of class 1; "
             "give 1 or leave the key out, or train one softmax output per class (\"loss\": "
             "\"categorical_cross_entropy\")");
      return 1;
    }
    if (!score_class) return classes - 1;
    if (*score_class >= classes)
      fail("config '", source, "': key 'soft_histogram.score_class' is ", score_class_text, " (class ",
           *score_class, "), but the label has ", classes, " classes (0 to ", classes - 1, ")");
    return *score_class;
  }
};

// "soft_histogram": {"bins": 20, "range": [0, 1]} (the default) or {"edges": [...]}.
inline SoftHistogramConfig read_soft_histogram(const TrainConfig& c) {
  SoftHistogramConfig out;
  const auto found = c.sections.find("soft_histogram");
  static const nlohmann::json none = nlohmann::json::object();
  const nlohmann::json& j = found == c.sections.end() ? none : found->second;
  const ConfigSection s(j, "soft_histogram", c.source,
                        {"bins", "range", "edges", "min_count", "score_class"});
  out.min_count = s.number("min_count", 1.0, 0.0, 1e12);
  if (s.has("score_class")) {
    const nlohmann::json& k = s.raw("score_class");
    out.score_class_text = k.dump();
    std::optional<Index> index;
    if (k.is_number_integer() && k.get<long long>() >= 0 && k.get<long long>() < 1000000000)
      index = static_cast<Index>(k.get<long long>());
    else if (k.is_string())
      index = class_index_named(c, k.get<std::string>());
    if (!index) {
      std::vector<std::string> values;
      for (const auto& [value, cls] : c.data.columns.label_classes) values.push_back(value);
      s.fail_at(s.child("score_class"), "is ", out.score_class_text,
                "; expected a class index 0, 1, 2, ... or a value of 'data.label_classes'",
                values.empty() ? std::string() : " (" + ConfigSection::list(values) + ")");
    }
    out.score_class = index;
  }
  if (s.has("edges")) {
    if (s.has("bins") || s.has("range"))
      s.fail_at(s.child("edges"),
                "is given together with 'bins' or 'range'; give either \"edges\": [...] or "
                "\"bins\" and \"range\"");
    const nlohmann::json& e = s.raw("edges");
    if (!e.is_array() || e.size() < 2)
      s.fail_at(s.child("edges"), "is ", e.dump(), "; expected a list of at least 2 increasing numbers");
    for (std::size_t k = 0; k < e.size(); ++k) {
      if (!e[k].is_number() || !std::isfinite(e[k].get<double>()))
        s.fail_at(s.child("edges") + "[" + std::to_string(k) + "]", "is ", e[k].dump(),
                  "; expected a number");
      out.edges.push_back(e[k].get<double>());
      if (k > 0 && !(out.edges[k] > out.edges[k - 1]))
        s.fail_at(s.child("edges") + "[" + std::to_string(k) + "]", "is ", e[k].dump(),
                  "; edges must increase strictly (the edge before is ", out.edges[k - 1], ")");
    }
    return out;
  }
  const Index bins = s.integer("bins", 20, 1, 10000);
  double low = 0.0, high = 1.0;
  if (s.has("range")) {
    const nlohmann::json& r = s.raw("range");
    if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number() ||
        !(r[1].get<double>() > r[0].get<double>()))
      s.fail_at(s.child("range"), "is ", r.dump(), "; expected [low, high] with low < high, such as [0, 1]");
    low = r[0].get<double>();
    high = r[1].get<double>();
  }
  out.edges = SoftHistogram::uniform(static_cast<int>(bins), low, high).edges();
  return out;
}

// "expected_yields": class -> total yield; classes not named keep their weighted counts (absent).
inline std::map<Index, double> read_expected_yields(const TrainConfig& c) {
  std::map<Index, double> out;
  const auto found = c.sections.find("expected_yields");
  if (found == c.sections.end() || found->second.is_null()) return out;
  const nlohmann::json& j = found->second;
  if (!j.is_object())
    fail("config '", c.source, "': key 'expected_yields' is ", j.dump(),
         "; expected an object {\"class\": yield, ...} such as {\"s\": 50, \"b\": 1000}");
  for (const auto& [name, value] : j.items()) {
    const std::optional<Index> k = class_index_named(c, name);
    if (!k)
      fail("config '", c.source, "': key 'expected_yields.", name,
           "' names no class; expected a label value of 'data.label_classes' or a class index");
    if (!value.is_number() || !(value.get<double>() > 0.0) || !std::isfinite(value.get<double>()))
      fail("config '", c.source, "': key 'expected_yields.", name, "' is ", value.dump(),
           "; expected a yield > 0");
    out[*k] = value.get<double>();
  }
  return out;
}

// One direction (up or down) of one systematic on a batch.
template <class T>
struct Variation {
  bool reweights = false;   // true: `weight_factor` holds the factors; false: `features` the shifted inputs
  Vector<T> weight_factor;  // events: multiply the nominal weight by this (weights kind)
  Matrix<T> features;       // events x inputs, standardised (shift kind)
};

// Every systematic's up and down variation of one batch: variations[s][0] is up, [s][1] down.
template <class T>
struct VariedBatch {
  std::vector<std::array<Variation<T>, 2>> variations;
};

enum class Part { train, validation };

// The per-event information the variations need, for the training and validation parts of
// PreparedData (rows of those parts, as in data.train / data.validation).
template <class T>
class SystematicVariations {
 public:
  SystematicVariations() = default;
  SystematicVariations(std::vector<Systematic> systematics, const PreparedData<T>& data,
                       const std::string& source)
      : systematics_(std::move(systematics)) {
    const io::Table& table = data.table;
    for (std::size_t s = 0; s < systematics_.size(); ++s) {
      const Systematic& sys = systematics_[s];
      const std::string path = "systematics[" + std::to_string(s) + "]";
      for (Index c : sys.classes)
        require(c < data.classes, "config '", source, "': key '", path, ".classes' lists class ", c,
                ", but the label has ", data.classes, " classes (0 to ", data.classes - 1, ")");
      PerPart info;
      if (sys.weights) {
        for (int d = 0; d < 2; ++d) {
          const std::string& column = d == 0 ? sys.weights->up : sys.weights->down;
          const char* key = d == 0 ? ".weights.up" : ".weights.down";
          if (!table.has_column(column))
            fail("config '", source, "': key '", path, key, "' is \"", column,
                 "\", which is not a numeric column of ",
                 table.source().empty() ? std::string("the data") : "'" + table.source() + "'",
                 "; its columns: ", table.describe_columns());
          const auto values = table.column(column);
          for (Index r = 0; r < table.n_rows(); ++r) {
            const double f = values[static_cast<std::size_t>(r)];
            if (!(std::isfinite(f) && f >= 0.0))
              fail("config '", source, "': key '", path, key, "' is \"", column,
                   "\": ", table.locate(r, column), ": the weight factor is ", f,
                   "; a variation's weight factors must be finite and >= 0");
          }
          info.factor[d][0] = gather_column(values, data.split.train);
          info.factor[d][1] = gather_column(values, data.split.validation);
        }
      } else {
        const std::string& feature = sys.shift->feature;
        Index j = -1;
        for (std::size_t k = 0; k < data.standardisation.names.size(); ++k)
          if (data.standardisation.names[k] == feature) j = static_cast<Index>(k);
        require(j >= 0, "config '", source, "': key '", path, ".shift.feature' is \"", feature,
                "\", which is not among the network's inputs (", data.standardisation.describe(), ")");
        info.column = j;
        info.offset = data.standardisation.offset[static_cast<std::size_t>(j)];
        info.scale = data.standardisation.scale[static_cast<std::size_t>(j)];
        const auto values = table.column(feature);
        info.raw[0] = gather_column(values, data.split.train);
        info.raw[1] = gather_column(values, data.split.validation);
        const io::MissingValueRule* rule = data.rules.find(feature);
        if (rule) {
          info.missing_marker = rule->marker;
          info.replacement = rule->replacement;
          info.has_rule = true;
        }
        // Check every shifted value now, so a batch never meets a non-finite input.
        for (int p = 0; p < 2; ++p) {
          const std::vector<Index>& rows = p == 0 ? data.split.train : data.split.validation;
          for (std::size_t k = 0; k < rows.size(); ++k)
            for (int d = 0; d < 2; ++d) {
              const double x = info.shifted(sys, static_cast<Index>(k), p, d == 0);
              if (!std::isfinite(x))
                fail("config '", source, "': key '", path, ".shift' makes ", table.locate(rows[k], feature),
                     " non-finite (", x, "); the shifted value must be finite");
            }
        }
      }
      parts_.push_back(std::move(info));
    }
  }

  const std::vector<Systematic>& systematics() const { return systematics_; }
  std::size_t size() const { return systematics_.size(); }
  bool empty() const { return systematics_.empty(); }

  // The variations of the events `rows` (rows of the part, in batch order) whose nominal
  // standardised features are `nominal` (rows.size() x inputs, as gathered from data.train or
  // data.validation). Buffers in `out` keep their capacity between calls.
  void vary(Part part, std::span<const Index> rows, const Matrix<T>& nominal, VariedBatch<T>& out) const {
    const int p = part == Part::train ? 0 : 1;
    const Index n = static_cast<Index>(rows.size());
    require(nominal.rows() == n, "SystematicVariations::vary: ", n, " rows but ", nominal.rows(),
            " rows of nominal features");
    out.variations.resize(systematics_.size());
    for (std::size_t s = 0; s < systematics_.size(); ++s) {
      const Systematic& sys = systematics_[s];
      const PerPart& info = parts_[s];
      for (int d = 0; d < 2; ++d) {
        Variation<T>& v = out.variations[s][static_cast<std::size_t>(d)];
        v.reweights = sys.weights.has_value();
        if (v.reweights) {
          v.weight_factor.resize(n);
          for (Index k = 0; k < n; ++k)
            v.weight_factor(k) = static_cast<T>(
                info.factor[d][p][static_cast<std::size_t>(rows[static_cast<std::size_t>(k)])]);
          v.features.resize(0, 0);
        } else {
          v.features = nominal;
          for (Index k = 0; k < n; ++k) {
            const double x = info.shifted(sys, rows[static_cast<std::size_t>(k)], p, d == 0);
            v.features(k, info.column) = static_cast<T>((x + info.offset) * info.scale);
          }
          v.weight_factor.resize(0);
        }
      }
    }
  }

  // Every event of a part at once (for the validation figures and the workspace).
  VariedBatch<T> vary_all(Part part, const Matrix<T>& nominal) const {
    std::vector<Index> rows(static_cast<std::size_t>(nominal.rows()));
    for (std::size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<Index>(k);
    VariedBatch<T> out;
    vary(part, rows, nominal, out);
    return out;
  }

 private:
  struct PerPart {
    std::array<std::array<std::vector<double>, 2>, 2> factor;  // [up/down][train/validation] (weights)
    std::array<std::vector<double>, 2> raw;                    // [train/validation] raw feature (shift)
    Index column = -1;
    double offset = 0.0, scale = 1.0;
    bool has_rule = false;
    double missing_marker = 0.0, replacement = 0.0;
    // The shifted raw value after the missing-value rule (a missing value stays missing).
    double shifted(const Systematic& sys, Index row, int part, bool up) const {
      const double x = raw[static_cast<std::size_t>(part)][static_cast<std::size_t>(row)];
      const bool missing = has_rule && (std::isnan(missing_marker) ? std::isnan(x) : x == missing_marker);
      return missing ? replacement : sys.shift->apply(x, up);
    }
  };

  static std::vector<double> gather_column(io::ColumnView values, const std::vector<Index>& rows) {
    std::vector<double> out(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) out[k] = values[static_cast<std::size_t>(rows[k])];
    return out;
  }

  std::vector<Systematic> systematics_;
  std::vector<PerPart> parts_;
};

}  // namespace agnostic::train
