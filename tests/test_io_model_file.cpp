// Model files: lwtnn-style JSON, bit-exact round trips, and a clear error for each malformed case.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/nn/model_network.hpp"
#include "model_file_helpers.hpp"

using agnostic::Activation;
using agnostic::Index;
using agnostic::Matrix;
using agnostic::Rng;
using namespace agnostic::io;

namespace {

template <class T>
DenseWeights<T> random_layer(Index n_in, Index n_out, LayerActivation f, Rng& rng) {
  return agnostic::test::random_layer<T>(n_in, n_out, f, rng, 0.7, 0.1);
}

// 4 features + 1 indicator -> 7 (leaky relu) -> 5 (elu 0.5) -> 3 (softmax), and a 2-output branch.
template <class T>
ModelFile<T> example_model() {
  Rng rng(42);
  ModelFile<T> m;
  m.inputs.names = {"pt", "eta", "phi", "mass", "mass_missing"};
  for (int i = 0; i < 5; ++i) {
    m.inputs.offset.push_back(rng.normal(0.0, 3.0));
    m.inputs.scale.push_back(rng.uniform(0.1, 2.0));
  }
  m.missing_values.rules.push_back({"mass", -999.0, 91.1876, "mass_missing"});
  m.layers.push_back(random_layer<T>(5, 7, {Activation::leaky_relu(0.3), false}, rng));
  m.layers.push_back(random_layer<T>(7, 5, {Activation::elu(0.5), false}, rng));
  m.layers.push_back(random_layer<T>(5, 3, LayerActivation::softmax_over_outputs(), rng));
  m.outputs = {"background", "higgs", "z"};
  ModelBranch<T> adversary{"adversary", 2, {}, {"domain"}};
  adversary.layers.push_back(random_layer<T>(5, 4, {Activation::tanh(), false}, rng));
  adversary.layers.push_back(random_layer<T>(4, 1, {Activation::sigmoid(), false}, rng));
  m.branches.push_back(adversary);
  m.training = {{"seed", 7}, {"date", "2026-01-01T00:00:00Z"}};
  return m;
}

template <class T>
Matrix<T> example_data(Index rows) {
  Rng rng(3);
  Matrix<T> x(rows, 5);
  for (Index r = 0; r < rows; ++r) {
    for (Index c = 0; c < 4; ++c) x(r, c) = static_cast<T>(rng.normal(1.0, 4.0));
    x(r, 4) = static_cast<T>(rng.below(2));
  }
  return x;
}

template <class T>
bool same_bits(const Matrix<T>& a, const Matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0;
}

template <class T>
void check_round_trip() {
  const ModelFile<T> m = example_model<T>();
  const std::string text = model_to_json(m).dump(1);
  const ModelFile<T> back = model_from_json<T>(nlohmann::json::parse(text), "memory");
  REQUIRE(back.layers.size() == m.layers.size());
  for (std::size_t k = 0; k < m.layers.size(); ++k) {
    CHECK(same_bits<T>(back.layers[k].weights, m.layers[k].weights));
    CHECK(same_bits<T>(Matrix<T>(back.layers[k].bias), Matrix<T>(m.layers[k].bias)));
    CHECK(back.layers[k].activation == m.layers[k].activation);
  }
  CHECK(back.inputs.names == m.inputs.names);
  CHECK(back.inputs.offset == m.inputs.offset);
  CHECK(back.inputs.scale == m.inputs.scale);
  CHECK(back.outputs == m.outputs);
  REQUIRE(back.missing_values.rules.size() == 1);
  CHECK(back.missing_values.rules[0].replacement == 91.1876);
  CHECK(back.missing_values.rules[0].indicator == "mass_missing");
  CHECK(back.training["seed"] == 7);
  REQUIRE(back.branches.size() == 1);
  CHECK(back.branches[0].name == "adversary");
  CHECK(back.branches[0].input_layer == 2);
  CHECK(same_bits<T>(back.branches[0].layers[1].weights, m.branches[0].layers[1].weights));
  CHECK(back.parameter_count() == m.parameter_count());
  CHECK(back.feature_names() == std::vector<std::string>{"pt", "eta", "phi", "mass"});

  const Matrix<T> x = example_data<T>(5000);  // large enough for the chunked (multi-thread) path
  const Matrix<T> before = predict(m, x), after = predict(back, x);
  CHECK(same_bits<T>(before, after));
  // The written text reads back to the same text: nothing drifts over repeated saves.
  CHECK(model_to_json(back).dump(1) == text);
}

}  // namespace

