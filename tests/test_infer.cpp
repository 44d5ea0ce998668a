// Trigger-side inference: infer::Network against io::predict (the bound of docs/inference.md),
// its size checks, the batch path, the model file's self-checking test vector, and the standalone
// header compiled on its own by g++ and run.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agnostic/core/rng.hpp"
#include "agnostic/infer.hpp"
#include "agnostic/io/model_file.hpp"
#include "model_file_helpers.hpp"

using namespace agnostic;
using io::DenseWeights;
using io::LayerActivation;
using io::ModelFile;

namespace {

template <class T>
DenseWeights<T> random_layer(Index n_in, Index n_out, LayerActivation f, Rng& rng) {
  return agnostic::test::random_layer<T>(n_in, n_out, f, rng, std::sqrt(2.0 / static_cast<double>(n_in)),
                                         0.1);
}

// 4 features (two with missing-value rules, one with an indicator, one with a NaN marker) + 1
// indicator -> 7 leaky relu -> 5 elu(0.5) -> 6 tanh -> 3 softmax.
template <class T>
ModelFile<T> rules_model() {
  Rng rng(42);
  ModelFile<T> m;
  m.inputs.names = {"pt", "eta", "phi", "mass", "mass_missing"};
  for (int i = 0; i < 5; ++i) {
    m.inputs.offset.push_back(rng.normal(0.0, 30.0));
    m.inputs.scale.push_back(rng.uniform(0.01, 2.0));
  }
  m.missing_values.rules.push_back({"mass", -999.0, 91.1876, "mass_missing"});
  m.missing_values.rules.push_back({"phi", std::nan(""), 0.25, ""});
  m.layers.push_back(random_layer<T>(5, 7, {Activation::leaky_relu(0.3), false}, rng));
  m.layers.push_back(random_layer<T>(7, 5, {Activation::elu(0.5), false}, rng));
  m.layers.push_back(random_layer<T>(5, 6, {Activation::tanh(), false}, rng));
  m.layers.push_back(random_layer<T>(6, 3, LayerActivation::softmax_over_outputs(), rng));
  m.outputs = {"background", "higgs", "z"};
  return m;
}
using RulesNetwork = infer::Network<float, 5, 7, 5, 6, 3>;

// The W5 shape: 26 -> 48 x 4 relu -> 3 softmax (or `output` on the last layer).
template <class T>
ModelFile<T> w5_model(LayerActivation output = LayerActivation::softmax_over_outputs()) {
  Rng rng(5);
  ModelFile<T> m;
  for (int i = 0; i < 26; ++i) {
    {
      std::string name = std::to_string(i);
      name.insert(name.begin(), 'f');
      m.inputs.names.push_back(name);
    }
    m.inputs.offset.push_back(rng.normal(0.0, 50.0));
    m.inputs.scale.push_back(rng.uniform(0.05, 1.0));
  }
  Index n_in = 26;
  for (int l = 0; l < 4; ++l, n_in = 48)
    m.layers.push_back(random_layer<T>(n_in, 48, {Activation::relu(), false}, rng));
  m.layers.push_back(random_layer<T>(48, 3, output, rng));
  m.outputs = {"a", "b", "c"};
  return m;
}
template <class T>
using W5Network = infer::Network<T, 26, 48, 48, 48, 48, 3>;

// Raw events around each feature's training mean, with markers sprinkled into the rule features.
template <class T>
Matrix<T> raw_events(const ModelFile<T>& m, Index n, Rng& rng) {
  const auto features = m.feature_names();
  Matrix<T> x(n, static_cast<Index>(features.size()));
  for (Index k = 0; k < n; ++k)
    for (Index j = 0; j < x.cols(); ++j) {
      const auto jj = static_cast<std::size_t>(j);
      x(k, j) = static_cast<T>(-m.inputs.offset[jj] + rng.normal(0.0, 2.0) / m.inputs.scale[jj]);
      if (const auto* rule = m.missing_values.find(features[jj]); rule && rng.below(4) == 0)
        x(k, j) =
            std::isnan(rule->marker) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(rule->marker);
    }
  return x;
}

template <class Net, class T>
Matrix<T> evaluate_all(const Net& net, const Matrix<T>& raw) {
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor x = raw;
  RowMajor y(raw.rows(), static_cast<Index>(Net::n_outputs));
  for (Index k = 0; k < raw.rows(); ++k) net.evaluate(x.row(k).data(), y.row(k).data());
  return y;
}

// The bound of docs/inference.md: |infer - predict| <= tolerance * max(1, |predict|).
template <class T>
double worst_relative_difference(const Matrix<T>& a, const Matrix<T>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  double worst = 0.0;
  for (Index k = 0; k < a.rows(); ++k)
    for (Index o = 0; o < a.cols(); ++o) {
      const double d = std::abs(static_cast<double>(a(k, o)) - static_cast<double>(b(k, o)));
      worst = std::max(worst, d / std::max(1.0, std::abs(static_cast<double>(b(k, o)))));
    }
  return worst;
}

using agnostic::test::error_of;

}  // namespace

