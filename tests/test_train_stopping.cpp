// Tests for train/stopping.hpp and train/history.hpp: the stopping rules fed with loss schedules
// built to trigger them at a known epoch, the constraint that makes only some epochs eligible as
// the best (on its own and in a Trainer fed with scripted figures), and the history's JSON round
// trip.
#include <doctest/doctest.h>

#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/history.hpp>
#include <agnostic/train/stopping.hpp>
#include <agnostic/train/trainer.hpp>
#include <cmath>
#include <limits>
#include <vector>

using namespace agnostic;
using namespace agnostic::train;

namespace {
// The first epoch (1-based) at which the rules say stop, feeding the losses one epoch at a time.
Index stop_epoch(const std::vector<double>& losses, const StoppingRules& rules) {
  std::vector<double> seen;
  for (double x : losses) {
    seen.push_back(x);
    if (should_stop(seen, rules).stop) return static_cast<Index>(seen.size());
  }
  return -1;
}
}  // namespace

TEST_CASE("patience: stops exactly `patience` epochs after the best") {
  // Best at epoch 4 (0.5); nothing better afterwards.
  const std::vector<double> losses{1.0, 0.8, 0.6, 0.5, 0.55, 0.51, 0.52, 0.6, 0.7, 0.8};
  StoppingRules rules{.min_epochs = 0, .max_epochs = 100, .patience = PatienceRule{3, 0.0}};
  CHECK(stop_epoch(losses, rules) == 7);
  CHECK(should_stop({1.0, 0.8, 0.6, 0.5, 0.55, 0.51, 0.52}, rules).reason ==
        "no improvement for 3 epochs since the best, epoch 4 (patience 3)");
  // min_delta: 0.5 -> 0.495 is not an improvement of more than 0.01.
  rules.patience = PatienceRule{2, 0.01};
  CHECK(stop_epoch({1.0, 0.5, 0.495, 0.494, 0.3}, rules) == 4);
  // min_epochs holds the rule back.
  rules.min_epochs = 9;
  CHECK(stop_epoch(losses, rules) == 9);
}

TEST_CASE("running average (001): stops when the last W epochs improve by no more than r") {
  // Loss 1/e for 30 epochs then flat at 1/30: with W = 5, r = 0.0005, at epoch 38 the window
  // [29-33] (holding 1/29) still beats [34-38] by 0.68 %; at epoch 39 both windows are flat.
  std::vector<double> losses;
  for (int e = 1; e <= 60; ++e) losses.push_back(1.0 / std::min(e, 30));
  StoppingRules rules{.min_epochs = 0, .max_epochs = 1000, .running_average = RunningAverageRule{5, 0.0005}};
  CHECK(stop_epoch(losses, rules) == 39);
  // Closed form of the improvement at epoch 35: before = mean(1/26..1/30), last = 1/30.
  std::vector<double> first35(losses.begin(), losses.begin() + 35);
  double before = 0;
  for (int e = 26; e <= 30; ++e) before += 1.0 / e / 5;
  CHECK(*running_average_improvement(first35, 5) == doctest::Approx((before - 1.0 / 30) / before));
  // A slow steady decrease of 0.1 % per epoch never stops before max_epochs.
  std::vector<double> slow;
  for (int e = 0; e < 300; ++e) slow.push_back(std::pow(0.999, e));
  rules.max_epochs = 250;
  CHECK(stop_epoch(slow, rules) == 250);
  CHECK(should_stop(std::vector<double>(250, 1.0), rules).reason == "reached max_epochs = 250");
  // ... and does stop when r is above the per-window improvement (5 epochs x 0.1 % ~ 0.5 %).
  rules.running_average->relative = 0.006;
  CHECK(stop_epoch(slow, rules) == 10);
  // The window [min_epochs, max_epochs] of 001: a plateau from the start waits for min_epochs.
  rules = {.min_epochs = 200, .max_epochs = 1000, .running_average = RunningAverageRule{50, 0.0005}};
  CHECK(stop_epoch(std::vector<double>(1200, 0.69), rules) == 200);
  // Negative losses (001's linear domain loss) compare on magnitude: -1.0 -> -1.1 is an improvement.
  std::vector<double> negative{-1.0, -1.0, -1.1, -1.1};
  CHECK(*running_average_improvement(negative, 2) == doctest::Approx(0.1));
}

