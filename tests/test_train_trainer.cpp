// Tests for train/trainer.hpp through schemes built so that each rule fires at a known epoch:
// a scripted validation loss (patience, the running-average rule of 001, restore-best), and a
// gradient descent on a quadratic with a learning rate that makes the loss overflow to Inf at a
// known step (rollback and stop policies).
#include <doctest/doctest.h>

#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/trainer.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

using namespace agnostic;
using namespace agnostic::train;

namespace {

// One parameter that the step sets to the epoch number, and a validation loss read from a script:
// after training, the parameter tells which epoch's weights the model holds.
struct ScriptedRun {
  Parameter<float> theta{"theta", 1, 1};
  Dataset<float> data{Matrix<float>::Zero(4, 1), {0, 1, 0, 1}};
  SGD<float> sgd{ParameterGroup<float>("net", {&theta}), SGDOptions{.lr = 0.1}};
  std::vector<double> script;
  Index epoch = 0;
  std::size_t evaluations = 0;  // the script is read in order, one entry per evaluation
  CallbackScheme<float> scheme{data,
                               2,
                               ParameterGroup<float>("net", {&theta}),
                               {&sgd},
                               [this](const Batch<float>&) {
                                 theta.value(0, 0) = static_cast<float>(epoch);
                                 return StepResult{0.0, 1.0, {}};
                               },
                               [this]() {
                                 return Figures{{"validation_loss", script.at(evaluations++)}};
                               }};
  explicit ScriptedRun(std::vector<double> s) : script(std::move(s)) {
    scheme.on_epoch_start = [this](Index e) { epoch = e; };
  }
};

TrainerOptions quiet(StoppingRules rules) {
  TrainerOptions o;
  o.stopping = rules;
  o.verbosity = Verbosity::silent;
  return o;
}

}  // namespace

TEST_CASE("trainer: patience stops at the known epoch and the best epoch's weights come back") {
  // Best at epoch 3; patience 4 stops after epoch 7.
  ScriptedRun run({0.9, 0.7, 0.5, 0.6, 0.55, 0.8, 0.9, 0.4, 0.3, 0.2});
  Trainer<float> trainer(run.scheme, quiet({.max_epochs = 10, .patience = PatienceRule{4, 0.0}}));
  const History& h = trainer.fit();
  CHECK(h.epochs.size() == 7);
  CHECK(h.best_epoch == 3);
  CHECK(h.best_value == 0.5);
  CHECK(run.theta.value(0, 0) == 3.0f);  // restored
  CHECK(h.stop_reason == "no improvement for 4 epochs since the best, epoch 3 (patience 4)");
  // Without restore_best the last epoch's weights stay.
  ScriptedRun again({0.9, 0.7, 0.5, 0.6, 0.55, 0.8, 0.9});
  TrainerOptions o = quiet({.max_epochs = 10, .patience = PatienceRule{4, 0.0}});
  o.restore_best = false;
  Trainer<float>(again.scheme, o).fit();
  CHECK(again.theta.value(0, 0) == 7.0f);
}

TEST_CASE("trainer: the running-average rule of 001 stops on a plateau, within [min, max]") {
  // Decreasing for 12 epochs then flat: W = 3, r = 0.0005 stops when both windows are flat
  // (epochs 13-15 vs 16-18, i.e. after epoch 18), unless min_epochs is larger.
  std::vector<double> script;
  for (int e = 1; e <= 40; ++e) script.push_back(1.0 / std::min(e, 13));
  ScriptedRun run(script);
  Trainer<float> trainer(
      run.scheme,
      quiet({.min_epochs = 5, .max_epochs = 40, .running_average = RunningAverageRule{3, 0.0005}}));
  CHECK(trainer.fit().epochs.size() == 18);
  CHECK(run.theta.value(0, 0) == 13.0f);  // the first epoch at the minimum (ties keep the earlier)
  ScriptedRun late(script);
  Trainer<float> waiting(
      late.scheme,
      quiet({.min_epochs = 25, .max_epochs = 40, .running_average = RunningAverageRule{3, 0.0005}}));
  CHECK(waiting.fit().epochs.size() == 25);
  ScriptedRun capped(script);
  Trainer<float> short_run(
      capped.scheme,
      quiet({.min_epochs = 0, .max_epochs = 8, .running_average = RunningAverageRule{3, 0.0005}}));
  const History& h = short_run.fit();
  CHECK(h.epochs.size() == 8);
  CHECK(h.stop_reason == "reached max_epochs = 8");
}

