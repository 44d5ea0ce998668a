#pragma once
// W9: one DisCo training step (issue 23; Kasieczka & Shih, arXiv:2001.05310): a 6 -> 64 -> 64 -> 1
// ReLU classifier on a batch of 4096 weighted events, loss = weighted binary cross-entropy
// + 30 dCor^2(score, mass) over the batch's 2048 background events (weighted), one Adam step.
// Besides the whole step it times the same step without the penalty ("network_ms_per_step"), so the
// JSON line says how the step's time splits between the network and the O(B^2) DisCo kernel.
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/decorrelation_disco.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "training_step.hpp"

inline nlohmann::json run_w9(const BenchOptions& options) {
  using namespace agnostic;
  const Index batch = 4096, features = 6;
  const float strength = 30.0f;
  Rng rng(1);
  Sequential<float> net({features, 64, 64, 1}, Activation::relu(), Activation::identity(), rng);
  Adam<float> optimiser(net.parameters(), {.lr = 1e-3});

  // Even rows are background (label 0), odd rows signal; the mass is correlated with feature 0.
  MatrixF x(batch, features), y(batch, 1), w(batch, 1);
  for (Index j = 0; j < features; ++j)
    for (Index i = 0; i < batch; ++i) x(i, j) = static_cast<float>(rng.normal());
  std::vector<Index> background;
  for (Index i = 0; i < batch; ++i) {
    y(i, 0) = static_cast<float>(i % 2);
    w(i, 0) = static_cast<float>(0.5 + rng.uniform());
    if (i % 2 == 0) background.push_back(i);
  }
  const auto k = static_cast<Index>(background.size());
  MatrixF mass(k, 1), background_weight(k, 1);
  for (Index j = 0; j < k; ++j) {
    const Index i = background[static_cast<std::size_t>(j)];
    mass(j, 0) = static_cast<float>(0.8 * x(i, 0) + 0.6 * rng.normal());
    background_weight(j, 0) = w(i, 0);
  }

  Tape<float> tape;
  auto step = [&](bool with_penalty) {
    auto z = net(tape, tape.input(x));
    auto loss = binary_cross_entropy(z, y, w);
    if (with_penalty)
      loss =
          loss + distance_correlation_squared(select_rows(sigmoid(z), background), mass, background_weight) *
                     strength;
    tape.backward(loss);
    optimiser.step();
    tape.clear();
  };
  const double steps_per_s = median_steps_per_second([&] { step(true); }, options.repeats);
  const double network_steps_per_s = median_steps_per_second([&] { step(false); }, options.repeats);

  const std::vector<DenseShape> shapes = {{batch, features, 64}, {batch, 64, 64}, {batch, 64, 1}};
  nlohmann::json result = training_result("W9", options, batch, steps_per_s, shapes);
  result["disco_events"] = k;
  result["network_ms_per_step"] = 1e3 / network_steps_per_s;
  return result;
}
