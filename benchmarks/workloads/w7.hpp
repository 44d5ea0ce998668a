#pragma once
// W7: one inference-aware (INFERNO) training step (benchmarks/README.md, W7). INFERNO's synthetic
// benchmark 3 in size: 3 inputs -> 100 -> 100 ReLU -> 10 logits; softmax at temperature 0.1;
// batch 1000 (500 signal, 500 background, weights scaled to s = 50, b = 1000); nuisances: one
// shape nuisance by event weights (the background's up/down factors), one by shifted features
// (x0 + 0.4 / x0 - 0.4 for background events: two more forward passes), one 10 % background
// normalisation; loss sigma^2(mu) (losses/inference_aware.hpp); Adam lr 1e-3.
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/soft_counts.hpp"
#include "agnostic/losses/inference_aware.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "training_step.hpp"

inline nlohmann::json run_w7(const BenchOptions& options) {
  using namespace agnostic;
  const Index batch = 1000, bins = 10;
  Rng rng(1);
  Sequential<float> net({3, 100, 100, bins}, Activation::relu(), Activation::identity(), rng);
  Adam<float> optimiser(net.parameters(), {.lr = 1e-3});

  MatrixF x(batch, 3), x_up(batch, 3), x_down(batch, 3);
  MatrixF weights = MatrixF::Zero(batch, 6);  // s, b, s up, b up, s down, b down
  MatrixF nominal_weights = MatrixF::Zero(batch, 2);
  for (Index i = 0; i < batch; ++i) {
    const bool signal = i % 2 == 1;
    for (Index j = 0; j < 3; ++j) x(i, j) = static_cast<float>(rng.normal());
    x_up.row(i) = x.row(i);
    x_down.row(i) = x.row(i);
    if (!signal) {
      x_up(i, 0) += 0.4f;
      x_down(i, 0) -= 0.4f;
    }
    const float w = signal ? 50.0f / 500.0f : 1000.0f / 500.0f;
    const Index c = signal ? 0 : 1;
    const float factor = signal ? 0.0f : static_cast<float>(0.2 * rng.normal());
    nominal_weights(i, c) = weights(i, c) = w;
    weights(i, 2 + c) = w * (1.0f + factor);
    weights(i, 4 + c) = w * (1.0f - factor);
  }
  const std::vector<NormalisationNuisance> norms{{false, 0.1}};

  Tape<float> tape;
  auto step = [&] {
    const float inv_tau = 10.0f;
    auto nominal = soft_counts(softmax(net(tape, tape.input(x)) * inv_tau), weights);
    auto up = soft_counts(softmax(net(tape, tape.input(x_up)) * inv_tau), nominal_weights);
    auto down = soft_counts(softmax(net(tape, tape.input(x_down)) * inv_tau), nominal_weights);
    auto loss = inference_aware_variance(concat_cols({nominal, up, down}), 2, norms);
    tape.backward(loss);
    optimiser.step();
    tape.clear();
  };
  const double steps_per_s = median_steps_per_second(step, options.repeats);

  // Three forward passes (nominal, shifted up, shifted down) of the network per step.
  const std::vector<DenseShape> shapes = {{batch, 3, 100}, {batch, 100, 100}, {batch, 100, bins},
                                          {batch, 3, 100}, {batch, 100, 100}, {batch, 100, bins},
                                          {batch, 3, 100}, {batch, 100, 100}, {batch, 100, bins}};
  return training_result("W7", options, batch, steps_per_s, shapes);
}
