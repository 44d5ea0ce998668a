#pragma once
// Weighted histograms in 1, 2 and 3 dimensions with variable bin edges.
//
// Every bin keeps the sum of weights and the sum of squared weights (its variance). Bins are
// half-open [lo, hi) except the last bin of an axis, which also holds its upper edge (as numpy
// does): a sigmoid score of exactly 1.0 lands in the last bin of [0, ..., 1.0], not in overflow.
// Values outside the edges follow the Flow policy chosen by the user. Bin indices run 0..n-1;
// the flow bins of an axis are -1 (underflow) and n (overflow).
//
// Filling from an Eigen matrix (one event per row, one column per axis) runs over chunks of rows
// in parallel, each chunk into its own partial histogram; partials are added in chunk order, so
// the same thread count gives the same bits. NaN values and non-finite weights are refused before
// anything is added: a failed fill leaves the histogram unchanged.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/threads.hpp"

namespace agnostic::stats {

// What happens to a value outside the edges of an axis.
enum class Flow {
  keep,  // kept in the underflow (-1) / overflow (n) bins, outside the in-range totals
  fold,  // added to the first / last bin
  drop,  // discarded; the discarded weight is counted in Histogram::dropped()
};

enum class Normalisation {
  unit_sum,   // sum of in-range contents = 1
  unit_area,  // sum of content * bin volume = 1: contents become a probability density
};

inline const char* to_string(Flow flow) {
  switch (flow) {
    case Flow::keep:
      return "keep";
    case Flow::fold:
      return "fold";
    case Flow::drop:
      return "drop";
  }
  return "?";
}

// One axis: strictly increasing, finite bin edges.
class Axis {
 public:
  explicit Axis(std::vector<double> edges, std::string name = "")
      : edges_(std::move(edges)), name_(std::move(name)) {
    require(edges_.size() >= 2, "histogram axis '", name_, "': needs at least 2 edges (1 bin), got ",
            edges_.size());
    for (std::size_t i = 0; i < edges_.size(); ++i) {
      require(std::isfinite(edges_[i]), "histogram axis '", name_, "': edge ", i, " is ", edges_[i],
              "; edges must be finite");
      if (i > 0)
        require(edges_[i] > edges_[i - 1], "histogram axis '", name_,
                "': edges must increase strictly, but edge ", i, " (", edges_[i], ") <= edge ", i - 1, " (",
                edges_[i - 1], ")");
    }
  }

  // `bins` equal bins over [lo, hi].
  static Axis uniform(Index bins, double lo, double hi, std::string name = "") {
    require(bins >= 1, "histogram axis '", name, "': number of bins must be >= 1, got ", bins);
    require(std::isfinite(lo) && std::isfinite(hi) && hi > lo, "histogram axis '", name,
            "': range must be finite with lo < hi, got [", lo, ", ", hi, "]");
    std::vector<double> edges(static_cast<std::size_t>(bins) + 1);
    for (Index i = 0; i <= bins; ++i)
      edges[static_cast<std::size_t>(i)] =
          lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(bins);
    edges.back() = hi;
    return Axis(std::move(edges), std::move(name));
  }

  Index bins() const { return static_cast<Index>(edges_.size()) - 1; }
  double lower() const { return edges_.front(); }
  double upper() const { return edges_.back(); }
  double lower_edge(Index bin) const { return edges_[static_cast<std::size_t>(bin)]; }
  double upper_edge(Index bin) const { return edges_[static_cast<std::size_t>(bin) + 1]; }
  double width(Index bin) const { return upper_edge(bin) - lower_edge(bin); }
  double centre(Index bin) const { return 0.5 * (lower_edge(bin) + upper_edge(bin)); }
  const std::vector<double>& edges() const { return edges_; }
  const std::string& name() const { return name_; }

  // Bin holding x: -1 below the range, bins() above it. x must not be NaN.
  Index locate(double x) const {
    if (x < edges_.front()) return -1;
    if (x > edges_.back()) return bins();
    if (x == edges_.back()) return bins() - 1;
    return static_cast<Index>(std::upper_bound(edges_.begin(), edges_.end(), x) - edges_.begin()) - 1;
  }

  bool operator==(const Axis& other) const { return edges_ == other.edges_; }

