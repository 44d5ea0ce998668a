// Training steps with Sequential networks and every optimiser allocate nothing once warm.
//
// Counts calls of the global operator new and Eigen's heap allocations (EIGEN_RUNTIME_NO_MALLOC
// reports them through eigen_assert, counted here) over steps 2..10 of an ADNN-shaped two-step loop:
// classifier forward with a tapped representation, adversary, freeze/unfreeze, backward, optimiser
// steps with clipping, L2 and schedules. The two phases record different graphs, so each has its
// own tape: one tape alternating between two graphs would resize its node buffers every phase.
#include "allocation_counter.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/infer/network.hpp>
#include <agnostic/io/model_types.hpp>
#include <agnostic/losses/mse.hpp>
#include <agnostic/nn/activation_layer.hpp>
#include <agnostic/nn/sequential.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/adamw.hpp>
#include <agnostic/optim/rmsprop.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/adnn.hpp>

using namespace agnostic;

TEST_CASE("a two-step adversarial training loop with every optimiser allocates nothing after step 1") {
  Rng rng(3);
  Sequential<float> classifier({12, 24, 16, 3}, Activation::elu(), Activation::tanh(), rng,
                               Initialiser::glorot_uniform(), "classifier");
  classifier.add(ActivationLayer<float>(Activation::sigmoid()));  // recorded on its own
  REQUIRE(classifier.size() == 4);
  Sequential<float> adversary({16, 8, 2}, Activation::tanh(), Activation::identity(), rng,
                              Initialiser::he_normal(), "adversary");
  MatrixF x(512, 12), y(512, 3), d(512, 2);
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(rng.normal());
    y.row(i).setZero();
    y(i, i % 3) = 1.0f;
    d.row(i) << float(i % 2), float(1 - i % 2);
  }
  // The classifier's parameters split over two optimisers to exercise groups.
  auto c_params = classifier.parameters();
  ParameterGroup<float> first_layers("first", {&c_params[0], &c_params[1]}), rest("rest");
  for (std::size_t i = 2; i < c_params.size(); ++i) rest.add(c_params[i]);
  SGD<float> sgd(first_layers, {.lr = 0.01,
                                .momentum = 0.9,
                                .nesterov = true,
                                .l2 = 1e-4,
                                .clip = {.value = 1.0},
                                .schedule = Schedule::exponential(0.99)});
  RMSProp<float> rmsprop(rest, {.lr = 1e-3, .momentum = 0.5, .centred = true, .clip = {.norm = 1.0}});
  Adam<float> adam(adversary.parameters(), {.lr = 1e-3, .l2 = 1e-3, .schedule = Schedule::step(3, 0.5)});
  AdamW<float> adamw(adversary.parameters(), {.lr = 1e-4});
  Tape<float> tape_c, tape_a;  // one per phase

  auto step = [&]() {
    adversary.freeze();
    tape_c.clear();
    auto [scores, representation] = classifier.forward_tapped(tape_c, tape_c.input(x), 1);
    tape_c.backward(mse(scores, y) - 0.5f * mse(adversary(tape_c, representation), d));
    sgd.step();
    rmsprop.step();
    adversary.unfreeze();

    classifier.freeze();
    tape_a.clear();
    tape_a.backward(mse(adversary(tape_a, classifier.forward(tape_a, tape_a.input(x), 0, 2)), d));
    adam.step();
    classifier.unfreeze();
  };
  // AdamW shares the adversary's group: after adam's step it sees zero gradients, but its whole
  // update (decay, moments, bias correction) still runs.
  step();
  adamw.step();
  g_new_calls = 0;
  g_eigen_heap_calls = 0;
  g_counting = true;
  Eigen::internal::set_is_malloc_allowed(false);
  for (int s = 2; s <= 10; ++s) {
    step();
    adamw.step();
  }
  Eigen::internal::set_is_malloc_allowed(true);
  g_counting = false;
  CHECK(g_new_calls.load() == 0);
  CHECK(g_eigen_heap_calls.load() == 0);
  CHECK(adam.steps() == 10);
}

