// Systematics-aware training (issue 8): the "systematics", "soft_histogram" and "expected_yields"
// keys with an error naming key and value for each mistake, the varied batches (weight factors and
// shifted raw features through the missing-value rules and standardisation, checked by hand), the
// penalised classifier and workspace.json.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "agnostic/train/systematics.hpp"

using agnostic::Index;
using namespace agnostic::train;

namespace {

namespace fs = std::filesystem;

// A scratch directory per test case (removed first, so reruns start clean).
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("agnostic_test_systematics_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Columns a, b (inputs), y (label), w_up, w_down (weight factors); `a` has one missing value (-999).
std::string small_csv() {
  return "a,b,y,w_up,w_down\n"
         "1,10,0,1.1,0.9\n"
         "2,20,1,1.2,0.8\n"
         "-999,30,0,1.3,0.7\n"
         "4,40,1,1.4,0.6\n"
         "5,50,0,1.5,0.5\n"
         "6,60,1,1.6,0.4\n";
}

nlohmann::json config_json(const fs::path& csv) {
  nlohmann::json j;
  j["data"] = {{"files", {csv.string()}},
               {"features", {"a", "b"}},
               {"label", "y"},
               {"validation_fraction", 0.0},
               {"missing", {{"marker", -999}, {"features", {"a"}}, {"fill", 0.5}}}};
  return j;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void check_contains(const std::string& message, const std::vector<std::string>& parts) {
  INFO(message);
  for (const auto& p : parts) CHECK(message.find(p) != std::string::npos);
}

std::string systematics_error(nlohmann::json systematics) {
  nlohmann::json j = config_json("events.csv");
  j["systematics"] = std::move(systematics);
  return error_of([&] { read_systematics(config_from_json(j, "c.json")); });
}

}  // namespace

TEST_CASE("systematics: both kinds are read with their defaults") {
  nlohmann::json j = config_json("events.csv");
  j["systematics"] = nlohmann::json::parse(R"([
    {"name": "tau", "weights": {"up": "w_up", "down": "w_down"}, "penalty": 5},
    {"name": "scale_a", "shift": {"feature": "a", "up": 1.03, "down": 0.97, "mode": "scale"}, "classes": [1]},
    {"name": "add_b", "shift": {"feature": "b", "up": 2, "down": -2}}])");
  const auto s = read_systematics(config_from_json(j, "c.json"));
  REQUIRE(s.size() == 3);
  CHECK(s[0].name == "tau");
  REQUIRE(s[0].weights);
  CHECK(s[0].weights->up == "w_up");
  CHECK(s[0].weights->down == "w_down");
  CHECK(s[0].penalty == 5.0);
  CHECK(s[0].classes.empty());
  CHECK(s[0].applies_to(0));
  CHECK(s[0].applies_to(1));
  REQUIRE(s[1].shift);
  CHECK(s[1].shift->scale);
  CHECK(s[1].shift->apply(10.0, true) == doctest::Approx(10.3));
  CHECK(s[1].shift->apply(10.0, false) == doctest::Approx(9.7));
  CHECK(s[1].penalty == 0.0);
  CHECK_FALSE(s[1].applies_to(0));
  CHECK(s[1].applies_to(1));
  CHECK_FALSE(s[2].shift->scale);
  CHECK(s[2].shift->apply(10.0, false) == doctest::Approx(8.0));
  CHECK(read_systematics(config_from_json(config_json("e.csv"), "c.json")).empty());
}

TEST_CASE("systematics: each config mistake names its key and value") {
  check_contains(systematics_error(nlohmann::json::parse(R"([{"name": "x"}])")),
                 {"c.json", "systematics[0]", "neither 'weights' nor 'shift'"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "weights": {"up": "u", "down": "d"},
                         "shift": {"feature": "a", "up": 1, "down": -1}}])")),
                 {"systematics[0]", "both 'weights' and 'shift'"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "shift": {"feature": "PRI_jet_pt", "up": 1, "down": -1}}])")),
                 {"systematics[0].shift.feature", "\"PRI_jet_pt\"", "not an input", "a, b"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "shift": {"feature": "a", "up": 1, "down": -1, "mode": "times"}}])")),
                 {"systematics[0].shift.mode", "\"times\"", "add, scale"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "weights": {"up": "u", "down": "d"}, "penalty": -1}])")),
                 {"systematics[0].penalty", "-1"});
  check_contains(systematics_error(nlohmann::json::parse(R"([{"name": "x", "weights": {"up": "u"}}])")),
                 {"systematics[0].weights.down", "is missing"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "weights": {"up": "u", "down": "d"}},
                         {"name": "x", "weights": {"up": "u", "down": "d"}}])")),
                 {"systematics[1].name", "\"x\"", "already"});
  check_contains(systematics_error(nlohmann::json::parse(
                     R"([{"name": "x", "weights": {"up": "u", "down": "d"}, "classes": ["s"]}])")),
                 {"systematics[0].classes[0]", "\"s\"", "class index"});
  check_contains(systematics_error(nlohmann::json::parse(R"([{"name": "x", "weight": {}}])")),
                 {"systematics[0].weight", "not a known key", "weights, shift"});
  check_contains(systematics_error(nlohmann::json::parse(R"({"name": "x"})")),
                 {"'systematics'", "expected a list"});
}

