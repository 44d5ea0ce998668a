#pragma once
// W1: one DANN training step of source 001, set-up A (see ../shared/BENCHMARKS.md); under mpirun,
// the same step data-parallel over the ranks.
#include <span>
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/gradient_reversal.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/soft_histogram.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/losses/soft_histogram_penalty.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "agnostic/optim/rmsprop.hpp"
#include "agnostic/train/data_parallel.hpp"
#include "training_step.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif

inline nlohmann::json run_w1(const BenchOptions& options) {
  using namespace agnostic;
  const Index batch = options.batch > 0 ? options.batch : 16384, half = batch / 2;
  Rng rng(1);
  Sequential<float> extractor({41, 20, 16, 13, 10}, Activation::elu(), Activation::elu(), rng);
  Sequential<float> label_head({10, 2}, Activation::elu(), Activation::identity(), rng);
  Sequential<float> domain_head({10, 20, 35, 50, 2}, Activation::elu(), Activation::identity(), rng);
  RMSProp<float> optimiser(extractor.parameters() + label_head.parameters() + domain_head.parameters(),
                           {.lr = 1e-3, .rho = 0.9});

  // Source events first, then target events: the label loss sees the source half (as the peer does).
  MatrixF x(batch, 41);
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < batch; ++i) x(i, j) = static_cast<float>(rng.normal());
  std::vector<int> labels(half), domains(batch);
  for (Index i = 0; i < half; ++i) labels[i] = static_cast<int>(rng.below(2));
  for (Index i = 0; i < batch; ++i) domains[i] = i < half ? 0 : 1;

  // Under `mpirun -n K` (a build with AGNOSTIC_MPI) the K ranks train data-parallel at this fixed
  // global batch (strong scaling, docs/distributed.md): rank r takes rows r, r+K, ... and the
  // gradients and batch totals are summed over the ranks. Alone: the whole batch.
  train::DataParallel dp;
#ifdef AGNOSTIC_MPI
  dp = distributed::world().data_parallel();
#endif
  const BatchShardScope shard(dp.rank, dp.ranks, &dp.sum);
  std::vector<Index> all(static_cast<std::size_t>(batch)), mine;
  for (Index i = 0; i < batch; ++i) all[static_cast<std::size_t>(i)] = i;
  const std::span<const Index> rows = train::shard_rows(all, mine);
  MatrixF x_mine(static_cast<Index>(rows.size()), x.cols());
  std::vector<int> labels_mine, domains_mine;
  std::vector<Index> source;  // my rows of the source half
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Index i = rows[k];
    x_mine.row(static_cast<Index>(k)) = x.row(i);
    domains_mine.push_back(domains[static_cast<std::size_t>(i)]);
    if (i < half) {
      source.push_back(static_cast<Index>(k));
      labels_mine.push_back(labels[static_cast<std::size_t>(i)]);
    }
  }
  if (dp.active()) optimiser.set_gradient_hook(train::GradientSum<float>(dp));

  Tape<float> tape;
  auto step = [&] {
    auto h = extractor(tape, tape.input(x_mine));
    auto y = label_head(tape, select_rows(h, source));
    auto d = domain_head(tape, reverse_gradient(h, 1.0));
    auto loss = cross_entropy(y, labels_mine) + cross_entropy(d, domains_mine);
    tape.backward(loss);
    optimiser.step();
    tape.clear();
  };
  const double steps_per_s = median_steps_per_second(step, options.repeats);

  const std::vector<DenseShape> shapes = {{batch, 41, 20}, {batch, 20, 16}, {batch, 16, 13},
                                          {batch, 13, 10}, {half, 10, 2},   {batch, 10, 20},
                                          {batch, 20, 35}, {batch, 35, 50}, {batch, 50, 2}};
  nlohmann::json result = training_result("W1", options, batch, steps_per_s, shapes);
  result["ranks"] = dp.ranks;
  result["global_batch"] = batch;
  return result;
}
