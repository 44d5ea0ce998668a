// The training config: defaults, every section read, and an error naming key, value and allowed
// values for each kind of mistake.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
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
    "method": "dann",
    "dann": {"target_signal_fraction": 0.2},
    "data": {"files": ["/abs/s.csv", "b.csv"], "features": ["a", "b", "c"], "label": "Label",
             "label_classes": {"b": 0, "s": 1}, "weight": "Weight", "domain": "Set", "domain_classes": {"t": 0, "v": 1},
             "missing": {"marker": -999, "features": ["a"], "fill": 0.5, "indicators": true},
             "validation_fraction": 0.25, "stratify": false, "split_seed": 9, "balance_classes": true, "weights_in_loss": false,
             "standardise": false},
    "model": {"hidden": [30, 20, 10], "activation": {"function": "leakyrelu", "alpha": 0.2}, "init": "he_normal",
              "output": "softmax"},
    "loss": "categorical_cross_entropy",
    "optimiser": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": true, "l2": 1e-4,
                  "clip_norm": 5, "schedule": {"name": "step", "steps": 100, "gamma": 0.5}},
    "training": {"epochs": 0, "batch_size": 64, "seed": 12, "threads": 2,
                 "early_stopping": {"patience": 3, "min_delta": 0.001, "min_epochs": 5,
                                    "running_average_window": 50, "restore_best": false},
                 "on_non_finite": "stop"},
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
  CHECK(c.method == "dann");
  CHECK(c.sections.at("dann")["target_signal_fraction"] == 0.2);
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

  // Fine-tuning: the start model's path is taken from the config's directory.
  auto tune = minimal();
  tune["model"] = {{"start_from", "old.json"}};
  CHECK(config_from_json(tune, "c.json", "cfg").model.start_from == "cfg/old.json");
  // ADNN's loss, when not given, is the categorical one (one softmax output per class).
  auto adnn = minimal();
  adnn["method"] = "adnn";
  const TrainConfig a = config_from_json(adnn, "c.json");
  CHECK(a.loss == "categorical_cross_entropy");
  CHECK(a.model.softmax_output);
}