 private:
  std::vector<double> edges_;
  std::string name_;
};

class Histogram {
 public:
  explicit Histogram(Axis x, Flow flow = Flow::keep) : Histogram(std::vector<Axis>{std::move(x)}, flow) {}
  Histogram(Axis x, Axis y, Flow flow = Flow::keep)
      : Histogram(std::vector<Axis>{std::move(x), std::move(y)}, flow) {}
  Histogram(Axis x, Axis y, Axis z, Flow flow = Flow::keep)
      : Histogram(std::vector<Axis>{std::move(x), std::move(y), std::move(z)}, flow) {}
  Histogram(std::vector<Axis> axes, Flow flow) : axes_(std::move(axes)), flow_(flow) {
    require(!axes_.empty() && axes_.size() <= 3, "Histogram: 1, 2 or 3 axes expected, got ", axes_.size());
    // Cells include the two flow bins of every axis; the last axis varies fastest.
    Index cells = 1;
    for (int d = dimension() - 1; d >= 0; --d) {
      stride_[static_cast<std::size_t>(d)] = cells;
      cells *= axes_[static_cast<std::size_t>(d)].bins() + 2;
    }
    sumw_.assign(static_cast<std::size_t>(cells), 0.0);
    sumw2_.assign(static_cast<std::size_t>(cells), 0.0);
  }

  int dimension() const { return static_cast<int>(axes_.size()); }
  const Axis& axis(int d) const {
    require(d >= 0 && d < dimension(), "Histogram::axis: axis ", d, " requested, histogram has ",
            dimension());
    return axes_[static_cast<std::size_t>(d)];
  }
  Flow flow() const { return flow_; }
  // Number of in-range bins (product over axes).
  Index bins() const {
    Index n = 1;
    for (const Axis& a : axes_) n *= a.bins();
    return n;
  }
  // Sum of weights discarded by Flow::drop.
  double dropped() const { return dropped_; }

  // One event: h.fill({x}, w), h.fill({x, y}), h.fill({x, y, z}, w).
  void fill(std::initializer_list<double> point, double weight = 1.0) {
    require(static_cast<int>(point.size()) == dimension(), "Histogram::fill: point has ", point.size(),
            " coordinates, histogram has ", dimension(), " axes");
    require(std::isfinite(weight), "Histogram::fill: weight is ", weight, "; weights must be finite");
    int d = 0;
    for (double v : point) {
      require(!std::isnan(v), "Histogram::fill: coordinate ", d, " (axis '",
              axes_[static_cast<std::size_t>(d)].name(),
              "') is NaN; histograms refuse NaN values (filter or impute them first)");
      ++d;
    }
    const Index cell = cell_of(point.begin());
    if (cell < 0) {
      dropped_ += weight;
      return;
    }
    sumw_[static_cast<std::size_t>(cell)] += weight;
    sumw2_[static_cast<std::size_t>(cell)] += weight * weight;
  }

  // Many events: `points` has one row per event and one column per axis (a column vector for 1-D).
  template <class Points>
  void fill(const Eigen::DenseBase<Points>& points) {
    fill_rows(points, static_cast<const Vector<double>*>(nullptr));
  }
  template <class Points, class Weights>
  void fill(const Eigen::DenseBase<Points>& points, const Eigen::DenseBase<Weights>& weights) {
    require(weights.rows() == 1 || weights.cols() == 1, "Histogram::fill: weights must be a vector, got ",
            weights.rows(), "x", weights.cols());
    require(weights.size() == points.rows(), "Histogram::fill: ", points.rows(), " points but ",
            weights.size(), " weights; one weight per event (row) expected");
    const Vector<double> w = weights.derived().template cast<double>().matrix().reshaped();
    fill_rows(points, &w);
  }

  // Per-bin access; indices run over -1..n (flow bins included), one index per axis.
  template <class... I>
  double sum_of_weights(I... index) const {
    return sumw_[static_cast<std::size_t>(checked_cell({static_cast<Index>(index)...}))];
  }
  template <class... I>
  double sum_of_squared_weights(I... index) const {
    return sumw2_[static_cast<std::size_t>(checked_cell({static_cast<Index>(index)...}))];
  }
  template <class... I>
  double error(I... index) const {
    return std::sqrt(sum_of_squared_weights(index...));
  }

  // In-range sums of weights / squared weights, flattened with the last axis fastest
  // (bin (i, j, k) at (i * ny + j) * nz + k, numpy's C order).
  Vector<double> values() const { return gather(sumw_); }
  Vector<double> variances() const { return gather(sumw2_); }

