#pragma once
// DataParallel: what the trainer needs from a group of processes that train one model together
// (data-parallel training; docs/distributed.md), without depending on MPI. distributed/
// communicator.hpp fills one from an MPI communicator; the default (one rank) means "alone".
//
// How a step is shared: every rank draws the SAME global batches (same seed, same Rng), and rank r
// of K takes the rows at positions r, r+K, r+2K, ... of each batch (the batch shard, below), so
// `training.batch_size` is the global batch on any number of ranks. Each rank's step runs its
// scheme as usual on its rows; when any optimiser steps, its gradient hook (optim/optimiser.hpp)
// replaces the rank's gradients g_r by sum_r (n_r / n) g_r, where n_r is the rank's share of the
// batch's n rows. For a loss that is a plain mean over the batch's rows this is exactly the
// one-process gradient (up to float rounding); the sum is in a fixed rank order, so every rank
// gets the same bits and the parameters stay identical on every rank.
//
// Losses that are not a plain mean over rows (weighted means, soft histograms, soft counts) take
// their batch totals over every rank (core/batch_shard.hpp), so they too give one process's
// gradient. The batch shard is per thread: the trainer sets it for each step (with the sum), and the
// batch samplers (batches.hpp) and those operations read it.
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "agnostic/autodiff/parameter.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::train {

struct DataParallel {
  int rank = 0;
  int ranks = 1;
  // Replaces v, on every rank, by the element-wise sum of every rank's v taken in rank order
  // 0, 1, ..., K-1 (the same bits on every rank, whatever order messages arrive in).
  std::function<void(std::span<double>)> sum;
  // Waits until every rank has called it.
  std::function<void()> barrier;

  bool active() const { return ranks > 1; }
  bool writes() const { return rank == 0; }  // only rank 0 writes files and prints
  void validate() const {
    require(ranks >= 1 && rank >= 0 && rank < ranks, "data-parallel: rank ", rank, " of ", ranks);
    require(ranks == 1 || (sum && barrier), "data-parallel: ", ranks, " ranks need a sum and a barrier");
  }
};

// This process's rows of a global batch: positions rank, rank+K, ... into `mine` (reused, so a
// warm step allocates nothing). A batch with fewer rows than ranks is taken whole by every rank,
// each weighted 1/K, so the sum is again the whole batch's gradient. Records the fraction.
inline std::span<const Index> shard_rows(std::span<const Index> batch, std::vector<Index>& mine) {
  BatchShard& s = batch_shard();
  const Index n = static_cast<Index>(batch.size());
  if (s.ranks <= 1) {
    s.fraction = 1.0;
    s.copies = 1;
    return batch;
  }
  if (n < s.ranks) {
    s.fraction = 1.0 / s.ranks;
    s.copies = s.ranks;
    return batch;
  }
  mine.clear();
  for (Index i = s.rank; i < n; i += s.ranks) mine.push_back(batch[static_cast<std::size_t>(i)]);
  s.fraction = static_cast<double>(mine.size()) / static_cast<double>(n);
  s.copies = 1;
  return {mine.data(), mine.size()};
}

// The gradient hook of data-parallel training: weights this rank's non-frozen gradients by its
// share of the batch, sums them over the ranks (in double, in rank order) and writes the sum back.
template <class T>
class GradientSum {
 public:
  explicit GradientSum(DataParallel dp) : dp_(std::move(dp)) {}

  void operator()(const std::vector<Parameter<T>*>& params) {
    std::size_t size = 0;
    for (const Parameter<T>* p : params)
      if (!p->frozen) size += static_cast<std::size_t>(p->grad.size());
    buffer_.resize(size);
    const double w = batch_shard().fraction;
    std::size_t k = 0;
    for (const Parameter<T>* p : params) {
      if (p->frozen) continue;
      const T* g = p->grad.data();
      for (Index i = 0; i < p->grad.size(); ++i) buffer_[k++] = w * static_cast<double>(g[i]);
    }
    dp_.sum(std::span<double>(buffer_));
    k = 0;
    for (Parameter<T>* p : params) {
      if (p->frozen) continue;
      T* g = p->grad.data();
      for (Index i = 0; i < p->grad.size(); ++i) g[i] = static_cast<T>(buffer_[k++]);
    }
  }

 private:
  DataParallel dp_;
  std::vector<double> buffer_;
};

}  // namespace agnostic::train