TEST_CASE("model file round trip gives bit-identical predictions (float)") {
  check_round_trip<float>();
}
TEST_CASE("model file round trip gives bit-identical predictions (double)") {
  check_round_trip<double>();
}

TEST_CASE("model file round trip through a file on disk") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_model_file";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.json").string();
  const auto m = example_model<float>();
  write_model(path, m);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  const auto back = read_model<float>(path);
  const auto x = example_data<float>(100);
  CHECK(same_bits<float>(predict(m, x), predict(back, x)));
  std::filesystem::remove_all(dir);
}

TEST_CASE("float weights are written with the fewest digits that read back exactly") {
  ModelFile<float> m;
  m.inputs.names = {"x"};
  m.inputs.offset = {0.0};
  m.inputs.scale = {1.0};
  DenseWeights<float> l;
  l.weights.resize(1, 1);
  l.weights(0, 0) = 0.1f;
  l.bias.resize(1);
  l.bias(0) = -3.3333333f;
  m.layers.push_back(l);
  m.outputs = {"y"};
  const std::string text = model_to_json(m).dump();
  CHECK(text.find("\"weights\":[0.1]") != std::string::npos);
  CHECK(text.find("\"bias\":[-3.3333333]") != std::string::npos);
  CHECK(text.find("\"activation\":\"linear\"") != std::string::npos);
}

TEST_CASE("predict matches a hand computation: standardisation, dense, sigmoid, softmax") {
  ModelFile<double> m;
  m.inputs.names = {"a", "b"};
  m.inputs.offset = {1.0, -2.0};
  m.inputs.scale = {0.5, 2.0};
  DenseWeights<double> l1;
  l1.weights.resize(2, 2);
  l1.weights << 1.0, -1.0, 0.5, 2.0;
  l1.bias.resize(2);
  l1.bias << 0.25, -0.5;
  l1.activation = {Activation::relu(), false};
  DenseWeights<double> l2;
  l2.weights.resize(1, 2);
  l2.weights << 2.0, -3.0;
  l2.bias.resize(1);
  l2.bias << 0.1;
  l2.activation = {Activation::sigmoid(), false};
  m.layers = {l1, l2};
  m.outputs = {"signal"};
  Matrix<double> x(1, 2);
  x << 3.0, 2.5;
  // standardised: (3 + 1) * 0.5 = 2, (2.5 - 2) * 2 = 1
  // hidden: relu(2 - 1 + 0.25) = 1.25, relu(1 + 2 - 0.5) = 2.5
  // output: sigmoid(2.5 - 7.5 + 0.1) = sigmoid(-4.9)
  const double expected = 1.0 / (1.0 + std::exp(4.9));
  CHECK(predict(m, x)(0, 0) == doctest::Approx(expected).epsilon(1e-15));

  m.layers[1].weights.resize(2, 2);
  m.layers[1].weights << 2.0, -3.0, 1.0, 1.0;
  m.layers[1].bias.resize(2);
  m.layers[1].bias << 0.1, 0.0;
  m.layers[1].activation = LayerActivation::softmax_over_outputs();
  m.outputs = {"b", "s"};
  // logits -4.9 and 3.75
  const auto y = predict(m, x);
  const double p0 = std::exp(-4.9) / (std::exp(-4.9) + std::exp(3.75));
  CHECK(y(0, 0) == doctest::Approx(p0).epsilon(1e-14));
  CHECK(y(0, 1) == doctest::Approx(1.0 - p0).epsilon(1e-14));
}

TEST_CASE("a plain lwtnn file (no agnostic key) reads") {
  const auto j = nlohmann::json::parse(R"({
    "inputs": [{"name": "x", "offset": 0.5, "scale": 2.0}],
    "layers": [{"architecture": "dense", "weights": [1.5, -2.0], "bias": [0.0, 1.0],
                "activation": {"function": "leakyrelu", "alpha": 0.2}},
               {"architecture": "dense", "weights": [1.0, 1.0], "bias": [0.0], "activation": "linear"}],
    "outputs": ["y"],
    "defaults": {}, "miscellaneous": {}})");
  const auto m = model_from_json<double>(j, "lwtnn.json");
  CHECK(m.layers[0].activation.elementwise == Activation::leaky_relu(0.2));
  CHECK(m.missing_values.empty());
  CHECK(m.parameter_count() == 7);
  Matrix<double> x(1, 1);
  x << -1.0;
  // standardised: (-1 + 0.5) * 2 = -1; hidden: leaky(-1.5) = -0.3, leaky(2 + 1) = 3; output: 2.7
  CHECK(predict(m, x)(0, 0) == doctest::Approx(2.7));
}

