#pragma once
// Which rows make up each mini-batch of an epoch.
//
// Every epoch's order is drawn afresh from the identity with the caller's Rng: the order depends on
// nothing but the Rng state at the start of the epoch, so a checkpoint that saves the Rng state
// reproduces every later epoch's batches exactly.
//
// Under data-parallel training (data_parallel.hpp) batch(b) gives only this process's rows of the
// global batch b; with one process (the default) it gives the whole batch.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/train/data_parallel.hpp"
#include "agnostic/train/dataset.hpp"

namespace agnostic::train {

// Shuffled batches over a set of rows: each row exactly once per epoch; the last batch may be
// smaller (or dropped with drop_last).
class BatchSampler {
 public:
  BatchSampler() = default;
  BatchSampler(std::vector<Index> rows, Index batch_size, bool drop_last = false)
      : rows_(std::move(rows)), order_(rows_), batch_size_(batch_size), drop_last_(drop_last) {
    require(batch_size > 0, "BatchSampler: batch size is ", batch_size, "; must be >= 1");
    require(!rows_.empty(), "BatchSampler: no events to draw batches from");
  }
  // All rows 0..events-1.
  BatchSampler(Index events, Index batch_size, bool drop_last = false)
      : BatchSampler(iota(events), batch_size, drop_last) {}

  void start_epoch(Rng& rng) {
    order_ = rows_;
    shuffle(order_, rng);
  }
  Index batches() const {
    const Index n = static_cast<Index>(rows_.size());
    return drop_last_ ? std::max<Index>(1, n / batch_size_) : (n + batch_size_ - 1) / batch_size_;
  }
  std::span<const Index> batch(Index b) const {
    const Index n = static_cast<Index>(order_.size());
    const Index begin = b * batch_size_, end = std::min(n, begin + batch_size_);
    require(b >= 0 && b < batches(), "BatchSampler: batch ", b, " of ", batches());
    return shard_rows({order_.data() + begin, static_cast<std::size_t>(end - begin)}, mine_);
  }

 private:
  static std::vector<Index> iota(Index n) {
    std::vector<Index> v(static_cast<std::size_t>(std::max<Index>(0, n)));
    std::iota(v.begin(), v.end(), Index{0});
    return v;
  }
  std::vector<Index> rows_, order_;
  mutable std::vector<Index> mine_;  // this process's share of a batch (data-parallel training)
  Index batch_size_ = 1;
  bool drop_last_ = false;
};

// Batches that mix two groups of rows (two domains) in a fixed proportion: every batch holds
// exactly `first_per_batch` rows of the first group followed by `second_per_batch` of the second
// (Clavijo et al., arXiv:2005.00568: source and target 1:1). An epoch lasts until every row of the LARGER
// group (relative to its share) has been used once; the other group is cycled, reshuffled each time it runs
// out.
class MixedBatchSampler {
 public:
  MixedBatchSampler() = default;
  // batch_size split as round(batch_size * first_share / (first_share + second_share)).
  MixedBatchSampler(std::vector<Index> first, std::vector<Index> second, Index batch_size,
                    double first_share = 1.0, double second_share = 1.0)
      : first_(std::move(first)), second_(std::move(second)) {
    require(batch_size >= 2, "MixedBatchSampler: batch size is ", batch_size, "; must be >= 2");
    require(first_share > 0.0 && second_share > 0.0, "MixedBatchSampler: shares are ", first_share, " and ",
            second_share, "; both must be > 0");
    require(!first_.empty() && !second_.empty(), "MixedBatchSampler: the first group has ", first_.size(),
            " events and the second ", second_.size(), "; both need events");
    n_first_ = static_cast<Index>(
        std::llround(static_cast<double>(batch_size) * first_share / (first_share + second_share)));
    n_first_ = std::clamp<Index>(n_first_, 1, batch_size - 1);
    n_second_ = batch_size - n_first_;
    const Index a = (static_cast<Index>(first_.size()) + n_first_ - 1) / n_first_;
    const Index b = (static_cast<Index>(second_.size()) + n_second_ - 1) / n_second_;
    batches_ = std::max(a, b);
  }