  // Sum of weights over the in-range bins, or over all bins including flow bins.
  double total(bool include_flow = false) const {
    if (include_flow) return sum_all(sumw_);
    return values().sum();
  }
  // (sum w)^2 / sum w^2 over the in-range bins: the number of unweighted events with the same precision.
  double effective_entries() const {
    const double w2 = variances().sum();
    return w2 > 0.0 ? total() * total() / w2 : 0.0;
  }
  // Volume of an in-range bin (product of widths), given its flat index into values().
  double volume(Index flat) const {
    require(flat >= 0 && flat < bins(), "Histogram::volume: flat bin ", flat, " outside [0, ", bins(), ")");
    double v = 1.0;
    for (int d = dimension() - 1; d >= 0; --d) {
      const Axis& a = axes_[static_cast<std::size_t>(d)];
      v *= a.width(flat % a.bins());
      flat /= a.bins();
    }
    return v;
  }

  void scale(double factor) {
    require(std::isfinite(factor), "Histogram::scale: factor is ", factor, "; must be finite");
    for (double& w : sumw_) w *= factor;
    for (double& w2 : sumw2_) w2 *= factor * factor;
    dropped_ *= factor;
  }

  // Divides by the in-range sum (unit_sum), and also by each bin's volume (unit_area). Flow bins
  // are divided by the in-range sum only: they have no finite volume.
  void normalise(Normalisation how) {
    const double sum = total();
    require(sum > 0.0 && std::isfinite(sum), "Histogram::normalise: in-range sum of weights is ", sum,
            "; normalising needs a positive sum");
    scale(1.0 / sum);
    if (how == Normalisation::unit_sum) return;
    for_each_in_range([&](Index flat, Index cell) {
      const double v = volume(flat);
      sumw_[static_cast<std::size_t>(cell)] /= v;
      sumw2_[static_cast<std::size_t>(cell)] /= v * v;
    });
  }
  Histogram normalised(Normalisation how) const {
    Histogram copy = *this;
    copy.normalise(how);
    return copy;
  }

  Histogram& operator+=(const Histogram& other) {
    require(other.dimension() == dimension(), "Histogram +=: dimensions differ (", dimension(), " and ",
            other.dimension(), ")");
    for (int d = 0; d < dimension(); ++d)
      require(axes_[static_cast<std::size_t>(d)] == other.axes_[static_cast<std::size_t>(d)],
              "Histogram +=: edges differ on axis ", d,
              "; only histograms with identical edges can be added");
    for (std::size_t c = 0; c < sumw_.size(); ++c) {
      sumw_[c] += other.sumw_[c];
      sumw2_[c] += other.sumw2_[c];
    }
    dropped_ += other.dropped_;
    return *this;
  }

 private:
  // Cell of a point after the flow policy; -1 when Flow::drop discards it. `it` walks the coordinates.
  template <class It>
  Index cell_of(It it) const {
    Index cell = 0;
    for (int d = 0; d < dimension(); ++d, ++it) {
      const Axis& a = axes_[static_cast<std::size_t>(d)];
      Index bin = a.locate(static_cast<double>(*it));
      if (bin < 0 || bin >= a.bins()) {
        if (flow_ == Flow::drop) return -1;
        if (flow_ == Flow::fold) bin = bin < 0 ? 0 : a.bins() - 1;
      }
      cell += (bin + 1) * stride_[static_cast<std::size_t>(d)];
    }
    return cell;
  }

  Index checked_cell(std::initializer_list<Index> index) const {
    require(static_cast<int>(index.size()) == dimension(), "Histogram: ", index.size(),
            " bin indices given, histogram has ", dimension(), " axes");
    Index cell = 0;
    int d = 0;
    for (Index i : index) {
      const Axis& a = axes_[static_cast<std::size_t>(d)];
      require(i >= -1 && i <= a.bins(), "Histogram: bin ", i, " on axis ", d, " ('", a.name(),
              "') outside [-1, ", a.bins(), "] (-1 underflow, ", a.bins(), " overflow)");
      cell += (i + 1) * stride_[static_cast<std::size_t>(d)];
      ++d;
    }
    return cell;
  }

