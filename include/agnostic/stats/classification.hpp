#pragma once
// Multi-class summaries, weighted: the confusion matrix and the categorical accuracy (the figure of
// merit of Camaiani et al., arXiv:2207.09293, together with the average K-S statistic).
//
// Truth and prediction are each given either as class labels (a column vector of integers
// 0..K-1) or as a matrix with one row per event and one column per class (one-hot truth or the
// network's probabilities): the class of a row is its largest column, the first one on ties.
// Confusion matrix entry (i, j) is the weight of events of true class i predicted as class j.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/stats/metric_input.hpp"

namespace agnostic::stats {

enum class ConfusionNormalisation {
  none,        // weights as summed
  true_class,  // each row sums to 1: the fraction of true class i predicted as j
  predicted,   // each column sums to 1: the purity of each predicted class
  all,         // the whole matrix sums to 1
};

namespace detail {

// Class of every event: labels from a column vector, argmax of each row otherwise.
template <class Derived>
std::vector<Index> classes_of(const Eigen::DenseBase<Derived>& x, const char* function, const char* what) {
  const auto& m = x.derived();
  std::vector<Index> out(static_cast<std::size_t>(x.rows()));
  if (x.cols() == 1) {
    for (Index r = 0; r < x.rows(); ++r) {
      const double v = static_cast<double>(m(r, 0));
      require(!std::isnan(v) && v >= 0.0 && v == std::floor(v), function, ": ", what, " label of event ", r,
              " is ", v, "; class labels must be integers >= 0");
      out[static_cast<std::size_t>(r)] = static_cast<Index>(v);
    }
    return out;
  }
  require(x.cols() > 1, function, ": ", what, " has no columns");
  for (Index r = 0; r < x.rows(); ++r) {
    Index best = 0;
    for (Index c = 0; c < x.cols(); ++c) {
      const double v = static_cast<double>(m(r, c));
      require(!std::isnan(v), function, ": ", what, " of event ", r, " column ", c, " is NaN");
      if (v > static_cast<double>(m(r, best))) best = c;
    }
    out[static_cast<std::size_t>(r)] = best;
  }
  return out;
}

// At least as many classes as the columns of a score or one-hot matrix.
template <class Truth, class Predicted>
Index class_count(Index requested, const Eigen::DenseBase<Truth>& truth,
                  const Eigen::DenseBase<Predicted>& predicted) {
  Index n = requested;
  if (truth.cols() > 1) n = std::max(n, Index{truth.cols()});
  if (predicted.cols() > 1) n = std::max(n, Index{predicted.cols()});
  return n;
}

inline Matrix<double> confusion(const std::vector<Index>& truth, const std::vector<Index>& predicted,
                                const std::vector<double>& weight, Index classes,
                                ConfusionNormalisation how) {
  const char* function = "confusion_matrix";
  require_same_length(function, "true classes", truth.size(), "predicted classes", predicted.size());
  require_same_length(function, "events", truth.size(), "weights", weight.size());
  require_not_empty(function, "the true classes", truth.size());
  if (classes <= 0) {
    for (std::size_t i = 0; i < truth.size(); ++i)
      classes = std::max({classes, truth[i] + 1, predicted[i] + 1});
  }
  Matrix<double> m = Matrix<double>::Zero(classes, classes);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    require(truth[i] < classes && predicted[i] < classes, function, ": event ", i, " has true class ",
            truth[i], " and predicted class ", predicted[i], "; classes must lie in [0, ", classes, ")");
    m(truth[i], predicted[i]) += weight[i];
  }
  auto divide = [&](auto&& block, double sum, const char* what, Index which) {
    require(sum != 0.0, function, ": cannot normalise ", what, " ", which, ": its total weight is 0");
    block /= sum;
  };
  switch (how) {
    case ConfusionNormalisation::none:
      break;
    case ConfusionNormalisation::true_class:
      for (Index i = 0; i < classes; ++i) divide(m.row(i), m.row(i).sum(), "true class", i);
      break;
    case ConfusionNormalisation::predicted:
      for (Index j = 0; j < classes; ++j) divide(m.col(j), m.col(j).sum(), "predicted class", j);
      break;
    case ConfusionNormalisation::all:
      divide(m, m.sum(), "the matrix", 0);
      break;
  }
  return m;
}

}  // namespace detail

template <class Truth, class Predicted>
Matrix<double> confusion_matrix(const Eigen::DenseBase<Truth>& truth,
                                const Eigen::DenseBase<Predicted>& predicted,
                                ConfusionNormalisation how = ConfusionNormalisation::none,
                                Index classes = 0) {
  const auto t = detail::classes_of(truth, "confusion_matrix", "truth");
  return detail::confusion(t, detail::classes_of(predicted, "confusion_matrix", "prediction"),
                           std::vector<double>(t.size(), 1.0), detail::class_count(classes, truth, predicted),
                           how);
}

template <class Truth, class Predicted, class Weights>
Matrix<double> confusion_matrix(const Eigen::DenseBase<Truth>& truth,
                                const Eigen::DenseBase<Predicted>& predicted,
                                const Eigen::DenseBase<Weights>& weights,
                                ConfusionNormalisation how = ConfusionNormalisation::none,
                                Index classes = 0) {
  const auto t = detail::classes_of(truth, "confusion_matrix", "truth");
  return detail::confusion(t, detail::classes_of(predicted, "confusion_matrix", "prediction"),
                           detail::weights_of(weights, t.size(), "confusion_matrix"),
                           detail::class_count(classes, truth, predicted), how);
}

// Weighted fraction of events whose predicted class is the true one.
template <class Truth, class Predicted>
double categorical_accuracy(const Eigen::DenseBase<Truth>& truth,
                            const Eigen::DenseBase<Predicted>& predicted) {
  const Matrix<double> m = confusion_matrix(truth, predicted);
  return m.trace() / m.sum();
}

template <class Truth, class Predicted, class Weights>
double categorical_accuracy(const Eigen::DenseBase<Truth>& truth,
                            const Eigen::DenseBase<Predicted>& predicted,
                            const Eigen::DenseBase<Weights>& weights) {
  const Matrix<double> m = confusion_matrix(truth, predicted, weights);
  require(m.sum() != 0.0, "categorical_accuracy: total weight is 0");
  return m.trace() / m.sum();
}

}  // namespace agnostic::stats