TEST_CASE("constraint: eligible epochs are those within the tolerance of the lowest loss so far") {
  // Lowest 0.8, limit 0.8 * 1.05 = 0.84.
  const std::vector<double> loss{1.0, 0.9, 0.95, 0.8, 0.83, 0.9};
  CHECK(eligible_epochs(loss, 0.05) == std::vector<bool>{false, false, false, true, true, false});
  CHECK(eligible_epochs(loss, 0.25) == std::vector<bool>{true, true, true, true, true, true});
  CHECK(eligible_epochs({}, 0.05).empty());
  // A negative loss is compared on its magnitude: lowest -2, limit -2 + 0.05 * 2 = -1.9.
  CHECK(eligible_epochs({-1.95, -2.0, -1.85}, 0.05) == std::vector<bool>{true, true, false});
  // Patience counts from the best ELIGIBLE epoch: the figure's lowest (epoch 2) has a loss 0.9.
  const std::vector<double> figure{0.30, 0.10, 0.20, 0.25, 0.22, 0.05};
  const std::vector<bool> eligible = eligible_epochs(loss, 0.05);
  CHECK(patience_best_index(figure, 0.0, eligible) == 4);
  CHECK(patience_best_index(figure, 0.0) == 5);
  StoppingRules rules{.max_epochs = 100, .patience = PatienceRule{3, 0.0}};
  const std::vector<double> five(figure.begin(), figure.begin() + 5), loss5(loss.begin(), loss.begin() + 5);
  CHECK(should_stop(five, rules).reason ==
        "no improvement for 3 epochs since the best, epoch 2 (patience 3)");
  CHECK_FALSE(should_stop(five, rules, eligible_epochs(loss5, 0.05)).stop);  // the eligible best: epoch 5
  CHECK_THROWS_WITH_AS(should_stop(five, rules, {true}), "stopping: 1 eligibility flags for 5 epochs", Error);
}

namespace stopping_test {

// One parameter that the step sets to the epoch number, and the figures "ks" and "validation_loss"
// read from scripts: after training the parameter tells which epoch's weights the model holds.
struct TwoFigureRun {
  Parameter<float> theta{"theta", 1, 1};
  Dataset<float> data{Matrix<float>::Zero(2, 1), {0, 1}};
  SGD<float> sgd{ParameterGroup<float>("net", {&theta}), SGDOptions{.lr = 0.1}};
  std::vector<double> ks, loss;
  Index epoch = 0;
  CallbackScheme<float> scheme{data,
                               2,
                               ParameterGroup<float>("net", {&theta}),
                               {&sgd},
                               [this](const Batch<float>&) {
                                 theta.value(0, 0) = static_cast<float>(epoch);
                                 return StepResult{0.0, 1.0, {}};
                               },
                               [this]() {
                                 const auto e = static_cast<std::size_t>(epoch - 1);
                                 return Figures{{"ks", ks.at(e)}, {"validation_loss", loss.at(e)}};
                               }};
  TwoFigureRun(std::vector<double> k, std::vector<double> l) : ks(std::move(k)), loss(std::move(l)) {
    scheme.on_epoch_start = [this](Index e) { epoch = e; };
  }
  History fit(Index warmup, std::optional<PatienceRule> patience = std::nullopt) {
    TrainerOptions o;
    o.stopping.max_epochs = static_cast<Index>(ks.size());
    o.stopping.patience = patience;
    o.warmup_epochs = warmup;
    o.monitor = "ks";
    o.constraint = LossConstraint{"validation_loss", 0.05};
    o.verbosity = Verbosity::silent;
    return Trainer<float>(scheme, o).fit();
  }
};

}  // namespace stopping_test

