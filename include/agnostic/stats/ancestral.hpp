#pragma once
// Ancestral sampling from factorised histogram templates (Chisholm et al., arXiv:2112.00650, sec. 2).
//
// The joint density of the variables is written as a sequence of conditional factors, e.g.
//   p(x0, x1, x2, x3) = p(x0, x1) p(x2 | x0, x1) p(x3 | x2),
// each factor a 1-3-D histogram filled from data (a "generation template"). A pseudo-event is drawn
// step by step: the bins of the variables already drawn select a slice of the step's template, a
// bin of that slice is chosen with probability proportional to its content, and the new variables
// are drawn uniformly inside the chosen bin. The sequence keeps exactly the correlations its
// templates describe, and nothing else. Out-of-range values follow the sampler's Flow: drop (the
// default) leaves such an event out of every template; fold moves it into the edge bins.
//
// Templates can be filled from the control-region events as they are (each event used once) or
// from n events drawn from them with replacement (fill_with_replacement, a bootstrap): Chisholm et al. sec.
// 2.10 finds that the second decorrelates the model from signal-region data that are a subset of
// the control region, and brings the width of the pull distribution back to 1
// (examples/ancestral/, docs/sampling.md).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/stats/histogram.hpp"

namespace agnostic::stats {

// How many times each of `rows` rows is picked when `rows` rows are drawn from them uniformly with
// replacement (a bootstrap resample as multiplicities; they sum to `rows`).
inline Vector<double> bootstrap_counts(Index rows, Rng& rng) {
  require(rows >= 0, "bootstrap_counts: number of rows ", rows, " must be >= 0");
  Vector<double> counts = Vector<double>::Zero(rows);
  for (Index k = 0; k < rows; ++k)
    counts(static_cast<Index>(rng.below(static_cast<std::uint64_t>(rows)))) += 1.0;
  return counts;
}

// One factor p(draw | given). Variables are column indices of the data.
struct TemplateStep {
  std::vector<int> draw;        // variables drawn at this step (1 to 3)
  std::vector<Axis> draw_axes;  // their binning
  std::vector<int> given = {};  // variables drawn before, conditioning this step
  std::vector<Axis> given_axes = {};
};

// What to do when the values already drawn select a slice of a template with no content (possible
// when the templates bin a shared variable differently or a condition falls outside its range).
enum class EmptySlice {
  error,     // stop with an error naming the step and the values
  marginal,  // draw from the template summed over its conditioning variables
};

class AncestralSampler {
 public:
  // `variables`: names of the data columns, in order.
  explicit AncestralSampler(std::vector<std::string> variables, Flow flow = Flow::drop,
                            EmptySlice empty = EmptySlice::error)
      : names_(std::move(variables)), flow_(flow), empty_(empty), drawn_(names_.size(), false) {
    require(!names_.empty(), "AncestralSampler: at least one variable is needed");
    require(flow_ != Flow::keep,
            "AncestralSampler: templates cannot sample from flow bins (they have no width); "
            "use Flow::drop or Flow::fold");
  }

  int variables() const { return static_cast<int>(names_.size()); }
  int steps() const { return static_cast<int>(steps_.size()); }
  const Histogram& histogram(int step) const {
    require(step >= 0 && step < steps(), "AncestralSampler::histogram: step ", step, " of ", steps());
    return steps_[static_cast<std::size_t>(step)].histogram;
  }

  // Appends a factor; its conditioning variables must have been drawn by earlier steps.
  AncestralSampler& add(TemplateStep step) {
    const int index = steps();
    require(!step.draw.empty(), "AncestralSampler::add: step ", index, " draws no variable");
    require(step.draw.size() == step.draw_axes.size(), "AncestralSampler::add: step ", index, " draws ",
            step.draw.size(), " variables but has ", step.draw_axes.size(), " draw axes");
    require(step.given.size() == step.given_axes.size(), "AncestralSampler::add: step ", index, " is given ",
            step.given.size(), " variables but has ", step.given_axes.size(), " given axes");
    require(step.draw.size() + step.given.size() <= 3, "AncestralSampler::add: step ", index, " spans ",
            step.draw.size() + step.given.size(), " variables; templates have 1 to 3 dimensions");
    for (int v : step.given) {
      check_variable(v, index);
      require(drawn_[static_cast<std::size_t>(v)], "AncestralSampler::add: step ", index,
              " is conditioned on '", names_[static_cast<std::size_t>(v)], "', which no earlier step draws");
    }
    std::vector<bool> seen(names_.size(), false);
    for (int v : step.draw) {
      check_variable(v, index);
      require(!drawn_[static_cast<std::size_t>(v)] && !seen[static_cast<std::size_t>(v)],
              "AncestralSampler::add: step ", index, " draws '", names_[static_cast<std::size_t>(v)],
              "', which is already drawn; each variable is drawn exactly once");
      seen[static_cast<std::size_t>(v)] = true;
    }
    for (int v : step.draw) drawn_[static_cast<std::size_t>(v)] = true;
    // Histogram axes: the given variables first, so each slice of drawn bins is contiguous.
    std::vector<Axis> axes = step.given_axes;
    axes.insert(axes.end(), step.draw_axes.begin(), step.draw_axes.end());
    steps_.push_back(Step{std::move(step), Histogram(std::move(axes), flow_), {}, {}, 0});
    return *this;
  }

