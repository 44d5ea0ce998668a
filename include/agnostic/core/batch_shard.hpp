#pragma once
// The batch shard: which share of the current batch this process holds when several processes
// train one model together (data-parallel training, train/data_parallel.hpp and
// docs/distributed.md), and the sum over those processes that a batch-level total needs.
//
// Why here, below the tape: a loss that divides by the batch's weight sum, a soft histogram, or
// the soft counts of the inference-aware loss are totals over the events of the WHOLE batch. If
// each process took the total of its own rows only, K processes would train on K smaller batches
// (each normalised by its own weights) instead of one process's batch, and the result would depend
// on K whenever event weights differ. So these operations ask here for the batch's totals:
//
//   * the forward pass sums its partial totals over the processes (batch_totals): every process
//     then holds the whole batch's totals, and every value computed from them (the loss, the
//     histograms, a penalty) is the same on every process and equal to one process's;
//   * the backward pass multiplies what flows into this process's rows by total_gradient_scale()
//     = 1 / (copies x fraction). The gradient sum of data-parallel training weights process r's
//     gradients by its share fraction_r = n_r / n, so this factor makes the total's gradient
//     count exactly once. (copies: how many processes hold each row -- 1 when the rows are split,
//     K when a batch too small to split is taken whole by every process.)
//
// With both, K processes and one process give the same gradient up to float rounding, for every
// loss built from these totals (tested in test_distributed). Alone (the default), nothing changes
// and nothing is summed. The shard is set by the trainer for the duration of one step and read by
// the batch samplers and by the operations; it is per thread, so trials training side by side
// (agnostic tune --parallel-trials) do not see each other's.
#include <cstddef>
#include <functional>
#include <span>
#include <type_traits>
#include <vector>

namespace agnostic {

struct BatchShard {
  int rank = 0;
  int ranks = 1;
  double fraction = 1.0;  // n_r / n of the last batch sliced: this process's weight in the gradient sum
  int copies = 1;         // how many processes hold each row of the last batch sliced (1 or ranks)
  // The element-wise sum over the processes in rank order (the same bits on every process); null
  // when alone. Not owned: the trainer's DataParallel outlives the step.
  const std::function<void(std::span<double>)>* sum = nullptr;

  bool shared() const { return ranks > 1 && sum != nullptr; }
};

inline BatchShard& batch_shard() {
  static thread_local BatchShard shard;
  return shard;
}

// Sets this thread's batch shard for the scope's lifetime (one training step), then puts back
// "the whole batch, alone".
class BatchShardScope {
 public:
  BatchShardScope(int rank, int ranks, const std::function<void(std::span<double>)>* sum = nullptr) {
    batch_shard() = BatchShard{rank, ranks, 1.0, 1, ranks > 1 ? sum : nullptr};
  }
  ~BatchShardScope() { batch_shard() = BatchShard{}; }
  BatchShardScope(const BatchShardScope&) = delete;
  BatchShardScope& operator=(const BatchShardScope&) = delete;
};

// Replaces this process's partial totals over its rows of the batch by the whole batch's: the sum
// over the processes, divided by the copies each row has. Every process sharing the batch must call
// it at the same point of its step (it is a collective operation). Alone: leaves `totals` as is.
inline void batch_totals(std::span<double> totals) {
  const BatchShard& s = batch_shard();
  if (!s.shared()) return;
  (*s.sum)(totals);
  if (s.copies != 1)
    for (double& t : totals) t /= static_cast<double>(s.copies);
}

// The same for a matrix of totals (an Eigen matrix of float or double; summed in double).
template <class Totals>
void batch_totals_matrix(Totals& totals) {
  if (!batch_shard().shared()) return;
  static thread_local std::vector<double> buffer;
  auto* data = totals.data();
  buffer.assign(data, data + totals.size());
  batch_totals(std::span<double>(buffer));
  for (std::size_t i = 0; i < buffer.size(); ++i)
    data[i] = static_cast<std::remove_reference_t<decltype(*data)>>(buffer[i]);
}

// What the gradient flowing from a batch total into this process's rows is multiplied by, so that
// the data-parallel gradient sum counts the total's gradient once (1 alone).
inline double total_gradient_scale() {
  const BatchShard& s = batch_shard();
  return s.shared() ? 1.0 / (static_cast<double>(s.copies) * s.fraction) : 1.0;
}

}  // namespace agnostic