TEST_CASE("systematics: data mistakes (unknown column, negative factor, class) name key and value") {
  const fs::path dir = scratch("data_errors");
  write_text(dir / "events.csv", small_csv() + "7,70,0,-0.5,1\n");
  auto data_error = [&](const std::string& systematic) {
    nlohmann::json j = config_json(dir / "events.csv");
    j["systematics"] = nlohmann::json::array({nlohmann::json::parse(systematic)});
    const TrainConfig c = config_from_json(j, "c.json");
    return error_of([&] {
      const auto s = read_systematics(c);
      const PreparedData<float> data = prepare_data<float>(c);
      SystematicVariations<float>(s, data, c.source);
    });
  };
  check_contains(data_error(R"({"name": "x", "weights": {"up": "w_upp", "down": "w_down"}})"),
                 {"c.json", "systematics[0].weights.up", "\"w_upp\"", "not a numeric column", "w_up"});
  check_contains(data_error(R"({"name": "x", "weights": {"up": "w_up", "down": "w_down"}})"),
                 {"systematics[0].weights.up", "\"w_up\"", "-0.5", ">= 0", "line 8"});
  check_contains(
      data_error(R"({"name": "x", "weights": {"up": "w_down", "down": "w_down"}, "classes": [2]})"),
      {"systematics[0].classes", "class 2", "2 classes"});
}