TEST_CASE("infer::Network gives predict's numbers: missing values, indicators, five activations") {
  const ModelFile<float> m = rules_model<float>();
  const RulesNetwork net(m);
  CHECK(net.n_features() == 4);
  CHECK(net.feature_names() == std::vector<std::string>{"pt", "eta", "phi", "mass"});
  Rng rng(7);
  const Matrix<float> raw = raw_events(m, 2000, rng);
  const Matrix<float> expected = io::predict_features(m, raw);
  CHECK(worst_relative_difference(evaluate_all(net, raw), expected) <= 1e-5);
  // The rules really fired: some events hold markers, and they differ from the unreplaced value.
  CHECK(std::isnan(raw.col(2).sum()));

  // Double: the same network in double agrees to double rounding.
  const ModelFile<double> md = rules_model<double>();
  const infer::Network<double, 5, 7, 5, 6, 3> net_d(md);
  const Matrix<double> raw_d = raw.cast<double>();
  CHECK(worst_relative_difference(evaluate_all(net_d, raw_d), io::predict_features(md, raw_d)) <= 1e-12);
}

TEST_CASE("infer::Network on the W5 shape agrees with predict to 1e-5 (softmax, sigmoid, linear outputs)") {
  Rng rng(11);
  for (const LayerActivation output :
       {LayerActivation::softmax_over_outputs(), LayerActivation{Activation::sigmoid(), false},
        LayerActivation{Activation::identity(), false}}) {
    const ModelFile<float> m = w5_model<float>(output);
    const auto net = std::make_unique<W5Network<float>>(m);
    const Matrix<float> raw = raw_events(m, 3000, rng);
    const Matrix<float> expected = io::predict_features(m, raw);
    const double worst = worst_relative_difference(evaluate_all(*net, raw), expected);
    INFO("output ", io::model_detail::describe_activation(output), ": worst ", worst);
    CHECK(worst <= 1e-5);
  }
}

TEST_CASE("evaluate_batch gives evaluate's bits for every event, alone and from two threads on one network") {
  const ModelFile<float> m = w5_model<float>();
  const auto net = std::make_unique<W5Network<float>>(m);
  Rng rng(2);
  const Matrix<float> raw = raw_events(m, 1000, rng);
  const Matrix<float> one_by_one = evaluate_all(*net, raw);
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMajor x = raw;
  const auto n = static_cast<std::size_t>(raw.rows());
  RowMajor y(raw.rows(), 3);
  net->evaluate_batch(x.data(), n, y.data());
  CHECK(Matrix<float>(y) == one_by_one);
  // Each thread takes half the events; evaluate is const and keeps its work on the caller's stack.
  RowMajor halves(raw.rows(), 3);
  const std::size_t half = n / 2;
  std::thread first([&] { net->evaluate_batch(x.data(), half, halves.data()); });
  net->evaluate_batch(x.data() + half * net->n_features(), n - half, halves.data() + half * 3);
  first.join();
  CHECK(Matrix<float>(halves) == one_by_one);
}

TEST_CASE("infer::Network refuses a model of another shape, naming the layer") {
  const ModelFile<float> m = rules_model<float>();
  CHECK(error_of([&] { infer::Network<float, 5, 7, 5, 6, 2> n(m, "m.json"); }) ==
        "infer::Network: model 'm.json': layers[3] is 6 -> 3 but Network<5, 7, 5, 6, 2> expects 6 -> 2");
  CHECK(error_of([&] { infer::Network<float, 5, 8, 5, 6, 3> n(m, "m.json"); }) ==
        "infer::Network: model 'm.json': layers[0] is 5 -> 7 but Network<5, 8, 5, 6, 3> expects 5 -> 8");
  CHECK(error_of([&] { infer::Network<float, 5, 7, 3> n(m, "m.json"); }) ==
        "infer::Network: model 'm.json' has 4 layers but Network<5, 7, 3> has 2");
  CHECK(error_of([&] { infer::Network<float, 4, 7, 5, 6, 3> n(m, "m.json"); }) ==
        "infer::Network: model 'm.json' has 5 inputs but Network<4, 7, 5, 6, 3> expects 4");
}

