#pragma once
// W4: one conditional-GAN step (source 003; ../shared/BENCHMARKS.md): G: 9 latent + 1 condition ->
// 5 x 256 LeakyReLU(0.4) -> 4 tanh; D: 4 + 1 -> 5 x 256 LeakyReLU(0.4) -> 1 logit; binary
// cross-entropy; SGD lr 1e-3, Nesterov momentum 0.9, clipping by global norm at 1, L2 1e-4; batch
// 512; one D update then one G update: exactly CganScheme::step (train/cgan.hpp) with one
// discriminator step and no weight averaging (the peer has none), gathering included.
#include <vector>

#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/sgd.hpp"
#include "agnostic/train/cgan.hpp"
#include "training_step.hpp"

inline nlohmann::json run_w4(const BenchOptions& options) {
  using namespace agnostic;
  const Index batch = 512, latent = 9, hidden = 256;
  Rng rng(1);
  MatrixF data(batch * 40, 5);  // 4 features then 1 condition, in [-1, 1]
  for (Index i = 0; i < data.rows(); ++i)
    for (Index j = 0; j < data.cols(); ++j) data(i, j) = static_cast<float>(rng.uniform(-1.0, 1.0));
  const std::vector<Index> gs{latent + 1, hidden, hidden, hidden, hidden, hidden, 4};
  const std::vector<Index> ds{4 + 1, hidden, hidden, hidden, hidden, hidden, 1};
  Sequential<float> generator(gs, Activation::leaky_relu(0.4), Activation::tanh(), rng,
                              Initialiser::he_normal(), "generator");
  Sequential<float> discriminator(ds, Activation::leaky_relu(0.4), Activation::identity(), rng,
                                  Initialiser::he_normal(), "discriminator");
  const SGDOptions sgd{.lr = 1e-3, .momentum = 0.9, .nesterov = true, .l2 = 1e-4, .clip = {.norm = 1.0}};
  SGD<float> g_opt(generator.parameters(), sgd), d_opt(discriminator.parameters(), sgd);
  adversarial::CganOptions o;
  o.latent = latent;
  o.batch_size = batch;
  o.generator_average = 0.0;
  adversarial::CganScheme<float> scheme(generator, discriminator, g_opt, d_opt, data, nullptr, o);
  Rng order(2);
  Index b = 0;
  auto step = [&] {
    if (b == 0) scheme.start_epoch(1, order);
    scheme.step(b);
    b = (b + 1) % scheme.batches();
  };
  const double steps_per_s = median_steps_per_second(step, options.repeats);

  // Per step: D on real and on fake events and G forward (D step), G and D again (G step).
  std::vector<DenseShape> shapes;
  auto add = [&](const std::vector<Index>& sizes) {
    for (std::size_t i = 0; i + 1 < sizes.size(); ++i) shapes.push_back({batch, sizes[i], sizes[i + 1]});
  };
  for (int pass = 0; pass < 3; ++pass) add(ds);
  for (int pass = 0; pass < 2; ++pass) add(gs);
  nlohmann::json result = training_result("W4", options, batch, steps_per_s, shapes);
  result["steps_per_s"] = steps_per_s;
  return result;
}
