#pragma once
// An in-memory data set for training: features (one event per row), class labels, event weights
// and, optionally, a domain index per event (source/target in Clavijo et al. (arXiv:2005.00568), signal model
// in Camaiani et al. (arXiv:2207.09293)). Also the seeded train/validation split and the gathering of a batch
// of rows into reusable buffers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"

namespace agnostic::train {

template <class T>
struct Dataset {
  Matrix<T> features;          // events x features
  std::vector<Index> labels;   // class index per event, in [0, classes)
  Vector<T> weights;           // event weight per event (physics weights; may be negative)
  std::vector<Index> domains;  // domain index per event; empty when the data have no domains
  Index classes = 0;           // number of classes; 0 = one more than the largest label

  Dataset() = default;
  // Unit weights and no domains unless given.
  Dataset(Matrix<T> x, std::vector<Index> y, Vector<T> w = {}, std::vector<Index> d = {}, Index n_classes = 0)
      : features(std::move(x)),
        labels(std::move(y)),
        weights(std::move(w)),
        domains(std::move(d)),
        classes(n_classes) {
    if (weights.size() == 0) weights = Vector<T>::Ones(features.rows());
    if (classes == 0 && !labels.empty()) classes = *std::max_element(labels.begin(), labels.end()) + 1;
    validate("Dataset");
  }

  Index rows() const { return features.rows(); }
  Index cols() const { return features.cols(); }
  bool has_domains() const { return !domains.empty(); }

  // Refuses inconsistent sizes, labels out of range and non-finite features or weights; `what`
  // names the data set in the message.
  void validate(const std::string& what) const {
    const Index n = rows();
    require(static_cast<Index>(labels.size()) == n, what, ": ", n, " events but ", labels.size(),
            " labels; one label per event expected");
    require(weights.size() == n, what, ": ", n, " events but ", weights.size(),
            " weights; one weight per event expected");
    require(domains.empty() || static_cast<Index>(domains.size()) == n, what, ": ", n, " events but ",
            domains.size(), " domain indices; one per event (or none) expected");
    require(classes >= 1 || n == 0, what, ": number of classes is ", classes, "; at least 1 expected");
    for (Index i = 0; i < n; ++i) {
      const Index y = labels[static_cast<std::size_t>(i)];
      require(y >= 0 && y < classes, what, ": label of event ", i, " is ", y, "; allowed labels are 0 to ",
              classes - 1);
      require(std::isfinite(static_cast<double>(weights(i))), what, ": weight of event ", i, " is ",
              weights(i), "; weights must be finite");
      if (!domains.empty())
        require(domains[static_cast<std::size_t>(i)] >= 0, what, ": domain of event ", i, " is ",
                domains[static_cast<std::size_t>(i)], "; domains must be >= 0");
    }
    for (Index c = 0; c < cols(); ++c)
      for (Index i = 0; i < n; ++i)
        require(std::isfinite(static_cast<double>(features(i, c))), what, ": feature ", c, " of event ", i,
                " is ", features(i, c), "; features must be finite (declare missing values first)");
  }

  // The events `rows`, in that order.
  Dataset subset(std::span<const Index> rows) const {
    Dataset out;
    out.classes = classes;
    out.features.resize(static_cast<Index>(rows.size()), cols());
    out.labels.resize(rows.size());
    out.weights.resize(static_cast<Index>(rows.size()));
    if (has_domains()) out.domains.resize(rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const Index r = rows[k];
      require(r >= 0 && r < this->rows(), "Dataset::subset: row ", r, " is outside 0..", this->rows() - 1);
      out.features.row(static_cast<Index>(k)) = features.row(r);
      out.labels[k] = labels[static_cast<std::size_t>(r)];
      out.weights(static_cast<Index>(k)) = weights(r);
      if (has_domains()) out.domains[k] = domains[static_cast<std::size_t>(r)];
    }
    return out;
  }
};

// A batch: the gathered rows of a data set. Buffers keep their capacity between batches, so once
// the largest batch has been seen gathering allocates nothing.
template <class T>
struct Batch {
  std::vector<Index> rows;  // the data-set rows the batch was gathered from
  Matrix<T> features;
  std::vector<Index> labels;
  Vector<T> weights;
  std::vector<Index> domains;
  Index size() const { return features.rows(); }
};

template <class T>
void gather(const Dataset<T>& data, std::span<const Index> rows, Batch<T>& batch) {
  const Index n = static_cast<Index>(rows.size());
  batch.rows.assign(rows.begin(), rows.end());
  batch.features.resize(n, data.cols());
  batch.labels.resize(rows.size());
  batch.weights.resize(n);
  batch.domains.resize(data.has_domains() ? rows.size() : 0);
  // Column by column: the features are column-major, so this reads and writes contiguous columns.
  for (Index c = 0; c < data.cols(); ++c)
    for (Index k = 0; k < n; ++k) batch.features(k, c) = data.features(rows[static_cast<std::size_t>(k)], c);
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Index r = rows[k];
    batch.labels[k] = data.labels[static_cast<std::size_t>(r)];
    batch.weights(static_cast<Index>(k)) = data.weights(r);
    if (data.has_domains()) batch.domains[k] = data.domains[static_cast<std::size_t>(r)];
  }
}

// Fisher-Yates shuffle driven by agnostic's Rng, so the order is the same with every compiler.
inline void shuffle(std::vector<Index>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

struct SplitOptions {
  double validation_fraction = 0.3;  // in [0, 1)
  std::uint64_t seed = 1;
  bool stratify = true;  // keep each class's fraction the same in both parts
};

// Row indices of the two parts, each in increasing order.
struct SplitRows {
  std::vector<Index> train, validation;
};

// Seeded split. Stratified: within each class, round(fraction * n_class) events go to validation;
// otherwise round(fraction * n) events chosen at random.
inline SplitRows split_rows(const std::vector<Index>& labels, const SplitOptions& options) {
  require(options.validation_fraction >= 0.0 && options.validation_fraction < 1.0,
          "split: validation_fraction is ", options.validation_fraction, "; allowed range is [0, 1)");
  Rng rng(options.seed);
  std::vector<std::vector<Index>> groups;
  if (options.stratify) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const Index y = labels[i];
      require(y >= 0, "split: label of event ", i, " is ", y, "; labels must be >= 0");
      if (static_cast<std::size_t>(y) >= groups.size()) groups.resize(static_cast<std::size_t>(y) + 1);
      groups[static_cast<std::size_t>(y)].push_back(static_cast<Index>(i));
    }
  } else {
    groups.emplace_back(labels.size());
    std::iota(groups[0].begin(), groups[0].end(), Index{0});
  }
  SplitRows out;
  for (auto& g : groups) {
    shuffle(g, rng);
    const auto n_validation =
        static_cast<std::size_t>(std::llround(options.validation_fraction * static_cast<double>(g.size())));
    out.validation.insert(out.validation.end(), g.begin(),
                          g.begin() + static_cast<std::ptrdiff_t>(n_validation));
    out.train.insert(out.train.end(), g.begin() + static_cast<std::ptrdiff_t>(n_validation), g.end());
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.validation.begin(), out.validation.end());
  return out;
}

template <class T>
struct Split {
  Dataset<T> train, validation;
  SplitRows rows;  // which rows of the original data went where
};

template <class T>
Split<T> split(const Dataset<T>& data, const SplitOptions& options) {
  Split<T> out;
  out.rows = split_rows(data.labels, options);
  out.train = data.subset(out.rows.train);
  out.validation = data.subset(out.rows.validation);
  return out;
}

}  // namespace agnostic::train
