#pragma once
// workspace.json of a run with systematics: the trained network carried into the template fit
// (issue 8). Built from the held-out (validation) events, so `agnostic fit DIR/workspace.json
// --asimov` gives the expected uncertainty on the signal strength and the expected significance
// of that network, with its systematics.
//
// The caller bins the summary statistic itself (the classifier's score in the soft_histogram
// bins; the arg-max of the K outputs for the inference-aware loss) and gives, for every held-out
// event, its class, physics weight and bin — nominal, and for each shift systematic the bin of the
// shifted event (weight systematics give weight factors instead). From that:
//   - one channel "summary" with one sample per class, named after the class (data.label_classes),
//     each the weighted histogram of its events scaled so that its total is the expected yield
//     ("expected_yields"; default: the weighted count of the held-out events, i.e. no scaling);
//   - the signal sample carries the normfactor "mu";
//   - each systematic that applies to a class adds to that sample a normsys (hi, lo = varied total
//     / nominal total) and a histosys (hi_data, lo_data = the varied histogram rescaled to the
//     nominal total: shape only), both with the systematic's name, so one nuisance parameter
//     moves shape and normalisation together (HistFactory's OverallSys + HistoSys);
//   - every sample carries the staterror "mc_stat" with per-bin sqrt(sum w^2) (scaled);
//   - the observations are the nominal expectation (Asimov data), the measurement "expected" has
//     the POI "mu".
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/train/run_context.hpp"
#include "agnostic/train/systematics.hpp"