  // Calls f(flat in-range index, storage cell) for each in-range bin in C order.
  template <class F>
  void for_each_in_range(F&& f) const {
    const Index nx = axes_[0].bins();
    const Index ny = dimension() > 1 ? axes_[1].bins() : 1;
    const Index nz = dimension() > 2 ? axes_[2].bins() : 1;
    Index flat = 0;
    for (Index i = 0; i < nx; ++i)
      for (Index j = 0; j < ny; ++j)
        for (Index k = 0; k < nz; ++k) {
          Index cell = (i + 1) * stride_[0];
          if (dimension() > 1) cell += (j + 1) * stride_[1];
          if (dimension() > 2) cell += (k + 1) * stride_[2];
          f(flat++, cell);
        }
  }

  Vector<double> gather(const std::vector<double>& store) const {
    Vector<double> out(bins());
    for_each_in_range([&](Index flat, Index cell) { out(flat) = store[static_cast<std::size_t>(cell)]; });
    return out;
  }

  static double sum_all(const std::vector<double>& store) {
    double s = 0.0;
    for (double v : store) s += v;
    return s;
  }

  template <class Points>
  void fill_rows(const Eigen::DenseBase<Points>& points, const Vector<double>* weights) {
    require(points.cols() == dimension(), "Histogram::fill: points have ", points.cols(),
            " columns, histogram has ", dimension(), " axes; one column per axis expected");
    const Index rows = points.rows();
    const Index cells = static_cast<Index>(sumw_.size());
    const int chunks = chunk_count(rows, rows * dimension() * 16);
    const auto& x = points.derived();
    // Each chunk reports its first bad row (NaN coordinate or non-finite weight) instead of throwing
    // inside the parallel region.
    std::vector<Index> bad_row(static_cast<std::size_t>(chunks), -1);
    std::vector<std::vector<double>> partial_w(static_cast<std::size_t>(chunks)),
        partial_w2(static_cast<std::size_t>(chunks));
    std::vector<double> partial_dropped(static_cast<std::size_t>(chunks), 0.0);
    parallel_chunks(rows, chunks, [&](int c, RowRange range) {
      auto& w_out = partial_w[static_cast<std::size_t>(c)];
      auto& w2_out = partial_w2[static_cast<std::size_t>(c)];
      w_out.assign(static_cast<std::size_t>(cells), 0.0);
      w2_out.assign(static_cast<std::size_t>(cells), 0.0);
      double point[3] = {0.0, 0.0, 0.0};
      for (Index r = range.begin; r < range.end; ++r) {
        const double w = weights ? (*weights)(r) : 1.0;
        bool ok = std::isfinite(w);
        for (int d = 0; d < dimension(); ++d) {
          point[d] = static_cast<double>(x(r, d));
          ok = ok && !std::isnan(point[d]);
        }
        if (!ok) {
          bad_row[static_cast<std::size_t>(c)] = r;
          return;
        }
        const Index cell = cell_of(&point[0]);
        if (cell < 0) {
          partial_dropped[static_cast<std::size_t>(c)] += w;
          continue;
        }
        w_out[static_cast<std::size_t>(cell)] += w;
        w2_out[static_cast<std::size_t>(cell)] += w * w;
      }
    });
    for (Index r : bad_row) {
      if (r < 0) continue;
      const double w = weights ? (*weights)(r) : 1.0;
      require(std::isfinite(w), "Histogram::fill: weight of row ", r, " is ", w, "; weights must be finite");
      for (int d = 0; d < dimension(); ++d)
        require(!std::isnan(static_cast<double>(x(r, d))), "Histogram::fill: row ", r, " column ", d,
                " (axis '", axes_[static_cast<std::size_t>(d)].name(),
                "') is NaN; histograms refuse NaN values (filter or impute them first)");
    }
    for (int c = 0; c < chunks; ++c) {
      for (std::size_t k = 0; k < sumw_.size(); ++k) {
        sumw_[k] += partial_w[static_cast<std::size_t>(c)][k];
        sumw2_[k] += partial_w2[static_cast<std::size_t>(c)][k];
      }
      dropped_ += partial_dropped[static_cast<std::size_t>(c)];
    }
  }

  std::vector<Axis> axes_;
  Flow flow_;
  Index stride_[3] = {0, 0, 0};
  std::vector<double> sumw_, sumw2_;
  double dropped_ = 0.0;
};

}  // namespace agnostic::stats