TEST_CASE("a model file carries a test vector that every reader checks") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_infer";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.json").string();
  const ModelFile<float> m = rules_model<float>();
  io::write_model(path, m);
  nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
  REQUIRE(j["agnostic"].contains("test_vector"));
  const auto& tv = j["agnostic"]["test_vector"];
  CHECK(tv["precision"] == "float");
  REQUIRE(tv["features"].size() == 5);  // four points and one with every rule's marker
  CHECK(tv["features"][4][3] == -999.0);
  CHECK(tv["features"][4][2] == "nan");

  // Round trip: bit-exact weights, and the test vector read back and checked.
  const ModelFile<float> back = io::read_model<float>(path);
  CHECK(back.test_vector.n_events == 5);
  for (std::size_t l = 0; l < m.layers.size(); ++l) CHECK(back.layers[l].weights == m.layers[l].weights);
  const RulesNetwork net(back, path);  // infer recomputes it with its own kernel
  CHECK(io::model_to_json(back).dump(1) == j.dump(1));
  // load_network reads the file as read_model does and checks the test vector with the Network.
  CHECK(infer::load_network<RulesNetwork>(path)->feature_names() == back.feature_names());

  // A hand-edited weight is refused by read_model and by infer::Network.
  nlohmann::json edited = j;
  edited["layers"][1]["weights"][3] = edited["layers"][1]["weights"][3].get<double>() + 0.5;
  std::ofstream(path) << edited.dump(1);
  const std::string message = error_of([&] { (void)io::read_model<float>(path); });
  CHECK(message.find("model file '" + path +
                     "': its test vector disagrees with what agnostic's predict "
                     "computes from its weights: event ") == 0);
  CHECK(message.find("The file was edited, truncated or misread") != std::string::npos);
  CHECK(error_of([&] { (void)infer::load_network<RulesNetwork>(path); })
            .find("model file '" + path +
                  "': its test vector disagrees with what infer::Network<5, 7, 5, 6, 3> computes") == 0);
  ModelFile<float> edited_model = io::model_from_json<float>(j, "x");
  edited_model.layers[1].weights(0, 3) += 0.5f;  // weights[3] of the file: row 0, column 3
  CHECK(
      error_of([&] { RulesNetwork n(edited_model, "edited.json"); })
          .find("model file 'edited.json': its test vector disagrees with what infer::Network<5, 7, 5, 6, 3> "
                "computes") == 0);

  // Old files without a test vector still load.
  nlohmann::json old = edited;
  old["agnostic"].erase("test_vector");
  std::ofstream(path) << old.dump(1);
  CHECK(io::read_model<float>(path).test_vector.empty());

  // A double model read as float passes (float rounding is allowed); a double file checks to 1e-9.
  const std::string path_d = (dir / "model_d.json").string();
  io::write_model(path_d, rules_model<double>());
  CHECK(io::read_model<double>(path_d).test_vector.precision == "double");
  CHECK(io::read_model<float>(path_d).layers.size() == 4);
  std::filesystem::remove_all(dir);
}

namespace {

// Writes `m` as the standalone header `name` into `dir`, compiles it alone (g++ -std=c++17 -O2, no
// include path but the header's directory) with a small driver, runs it on `raw` and returns its
// outputs; checks the names it prints first.
Matrix<float> standalone_header_outputs(const ModelFile<float>& m, const std::string& name,
                                        const Matrix<float>& raw, const std::filesystem::path& dir) {
  {
    std::ofstream(dir / (name + ".hpp")) << infer::standalone_header(m, name);
    std::ofstream main(dir / (name + "_main.cpp"));
    main << "#include \"" << name << ".hpp\"\n#include <cstdio>\n#include <cstdlib>\n#include <cstring>\n"
         << "int main() {\n  float x[" << name << "::n_inputs], y[" << name << "::n_outputs];\n"
         << "  static_assert(sizeof(" << name << "::input_names) / sizeof(const char*) == " << name
         << "::n_inputs);\n"
         << "  std::printf(\"%s %s\\n\", " << name << "::input_names[0], " << name << "::output_names[0]);\n"
         << "  while (true) {\n    for (auto& v : x) { char t[64]; if (std::scanf(\"%63s\", t) != 1) "
            "return 0;\n"
         << "      v = std::strcmp(t, \"nan\") == 0 ? __builtin_nanf(\"\") : "
            "static_cast<float>(std::strtod(t, "
            "nullptr)); }\n"
         << "    " << name << "::evaluate(x, y);\n"
         << "    for (float v : y) std::printf(\"%.9g \", static_cast<double>(v));\n    "
            "std::printf(\"\\n\");\n  }\n}\n";
  }
  const std::string exe = (dir / name).string();
  const std::string compile = "cd '" + dir.string() +
                              "' && env -u CPATH -u CPLUS_INCLUDE_PATH g++ -std=c++17 -O2 "
                              "-Wall -Wextra -Wpedantic -Werror -nostdinc++ -isystem /usr/include/c++/12 "
                              "-isystem /usr/include/x86_64-linux-gnu/c++/12 " +
                              name + "_main.cpp -o " + exe + " 2> " + exe + ".log";
  if (std::system(compile.c_str()) != 0) {
    std::ifstream log(exe + ".log");
    std::stringstream s;
    s << log.rdbuf();
    FAIL("compiling the standalone header failed: ", s.str());
  }
  {
    std::ofstream in(exe + ".in");
    char buffer[64];
    for (Index k = 0; k < raw.rows(); ++k)
      for (Index j = 0; j < raw.cols(); ++j) {
        if (std::isnan(raw(k, j)))
          in << "nan ";
        else {
          std::snprintf(buffer, sizeof buffer, "%.9g ", static_cast<double>(raw(k, j)));
          in << buffer;
        }
      }
  }
  REQUIRE(std::system((exe + " < " + exe + ".in > " + exe + ".out").c_str()) == 0);
  std::ifstream out(exe + ".out");
  std::string first_name, first_output;
  out >> first_name >> first_output;
  CHECK(first_name == m.feature_names()[0]);
  CHECK(first_output == m.outputs[0]);
  Matrix<float> got(raw.rows(), m.n_outputs());
  for (Index k = 0; k < got.rows(); ++k)
    for (Index o = 0; o < got.cols(); ++o) REQUIRE(static_cast<bool>(out >> got(k, o)));
  return got;
}

}  // namespace