TEST_CASE("infer::Network's evaluate and warm evaluate_batch allocate nothing") {
  Rng rng(8);
  io::ModelFile<float> m;
  m.inputs = {{"a", "b", "c", "c_missing"}, {0.5, -1.0, 2.0, -0.2}, {1.5, 0.5, 0.25, 2.0}};
  m.missing_values.rules.push_back({"c", -999.0, 1.5, "c_missing"});
  const Index sizes[] = {4, 16, 16, 3};
  for (int l = 0; l < 3; ++l) {
    io::DenseWeights<float> layer{MatrixF(sizes[l + 1], sizes[l]), RowVector<float>(sizes[l + 1]), {}};
    for (Index k = 0; k < layer.weights.size(); ++k)
      layer.weights.data()[k] = static_cast<float>(rng.normal());
    for (Index k = 0; k < layer.bias.size(); ++k) layer.bias(k) = static_cast<float>(rng.normal());
    layer.activation =
        l < 2 ? io::LayerActivation{Activation::tanh(), false} : io::LayerActivation::softmax_over_outputs();
    m.layers.push_back(layer);
  }
  m.outputs = {"x", "y", "z"};
  const auto net = std::make_unique<infer::Network<float, 4, 16, 16, 3>>(m);
  std::vector<float> raw(3 * 1000), out(3 * 1000);
  for (std::size_t k = 0; k < raw.size(); ++k)
    raw[k] = k % 7 == 0 ? -999.0f : static_cast<float>(rng.normal());
  set_threads(2);
  net->evaluate_batch(raw.data(), 1000, out.data());  // warm: the OpenMP team exists
  g_new_calls = 0;
  g_eigen_heap_calls = 0;
  g_counting = true;
  Eigen::internal::set_is_malloc_allowed(false);
  for (std::size_t k = 0; k < 1000; ++k) net->evaluate(raw.data() + 3 * k, out.data() + 3 * k);
  net->evaluate_batch(raw.data(), 1000, out.data());
  Eigen::internal::set_is_malloc_allowed(true);
  g_counting = false;
  set_threads(1);
  CHECK(g_new_calls.load() == 0);
  CHECK(g_eigen_heap_calls.load() == 0);
  CHECK(std::isfinite(out[2999]));
}

#include <agnostic/optim/adam.hpp>
#include <agnostic/train/dann.hpp>

TEST_CASE(
    "a warm DANN step (gather, both heads, gradient reversal, backward, optimiser, StepResult) allocates "
    "nothing") {
  Rng rng(5);
  const Index n = 400;
  MatrixF x(n, 6);
  std::vector<Index> y(static_cast<std::size_t>(n)), d(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    y[static_cast<std::size_t>(i)] = i % 3 == 0 ? 1 : 0;
    d[static_cast<std::size_t>(i)] = i % 2;
  }
  const train::Dataset<float> data(x, y, {}, d, 2);
  for (const adversarial::DannSetup setup : {adversarial::DannSetup::A, adversarial::DannSetup::B}) {
    Sequential<float> classifier({6, 16, 12, 1}, Activation::elu(), Activation::identity(), rng);
    Sequential<float> domain({12, 8, setup == adversarial::DannSetup::A ? Index(2) : Index(1)},
                             Activation::elu(), Activation::identity(), rng, Initialiser::glorot_uniform(),
                             "domain");
    ParameterGroup<float> group("dann");
    group.add(classifier.parameters());
    group.add(domain.parameters());
    Adam<float> adam(group, {.lr = 1e-3});
    adversarial::DannOptions o;
    o.setup = setup;
    o.batch_size = 64;
    o.epochs = 4;
    o.lambda = adversarial::StrengthSchedule("ganin", 3.0);
    o.target_signal_fraction = 0.2;
    adversarial::DannScheme<float> scheme(classifier, domain, adam, data, nullptr, o);
    Rng order(1);
    scheme.start_epoch(2, order);
    REQUIRE(scheme.batches() >= 4);
    scheme.step(0);
    g_new_calls = 0;
    g_eigen_heap_calls = 0;
    g_counting = true;
    Eigen::internal::set_is_malloc_allowed(false);
    double sum = 0.0;
    for (Index b = 1; b < scheme.batches() - 1; ++b) {  // the last batch may be smaller
      const train::StepResult r = scheme.step(b);       // what the trainer calls, named parts included
      sum += r.parts.at("label_loss") + r.parts.at("domain_loss");
    }
    Eigen::internal::set_is_malloc_allowed(true);
    g_counting = false;
    CHECK(std::isfinite(sum));
    CHECK(g_new_calls.load() == 0);
    CHECK(g_eigen_heap_calls.load() == 0);
  }
}

