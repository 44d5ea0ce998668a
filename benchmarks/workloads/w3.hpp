#pragma once
// W3: one soft-histogram decorrelation step of source 004 (see ../shared/BENCHMARKS.md).
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
#include "training_step.hpp"

inline nlohmann::json run_w3(const BenchOptions& options) {
  using namespace agnostic;
  const Index batch = 1000;
  Rng rng(1);
  Sequential<float> net({30, 200, 200, 1}, Activation::relu(), Activation::identity(), rng);
  Adam<float> optimiser(net.parameters(), {.lr = 1e-3});

  MatrixF x(batch, 30), y(batch, 1), w(batch, 1), w_up(batch, 1), w_down(batch, 1);
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < batch; ++i) x(i, j) = static_cast<float>(rng.normal());
  for (Index i = 0; i < batch; ++i) {
    y(i, 0) = static_cast<float>(rng.below(2));
    w(i, 0) = static_cast<float>(0.5 + rng.uniform());
    w_up(i, 0) = w(i, 0) * static_cast<float>(1 + 0.1 * rng.normal());
    w_down(i, 0) = w(i, 0) * static_cast<float>(1 - 0.1 * rng.normal());
  }
  const SoftHistogram histogram = SoftHistogram::uniform(20, 0.0, 1.0);

  Tape<float> tape;
  auto step = [&] {
    auto z = net(tape, tape.input(x));
    auto f = sigmoid(z);
    auto nominal = histogram(f, w);
    auto loss =
        binary_cross_entropy(z, y, w) + 20.0f * (soft_histogram_penalty(nominal, histogram(f, w_up)) +
                                                 soft_histogram_penalty(nominal, histogram(f, w_down)));
    tape.backward(loss);
    optimiser.step();
    tape.clear();
  };
  const double steps_per_s = median_steps_per_second(step, options.repeats);

  const std::vector<DenseShape> shapes = {{batch, 30, 200}, {batch, 200, 200}, {batch, 200, 1}};
  return training_result("W3", options, batch, steps_per_s, shapes);
}