namespace {

nlohmann::json good_json() {
  return model_to_json(example_model<float>());
}

std::string load_error(const nlohmann::json& j) {
  try {
    model_from_json<float>(j, "bad.json");
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("malformed model files are refused with a message naming the key and layer") {
  auto has = [](const std::string& message, const std::string& part) {
    INFO(message);
    CHECK(message.find(part) != std::string::npos);
  };
  {
    auto j = good_json();
    j.erase("layers");
    has(load_error(j), "model file 'bad.json': missing key 'layers'");
  }
  {
    auto j = good_json();
    j["layers"][1]["weights"].erase(0);
    has(load_error(j), "layers[1].weights has 34 entries, expected n_out x n_in = 5 x 7 = 35");
  }
  {
    auto j = good_json();
    j["layers"][0]["weights"].push_back(1.0);
    has(load_error(j),
        "layers[0].weights has 36 entries, expected n_out x n_in = 7 x 5 = 35 (n_out from the "
        "bias, n_in from the inputs)");
  }
  {
    auto j = good_json();
    j["layers"][2]["activation"] = "swish";
    has(load_error(j), "layers[2].activation: unknown activation 'swish'; allowed: linear, rectified");
  }
  {
    auto j = good_json();
    j["layers"][0]["activation"] = "leakyrelu";
    has(load_error(j), "layers[0].activation: activation 'leakyrelu' needs its slope");
  }
  {
    auto j = good_json();
    j["layers"][0]["activation"]["alpha"] = 1.5;
    has(load_error(j), "layers[0].activation: LeakyReLU needs 0 < alpha < 1, got 1.5");
  }
  {
    auto j = good_json();
    j["layers"][1]["architecture"] = "lstm";
    has(load_error(j), "layers[1]: architecture \"lstm\" is not supported; allowed: \"dense\"");
  }
  {
    auto j = good_json();
    j["layers"][1].erase("bias");
    has(load_error(j), "layers[1]: missing key 'bias'");
  }
  {
    auto j = good_json();
    j["layers"][0]["bias"][3] = "x";
    has(load_error(j), "layers[0].bias[3] must be a number, found \"x\"");
  }
  {
    auto j = good_json();
    j["layers"][0]["bias"][3] = 1e300;
    has(load_error(j), "layers[0].bias[3] = 1e+300 is not a finite float");
  }
  {
    auto j = good_json();
    j["outputs"].push_back("extra");
    has(load_error(j), "'outputs' names 4 labels but the last layer has 3 outputs");
  }
  {
    auto j = good_json();
    j["inputs"][2].erase("scale");
    has(load_error(j), "inputs[2]: key 'scale' must be a number");
  }
  {
    auto j = good_json();
    j["weights"] = 1;
    has(load_error(j), "unknown top-level key 'weights'");
  }
  {
    auto j = good_json();
    j["agnostic"]["format_version"] = 9;
    has(load_error(j),
        "agnostic.format_version is 9; this agnostic reads versions 1 to 1 (the file was written by "
        "a newer agnostic)");
  }
  {
    auto j = good_json();
    j["agnostic"]["branches"][0]["input_layer"] = 7;
    has(load_error(j), "agnostic.branches[0].input_layer is 7; expected 0 (the inputs) to 3");
  }
  {
    auto j = good_json();
    j["agnostic"]["branches"][0]["layers"][0]["weights"].erase(0);
    has(load_error(j),
        "agnostic.branches[0].layers[0].weights has 19 entries, expected n_out x n_in = 4 x 5 = 20 "
        "(n_out from the bias, n_in from layers[1])");
  }
  {
    auto j = good_json();
    j["agnostic"]["missing_values"][0]["indicator"] = "nowhere";
    has(load_error(j), "the indicator 'nowhere' is not one of the inputs");
  }
  {
    auto j = good_json();
    j["layers"] = nlohmann::json::array();
    has(load_error(j), "layers is empty; expected at least one layer");
  }
}

TEST_CASE("model files that are not JSON, or cannot be written, give clear errors") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_model_file_bad";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "broken.json").string();
  {
    std::ofstream out(path);
    out << "{\"inputs\": [1, 2";
  }
  const std::string expected = "model file '" + path + "' is not valid JSON";
  CHECK_THROWS_WITH_AS(read_model<float>(path), doctest::Contains(expected.c_str()), agnostic::Error);
  CHECK_THROWS_WITH_AS(read_model<float>((dir / "absent.json").string()),
                       doctest::Contains("cannot open model file"), agnostic::Error);
  auto m = example_model<float>();
  m.layers[1].weights(2, 3) = std::nanf("");
  CHECK_THROWS_WITH_AS(model_to_json(m), doctest::Contains("layers[1] weight is nan"), agnostic::Error);
  std::filesystem::remove_all(dir);
}

namespace {

// A random JSON text: numbers in every form JSON allows (signs, fractions, exponents down to
// underflow, integers beyond 64 bits), strings with escapes and UTF-8, nesting.
std::string random_json_text(std::mt19937_64& gen, int depth) {
  auto pick = [&](int n) { return static_cast<int>(gen() % static_cast<std::uint64_t>(n)); };
  auto digits = [&](int n, bool leading_nonzero) {
    std::string d;
    for (int k = 0; k < n; ++k)
      d += static_cast<char>('0' + (k == 0 && leading_nonzero ? 1 + pick(9) : pick(10)));
    return d;
  };
  const int kind = depth > 3 ? pick(3) : pick(5);
  if (kind == 0) {  // a number
    std::string n = pick(3) == 0 ? "-" : "";
    const int int_digits = 1 + pick(pick(4) == 0 ? 25 : 4);
    n += pick(5) == 0 ? "0" : digits(int_digits, true);
    if (pick(2)) n += "." + digits(1 + pick(20), false);
    if (pick(2))
      n += std::string(pick(2) ? "e" : "E") + (pick(2) ? "-" : (pick(2) ? "+" : "")) +
           std::to_string(pick(330));
    return n;
  }
  if (kind == 1) {  // a string
    const char* pieces[] = {
        "a",        "Z",           "7", " ", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u00e9", "\\ud83d\\ude00",
        "\xc3\xa9", "\xe2\x82\xac"};
    std::string t = "\"";
    for (int k = pick(8); k > 0; --k) t += pieces[pick(13)];
    return t + "\"";
  }
  if (kind == 2) {
    const char* literals[] = {"true", "false", "null"};
    return literals[pick(3)];
  }
  const bool object = kind == 4;
  std::string t = object ? "{" : "[";
  const int n = pick(6);
  for (int k = 0; k < n; ++k) {
    t += k ? (pick(2) ? "," : " ,\n ") : "";
    if (object) t += "\"key" + std::to_string(k) + "\" : ";
    t += random_json_text(gen, depth + 1);
  }
  return t + (object ? "}" : "]");
}

// Same structure, same strings, the same bits for every number.
void check_same_value(const JsonValue& ours, const nlohmann::json& theirs) {
  if (theirs.is_number()) {
    REQUIRE(ours.is_number());
    const double a = ours.number(), b = theirs.get<double>();
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    CHECK(ours.is_integer() ==
          (theirs.is_number_integer() &&
           (theirs.is_number_unsigned() ? theirs.get<std::uint64_t>() <= 9223372036854775807ull : true)));
  } else if (theirs.is_string()) {
    REQUIRE(ours.is_string());
    CHECK(ours.string() == theirs.get<std::string>());
  } else if (theirs.is_array()) {
    REQUIRE(ours.is_array());
    REQUIRE(ours.size() == theirs.size());
    for (std::size_t k = 0; k < ours.size(); ++k) check_same_value(ours[k], theirs[k]);
  } else if (theirs.is_object()) {
    REQUIRE(ours.is_object());
    REQUIRE(ours.size() == theirs.size());
    for (const auto& [key, value] : theirs.items()) {
      REQUIRE(ours.contains(key));
      check_same_value(ours[key], value);
    }
  } else {
    CHECK(ours.type_name() == std::string(theirs.type_name()));
    if (theirs.is_boolean()) CHECK(ours.boolean() == theirs.get<bool>());
  }
}

std::string json_error(const std::string& text) {
  try {
    (void)parse_json_text(text, "model file 'm.json'");
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the model reader's JSON gives nlohmann/json's values, bit for bit, on random documents") {
  std::mt19937_64 gen(20261205);
  int compared = 0, refused_by_both = 0;
  for (int k = 0; k < 400; ++k) {
    const std::string text = random_json_text(gen, 0);
    INFO(text);
    nlohmann::json theirs;
    try {
      theirs = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      // Only a number beyond the largest double: nlohmann/json refuses it, and so must we.
      CHECK(json_error(text).find("is larger than the largest double") != std::string::npos);
      ++refused_by_both;
      continue;
    }
    check_same_value(parse_json_text(text, "random"), theirs);
    ++compared;
  }
  CHECK(compared > 300);
  // Values that sit at the edges: integers around 2^63 and 2^64, subnormals, underflow to zero.
  for (const char* edge :
       {"-0", "0.0", "-0.0", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551615", "18446744073709551616", "4.9e-324", "2.4703282292062327e-324", "1e-400",
        "-1e-400", "1.7976931348623157e308", "0.1", "123456789012345678901234567890"}) {
    INFO(edge);
    check_same_value(parse_json_text(edge, "edge"), nlohmann::json::parse(edge));
  }
}

TEST_CASE("the model reader's JSON names the line and column of what is wrong") {
  auto has = [](const std::string& message, const std::string& part) {
    INFO(message);
    CHECK(message.find(part) != std::string::npos);
  };
  has(json_error("{\"inputs\": [1, 2"),
      "model file 'm.json' is not valid JSON: line 1, column 17: unexpected end");
  has(json_error("{\n  \"a\": 1,\n  \"a\": 2\n}"),
      "line 3, column 3: the key 'a' appears twice in this object");
  has(json_error("[1, 2,]"), "line 1, column 7: a trailing ',' before ']'");
  has(json_error("{\n \"w\": [0.5,\n  NaN]}"), "line 3, column 3: unexpected 'N'; expected a value");
  has(json_error("[1e999]"), "line 1, column 2: the number 1e999 is larger than the largest double");
  has(json_error("[01]"), "line 1, column 2: a number may not start with 0 followed by digits");
  has(json_error("\"tab\there\""), "line 1, column 5: a control character (code 9) inside a string");
  has(json_error("\"\\ud800\""), "a \\u escape of a high surrogate without its low one");
  has(json_error("\"\xff\""), "line 1, column 2: a byte that is not UTF-8 inside a string");
  has(json_error("{} {}"), "line 1, column 4: unexpected '{' after the end of the JSON value");
  has(json_error("// a comment\n{}"), "line 1, column 1: unexpected '/'");
  has(json_error(std::string(600, '[') + std::string(600, ']')), "nested deeper than 512 levels");
  // Where each value starts, for messages that point into a file.
  const JsonValue v = parse_json_text("{\n  \"layers\": [\n    {\"bias\": [1]}]}", "m");
  CHECK(v["layers"].line() == 2);
  CHECK(v["layers"].column() == 13);
  CHECK(v["layers"][0]["bias"].line() == 3);
  CHECK(v["layers"][0]["bias"].column() == 14);
  CHECK(v["layers"].dump() == "[{\"bias\":[1]}]");
}

TEST_CASE("a model file read by the model reader and by nlohmann/json gives the same model") {
  // The file read from disk (agnostic's reader) and the same JSON handed over in memory give
  // the same numbers and the same provenance.
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_model_reader_json";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "m.json").string();
  auto m = example_model<double>();
  m.training = {
      {"seed", 7}, {"config", {{"learning_rate", 0.001}, {"layers", {16, 8}}}}, {"note", "caf\u00e9"}};
  write_model(path, m);
  const ModelFile<double> from_file = read_model<double>(path);
  const ModelFile<double> from_memory = model_from_json<double>(model_to_json(m), "memory");
  CHECK(from_file.training == m.training);
  CHECK(from_memory.training == m.training);
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    CHECK(from_file.layers[l].weights == m.layers[l].weights);
    CHECK(from_memory.layers[l].bias == m.layers[l].bias);
  }
  const ModelRecord<double> record = read_model_record<double>(path);
  CHECK(record.layers[1].weights[static_cast<std::size_t>(2 * record.layers[1].n_in + 3)] ==
        m.layers[1].weights(2, 3));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a Sequential stored and rebuilt gives the same bits as the network it came from") {
  Rng rng(11);
  agnostic::Sequential<float> net({5, 40, 30, 1}, Activation::elu(), Activation::identity(), rng);
  ModelFile<float> m;
  m.inputs.names = {"a", "b", "c", "d", "e"};
  m.inputs.offset.assign(5, 0.0);
  m.inputs.scale.assign(5, 1.0);
  m.layers = dense_weights(net);  // logits kept, to compare with the tape
  m.outputs = {"logit"};
  const Matrix<float> x = example_data<float>(3000);
  agnostic::Tape<float> tape;
  const Matrix<float> on_tape = net(tape, tape.input(x)).value();
  CHECK(same_bits<float>(predict(m, x), on_tape));

  // With the sigmoid output stored, then read back as logits for more training.
  m.layers = dense_weights(net, LayerActivation{Activation::sigmoid(), false});
  const auto back = model_from_json<float>(model_to_json(m), "memory");
  CHECK(back.layers.back().activation.elementwise == Activation::sigmoid());
  agnostic::Sequential<float> rebuilt = to_sequential(back.layers, true);
  agnostic::Tape<float> tape2;
  CHECK(same_bits<float>(rebuilt(tape2, tape2.input(x)).value(), on_tape));
  const Matrix<float> p = predict(back, x);
  CHECK(p(0, 0) ==
        doctest::Approx(1.0 / (1.0 + std::exp(-static_cast<double>(on_tape(0, 0))))).epsilon(1e-6));

  const agnostic::Sequential<float> tanh_out({2, 2}, Activation::tanh(), Activation::tanh(), rng);
  CHECK_THROWS_WITH_AS(dense_weights(tanh_out, LayerActivation::softmax_over_outputs()),
                       doctest::Contains("the output function softmax: its last layer already has tanh"),
                       agnostic::Error);
  auto bad = back.layers;
  bad.front().activation = LayerActivation::softmax_over_outputs();
  CHECK_THROWS_WITH_AS(to_sequential(bad, true),
                       doctest::Contains("layers[0]: softmax is only supported as the output"),
                       agnostic::Error);
}

TEST_CASE("predict gives the tape's bits however the rows are split into chunks, every activation") {
  // io::predict runs without a tape; it must split the rows as the tape's dense node does and run the
  // same arithmetic in each chunk (core/dense_rows.hpp), so a written model reproduces its network.
  Rng rng(12);
  std::vector<DenseWeights<float>> layers;
  const Index widths[] = {5, 33, 17, 24, 9, 12, 20, 4};
  const Activation functions[] = {Activation::relu(),    Activation::leaky_relu(0.2), Activation::elu(0.7),
                                  Activation::tanh(),    Activation::softplus(),      Activation::sigmoid(),
                                  Activation::identity()};
  for (int l = 0; l < 7; ++l)
    layers.push_back(random_layer<float>(widths[l], widths[l + 1], {functions[l], false}, rng));
  agnostic::Sequential<float> net = to_sequential(layers, false, "all activations");
  ModelFile<float> m;
  m.inputs = {{"a", "b", "c", "d", "e"}, std::vector<double>(5, 0.0), std::vector<double>(5, 1.0)};
  m.layers = layers;
  m.outputs = {"w", "x", "y", "z"};
  const Matrix<float> x = example_data<float>(1001);
  const long min_work = agnostic::parallel_min_work();
  const int threads_before = agnostic::threads();
  for (const int threads : {1, 2, 3}) {
    for (const long work : {1L << 19, 1L}) {  // the default, and a chunk per thread in every layer
      CAPTURE(threads);
      CAPTURE(work);
      agnostic::set_threads(threads);
      agnostic::set_parallel_min_work(work);
      agnostic::Tape<float> tape;
      const Matrix<float> on_tape = net(tape, tape.input(x)).value();
      CHECK(same_bits<float>(predict(m, x), on_tape));
    }
  }
  agnostic::set_parallel_min_work(min_work);
  agnostic::set_threads(threads_before);
}
