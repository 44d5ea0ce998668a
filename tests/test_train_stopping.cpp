// Tests for train/stopping.hpp and train/history.hpp: the stopping rules fed with loss schedules
// built to trigger them at a known epoch, and the history's JSON round trip.
#include <doctest/doctest.h>

#include <agnostic/train/history.hpp>
#include <agnostic/train/stopping.hpp>
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