TEST_CASE("trainer: best figure may be maximised, and an unknown figure is named") {
  ScriptedRun run({0.9, 0.7, 0.5, 0.6});
  TrainerOptions o = quiet({.max_epochs = 4});
  o.best_figure = "validation_loss";
  o.maximise_best = true;
  Trainer<float>(run.scheme, o).fit();
  CHECK(run.theta.value(0, 0) == 1.0f);
  ScriptedRun bad({0.9});
  o.best_figure = "validation_auc";
  Trainer<float> trainer(bad.scheme, o);
  CHECK_THROWS_WITH_AS(trainer.fit(),
                       "trainer: best_figure 'validation_auc' is not among the epoch's figures (train_loss, "
                       "validation_loss)",
                       Error);
}

namespace {

// Gradient descent on L = theta^2 / 2 (float) with SGD at rate 4: theta -> -3 theta each step, so
// theta_k = (-3)^k and the loss 3^(2k) / 2 overflows float (> 3.4e38) first at k = 41, i.e. at
// step 42 = batch 2 of epoch 5 with 10 batches per epoch.
struct Divergent {
  Parameter<float> theta{"theta", 1, 1};
  Dataset<float> data{Matrix<float>::Zero(10, 1), std::vector<Index>(10, 0)};
  SGD<float> sgd{ParameterGroup<float>("q", {&theta}), SGDOptions{.lr = 4.0}};
  CallbackScheme<float> scheme{data,
                               1,
                               ParameterGroup<float>("q", {&theta}),
                               {&sgd},
                               [this](const Batch<float>&) {
                                 const float t = theta.value(0, 0);
                                 StepResult r{static_cast<double>(0.5f * t * t), 1.0, {}};
                                 if (!std::isfinite(r.loss)) return r;
                                 theta.grad(0, 0) = t;
                                 sgd.step();
                                 return r;
                               },
                               []() { return Figures{}; }};
  Divergent() { theta.value(0, 0) = 1.0f; }
};

}  // namespace

TEST_CASE("trainer: a loss that overflows to Inf at a known step is rolled back K epochs, rate halved") {
  Divergent q;
  TrainerOptions o = quiet({.max_epochs = 8});
  o.rollback_epochs = 2;
  o.restore_best = false;  // the best train_loss is epoch 1's (theta = 3^10), checked below
  std::vector<float> theta_after(9, 0.0f);
  o.on_epoch_end = [&](const EpochRecord& r) {
    theta_after[static_cast<std::size_t>(r.epoch)] = q.theta.value(0, 0);
  };
  Trainer<float> trainer(q.scheme, o);
  const History& h = trainer.fit();
  REQUIRE(h.rollbacks.size() == 1);
  const RollbackRecord& r = h.rollbacks[0];
  CHECK(r.at_epoch == 5);
  CHECK(r.where == "training batch 2 of 10");
  CHECK(std::isinf(r.loss));
  CHECK(r.to_epoch == 3);  // K = 2 epochs before epoch 5
  CHECK(r.learning_rate_before == 4.0);
  CHECK(r.learning_rate_after == 2.0);
  REQUIRE(r.discarded.size() == 1);  // epoch 4 was complete, epoch 5 was not
  CHECK(r.discarded[0].epoch == 4);
  // Training went on to 8 epochs at rate 2: theta -> -theta, so |theta| stays that of epoch 3.
  CHECK(h.epochs.size() == 8);
  CHECK(h.epochs[3].learning_rate == 2.0);
  CHECK(std::abs(q.theta.value(0, 0)) == std::abs(theta_after[3]));
  CHECK(std::abs(theta_after[3]) == doctest::Approx(std::pow(3.0, 30)).epsilon(1e-5));
  CHECK(h.best_epoch == 1);
  CHECK(theta_after[1] == 59049.0f);  // (-3)^10
}