TEST_CASE(
    "ADNN: a warm two-step batch of AdnnScheme (gather, step 1, k steps of the adversary) allocates "
    "nothing") {
  Rng rng(5);
  const Index n = 600;
  MatrixF x(n, 6);
  std::vector<Index> labels(static_cast<std::size_t>(n)), domains(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(rng.normal());
    labels[static_cast<std::size_t>(i)] = i % 3;
    domains[static_cast<std::size_t>(i)] = i % 3 == 2 ? static_cast<Index>(rng.below(4)) : 0;
  }
  const train::Dataset<float> data(x, labels, {}, domains, 3);
  Sequential<float> classifier({6, 16, 12, 3}, Activation::relu(), Activation::identity(), rng,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({12, 10, 4}, Activation::relu(), Activation::identity(), rng,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 1e-3});
  RMSProp<float> a_opt(adversary.parameters(), {.lr = 1e-3});
  adversarial::AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                                        {.alpha = {adversarial::StrengthShape::constant, 10.0},
                                         .adversary_class = 2,
                                         .adversary_steps = 3,
                                         .adversary_batch_size = 0,  // the batch's events, as measured
                                         .pretrain_classifier_epochs = 0,
                                         .pretrain_adversary_epochs = 0,
                                         .batch_size = 100});
  Rng shuffle(1);
  scheme.start_epoch(1, shuffle);
  REQUIRE(scheme.batches() >= 4);
  auto batch = [&](Index b) {  // what the trainer calls: gather, step (1), k steps (2), named parts
    const train::StepResult r = scheme.step(b);
    return r.loss + r.parts.at("adversary_loss");
  };
  batch(0);
  g_new_calls = 0;
  g_eigen_heap_calls = 0;
  g_counting = true;
  Eigen::internal::set_is_malloc_allowed(false);
  double sum = 0.0;
  for (Index b = 1; b < scheme.batches(); ++b) sum += batch(b);
  Eigen::internal::set_is_malloc_allowed(true);
  g_counting = false;
  CHECK(std::isfinite(sum));
  CHECK(g_new_calls.load() == 0);
  CHECK(g_eigen_heap_calls.load() == 0);
  CHECK(a_opt.steps() == 3 * scheme.batches());
}

#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/cgan.hpp>

TEST_CASE(
    "cGAN: a warm CganScheme step (gather, k discriminator steps, the generator step, the weight average) "
    "allocates nothing") {
  Rng rng(5);
  MatrixF data(700, 3);  // two features, one condition, in [-1, 1]
  for (Index i = 0; i < data.rows(); ++i)
    for (Index j = 0; j < data.cols(); ++j) data(i, j) = static_cast<float>(rng.uniform(-1.0, 1.0));
  Sequential<float> generator({4 + 1, 16, 16, 2}, Activation::leaky_relu(0.4), Activation::tanh(), rng,
                              Initialiser::he_normal(), "generator");
  Sequential<float> discriminator({2 + 1, 16, 16, 1}, Activation::leaky_relu(0.4), Activation::identity(),
                                  rng, Initialiser::he_normal(), "discriminator");
  const SGDOptions sgd{.lr = 1e-3, .momentum = 0.9, .nesterov = true, .l2 = 1e-4, .clip = {.value = 1.0}};
  SGD<float> g_opt(generator.parameters(), sgd), d_opt(discriminator.parameters(), sgd);
  adversarial::CganOptions o;
  o.latent = 4;
  o.discriminator_steps = 2;
  o.batch_size = 64;
  o.generator_average = 0.99;
  adversarial::CganScheme<float> scheme(generator, discriminator, g_opt, d_opt, data, nullptr, o);
  Rng shuffle(1);
  scheme.start_epoch(1, shuffle);
  REQUIRE(scheme.batches() >= 4);
  scheme.step(0);
  g_new_calls = 0;
  g_eigen_heap_calls = 0;
  g_counting = true;
  Eigen::internal::set_is_malloc_allowed(false);
  double sum = 0.0;
  for (Index b = 1; b < scheme.batches(); ++b) {
    const train::StepResult r = scheme.step(b);
    sum += r.parts.at("discriminator_loss") + r.parts.at("generator_loss");
  }
  Eigen::internal::set_is_malloc_allowed(true);
  g_counting = false;
  CHECK(std::isfinite(sum));
  CHECK(g_new_calls.load() == 0);
  CHECK(g_eigen_heap_calls.load() == 0);
  CHECK(d_opt.steps() == 2 * scheme.batches());
  CHECK(g_opt.steps() == scheme.batches());
}
