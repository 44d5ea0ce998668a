#pragma once
// W2: one epoch of the ADNN two-step training of source 000 (C2 set-up; ../shared/BENCHMARKS.md):
// 26 inputs; classifier 7 x 95 ReLU -> 3 softmax; adversary on the classifier's last hidden layer,
// 9 x 95 ReLU -> 7 softmax, trained on the signal class (a third of the events, 7 signal models);
// step 1 updates C on CE_C - 50 CE_A (A frozen), step 2 one update of A on CE_A; Adam lr 1e-3;
// one batch of 37 600 events per epoch. Timed through the library's own AdnnScheme (batch drawn,
// gathered, both steps), as `agnostic train` with method adnn runs it.
#include <vector>

#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "agnostic/train/adnn.hpp"
#include "training_step.hpp"

inline nlohmann::json run_w2(const BenchOptions& options) {
  using namespace agnostic;
  const Index events = 37600, inputs = 26, width = 95, domains = 7;
  Rng rng(1);
  std::vector<Index> c_sizes{inputs}, a_sizes{width};
  for (int i = 0; i < 7; ++i) c_sizes.push_back(width);
  c_sizes.push_back(3);
  for (int i = 0; i < 9; ++i) a_sizes.push_back(width);
  a_sizes.push_back(domains);
  Sequential<float> classifier(c_sizes, Activation::relu(), Activation::identity(), rng,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary(a_sizes, Activation::relu(), Activation::identity(), rng,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 1e-3}), a_opt(adversary.parameters(), {.lr = 1e-3});

  MatrixF x(events, inputs);
  for (Index j = 0; j < inputs; ++j)
    for (Index i = 0; i < events; ++i) x(i, j) = static_cast<float>(rng.normal());
  std::vector<Index> labels(static_cast<std::size_t>(events)), models(static_cast<std::size_t>(events));
  for (Index i = 0; i < events; ++i) {
    labels[static_cast<std::size_t>(i)] = i % 3;
    models[static_cast<std::size_t>(i)] = static_cast<Index>(rng.below(domains));
  }
  const train::Dataset<float> data(x, labels, {}, models, 3);
  adversarial::AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                                        {.alpha = {adversarial::StrengthShape::constant, 50.0},
                                         .adversary_class = 2,
                                         .adversary_steps = 1,
                                         .adversary_batch_size = 0,  // A on the batch's events, as the peer
                                         .pretrain_classifier_epochs = 0,
                                         .pretrain_adversary_epochs = 0,
                                         .game_epochs = 1000000,
                                         .batch_size = events});
  Rng shuffle(2);
  Index epoch = 0;
  auto one_epoch = [&] {
    scheme.start_epoch(++epoch, shuffle);
    for (Index b = 0; b < scheme.batches(); ++b) scheme.step(b);
  };
  const double epochs_per_s = median_steps_per_second(one_epoch, options.repeats);

  const Index signal = events / 3;
  std::vector<DenseShape> shapes;
  for (std::size_t i = 0; i + 1 < c_sizes.size(); ++i) shapes.push_back({events, c_sizes[i], c_sizes[i + 1]});
  // The adversary runs forward + backward twice (step 1, through the frozen A; step 2).
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 0; i + 1 < a_sizes.size(); ++i)
      shapes.push_back({signal, a_sizes[i], a_sizes[i + 1]});
  nlohmann::json result = training_result("W2", options, events, epochs_per_s, shapes);
  result["epochs_per_s"] = epochs_per_s;
  return result;
}