  // Fills every template from data with one row per event and one column per variable; may be
  // called again to add more data.
  template <class Data>
  void fill(const Eigen::DenseBase<Data>& data) {
    fill(data, Vector<double>::Ones(data.rows()).eval());
  }
  template <class Data, class Weights>
  void fill(const Eigen::DenseBase<Data>& data, const Eigen::DenseBase<Weights>& weights) {
    require_complete("fill");
    require(data.cols() == variables(), "AncestralSampler::fill: data has ", data.cols(),
            " columns, expected ", variables(), " (one per variable)");
    require(weights.size() == data.rows(), "AncestralSampler::fill: ", data.rows(), " events but ",
            weights.size(), " weights");
    // Checked here, before any template changes, so that a failed fill leaves the sampler as it was.
    for (Index c = 0; c < data.cols(); ++c)
      for (Index r = 0; r < data.rows(); ++r)
        require(!std::isnan(static_cast<double>(data(r, c))), "AncestralSampler::fill: row ", r, " column ",
                c, " ('", names_[static_cast<std::size_t>(c)], "') is NaN; templates refuse NaN values");
    Vector<double> w = weights.derived().template cast<double>().matrix().reshaped();
    for (Index r = 0; r < w.size(); ++r)
      require(std::isfinite(w(r)), "AncestralSampler::fill: weight of row ", r, " is ", w(r),
              "; weights must be finite");
    // With Flow::drop an event outside the range of any template is left out of all of them, so that
    // the templates stay projections of one and the same data: a slice selected by values drawn from
    // one template then always has content in the next (when they bin shared variables alike).
    if (flow_ == Flow::drop)
      for (Index r = 0; r < data.rows(); ++r)
        for (const Step& s : steps_)
          if (!inside(s.spec.draw, s.spec.draw_axes, data, r) ||
              !inside(s.spec.given, s.spec.given_axes, data, r))
            w(r) = 0.0;
    for (Step& s : steps_) {
      std::vector<int> columns = s.spec.given;
      columns.insert(columns.end(), s.spec.draw.begin(), s.spec.draw.end());
      Matrix<double> points(data.rows(), static_cast<Index>(columns.size()));
      for (std::size_t c = 0; c < columns.size(); ++c)
        points.col(static_cast<Index>(c)) = data.col(columns[c]).template cast<double>();
      s.histogram.fill(points, w);
      build_tables(s);
    }
  }

  // Fills the templates from as many events as `data` has rows, drawn from its rows with replacement
  // (each row's weight multiplied by the number of times it was drawn). Same rng state, same templates.
  template <class Data>
  void fill_with_replacement(const Eigen::DenseBase<Data>& data, Rng& rng) {
    fill_with_replacement(data, Vector<double>::Ones(data.rows()).eval(), rng);
  }
  template <class Data, class Weights>
  void fill_with_replacement(const Eigen::DenseBase<Data>& data, const Eigen::DenseBase<Weights>& weights,
                             Rng& rng) {
    require(weights.size() == data.rows(), "AncestralSampler::fill_with_replacement: ", data.rows(),
            " events but ", weights.size(), " weights");
    const Vector<double> counts = bootstrap_counts(data.rows(), rng);
    fill(data, weights.derived().template cast<double>().matrix().reshaped().cwiseProduct(counts).eval());
  }

  const std::vector<std::string>& names() const { return names_; }

  // n pseudo-events, one per row, one column per variable.
  Matrix<double> sample(Index n, Rng& rng) const {
    require_complete("sample");
    require(n >= 0, "AncestralSampler::sample: number of events ", n, " must be >= 0");
    for (std::size_t k = 0; k < steps_.size(); ++k)
      require(steps_[k].histogram.total() > 0.0, "AncestralSampler::sample: template of step ", k,
              " is empty; call fill() with data first");
    Matrix<double> out(n, variables());
    std::vector<double> event(names_.size());
    for (Index r = 0; r < n; ++r) {
      for (std::size_t k = 0; k < steps_.size(); ++k) draw_step(steps_[k], k, event, rng);
      for (int v = 0; v < variables(); ++v) out(r, v) = event[static_cast<std::size_t>(v)];
    }
    return out;
  }