TEST_CASE("trainer: under a loss constraint the best epoch is the lowest figure among eligible epochs") {
  using stopping_test::TwoFigureRun;
  // Epoch 1 is warm-up (never the best). Lowest loss 0.50 (epoch 3): limit 0.525. The lowest ks (epoch
  // 4, 0.01) has loss 0.60: not eligible; epoch 5 (ks 0.05, loss 0.52) is the best.
  TwoFigureRun run({0.0, 0.20, 0.10, 0.01, 0.05, 0.08}, {0.40, 0.55, 0.50, 0.60, 0.52, 0.51});
  const History h = run.fit(1);
  CHECK(h.best_epoch == 5);
  CHECK(h.best_figure == "ks");
  CHECK(h.best_value == 0.05);
  CHECK(run.theta.value(0, 0) == 5.0f);  // restored
  // Without the constraint the best would be epoch 4. The stopping rules see the same eligibility:
  // with patience 1, epoch 4 (ineligible) does not improve on epoch 3, so the run stops after it.
  TwoFigureRun stopped({0.0, 0.20, 0.10, 0.01, 0.05, 0.08}, {0.40, 0.55, 0.50, 0.60, 0.52, 0.51});
  const History s = stopped.fit(1, PatienceRule{1, 0.0});
  CHECK(s.epochs.size() == 4);
  CHECK(s.best_epoch == 3);
  CHECK(s.stop_reason == "no improvement for 1 epochs since the best, epoch 3 (patience 1)");
  CHECK(stopped.theta.value(0, 0) == 3.0f);
}

TEST_CASE("trainer: a best epoch pushed out by a lower loss is replaced by the epoch that set it") {
  using stopping_test::TwoFigureRun;
  // Epoch 1 is the best at first. Epoch 2 lowers the loss to 0.8 (limit 0.84): epoch 1 (loss 1.0)
  // drops out and epoch 2 becomes the best although its ks is higher. Epoch 3 (ks 0.2, loss 0.83) is
  // eligible and lower: the best; epoch 4 (ks 0.25) is not lower.
  TwoFigureRun run({0.10, 0.30, 0.20, 0.25}, {1.00, 0.80, 0.83, 0.80});
  const History h = run.fit(0);
  CHECK(h.best_epoch == 3);
  CHECK(run.theta.value(0, 0) == 3.0f);
  // Stopped after epoch 2, the best is epoch 2 (epoch 1's weights are no longer eligible).
  TwoFigureRun two({0.10, 0.30}, {1.00, 0.80});
  CHECK(two.fit(0).best_epoch == 2);
}

TEST_CASE("StoppingRules::validate names the bad setting") {
  StoppingRules rules{.min_epochs = 5, .max_epochs = 3};
  CHECK_THROWS_WITH_AS(rules.validate(), "stopping: min_epochs is 5; must be in [0, max_epochs = 3]", Error);
  rules = {.patience = PatienceRule{0, 0.0}};
  CHECK_THROWS_WITH_AS(rules.validate(), "stopping: patience is 0; must be >= 1", Error);
}

TEST_CASE("History: JSON round trip, non-finite values as strings, missing figure named") {
  History h;
  h.epochs.push_back({1, 0.25, 0.001, {{"train_loss", 0.7}, {"validation_loss", 0.1 + 0.2}}});
  h.epochs.push_back({2, 0.5, 0.001, {{"train_loss", 0.6}, {"validation_loss", 0.5}}});
  RollbackRecord r;
  r.at_epoch = 3;
  r.where = "training batch 2 of 5";
  r.loss = std::numeric_limits<double>::infinity();
  r.to_epoch = 2;
  r.learning_rate_before = 0.1;
  r.learning_rate_after = 0.05;
  r.discarded.push_back({3, 0.1, 0.1, {{"train_loss", std::nan("")}}});
  h.rollbacks.push_back(r);
  h.best_epoch = 2;
  h.best_figure = "validation_loss";
  h.best_value = 0.5;
  const nlohmann::json j = to_json(h);
  CHECK(j["rollbacks"][0]["loss"] == "inf");
  CHECK(j["epochs"][0]["validation_loss"].get<double>() == 0.1 + 0.2);
  const History back = history_from_json(nlohmann::json::parse(j.dump()));
  CHECK(back.epochs[0].figures.at("validation_loss") == 0.1 + 0.2);  // bit for bit
  CHECK(std::isinf(back.rollbacks[0].loss));
  CHECK(std::isnan(back.rollbacks[0].discarded[0].figures.at("train_loss")));
  CHECK(back.rollbacks[0].where == "training batch 2 of 5");
  CHECK(back.best_epoch == 2);
  CHECK(back.series("train_loss") == std::vector<double>{0.7, 0.6});
  CHECK_THROWS_WITH_AS(h.series("auc"),
                       "history: epoch 1 has no figure 'auc'; figures are: train_loss, validation_loss",
                       Error);
  nlohmann::json broken = j;
  broken.erase("best_epoch");
  CHECK_THROWS_WITH_AS(history_from_json(broken), "history: key 'best_epoch' is missing", Error);
}
