// Training steps with Sequential networks and every optimiser allocate nothing once warm.
//
// Counts calls of the global operator new and Eigen's heap allocations (EIGEN_RUNTIME_NO_MALLOC
// reports them through eigen_assert, counted here) over steps 2..10 of an ADNN-shaped two-step loop:
// classifier forward with a tapped representation, adversary, freeze/unfreeze, backward, optimiser
// steps with clipping, L2 and schedules. The two phases record different graphs, so each has its
// own tape: one tape alternating between two graphs would resize its node buffers every phase.
#include "allocation_counter.hpp"

#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/losses/mse.hpp>
#include <agnostic/nn/activation_layer.hpp>
#include <agnostic/nn/sequential.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/adamw.hpp>
#include <agnostic/optim/rmsprop.hpp>
#include <agnostic/optim/sgd.hpp>

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
