#pragma once
// Checks and converts the inputs of the metrics (scores, labels, weights) once, so that every metric
// refuses the same bad input with the same kind of message. Scores may be float (network output)
// or double; everything is accumulated in double.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::stats::detail {

// A vector-shaped Eigen expression as doubles; refuses matrices, NaN and (optionally) infinities.
template <class Derived>
std::vector<double> to_doubles(const Eigen::DenseBase<Derived>& v, const char* function, const char* what,
                               bool allow_infinite = true) {
  require(v.rows() == 1 || v.cols() == 1, function, ": ", what, " must be a vector, got a ", v.rows(), "x",
          v.cols(), " matrix");
  std::vector<double> out(static_cast<std::size_t>(v.size()));
  const auto flat = v.derived().reshaped();
  for (Index i = 0; i < v.size(); ++i) {
    const double x = static_cast<double>(flat(i));
    require(!std::isnan(x), function, ": ", what, " of event ", i, " is NaN");
    require(allow_infinite || std::isfinite(x), function, ": ", what, " of event ", i, " is ", x,
            "; must be finite");
    out[static_cast<std::size_t>(i)] = x;
  }
  return out;
}

inline void require_same_length(const char* function, const char* what_a, std::size_t a, const char* what_b,
                                std::size_t b) {
  require(a == b, function, ": ", a, " ", what_a, " but ", b, " ", what_b, "; one per event expected");
}

inline void require_not_empty(const char* function, const char* what, std::size_t n) {
  require(n > 0, function, ": ", what, " is empty; at least one event is needed");
}

// Weights: finite, one per event; unit weights when none are given.
template <class Derived>
std::vector<double> weights_of(const Eigen::DenseBase<Derived>& w, std::size_t events, const char* function) {
  std::vector<double> out = to_doubles(w, function, "weight", false);
  require_same_length(function, "events", events, "weights", out.size());
  return out;
}

// Labels of a binary problem: 1 = signal (positive), 0 = background.
template <class Derived>
std::vector<char> binary_labels(const Eigen::DenseBase<Derived>& labels, std::size_t events,
                                const char* function) {
  const std::vector<double> raw = to_doubles(labels, function, "label");
  require_same_length(function, "scores", events, "labels", raw.size());
  std::vector<char> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    require(raw[i] == 0.0 || raw[i] == 1.0, function, ": label of event ", i, " is ", raw[i],
            "; labels must be 0 (background) or 1 (signal)");
    out[i] = raw[i] == 1.0 ? 1 : 0;
  }
  return out;
}

// Scores of a binary problem sorted from highest to lowest, with their weights and labels, and the
// totals per class. Most metrics below are one pass over this.
struct RankedEvents {
  std::vector<double> score, weight;
  std::vector<char> signal;
  double total_signal = 0.0, total_background = 0.0;
};

inline RankedEvents rank_by_score(const std::vector<double>& score, const std::vector<char>& signal,
                                  const std::vector<double>& weight, const char* function) {
  require_not_empty(function, "scores", score.size());
  // Sorting the events themselves (not indices into them) keeps the comparisons in cache.
  struct Event {
    double score, weight;
    char signal;
  };
  std::vector<Event> events(score.size());
  for (std::size_t k = 0; k < score.size(); ++k) events[k] = {score[k], weight[k], signal[k]};
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.score > b.score; });
  RankedEvents r;
  r.score.resize(events.size());
  r.weight.resize(events.size());
  r.signal.resize(events.size());
  for (std::size_t k = 0; k < events.size(); ++k) {
    r.score[k] = events[k].score;
    r.weight[k] = events[k].weight;
    r.signal[k] = events[k].signal;
    (r.signal[k] ? r.total_signal : r.total_background) += r.weight[k];
  }
  return r;
}

template <class Scores, class Labels, class Weights>
RankedEvents ranked(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                    const Eigen::DenseBase<Weights>& weights, const char* function) {
  const std::vector<double> s = to_doubles(scores, function, "score");
  const std::vector<char> l = binary_labels(labels, s.size(), function);
  const std::vector<double> w = weights_of(weights, s.size(), function);
  return rank_by_score(s, l, w, function);
}

template <class Scores, class Labels>
RankedEvents ranked(const Eigen::DenseBase<Scores>& scores, const Eigen::DenseBase<Labels>& labels,
                    const char* function) {
  const std::vector<double> s = to_doubles(scores, function, "score");
  const std::vector<char> l = binary_labels(labels, s.size(), function);
  return rank_by_score(s, l, std::vector<double>(s.size(), 1.0), function);
}

inline void require_both_classes(const RankedEvents& r, const char* function) {
  require(r.total_signal > 0.0, function, ": total signal weight is ", r.total_signal,
          "; needs signal events (label 1) with a positive total weight");
  require(r.total_background > 0.0, function, ": total background weight is ", r.total_background,
          "; needs background events (label 0) with a positive total weight");
}

}  // namespace agnostic::stats::detail