  // Rows of the data set whose domain is `first_domain` and `second_domain`.
  template <class T>
  static MixedBatchSampler by_domain(const Dataset<T>& data, Index first_domain, Index second_domain,
                                     Index batch_size, double first_share = 1.0, double second_share = 1.0) {
    require(data.has_domains(), "MixedBatchSampler: the data set has no domain column");
    std::vector<Index> a, b;
    for (std::size_t i = 0; i < data.domains.size(); ++i) {
      if (data.domains[i] == first_domain) a.push_back(static_cast<Index>(i));
      if (data.domains[i] == second_domain) b.push_back(static_cast<Index>(i));
    }
    require(!a.empty(), "MixedBatchSampler: no event has domain ", first_domain);
    require(!b.empty(), "MixedBatchSampler: no event has domain ", second_domain);
    return MixedBatchSampler(std::move(a), std::move(b), batch_size, first_share, second_share);
  }

  // Draws the whole epoch's batches now (the draws depend only on the Rng state here).
  void start_epoch(Rng& rng) {
    order_.resize(static_cast<std::size_t>(batches_ * (n_first_ + n_second_)));
    std::vector<Index> a, b;
    std::size_t next_a = first_.size(), next_b = second_.size();
    // Streams are drawn in a fixed interleaving (first part then second part of each batch).
    auto draw = [&rng](const std::vector<Index>& rows, std::vector<Index>& perm, std::size_t& next) {
      if (next == rows.size()) {
        perm = rows;
        shuffle(perm, rng);
        next = 0;
      }
      return perm[next++];
    };
    std::size_t k = 0;
    for (Index bi = 0; bi < batches_; ++bi) {
      for (Index j = 0; j < n_first_; ++j) order_[k++] = draw(first_, a, next_a);
      for (Index j = 0; j < n_second_; ++j) order_[k++] = draw(second_, b, next_b);
    }
  }
  Index batches() const { return batches_; }
  Index first_per_batch() const { return n_first_; }
  Index second_per_batch() const { return n_second_; }
  std::span<const Index> batch(Index b) const {
    require(b >= 0 && b < batches_, "MixedBatchSampler: batch ", b, " of ", batches_);
    require(!order_.empty(), "MixedBatchSampler: call start_epoch before batch()");
    const Index size = n_first_ + n_second_;
    const std::span<const Index> whole{order_.data() + b * size, static_cast<std::size_t>(size)};
    BatchShard& s = batch_shard();
    if (s.ranks <= 1 || n_first_ < s.ranks || n_second_ < s.ranks) {
      // One process, or a group too small to share: every rank takes the whole batch (weight 1/K).
      s.fraction = 1.0 / s.ranks;
      s.copies = s.ranks;
      first_in_batch_ = n_first_;
      return whole;
    }
    // Each group shared on its own, so that this process's rows again hold the first group first.
    mine_.clear();
    for (Index i = s.rank; i < n_first_; i += s.ranks) mine_.push_back(whole[static_cast<std::size_t>(i)]);
    first_in_batch_ = static_cast<Index>(mine_.size());
    for (Index i = s.rank; i < n_second_; i += s.ranks)
      mine_.push_back(whole[static_cast<std::size_t>(n_first_ + i)]);
    s.fraction = static_cast<double>(mine_.size()) / static_cast<double>(size);
    s.copies = 1;
    return {mine_.data(), mine_.size()};
  }
  // How many of the rows the last batch() gave are of the first group (first_per_batch() with
  // one process; this process's share under data-parallel training).
  Index first_in_batch() const { return first_in_batch_; }

 private:
  std::vector<Index> first_, second_, order_;
  mutable std::vector<Index> mine_;  // this process's share of a batch (data-parallel training)
  mutable Index first_in_batch_ = 0;
  Index n_first_ = 0, n_second_ = 0, batches_ = 0;
};

}  // namespace agnostic::train