namespace agnostic::train {

// The bin of `x` among `edges` (K + 1 increasing values): values below the first edge go to bin
// 0, values at or above the last to bin K - 1 (folded, so every event counts).
AGNOSTIC_COMPILED_WHEN_USED
inline Index bin_of(double x, const std::vector<double>& edges) {
  const Index bins = static_cast<Index>(edges.size()) - 1;
  Index lo = 0, hi = bins;  // the bin is in [lo, hi)
  while (hi - lo > 1) {
    const Index mid = (lo + hi) / 2;
    if (x >= edges[static_cast<std::size_t>(mid)])
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

// The held-out events' binned summary statistic, as the workspace needs it.
struct BinnedHeldOut {
  Index bins = 0;
  std::vector<Index> labels;   // class per event
  std::vector<double> weight;  // physics weight per event (the data.weight column, 1 without)
  std::vector<Index> bin;      // nominal bin per event, in [0, bins)
  // Per systematic (in the order of `systematics`), [0] up and [1] down: the weight factor per
  // event (weight kind) or the bin of the shifted event (shift kind); the other stays empty.
  struct Varied {
    std::array<std::vector<double>, 2> factor;
    std::array<std::vector<Index>, 2> bin;
  };
  std::vector<Varied> varied;
};

struct WorkspaceOptions {
  Index signal_class = 1;
  std::map<Index, double> expected_yields;  // class -> total yield (absent: weighted count)
  std::vector<std::string> class_names;     // sample names, one per class
  std::string channel = "summary";
};

// Weighted histogram (sum w, sum w^2) of the events of class `cls`, each in bin `bins_of[i]` with
// weight weight[i] * factor[i] (factor empty: 1).
struct ClassHistogram {
  std::vector<double> sum, sum2;
  double total() const {
    double t = 0.0;
    for (double x : sum) t += x;
    return t;
  }
};

AGNOSTIC_COMPILED_WHEN_USED
inline ClassHistogram class_histogram(const BinnedHeldOut& h, Index cls, const std::vector<Index>& bins_of,
                                      const std::vector<double>& factor) {
  ClassHistogram out{std::vector<double>(static_cast<std::size_t>(h.bins), 0.0),
                     std::vector<double>(static_cast<std::size_t>(h.bins), 0.0)};
  for (std::size_t i = 0; i < h.labels.size(); ++i) {
    if (h.labels[i] != cls) continue;
    const double w = h.weight[i] * (factor.empty() ? 1.0 : factor[i]);
    const Index b = bins_of[i];
    require(b >= 0 && b < h.bins, "workspace: event ", i, " is in bin ", b, " of ", h.bins);
    out.sum[static_cast<std::size_t>(b)] += w;
    out.sum2[static_cast<std::size_t>(b)] += w * w;
  }
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline stats::ModifierSpec modifier(const std::string& name, const std::string& type) {
  stats::ModifierSpec m;
  m.name = name;
  m.type = type;
  return m;
}

// The pyhf workspace of the held-out events (see the top of the file).
AGNOSTIC_COMPILED_WHEN_USED
inline stats::Workspace held_out_workspace(const BinnedHeldOut& h, const std::vector<Systematic>& systematics,
                                           const WorkspaceOptions& o) {
  require(h.bins >= 1, "workspace: no bins");
  require(h.labels.size() == h.weight.size() && h.labels.size() == h.bin.size(),
          "workspace: ", h.labels.size(), " labels, ", h.weight.size(), " weights and ", h.bin.size(),
          " bins; one of each per event expected");
  require(h.varied.size() == systematics.size(), "workspace: variations of ", h.varied.size(),
          " systematics for ", systematics.size());
  require(!h.labels.empty(),
          "workspace: there are no held-out events to build it from; set "
          "data.validation_fraction > 0");
  const Index classes = static_cast<Index>(o.class_names.size());
  require(o.signal_class >= 0 && o.signal_class < classes, "workspace: the signal class ", o.signal_class,
          " is not among the ", classes, " classes");
  stats::ChannelSpec channel;
  channel.name = o.channel;
  std::vector<double> asimov(static_cast<std::size_t>(h.bins), 0.0);
  for (Index c = 0; c < classes; ++c) {
    const ClassHistogram nominal = class_histogram(h, c, h.bin, {});
    const double total = nominal.total();
    const auto yield = o.expected_yields.find(c);
    require(total > 0.0 || yield == o.expected_yields.end(), "workspace: class '",
            o.class_names[static_cast<std::size_t>(c)], "' has no held-out events (weighted count ", total,
            ") to spread its expected yield ", yield == o.expected_yields.end() ? 0.0 : yield->second,
            " over");
    if (total <= 0.0) continue;
    const double scale = yield == o.expected_yields.end() ? 1.0 : yield->second / total;
    stats::SampleSpec sample;
    sample.name = o.class_names[static_cast<std::size_t>(c)];
    for (double x : nominal.sum) sample.data.push_back(x * scale);
    for (std::size_t k = 0; k < asimov.size(); ++k) asimov[k] += sample.data[k];
    if (c == o.signal_class) sample.modifiers.push_back(modifier("mu", "normfactor"));
    for (std::size_t s = 0; s < systematics.size(); ++s) {
      if (!systematics[s].applies_to(c)) continue;
      std::array<ClassHistogram, 2> varied;
      for (std::size_t d = 0; d < 2; ++d)
        varied[d] = systematics[s].weights ? class_histogram(h, c, h.bin, h.varied[s].factor[d])
                                           : class_histogram(h, c, h.varied[s].bin[d], {});
      stats::ModifierSpec norm = modifier(systematics[s].name, "normsys");
      norm.hi = varied[0].total() / total;
      norm.lo = varied[1].total() / total;
      stats::ModifierSpec shape = modifier(systematics[s].name, "histosys");
      for (std::size_t d = 0; d < 2; ++d) {
        const double t = varied[d].total();
        auto& target = d == 0 ? shape.hi_data : shape.lo_data;
        for (double x : varied[d].sum) target.push_back(t > 0.0 ? x * total / t * scale : 0.0);
      }
      sample.modifiers.push_back(std::move(shape));
      sample.modifiers.push_back(std::move(norm));
    }
    stats::ModifierSpec stat = modifier("mc_stat", "staterror");
    for (double x : nominal.sum2) stat.values.push_back(std::sqrt(x) * scale);
    sample.modifiers.push_back(std::move(stat));
    channel.samples.push_back(std::move(sample));
  }
  stats::Workspace ws;
  ws.channels.push_back(std::move(channel));
  stats::ObservationSpec observation;
  observation.name = o.channel;
  observation.data = asimov;
  ws.observations.push_back(std::move(observation));
  stats::MeasurementSpec m;
  m.name = "expected";
  m.poi = "mu";
  ws.measurements.push_back(std::move(m));
  ws.json = stats::to_json(ws);
  return ws;
}

// Writes DIR/workspace.json and records it; returns its path.
AGNOSTIC_COMPILED_WHEN_USED
inline std::filesystem::path write_run_workspace(RunContext& ctx, const stats::Workspace& ws) {
  const auto path = ctx.file("workspace.json");
  if (ctx.writes()) write_file_atomically(path, stats::to_json(ws).dump(1) + "\n");
  ctx.wrote(path);
  return path;
}

}  // namespace agnostic::train