TEST_CASE("systematics: varied batches — weight factors and shifted raw features, by hand") {
  const fs::path dir = scratch("vary");
  write_text(dir / "events.csv", small_csv());
  nlohmann::json j = config_json(dir / "events.csv");
  j["systematics"] = nlohmann::json::parse(R"([
    {"name": "w", "weights": {"up": "w_up", "down": "w_down"}},
    {"name": "s", "shift": {"feature": "a", "up": 1.5, "down": 0.5, "mode": "scale"}},
    {"name": "t", "shift": {"feature": "b", "up": 3, "down": -3, "mode": "add"}}])");
  const TrainConfig c = config_from_json(j, "c.json");
  const PreparedData<double> data = prepare_data<double>(c);
  REQUIRE(data.train.rows() == 6);
  const SystematicVariations<double> v(read_systematics(c), data, c.source);
  const std::vector<Index> rows = {3, 2, 0};
  agnostic::Matrix<double> nominal(3, 2);
  for (Index k = 0; k < 3; ++k) nominal.row(k) = data.train.features.row(rows[static_cast<std::size_t>(k)]);
  VariedBatch<double> b;
  v.vary(Part::train, rows, nominal, b);
  REQUIRE(b.variations.size() == 3);
  // Weights: the factors of rows 3, 2, 0.
  CHECK(b.variations[0][0].reweights);
  CHECK(b.variations[0][0].weight_factor(0) == doctest::Approx(1.4));
  CHECK(b.variations[0][0].weight_factor(1) == doctest::Approx(1.3));
  CHECK(b.variations[0][1].weight_factor(2) == doctest::Approx(0.9));
  // Shift of a (scale): raw 4 -> 6 (up), 2 (down); the missing row 2 keeps its replacement 0.5;
  // then (x + offset) * scale of the fitted standardisation; b is unchanged.
  const double oa = data.standardisation.offset[0], sa = data.standardisation.scale[0];
  const auto& up = b.variations[1][0].features;
  const auto& down = b.variations[1][1].features;
  CHECK_FALSE(b.variations[1][0].reweights);
  CHECK(up(0, 0) == doctest::Approx((6.0 + oa) * sa));
  CHECK(down(0, 0) == doctest::Approx((2.0 + oa) * sa));
  CHECK(up(1, 0) == doctest::Approx((0.5 + oa) * sa));
  CHECK(up(1, 0) == doctest::Approx(nominal(1, 0)));
  CHECK(up(2, 0) == doctest::Approx((1.5 + oa) * sa));
  CHECK(up.col(1).isApprox(nominal.col(1)));
  // Shift of b (add 3 / -3).
  const double ob = data.standardisation.offset[1], sb = data.standardisation.scale[1];
  CHECK(b.variations[2][0].features(0, 1) == doctest::Approx((43.0 + ob) * sb));
  CHECK(b.variations[2][1].features(2, 1) == doctest::Approx((7.0 + ob) * sb));
  CHECK(b.variations[2][0].features.col(0).isApprox(nominal.col(0)));
}

TEST_CASE("soft_histogram and expected_yields keys") {
  nlohmann::json j = config_json("e.csv");
  CHECK(read_soft_histogram(config_from_json(j, "c.json")).bins() == 20);
  CHECK(read_soft_histogram(config_from_json(j, "c.json")).edges.back() == 1.0);
  j["soft_histogram"] = {{"bins", 4}, {"range", {-1, 1}}};
  const auto h = read_soft_histogram(config_from_json(j, "c.json"));
  CHECK(h.edges == std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0});
  j["soft_histogram"] = {{"edges", {0, 0.5, 0.9, 1}}};
  CHECK(read_soft_histogram(config_from_json(j, "c.json")).bins() == 3);
  auto error = [&](nlohmann::json section) {
    j["soft_histogram"] = std::move(section);
    return error_of([&] { read_soft_histogram(config_from_json(j, "c.json")); });
  };
  check_contains(error({{"edges", {0, 0.5, 0.5}}}), {"soft_histogram.edges[2]", "0.5", "increase strictly"});
  check_contains(error({{"edges", {0, 1}}, {"bins", 3}}), {"soft_histogram.edges", "either"});
  check_contains(error({{"range", {1, 0}}}), {"soft_histogram.range", "[1,0]", "low < high"});
  check_contains(error({{"bins", 0}}), {"soft_histogram.bins", "0"});

  nlohmann::json k = config_json("e.csv");
  k["data"]["label_classes"] = {{"b", 0}, {"s", 1}};
  k["expected_yields"] = {{"s", 50}, {"0", 1000}};
  const auto y = read_expected_yields(config_from_json(k, "c.json"));
  CHECK(y.at(1) == 50.0);
  CHECK(y.at(0) == 1000.0);
  k["expected_yields"] = {{"signal", 50}};
  check_contains(error_of([&] { read_expected_yields(config_from_json(k, "c.json")); }),
                 {"expected_yields.signal", "names no class"});
  k["expected_yields"] = {{"s", -5}};
  check_contains(error_of([&] { read_expected_yields(config_from_json(k, "c.json")); }),
                 {"expected_yields.s", "-5", "> 0"});
}