TEST_CASE("trainer: stop policy and max_rollbacks end with a clear message and the last good weights") {
  Divergent q;
  TrainerOptions o = quiet({.max_epochs = 8});
  o.on_non_finite = NonFinitePolicy::stop;
  float after4 = 0.0f;
  o.on_epoch_end = [&](const EpochRecord& r) {
    if (r.epoch == 4) after4 = q.theta.value(0, 0);
  };
  Trainer<float> trainer(q.scheme, o);
  CHECK_THROWS_WITH_AS(
      trainer.fit(),
      "training stopped: the loss is inf in training batch 2 of 10 of epoch 5 (learning rate 4); the "
      "model holds the weights of the end of epoch 4. Lower the learning rate, or choose the "
      "rollback policy",
      NonFiniteLoss);
  CHECK(q.theta.value(0, 0) == after4);
  CHECK(trainer.history().epochs.size() == 4);
  CHECK(trainer.history().rollbacks.empty());

  Divergent again;
  TrainerOptions limited = quiet({.max_epochs = 8});
  limited.max_rollbacks = 0;
  Trainer<float> capped(again.scheme, limited);
  CHECK_THROWS_WITH_AS(
      capped.fit(),
      "training stopped: the loss is inf in training batch 2 of 10 of epoch 5 (learning rate 4); the "
      "model holds the weights of the end of epoch 4. 0 rollbacks already made (max_rollbacks); "
      "lower the learning rate",
      NonFiniteLoss);
}

TEST_CASE("trainer: a non-finite evaluation loss also triggers the guard") {
  ScriptedRun run({0.9, 0.7, std::nan(""), 0.6, 0.5});
  TrainerOptions o = quiet({.max_epochs = 3});
  o.rollback_epochs = 1;
  Trainer<float> trainer(run.scheme, o);
  const History& h = trainer.fit();
  REQUIRE(h.rollbacks.size() == 1);
  CHECK(h.rollbacks[0].where == "evaluation (validation_loss)");
  CHECK(h.rollbacks[0].to_epoch == 2);
  // The retried epoch 3 reads the script's next entry.
  CHECK(h.epochs.size() == 3);
  CHECK(h.epochs[2].figures.at("validation_loss") == 0.6);
}

TEST_CASE("trainer: mixed-domain batches reach the step callback in the fixed proportion") {
  Matrix<float> x = Matrix<float>::Zero(30, 1);
  std::vector<Index> y(30, 0), d(30, 0);
  for (Index i = 20; i < 30; ++i) d[static_cast<std::size_t>(i)] = 1;
  Dataset<float> data(x, y, {}, d);
  Parameter<float> theta("theta", 1, 1);
  SGD<float> sgd(ParameterGroup<float>("net", {&theta}));
  int batches = 0;
  bool proportions = true;
  CallbackScheme<float> scheme(
      data, 8, ParameterGroup<float>("net", {&theta}), {&sgd},
      [&](const Batch<float>& b) {
        ++batches;
        for (Index k = 0; k < b.size(); ++k)
          proportions = proportions && b.domains[static_cast<std::size_t>(k)] == (k < 4 ? 0 : 1);
        return StepResult{1.0, static_cast<double>(b.size()), {{"domain_loss", 2.0}}};
      },
      nullptr);
  scheme.use_mixed_batches(MixedBatchSampler::by_domain(data, 0, 1, 8));
  Trainer<float> trainer(scheme, quiet({.max_epochs = 2}));
  const History& h = trainer.fit();
  CHECK(batches == 10);  // ceil(20 / 4) per epoch
  CHECK(proportions);
  CHECK(h.epochs[1].figures.at("train_domain_loss") == 2.0);
}

TEST_CASE("trainer: progress prints one line per epoch, silent prints nothing") {
  ScriptedRun run({0.9, 0.7});
  std::ostringstream out;
  TrainerOptions o = quiet({.max_epochs = 2});
  o.verbosity = Verbosity::epochs;
  o.out = &out;
  Trainer<float>(run.scheme, o).fit();
  const std::string text = out.str();
  CHECK(text.find("epoch 1/2  train_loss 0  validation_loss 0.9  lr 0.1") == 0);
  CHECK(text.find("epoch 2/2  train_loss 0  validation_loss 0.7  lr 0.1") != std::string::npos);
  CHECK(text.find("restored the weights of epoch 2 (validation_loss 0.7); reached max_epochs = 2") !=
        std::string::npos);
  ScriptedRun quiet_run({0.9});
  std::ostringstream none;
  TrainerOptions q = quiet({.max_epochs = 1});
  q.out = &none;
  Trainer<float>(quiet_run.scheme, q).fit();
  CHECK(none.str().empty());
}