TEST_CASE("the standalone header compiles alone with g++ -std=c++17 and gives predict's numbers") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_infer_header";
  std::filesystem::create_directories(dir);
  for (const bool with_rules : {true, false}) {
    const ModelFile<float> m = with_rules ? rules_model<float>() : w5_model<float>();
    Rng rng(9);
    const Matrix<float> raw = raw_events(m, 500, rng);
    const Matrix<float> got = standalone_header_outputs(m, with_rules ? "rules_net" : "w5_net", raw, dir);
    CHECK(worst_relative_difference(got, io::predict_features(m, raw)) <= 1e-5);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("DANN and ADNN model files: predict, infer::Network and the header give the classifier's scores") {
  const auto dir = std::filesystem::temp_directory_path() / "agnostic_test_infer_branches";
  std::filesystem::create_directories(dir);
  for (const bool adnn : {false, true}) {
    CAPTURE(adnn);
    ModelFile<float> m = rules_model<float>();
    Rng rng(adnn ? 8 : 7);
    io::ModelBranch<float> branch;
    if (adnn) {  // an adversary reading the classifier's softmax output (main layer 4), 2 mass bins
      branch = {"adversary", 4, {}, {"mass_bin_0", "mass_bin_1"}};
      branch.layers.push_back(random_layer<float>(3, 6, {Activation::tanh(), false}, rng));
      branch.layers.push_back(random_layer<float>(6, 2, LayerActivation::softmax_over_outputs(), rng));
    } else {  // a domain classifier reading the second hidden layer (5 wide), behind gradient reversal
      branch = {"domain", 2, {}, {"domain"}};
      branch.layers.push_back(random_layer<float>(5, 4, {Activation::relu(), false}, rng));
      branch.layers.push_back(random_layer<float>(4, 1, {Activation::sigmoid(), false}, rng));
    }
    m.branches.push_back(branch);
    const std::string path = (dir / (adnn ? "adnn.json" : "dann.json")).string();
    io::write_model(path, m);
    const ModelFile<float> read = io::read_model<float>(path);
    REQUIRE(read.branches.size() == 1);
    Rng events(21);
    const Matrix<float> raw = raw_events(read, 400, events);
    const Matrix<float> scores = io::predict_features(read, raw);
    // predict gives the classifier's scores: the same bits as the network without its branch.
    ModelFile<float> classifier = read;
    classifier.branches.clear();
    const Matrix<float> classifier_scores = io::predict_features(classifier, raw);
    REQUIRE(scores.cols() == 3);
    CHECK((scores.array() == classifier_scores.array()).all());
    const RulesNetwork net(read, path);
    CHECK(net.output_names() == std::vector<std::string>{"background", "higgs", "z"});
    CHECK(worst_relative_difference(evaluate_all(net, raw), scores) <= 1e-5);
    const Matrix<float> header = standalone_header_outputs(read, adnn ? "adnn_net" : "dann_net", raw, dir);
    CHECK(worst_relative_difference(header, scores) <= 1e-5);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("the standalone header refuses names that are not C++ identifiers") {
  const ModelFile<float> m = rules_model<float>();
  CHECK(error_of([&] {
          (void)infer::standalone_header(m, "2fast");
        }).find("the name '2fast' is not a C++ identifier") != std::string::npos);
  CHECK(error_of([&] { (void)infer::standalone_header(m, "namespace"); }).find("is a C++ keyword") !=
        std::string::npos);
  CHECK(error_of([&] { (void)infer::standalone_header(m, "my__net"); }).find("reserved") !=
        std::string::npos);
  CHECK(infer::standalone_header(m, "trigger_nn").find("namespace trigger_nn {") != std::string::npos);
}