TEST_CASE("activations: lwtnn's names and the common ones (relu, leaky_relu, identity) are read everywhere") {
  auto with = [](const nlohmann::json& activation) {
    auto j = minimal();
    j["model"] = {{"activation", activation}};
    return config_from_json(j, "c.json").model.activation;
  };
  CHECK(with("relu") == Activation::relu());
  CHECK(with("rectified") == Activation::relu());
  CHECK(with("leaky_relu") == Activation::leaky_relu(0.01));
  CHECK(with({{"function", "leaky_relu"}, {"alpha", 0.2}}) == Activation::leaky_relu(0.2));
  CHECK(with("identity") == Activation::identity());
  CHECK(with({{"function", "elu"}, {"alpha", 0.5}}) == Activation::elu(0.5));
  CHECK(agnostic::activation_from_name("relu") == Activation::relu());
  CHECK(agnostic::lwtnn_activation_name("leaky_relu") == "leakyrelu");
  // A model file (and an lwtnn file) may use them too; files are written with lwtnn's names.
  const auto file = nlohmann::json::parse(R"({
    "inputs": [{"name": "a", "offset": 0, "scale": 1}],
    "layers": [{"architecture": "dense", "weights": [1, -1], "bias": [0, 0], "activation": "relu"},
               {"architecture": "dense", "weights": [1, 1], "bias": [0],
                "activation": {"function": "leaky_relu", "alpha": 0.1}}],
    "outputs": ["y"]})");
  const auto model = agnostic::io::model_from_json<float>(file, "m.json");
  CHECK(model.layers[0].activation.elementwise == Activation::relu());
  CHECK(model.layers[1].activation.elementwise == Activation::leaky_relu(0.1));
  const nlohmann::json written = agnostic::io::model_to_json(model);
  CHECK(written["layers"][0]["activation"] == "rectified");
  CHECK(written["layers"][1]["activation"]["function"] == "leakyrelu");
  CHECK(agnostic::io::import_lwtnn(file, "l.json").layers[0].activation.elementwise == Activation::relu());
  auto leaky = file;
  leaky["layers"][1]["activation"] = "leaky_relu";
  CHECK_THROWS_WITH_AS(agnostic::io::model_from_json<float>(leaky, "m.json"),
                       doctest::Contains("activation 'leaky_relu' needs its slope: write {\"function\": "
                                         "\"leaky_relu\", \"alpha\": a}"),
                       agnostic::Error);
  auto unknown = file;
  unknown["layers"][0]["activation"] = "swish";
  CHECK_THROWS_WITH_AS(
      agnostic::io::model_from_json<float>(unknown, "m.json"),
      doctest::Contains("unknown activation 'swish'; allowed: linear, rectified, sigmoid, tanh, "
                        "softmax, elu, softplus, leakyrelu (also read: relu, leaky_relu, identity)"),
      agnostic::Error);
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
    j["model"] = {{"activation", "swish"}};
    check_error(
        j,
        "key 'model.activation' is \"swish\"; allowed: linear, rectified, sigmoid, tanh, elu, softplus, "
        "leakyrelu, or their other names relu, leaky_relu, identity");
  }
  {
    auto j = minimal();
    j["model"] = {{"activation", {{"function", "relu"}, {"alpha", 0.3}}}};
    check_error(j,
                "key 'model.activation.alpha' is given but \"relu\" has no parameter; 'alpha' is read for "
                "leakyrelu (its slope) and elu (its scale) only");
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

TEST_CASE(
    "nothing is ignored: a section or key the method and loss do not read is an error naming its reader") {
  const auto systematic =
      nlohmann::json::parse(R"({"name": "jes", "shift": {"feature": "a", "up": 1, "down": -1}})");
  const auto ia = nlohmann::json::parse(R"({"expected_signal": 50, "expected_background": 1000})");
  auto with = [](std::initializer_list<std::pair<const char*, nlohmann::json>> keys) {
    auto j = minimal();
    for (const auto& [key, value] : keys) j[key] = value;
    return j;
  };
  // Sections of a loss or of the classifier's options.
  check_error(
      with({{"soft_histogram", {{"bins", 5}}}}),
      "config 'c.json': key 'soft_histogram' is not used with a classifier without 'systematics'; it is "
      "read by a classifier with 'systematics' and a cross-entropy loss (the bins of the penalty and of "
      "workspace.json); remove it");
  check_error(with({{"expected_yields", {{"1", 50}}}}),
              "key 'expected_yields' is not used with a classifier without 'systematics'; it is read by a "
              "classifier with 'systematics' and a cross-entropy loss (the yields of workspace.json)");
  check_error(with({{"method", "dann"},
                    {"soft_histogram", {{"bins", 5}}},
                    {"systematics", nlohmann::json::array({systematic})}}),
              "key 'systematics' is not used with method \"dann\"; it is read by method \"classifier\"");
  check_error(with({{"method", "dann"}, {"soft_histogram", {{"bins", 5}}}}),
              "key 'soft_histogram' is not used with method \"dann\"; it is read by a classifier with "
              "'systematics'");
  check_error(with({{"method", "adnn"}, {"systematics", nlohmann::json::array({systematic})}}),
              "key 'systematics' is not used with method \"adnn\"");
  check_error(with({{"method", "cgan"}, {"expected_yields", {{"1", 50}}}}),
              "key 'expected_yields' is not used with method \"cgan\"");
  check_error(
      with({{"inference_aware", ia}}),
      "key 'inference_aware' is not used with \"loss\": \"binary_cross_entropy\"; it is read by method "
      "\"classifier\" with \"loss\": \"inference_aware\"; remove it");
  check_error(
      with({{"loss", "inference_aware"},
            {"inference_aware", ia},
            {"systematics", nlohmann::json::array({systematic})},
            {"soft_histogram", {{"bins", 5}}}}),
      "key 'soft_histogram' is not used with \"loss\": \"inference_aware\" (the inference-aware loss bins "
      "the network's 'inference_aware.outputs')");
  check_error(
      with({{"loss", "inference_aware"}, {"inference_aware", ia}, {"expected_yields", {{"1", 50}}}}),
      "key 'expected_yields' is not used with \"loss\": \"inference_aware\" (the inference-aware loss "
      "takes 'inference_aware.expected_signal' and 'expected_background')");
  // The loss.
  check_error(
      with({{"method", "cgan"}, {"loss", "binary_cross_entropy"}}),
      "key 'loss' is not used by method \"cgan\" (the generator and the discriminator train on their own "
      "binary cross-entropy)");
  check_error(with({{"method", "dann"}, {"loss", "inference_aware"}}),
              "key 'loss' is \"inference_aware\", which method \"dann\" does not train");
  check_error(with({{"method", "adnn"}, {"loss", "binary_cross_entropy"}}),
              "key 'loss' is \"binary_cross_entropy\" but method \"adnn\" trains a softmax classifier");
  // Inside the sections.
  {
    auto j = with({{"loss", "inference_aware"},
                   {"inference_aware", ia},
                   {"systematics", nlohmann::json::array({systematic})}});
    j["inference_aware"]["shape_systematics"] = {"jes"};
    CHECK_NOTHROW(config_from_json(j, "c.json"));
    j["systematics"][0]["penalty"] = 2;
    check_error(j, "key 'systematics[0].penalty' is not used with \"loss\": \"inference_aware\"");
    j["systematics"][0].erase("penalty");
    j["systematics"].push_back(systematic);
    j["systematics"][1]["name"] = "other";
    check_error(j,
                "key 'systematics[1]' (\"other\") is not used: with \"loss\": \"inference_aware\" only the "
                "systematics named in 'inference_aware.shape_systematics' enter the loss and workspace.json");
  }
  {
    auto j = with({{"systematics", nlohmann::json::array({systematic})},
                   {"soft_histogram", {{"bins", 5}, {"min_count", 2}}}});
    check_error(j, "key 'soft_histogram.min_count' is not used: every systematic's 'penalty' is 0");
    j["systematics"][0]["penalty"] = 1;
    CHECK_NOTHROW(config_from_json(j, "c.json"));
    j["expected_yields"] = {{"1", 50}};
    CHECK_NOTHROW(config_from_json(j, "c.json"));
  }
  {
    auto j = with({{"model", {{"start_from", "m.json"}, {"hidden", {8}}}}});
    check_error(j, "key 'model.hidden' is not used: the network comes from 'model.start_from'");
    j["model"] = {{"start_from", "m.json"}, {"activation", "tanh"}};
    check_error(j, "key 'model.activation' is not used: the network comes from 'model.start_from'");
    j["method"] = "dann";  // the domain head is a fresh network with this activation
    CHECK_NOTHROW(config_from_json(j, "c.json"));
    j["data"]["missing"] = {{"marker", -999}};
    check_error(j, "key 'data.missing' is not used: the missing-value rules come from 'model.start_from'");
  }
  {
    auto j = with({{"method", "cgan"}, {"cgan", {{"conditions", {"b"}}}}});
    check_error(j, "key 'data.label' is not used by method \"cgan\"");  // it generates data.features
  }
  {
    auto j = with({{"method", "cgan"}});
    j["data"].erase("label");
    CHECK_NOTHROW(config_from_json(j, "c.json"));
    j["data"]["weight"] = "w";
    check_error(j,
                "key 'data.weight' is not used by method \"cgan\" (it reads data.files, data.features, "
                "data.validation_fraction, data.split_seed and the columns named in 'cgan')");
    j["data"].erase("weight");
    j["model"] = {{"output", "sigmoid"}};
    check_error(j, "key 'model.output' is not used by method \"cgan\"");
    j.erase("model");
    j["output"] = {{"predictions", "p.csv"}};
    check_error(j,
                "key 'output.predictions' is not used by method \"cgan\" (it writes generator.json and "
                "discriminator.json, no model.json or predictions.csv)");
  }
  {
    auto j = minimal();
    j["data"]["domain"] = "g";
    check_error(j,
                "key 'data.domain' is not used by method \"classifier\"; the domain column is read by "
                "methods \"dann\" and \"adnn\"");
    j["data"].erase("domain");
    j["data"]["weights_in_loss"] = false;
    check_error(j, "key 'data.weights_in_loss' is given but 'data.weight' is not");
    j["data"]["weight"] = "w";
    CHECK_NOTHROW(config_from_json(j, "c.json"));
  }
  check_error(with({{"training", {{"on_non_finite", "stop"}, {"max_rollbacks", 3}}}}),
              "key 'training.max_rollbacks' is not used: 'training.on_non_finite' is \"stop\"");
  check_error(
      with({{"training", {{"early_stopping", {{"running_average_relative", 0.01}}}}}}),
      "key 'training.early_stopping.running_average_relative' is not used: 'running_average_window' is "
      "not given");
  // null is no value (nowhere in a training config do the docs give it a meaning).
  {
    auto j = minimal();
    j["data"]["weight"] = nullptr;
    check_error(j,
                "config 'c.json': key 'data.weight' is null; give it a value, or leave the key out for its "
                "default");
    j = minimal();
    j["model"] = {{"hidden", {8, nullptr}}};
    check_error(j, "key 'model.hidden[1]' is null");
  }
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
