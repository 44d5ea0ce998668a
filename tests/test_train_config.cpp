// The training config: defaults, every section read, and an error naming key, value and allowed
// values for each kind of mistake.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "agnostic/train/config.hpp"

using agnostic::Activation;
using agnostic::ScheduleKind;
using namespace agnostic::train;

namespace {

nlohmann::json minimal() {
  return nlohmann::json::parse(
      R"({"data": {"files": ["events.csv"], "features": ["a", "b"], "label": "y"}})");
}

std::string error_of(const nlohmann::json& j) {
  try {
    config_from_json(j, "c.json");
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void check_error(const nlohmann::json& j, const std::string& part) {
  const std::string message = error_of(j);
  INFO(message);
  CHECK(message.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("a minimal config gets the documented defaults") {
  const TrainConfig c = config_from_json(minimal(), "c.json", "/data/run");
  CHECK(c.data.files == std::vector<std::string>{"/data/run/events.csv"});
  CHECK(c.data.columns.features == std::vector<std::string>{"a", "b"});
  CHECK(c.data.columns.label == "y");
  CHECK(c.data.columns.weight.empty());
  CHECK_FALSE(c.data.missing.has_value());
  CHECK(c.data.validation_fraction == 0.3);
  CHECK(c.data.stratify);
  CHECK_FALSE(c.data.balance_classes);
  CHECK(c.data.weights_in_loss);
  CHECK(c.data.standardise);
  CHECK(c.model.hidden == std::vector<agnostic::Index>{64, 64});
  CHECK(c.model.activation == Activation::relu());
  CHECK_FALSE(c.model.softmax_output);
  CHECK(c.loss == "binary_cross_entropy");
  CHECK(c.optimiser.name == "adam");
  CHECK(c.optimiser.learning_rate == 1e-3);
  CHECK(c.optimiser.schedule.kind == ScheduleKind::constant);
  CHECK(c.training.epochs == 100);
  CHECK(c.training.batch_size == 256);
  CHECK(c.training.seed == 1);
  CHECK(c.training.early_stopping.enabled);
  CHECK(c.training.early_stopping.patience == 10);
  CHECK(c.training.rollback_on_non_finite);
  CHECK(c.output.directory == "agnostic-output");
  CHECK(c.output.model == "model.json");
}

TEST_CASE("every section of a full config is read") {
  const auto j = nlohmann::json::parse(R"({
    "data": {"files": ["/abs/s.csv", "b.csv"], "features": ["a", "b", "c"], "label": "Label",
             "label_classes": {"b": 0, "s": 1}, "weight": "Weight", "domain": "Set", "domain_classes": {"t": 0, "v": 1},
             "missing": {"marker": -999, "features": ["a"], "fill": 0.5, "indicators": true},
             "validation_fraction": 0.25, "stratify": false, "split_seed": 9, "balance_classes": true, "weights_in_loss": false,
             "standardise": false},
    "model": {"hidden": [30, 20, 10], "activation": {"function": "leakyrelu", "alpha": 0.2}, "init": "he_normal",
              "output": "softmax", "start_from": "old.json"},
    "loss": "categorical_cross_entropy",
    "optimiser": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": true, "l2": 1e-4,
                  "clip_norm": 5, "schedule": {"name": "step", "steps": 100, "gamma": 0.5}},
    "training": {"epochs": 0, "batch_size": 64, "seed": 12, "threads": 2,
                 "early_stopping": {"patience": 3, "min_delta": 0.001, "min_epochs": 5,
                                    "running_average_window": 50, "restore_best": false},
                 "on_non_finite": "stop", "rollback_epochs": 2},
    "output": {"directory": "out", "model": "m.json", "progress": "silent"}})");
  const TrainConfig c = config_from_json(j, "c.json", "cfg");
  CHECK(c.data.files == std::vector<std::string>{"/abs/s.csv", "cfg/b.csv"});
  CHECK(c.data.columns.label_classes.at("s") == 1);
  CHECK(c.data.columns.weight == "Weight");
  CHECK(c.data.columns.domain_classes.at("v") == 1);
  REQUIRE(c.data.missing.has_value());
  CHECK(c.data.missing->fill == agnostic::io::MissingFill::value);
  CHECK(c.data.missing->fill_value == 0.5);
  CHECK(c.data.missing->add_indicators);
  CHECK(c.data.missing->features == std::vector<std::string>{"a"});
  CHECK(c.data.validation_fraction == 0.25);
  CHECK(c.data.split_seed == 9u);
  CHECK(c.data.balance_classes);
  CHECK_FALSE(c.data.weights_in_loss);
  CHECK(c.model.hidden == std::vector<agnostic::Index>{30, 20, 10});
  CHECK(c.model.activation == Activation::leaky_relu(0.2));
  CHECK(c.model.init == agnostic::Initialiser::he_normal());
  CHECK(c.model.softmax_output);
  CHECK(c.model.start_from == "cfg/old.json");
  CHECK(c.optimiser.name == "sgd");
  CHECK(c.optimiser.nesterov);
  CHECK(c.optimiser.clip.norm == 5.0);
  CHECK(c.optimiser.schedule == agnostic::Schedule::step(100, 0.5));
  CHECK(c.training.epochs == 0);
  CHECK(c.training.threads == 2);
  CHECK(c.training.early_stopping.running_average_window == 50);
  CHECK_FALSE(c.training.early_stopping.restore_best);
  CHECK_FALSE(c.training.rollback_on_non_finite);
  CHECK(c.output.model == "m.json");
  CHECK(c.output.history == "history.json");
  CHECK(c.output.progress == "silent");
}

TEST_CASE("config errors name the key, the bad value and the allowed values") {
  {
    auto j = minimal();
    j["trainig"] = nlohmann::json::object();
    check_error(
        j,
        "config 'c.json': key 'trainig' is not a known key; allowed keys: method, data, model, loss, "
        "optimiser, training, output, dann, adnn, cgan, systematics, soft_histogram, inference_aware, "
        "expected_yields");
  }
  {
    auto j = minimal();
    j["method"] = "gan";
    check_error(j, "config 'c.json': key 'method' is \"gan\"; allowed: classifier, dann, adnn");
  }
  {
    auto j = minimal();
    j["adnn"] = nlohmann::json::object();
    check_error(j,
                "config 'c.json': key 'adnn' is given but 'method' is \"classifier\"; set \"method\": "
                "\"adnn\" or remove the section");
  }
  {
    auto j = minimal();
    j["training"] = {{"epoch", 5}};
    check_error(j, "key 'training.epoch' is not a known key; allowed keys in 'training': epochs, batch_size");
  }
  {
    auto j = minimal();
    j["training"] = {{"epochs", "ten"}};
    check_error(j, "key 'training.epochs' is \"ten\"; expected an integer from 0 to");
  }
  {
    auto j = minimal();
    j["training"] = {{"batch_size", 0}};
    check_error(j, "key 'training.batch_size' is 0; expected an integer from 1 to");
  }
  {
    auto j = minimal();
    j["optimiser"] = {{"name", "adamm"}};
    check_error(j, "key 'optimiser.name' is \"adamm\"; allowed: sgd, rmsprop, adam, adamw");
  }
  {
    auto j = minimal();
    j["optimiser"] = {{"name", "sgd"}, {"beta1", 0.8}};
    check_error(j,
                "key 'optimiser.beta1' is not a known key; allowed keys in 'optimiser': name, learning_rate");
  }
  {
    auto j = minimal();
    j["optimiser"] = {{"learning_rate", -0.1}};
    check_error(j, "key 'optimiser.learning_rate' is -0.1; expected a number in (0, 1000]");
  }
  {
    auto j = minimal();
    j["optimiser"] = {{"schedule", {{"name", "cosine"}}}};
    check_error(j, "key 'optimiser.schedule.name' is \"cosine\"; allowed: constant, exponential, step");
  }
  {
    auto j = minimal();
    j["model"] = {{"activation", "relu"}};
    check_error(
        j,
        "key 'model.activation' is \"relu\"; allowed: linear, rectified, sigmoid, tanh, elu, softplus, "
        "leakyrelu");
  }
  {
    auto j = minimal();
    j["model"] = {{"activation", {{"function", "leakyrelu"}, {"alpha", 2}}}};
    check_error(
        j,
        "key 'model.activation' is {\"alpha\":2,\"function\":\"leakyrelu\"}: LeakyReLU needs 0 < alpha < 1");
  }
  {
    auto j = minimal();
    j["model"] = {{"hidden", {32, 0}}};
    check_error(j, "key 'model.hidden[1]' is 0; expected a layer width from 1 to 100000");
  }
  {
    auto j = minimal();
    j["model"] = {{"output", "softmax"}};
    check_error(j, "key 'model.output' is \"softmax\" but 'loss' is \"binary_cross_entropy\"");
  }
  {
    auto j = minimal();
    j["loss"] = "mse";
    check_error(j, "key 'loss' is \"mse\"; allowed: binary_cross_entropy, categorical_cross_entropy");
  }
  {
    auto j = minimal();
    j["data"].erase("label");
    check_error(j, "key 'data.label' is missing");
  }
  {
    auto j = minimal();
    j["data"]["features"] = {"a", 3};
    check_error(j, "key 'data.features[1]' is 3; expected a string");
  }
  {
    auto j = minimal();
    j["data"]["features"] = {"a", "a"};
    check_error(j, "key 'data.features' names \"a\" twice");
  }
  {
    auto j = minimal();
    j["data"]["label_classes"] = {{"s", -1}};
    check_error(j, "key 'data.label_classes.s' is -1; expected a class index");
  }
  {
    auto j = minimal();
    j["data"]["missing"] = {{"fill", "median"}};
    check_error(j, "key 'data.missing.fill' is \"median\"; allowed: \"mean\" or a number");
  }
  {
    auto j = minimal();
    j["data"]["missing"] = {{"features", {"zz"}}};
    check_error(j, "key 'data.missing.features' names \"zz\", which is not in 'data.features'");
  }
  {
    auto j = minimal();
    j["data"]["validation_fraction"] = 1.5;
    check_error(j, "key 'data.validation_fraction' is 1.5; expected a number in [0, 0.99]");
  }
  {
    auto j = minimal();
    j["training"] = {{"on_non_finite", "ignore"}};
    check_error(j, "key 'training.on_non_finite' is \"ignore\"; allowed: rollback, stop");
  }
  {
    auto j = minimal();
    j["output"] = {{"model", "sub/m.json"}};
    check_error(j, "key 'output.model' is \"sub/m.json\"; expected a plain file name");
  }
  {
    auto j = minimal();
    j["data"] = 3;
    check_error(j, "key 'data' is 3; expected an object");
  }
  check_error(nlohmann::json::object(), "key 'data' is missing");
}

TEST_CASE("config files: comments allowed, bad JSON and missing files reported") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_train_config";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "good.json").string();
  {
    std::ofstream out(good);
    out << "// a comment\n{\"data\": {\"files\": [\"x.csv\"], \"features\": [\"a\"], \"label\": \"y\"}}\n";
  }
  const auto c = read_config(good);
  CHECK(c.data.files == std::vector<std::string>{(dir / "x.csv").string()});
  const auto bad = (dir / "bad.json").string();
  {
    std::ofstream out(bad);
    out << "{\"data\": {\"files\": [\"x.csv\"],}";
  }
  const std::string expected = "config file '" + bad + "' is not valid JSON";
  CHECK_THROWS_WITH_AS(read_config(bad), doctest::Contains(expected.c_str()), agnostic::Error);
  CHECK_THROWS_WITH_AS(read_config((dir / "none.json").string()),
                       doctest::Contains("cannot open config file"), agnostic::Error);
  std::filesystem::remove_all(dir);
}