 private:
  struct Step {
    TemplateStep spec;
    Histogram histogram;
    std::vector<double> cumulative;  // per slice, the running sum of the (non-negative) drawn-bin contents
    std::vector<double> marginal;    // running sum of the contents summed over all slices
    Index slice_size;                // number of drawn bins per slice
  };

  void check_variable(int v, int step) const {
    require(v >= 0 && v < variables(), "AncestralSampler::add: step ", step, " names variable ", v,
            "; variables are 0..", variables() - 1);
  }

  void require_complete(const char* what) const {
    for (std::size_t v = 0; v < names_.size(); ++v)
      require(drawn_[v], "AncestralSampler::", what, ": no step draws variable '", names_[v],
              "'; every variable must be drawn by one step");
  }

  template <class Data>
  static bool inside(const std::vector<int>& variables, const std::vector<Axis>& axes, const Data& data,
                     Index row) {
    for (std::size_t c = 0; c < variables.size(); ++c) {
      const Index bin = axes[c].locate(static_cast<double>(data(row, variables[c])));
      if (bin < 0 || bin >= axes[c].bins()) return false;
    }
    return true;
  }

  static void build_tables(Step& s) {
    const Vector<double> contents = s.histogram.values();
    Index slice = 1;
    for (const Axis& a : s.spec.draw_axes) slice *= a.bins();
    s.slice_size = slice;
    const Index slices = contents.size() / slice;
    s.cumulative.assign(static_cast<std::size_t>(contents.size()), 0.0);
    s.marginal.assign(static_cast<std::size_t>(slice), 0.0);
    for (Index g = 0; g < slices; ++g) {
      double running = 0.0;
      for (Index d = 0; d < slice; ++d) {
        // A bin with negative total weight cannot be a probability; it is never drawn.
        const double c = std::max(0.0, contents(g * slice + d));
        running += c;
        s.cumulative[static_cast<std::size_t>(g * slice + d)] = running;
        s.marginal[static_cast<std::size_t>(d)] += c;
      }
    }
    for (Index d = 1; d < slice; ++d)
      s.marginal[static_cast<std::size_t>(d)] += s.marginal[static_cast<std::size_t>(d - 1)];
  }

  // Index of the slice selected by the conditioning values, or -1 when a value is out of range and dropped.
  Index slice_of(const Step& s, const std::vector<double>& event) const {
    Index g = 0;
    for (std::size_t c = 0; c < s.spec.given.size(); ++c) {
      const Axis& a = s.spec.given_axes[c];
      Index bin = a.locate(event[static_cast<std::size_t>(s.spec.given[c])]);
      if (bin < 0 || bin >= a.bins()) {
        if (flow_ == Flow::drop) return -1;
        bin = bin < 0 ? 0 : a.bins() - 1;
      }
      g = g * a.bins() + bin;
    }
    return g;
  }

  void draw_step(const Step& s, std::size_t index, std::vector<double>& event, Rng& rng) const {
    const Index g = slice_of(s, event);
    const double* table = nullptr;
    if (g >= 0 && s.cumulative[static_cast<std::size_t>((g + 1) * s.slice_size - 1)] > 0.0)
      table = &s.cumulative[static_cast<std::size_t>(g * s.slice_size)];
    if (table == nullptr) {
      if (empty_ == EmptySlice::error) {
        std::string values;
        for (int v : s.spec.given)
          values += (values.empty() ? "" : ", ") + names_[static_cast<std::size_t>(v)] + " = " +
                    std::to_string(event[static_cast<std::size_t>(v)]);
        fail("AncestralSampler::sample: step ", index, " has no content in the slice selected by ", values,
             "; bin the shared variables alike, widen the ranges, or use EmptySlice::marginal");
      }
      table = s.marginal.data();
    }
    const double total = table[s.slice_size - 1];
    const double u = rng.uniform() * total;
    Index d = static_cast<Index>(std::upper_bound(table, table + s.slice_size, u) - table);
    d = std::min(d, s.slice_size - 1);
    // Split the drawn cell into one bin per drawn axis (last axis fastest), then draw inside each bin.
    for (std::size_t c = s.spec.draw.size(); c-- > 0;) {
      const Axis& a = s.spec.draw_axes[c];
      const Index bin = d % a.bins();
      d /= a.bins();
      event[static_cast<std::size_t>(s.spec.draw[c])] = rng.uniform(a.lower_edge(bin), a.upper_edge(bin));
    }
  }

  std::vector<std::string> names_;
  Flow flow_;
  EmptySlice empty_;
  std::vector<bool> drawn_;
  std::vector<Step> steps_;
};

}  // namespace agnostic::stats
