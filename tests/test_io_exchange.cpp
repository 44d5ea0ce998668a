// Model exchange: the protobuf wire format, ONNX and lwtnn export (checked by ONNX's own checker
// and by independent numpy evaluators in tests/data/), ONNX import of PyTorch-made fixtures
// (tests/data/onnx/make_fixtures.py, outputs from PyTorch itself), lwtnn import, the commands, and
// a clear error for each malformed or unsupported file.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/rng.hpp"
#include "agnostic/io/lwtnn.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/io/onnx_export.hpp"
#include "agnostic/io/onnx_import.hpp"
#include "agnostic/io/protobuf.hpp"
#include "model_file_helpers.hpp"

using agnostic::Activation;
using agnostic::Index;
using agnostic::Matrix;
using agnostic::Rng;
using namespace agnostic::io;
namespace fs = std::filesystem;

namespace {

const std::string kData = AGNOSTIC_SOURCE_DIR "/tests/data";
const std::string kBinary = AGNOSTIC_BINARY_DIR "/tools/agnostic";
const std::string kPython = "/usr/bin/python3";

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("agnostic_test_exchange_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json read_json(const fs::path& p) {
  return nlohmann::json::parse(read_bytes(p));
}

// Runs a shell command; returns its exit code (-1 when it did not exit normally).
int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs a reference script (exit 77: python3-onnx or numpy missing, the caller skips).
int run_reference(const std::string& script, const fs::path& model, const fs::path& in, const fs::path& out,
                  const fs::path& log) {
  return shell(kPython + " '" + kData + "/" + script + "' '" + model.string() + "' '" + in.string() + "' '" +
               out.string() + "' > '" + log.string() + "' 2>&1");
}

bool python_skipped(int code, const fs::path& log) {
  if (code == 77 || !fs::exists(kPython)) {
    MESSAGE("skipped: Debian's python3-onnx / python3-numpy are missing (" << read_bytes(log) << ")");
    return true;
  }
  return false;
}

DenseWeights<float> exchange_layer(Index n_in, Index n_out, LayerActivation f, Rng& rng) {
  return agnostic::test::random_layer<float>(n_in, n_out, f, rng, 0.6, 0.2);
}

// 4 features (two with missing-value rules, one with an indicator, one with a NaN marker) ->
// every activation agnostic has -> `n_out` outputs (softmax for several, sigmoid for one).
ModelFile<float> exchange_model(bool with_missing, bool softplus, Index n_out) {
  Rng rng(11);
  ModelFile<float> m;
  m.inputs.names = {"pt", "eta", "mass", "dr"};
  if (with_missing) {
    m.missing_values.rules.push_back({"mass", -999.0, 91.5, "mass_missing"});
    m.missing_values.rules.push_back({"dr", std::nan(""), 0.4, ""});
    m.inputs.names.push_back("mass_missing");
  }
  for (std::size_t i = 0; i < m.inputs.names.size(); ++i) {
    m.inputs.offset.push_back(rng.normal(0.0, 20.0));
    m.inputs.scale.push_back(rng.uniform(0.05, 2.0));
  }
  const Index n_in = m.n_inputs();
  m.layers.push_back(exchange_layer(n_in, 6, {Activation::relu(), false}, rng));
  m.layers.push_back(exchange_layer(6, 6, {Activation::leaky_relu(0.1), false}, rng));
  m.layers.push_back(exchange_layer(6, 5, {Activation::elu(0.7), false}, rng));
  m.layers.push_back(exchange_layer(5, 5, {Activation::tanh(), false}, rng));
  m.layers.push_back(
      exchange_layer(5, 4, {softplus ? Activation::softplus() : Activation::sigmoid(), false}, rng));
  m.layers.push_back(exchange_layer(4, 3, {Activation::identity(), false}, rng));
  m.layers.push_back(exchange_layer(
      3, n_out,
      n_out > 1 ? LayerActivation::softmax_over_outputs() : LayerActivation{Activation::sigmoid(), false},
      rng));
  for (Index o = 0; o < n_out; ++o) m.outputs.push_back(n_out == 1 ? "signal" : "class" + std::to_string(o));
  return m;
}

// Raw events around the standardisation's means, with markers in some rows.
Matrix<float> example_events(const ModelFile<float>& m, Index rows) {
  Rng rng(5);
  const auto features = m.feature_names();
  Matrix<float> x(rows, static_cast<Index>(features.size()));
  for (Index j = 0; j < x.cols(); ++j)
    for (Index r = 0; r < rows; ++r)
      x(r, j) = static_cast<float>(-m.inputs.offset[static_cast<std::size_t>(j)] +
                                   rng.normal(0.0, 1.5) / m.inputs.scale[static_cast<std::size_t>(j)]);
  if (!m.missing_values.empty())
    for (Index r = 0; r < rows; r += 3) {
      x(r, 2) = -999.0f;
      x((r + 1) % rows, 3) = std::numeric_limits<float>::quiet_NaN();
    }
  return x;
}

nlohmann::json rows_json(const Matrix<float>& x) {
  nlohmann::json rows = nlohmann::json::array();
  for (Index r = 0; r < x.rows(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (Index j = 0; j < x.cols(); ++j)
      row.push_back(std::isnan(x(r, j)) ? nlohmann::json(nullptr) : nlohmann::json(x(r, j)));
    rows.push_back(row);
  }
  return rows;
}

void check_close(const Matrix<float>& ours, const nlohmann::json& theirs, double tolerance) {
  REQUIRE(theirs.size() == static_cast<std::size_t>(ours.rows()));
  for (Index r = 0; r < ours.rows(); ++r) {
    REQUIRE(theirs[static_cast<std::size_t>(r)].size() == static_cast<std::size_t>(ours.cols()));
    for (Index c = 0; c < ours.cols(); ++c)
      CHECK(std::abs(ours(r, c) -
                     theirs[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)].get<double>()) <=
            tolerance);
  }
}

Matrix<float> matrix_from(const nlohmann::json& rows) {
  Matrix<float> x(static_cast<Index>(rows.size()), static_cast<Index>(rows[0].size()));
  for (Index r = 0; r < x.rows(); ++r)
    for (Index c = 0; c < x.cols(); ++c)
      x(r, c) = rows[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
  return x;
}

using agnostic::test::error_of;

}  // namespace

TEST_CASE("protobuf: varints, fixed32 and nested messages round-trip; damaged bytes are refused by offset") {
  protobuf::Writer inner;
  inner.bytes_field(1, "weight");
  inner.float_field(2, -1.5f);
  protobuf::Writer w;
  for (std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 35, ~0ull}) w.varint_field(1, v);
  w.int_field(3, -7);
  w.message_field(4, inner);
  w.packed_ints(5, {1, 200, -1});
  protobuf::Reader r(w.bytes(), 0, "test");
  std::vector<std::uint64_t> values;
  for (int k = 0; k < 7; ++k) {
    const auto f = r.next();
    CHECK(f.number == 1);
    values.push_back(f.value);
  }
  CHECK(values == std::vector<std::uint64_t>{0, 1, 127, 128, 300, 1ull << 35, ~0ull});
  CHECK(r.next().as_int() == -7);
  const auto nested = r.next();
  auto n = r.nested(nested);
  CHECK(n.next().bytes == "weight");
  CHECK(n.next().as_float() == -1.5f);
  CHECK(n.done());
  std::vector<std::int64_t> ints;
  protobuf::append_ints(r, r.next(), ints, "ints");
  CHECK(ints == std::vector<std::int64_t>{1, 200, -1});
  CHECK(r.done());

  // A length past the end, an unknown wire type, a varint that never ends.
  const std::string truncated = std::string(
      "\x0a\x05"
      "ab",
      4);
  CHECK(error_of([&] { protobuf::Reader(truncated, 0, "f.onnx").next(); }) ==
        "f.onnx: byte 0: field 1 claims 5 bytes but only 2 remain in its message (truncated file?)");
  CHECK(error_of([&] { protobuf::Reader(std::string("\x0b", 1), 0, "f.onnx").next(); }).find("wire type 3") !=
        std::string::npos);
  CHECK(error_of([&] {
          protobuf::Reader(std::string(11, '\xff'), 0, "f.onnx").next();
        }).find("longer than the 10 bytes") != std::string::npos);
}

TEST_CASE("onnx export: decodes back to the same graph, and import gives predict's outputs") {
  const auto model = exchange_model(false, true, 3);
  const std::string bytes = onnx_bytes(model);
  const auto decoded = onnx::decode_model(bytes, "exported.onnx");
  CHECK(decoded.opset() == 13);
  CHECK(decoded.graph.inputs.size() == 1);
  CHECK(decoded.graph.inputs[0].dims == std::vector<std::int64_t>{-1, 4});
  CHECK(decoded.graph.outputs[0].name == "scores");
  const auto back = import_onnx(decoded, "exported.onnx");
  CHECK(back.inputs.names == model.inputs.names);
  CHECK(back.outputs == model.outputs);
  REQUIRE(back.layers.size() == model.layers.size());
  for (std::size_t k = 0; k < model.layers.size(); ++k) {
    CHECK(back.layers[k].weights == model.layers[k].weights);
    CHECK(back.layers[k].bias == model.layers[k].bias);
    CHECK(back.layers[k].activation.softmax == model.layers[k].activation.softmax);
    CHECK(back.layers[k].activation.elementwise.kind == model.layers[k].activation.elementwise.kind);
    CHECK(std::abs(back.layers[k].activation.elementwise.alpha -
                   model.layers[k].activation.elementwise.alpha) < 1e-7);
  }
  const auto x = example_events(model, 9);
  const Matrix<float> ours = predict_features(model, x), theirs = predict_features(back, x);
  CHECK((ours - theirs).cwiseAbs().maxCoeff() < 1e-5f);
}

TEST_CASE(
    "onnx export: ONNX's checker accepts it and an independent numpy evaluator gives predict's outputs") {
  const fs::path dir = fresh_dir("onnx_export");
  for (const bool missing : {false, true}) {
    for (const Index n_out : {Index{1}, Index{3}}) {
      CAPTURE(missing);
      CAPTURE(n_out);
      const auto model = exchange_model(missing, true, n_out);
      write_onnx((dir / "model.onnx").string(), model);
      const auto x = example_events(model, 12);
      std::ofstream(dir / "in.json") << nlohmann::json{{"features", rows_json(x)}}.dump();
      // JSON has no NaN: the reference script reads null as NaN through numpy's float conversion.
      const int code = run_reference("onnx/onnx_reference.py", dir / "model.onnx", dir / "in.json",
                                     dir / "out.json", dir / "log.txt");
      if (python_skipped(code, dir / "log.txt")) return;
      REQUIRE_MESSAGE(code == 0, read_bytes(dir / "log.txt"));
      const auto out = read_json(dir / "out.json");
      CHECK(out["opset"] == 13);
      CHECK(out["input_name"] == "features");
      CHECK(out["output_name"] == (n_out == 1 ? "signal" : "scores"));
      if (missing) {
        for (const char* op : {"Equal", "Where", "IsNaN", "Gather", "Concat"})
          CHECK(std::find(out["ops"].begin(), out["ops"].end(), op) != out["ops"].end());
      }
      check_close(predict_features(model, x), out["outputs"], 2e-6);
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("onnx import: PyTorch's MLPs (Gemm, MatMul+Add, typed fields) give PyTorch's outputs to 1e-5") {
  const auto expected = read_json(kData + "/onnx/expected.json")["fixtures"];
  for (const char* name :
       {"gemm_relu_tanh_softmax", "gemm_elu_leaky_sigmoid", "matmul_add_standardised", "gemm_typed_fields"}) {
    CAPTURE(name);
    const auto& e = expected[name];
    const auto model = read_onnx(kData + "/onnx/" + name + ".onnx");
    const Matrix<float> x = matrix_from(e["features"]);
    CHECK(model.n_inputs() == x.cols());
    CHECK(model.inputs.names[0] == "f0");
    const std::string out = e["output_name"];
    if (model.n_outputs() == 1)
      CHECK(model.outputs[0] == out);
    else
      CHECK(model.outputs[1] == out + "_1");
    check_close(predict_features(model, x), e["outputs"], 1e-5);
  }
  const auto named = read_onnx(kData + "/onnx/gemm_elu_leaky_sigmoid.onnx", {"a", "b", "c", "d", "e"});
  CHECK(named.inputs.names == std::vector<std::string>{"a", "b", "c", "d", "e"});
  // The standardisation of matmul_add_standardised (x - mean) / std became lwtnn's offset and scale.
  const auto standardised = read_onnx(kData + "/onnx/matmul_add_standardised.onnx");
  CHECK(standardised.inputs.offset[3] == doctest::Approx(-100.0));
  CHECK(standardised.inputs.scale[3] == doctest::Approx(1.0 / 40.0));
}

TEST_CASE("onnx import: unsupported operators, wrong --features, damaged files are refused with a reason") {
  const std::string abs = kData + "/onnx/unsupported_abs.onnx";
  const auto message = error_of([&] { read_onnx(abs); });
  CHECK(message.find("operator 'Abs' (Abs node '/Abs') is not supported") != std::string::npos);
  CHECK(error_of([&] {
          read_onnx(kData + "/onnx/gemm_relu_tanh_softmax.onnx", {"a", "b"});
        }).find("--features names 2 features but the network takes 4") != std::string::npos);
  const std::string bytes = read_bytes(kData + "/onnx/gemm_relu_tanh_softmax.onnx");
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    const auto e = error_of([&] { import_onnx_bytes(bytes.substr(0, cut), "cut.onnx"); });
    CHECK(e.rfind("cut.onnx: ", 0) == 0);
  }
  // Our own export with missing-value rules: the Equal node is named.
  const auto with_missing = onnx_bytes(exchange_model(true, false, 1));
  CHECK(error_of([&] { import_onnx_bytes(with_missing, "m.onnx"); }).find("operator 'Equal'") !=
        std::string::npos);
}

TEST_CASE(
    "lwtnn export: lwtnn's schema, evaluated independently, gives predict's outputs; defaults are exact") {
  const fs::path dir = fresh_dir("lwtnn_export");
  for (const bool missing : {false, true}) {
    CAPTURE(missing);
    auto model = exchange_model(missing, false, 3);
    if (missing) {  // lwtnn cannot express indicators: keep only the NaN-marker rule (no indicator)
      model.missing_values.rules.erase(model.missing_values.rules.begin());
      model.inputs.names.pop_back();
      model.inputs.offset.pop_back();
      model.inputs.scale.pop_back();
      model.layers[0].weights.conservativeResize(6, 4);
    }
    const auto j = lwtnn_json(model);
    CHECK(!j.contains("agnostic"));
    CHECK(j["layers"][1]["activation"] == nlohmann::json{{"function", "leakyrelu"}, {"alpha", 0.1}});
    CHECK(j["layers"][2]["activation"]["function"] == "elu");
    std::ofstream(dir / "net.json") << j.dump();
    const auto x = example_events(model, 10);
    std::ofstream(dir / "in.json") << nlohmann::json{
        {"names", model.feature_names()},
        {"features", rows_json(x)}}.dump();
    const int code = run_reference("lwtnn/lwtnn_reference.py", dir / "net.json", dir / "in.json",
                                   dir / "out.json", dir / "log.txt");
    if (python_skipped(code, dir / "log.txt")) return;
    REQUIRE_MESSAGE(code == 0, read_bytes(dir / "log.txt"));
    const auto out = read_json(dir / "out.json");
    CHECK(out["labels"] == nlohmann::json(model.outputs));
    check_close(predict_features(model, x), out["outputs"], 2e-6);
    // The lwtnn file imports back to the same network.
    const auto back = import_lwtnn(j, "net.json");
    const Matrix<float> ones = Matrix<float>::Ones(2, model.n_inputs());
    CHECK((predict(back, ones) - predict(model, ones)).cwiseAbs().maxCoeff() < 1e-6f);
  }
  fs::remove_all(dir);
  CHECK(error_of([] {
          lwtnn_json(exchange_model(true, false, 1));
        }).find("feature 'mass' has the missing-value indicator 'mass_missing'") != std::string::npos);
  CHECK(error_of([] { lwtnn_json(exchange_model(false, true, 1)); }).find("softplus") != std::string::npos);
}

TEST_CASE(
    "lwtnn import: a Keras-converter-style file (ELU object, activation-only softmax layer) and refusals") {
  const auto j = read_json(kData + "/lwtnn/keras_style.json");
  const auto model = import_lwtnn(j, "keras_style.json");
  CHECK(model.layers.size() == 3);
  CHECK(model.layers.back().activation.softmax);
  CHECK(model.training["lwtnn_defaults"]["mass"] == 91.0);
  const auto expected = read_json(kData + "/lwtnn/keras_style_expected.json");
  check_close(predict_features(model, matrix_from(expected["features"])), expected["outputs"], 1e-5);

  auto maxout = j;
  maxout["layers"][1]["architecture"] = "maxout";
  CHECK(error_of([&] { import_lwtnn(maxout, "m.json"); }) ==
        "lwtnn file 'm.json': layers[1]: architecture 'maxout' is not supported (agnostic imports lwtnn's "
        "dense "
        "layers only)");
  auto swish = j;
  swish["layers"][0]["activation"] = {{"function", "swish"}, {"alpha", 1.0}};
  CHECK(error_of([&] {
          import_lwtnn(swish, "s.json");
        }).find("lwtnn activation 'swish' has no agnostic equivalent") != std::string::npos);
}

TEST_CASE("agnostic import/export commands: ONNX in, predict, ONNX and lwtnn out") {
  if (!fs::exists(kBinary)) {
    MESSAGE("skipped: " << kBinary << " is not built");
    return;
  }
  const fs::path dir = fresh_dir("commands");
  const std::string log = (dir / "log.txt").string();
  auto agnostic = [&](const std::string& args) {
    return shell("'" + kBinary + "' " + args + " > '" + log + "' 2>&1");
  };
  REQUIRE(agnostic("import '" + kData + "/onnx/gemm_relu_tanh_softmax.onnx' --features a,b,c,d --output '" +
                   (dir / "m.json").string() + "'") == 0);
  const auto e = read_json(kData + "/onnx/expected.json")["fixtures"]["gemm_relu_tanh_softmax"];
  {
    std::ofstream csv(dir / "events.csv");
    csv << "a,b,c,d\n";
    for (const auto& row : e["features"])
      csv << row[0] << "," << row[1] << "," << row[2] << "," << row[3] << "\n";
  }
  REQUIRE(agnostic("predict --model '" + (dir / "m.json").string() + "' --input '" +
                   (dir / "events.csv").string() + "' --output '" + (dir / "scores.csv").string() + "'") ==
          0);
  {
    std::ifstream scores(dir / "scores.csv");
    std::string header, line;
    std::getline(scores, header);
    CHECK(header == "score_probs_0,score_probs_1,score_probs_2");  // io::score_column_name
    for (const auto& row : e["outputs"]) {
      REQUIRE(std::getline(scores, line));
      std::stringstream fields(line);
      std::string field;
      for (const auto& v : row) {
        std::getline(fields, field, ',');
        CHECK(std::abs(std::stod(field) - v.get<double>()) < 1e-5);
      }
    }
  }
  REQUIRE(agnostic("export '" + (dir / "m.json").string() + "' --format onnx --output '" +
                   (dir / "m.onnx").string() + "'") == 0);
  const auto back = read_onnx((dir / "m.onnx").string());
  CHECK(back.inputs.names == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(back.outputs == std::vector<std::string>{"probs_0", "probs_1", "probs_2"});
  REQUIRE(agnostic("export '" + (dir / "m.json").string() + "' --format lwtnn --output '" +
                   (dir / "l.json").string() + "'") == 0);
  CHECK(read_json(dir / "l.json")["outputs"] == nlohmann::json{"probs_0", "probs_1", "probs_2"});
  CHECK(agnostic("import '" + kData + "/onnx/unsupported_abs.onnx' --output '" + (dir / "x.json").string() +
                 "'") == 1);
  CHECK(read_bytes(log).find("operator 'Abs'") != std::string::npos);
  CHECK(agnostic("export '" + (dir / "m.json").string() + "' --format tflite --output x") == 1);
  CHECK(read_bytes(log).find("unknown --format 'tflite'; expected lwtnn, onnx or header") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("agnostic export/import: every documented option value runs; predict on a DANN model scores") {
  if (!fs::exists(kBinary)) {
    MESSAGE("skipped: " << kBinary << " is not built");
    return;
  }
  const fs::path dir = fresh_dir("options");
  const std::string log = (dir / "log.txt").string();
  auto agnostic = [&](const std::string& args) {
    return shell("'" + kBinary + "' " + args + " > '" + log + "' 2>&1");
  };
  auto path = [&](const std::string& name) { return "'" + (dir / name).string() + "'"; };
  // A classifier with missing-value rules and a DANN domain head on its second hidden layer, and
  // the same without rules (lwtnn cannot express the indicator, nor softplus).
  Rng rng(17);
  auto with_domain_head = [&](ModelFile<float> m) {
    ModelBranch<float> domain{"domain", 2, {}, {"domain"}};
    domain.layers.push_back(exchange_layer(6, 4, {Activation::relu(), false}, rng));
    domain.layers.push_back(exchange_layer(4, 1, {Activation::sigmoid(), false}, rng));
    m.branches.push_back(domain);
    return m;
  };
  const ModelFile<float> rules = with_domain_head(exchange_model(true, false, 3));
  const ModelFile<float> plain = with_domain_head(exchange_model(false, false, 3));
  write_model((dir / "rules.json").string(), rules);
  write_model((dir / "plain.json").string(), plain);

  CHECK(agnostic("export --help") == 0);
  CHECK(read_bytes(log).find("usage: agnostic export MODEL.json --format lwtnn|onnx|header") !=
        std::string::npos);
  CHECK(agnostic("import --help") == 0);
  CHECK(read_bytes(log).find("usage: agnostic import") != std::string::npos);

  // --format header, with the namespace from the file name and from --name.
  REQUIRE(agnostic("export " + path("rules.json") + " --format header --output " + path("tagger.hpp")) == 0);
  CHECK(read_bytes(dir / "tagger.hpp").find("namespace tagger {") != std::string::npos);
  REQUIRE(agnostic("export " + path("rules.json") + " --format header --output " + path("h.hpp") +
                   " --name trigger_net") == 0);
  CHECK(read_bytes(dir / "h.hpp").find("namespace trigger_net {") != std::string::npos);
  CHECK(agnostic("export " + path("rules.json") + " --format onnx --output " + path("x.onnx") +
                 " --name n") == 1);
  CHECK(read_bytes(log).find("--name applies to --format header only") != std::string::npos);
  // --format onnx: the classifier only, its outputs named as the model's (a graph with missing-value
  // nodes decodes but is not imported back, as documented).
  REQUIRE(agnostic("export " + path("rules.json") + " --format onnx --output " + path("rules.onnx")) == 0);
  CHECK(!onnx::decode_model(read_bytes(dir / "rules.onnx"), "rules.onnx").graph.nodes.empty());
  REQUIRE(agnostic("export " + path("plain.json") + " --format onnx --output " + path("plain.onnx")) == 0);
  CHECK(read_onnx((dir / "plain.onnx").string()).outputs == plain.outputs);

  // --format lwtnn, then import FILE.json (lwtnn) gives predict's numbers back.
  REQUIRE(agnostic("export " + path("plain.json") + " --format lwtnn --output " + path("lwtnn.json")) == 0);
  REQUIRE(agnostic("import " + path("lwtnn.json") + " --output " + path("back.json")) == 0);
  const Matrix<float> events = example_events(plain, 50);
  ModelFile<float> plain_classifier = plain;
  plain_classifier.branches.clear();
  CHECK((predict_features(read_model<float>((dir / "back.json").string()), events) -
         predict_features(plain_classifier, events))
            .cwiseAbs()
            .maxCoeff() <= 1e-6);

  // import FILE.onnx without --features: the inputs are named f0 ... f{F-1}.
  REQUIRE(agnostic("import '" + kData + "/onnx/gemm_relu_tanh_softmax.onnx' --output " + path("f.json")) ==
          0);
  CHECK(read_model<float>((dir / "f.json").string()).feature_names() ==
        std::vector<std::string>{"f0", "f1", "f2", "f3"});

  // agnostic predict on the DANN model: the classifier's scores, the domain head left out.
  const Matrix<float> x = example_events(rules, 60);  // markers -999 and NaN ("nan" in the CSV) included
  {
    std::ofstream csv(dir / "events.csv");
    csv << "pt,eta,mass,dr\n";
    csv.precision(9);
    for (Index r = 0; r < x.rows(); ++r)
      csv << x(r, 0) << "," << x(r, 1) << "," << x(r, 2) << "," << x(r, 3) << "\n";
  }
  REQUIRE(agnostic("predict --model " + path("rules.json") + " --input " + path("events.csv") + " --output " +
                   path("scores.csv")) == 0);
  ModelFile<float> classifier = rules;
  classifier.branches.clear();
  const Matrix<float> expected = predict_features(classifier, x);
  std::ifstream scores(dir / "scores.csv");
  std::string line;
  std::getline(scores, line);
  CHECK(line == "score_class0,score_class1,score_class2");
  for (Index r = 0; r < x.rows(); ++r) {
    REQUIRE(std::getline(scores, line));
    std::stringstream fields(line);
    std::string field;
    for (Index c = 0; c < 3; ++c) {
      std::getline(fields, field, ',');
      CHECK(std::abs(std::stod(field) - expected(r, c)) <= 1e-6);
    }
  }
  CHECK(!std::getline(scores, line));
  fs::remove_all(dir);
}

TEST_CASE("onnx import: a declared input width is never trusted for sizes; empty constants are refused") {
  // x [N, 2^60] -> Add(c) -> Gemm(W[2, 3], transB=1) -> y: the scalar Add must not size anything by 2^60.
  onnx::Model m;
  m.opsets = {{"", 13}};
  m.graph.inputs.push_back({"x", onnx::kFloat, {-1, std::int64_t{1} << 60}, {"N", ""}, true});
  m.graph.outputs.push_back({"y", onnx::kFloat, {-1, 2}, {"N", ""}, true});
  m.graph.initializers.push_back({"c", {1}, onnx::kFloat, {0.5}});
  m.graph.initializers.push_back({"W", {2, 3}, onnx::kFloat, {1, 2, 3, 4, 5, 6}});
  onnx::Node add{{"x", "c"}, {"h"}, "add", "Add", "", {}};
  onnx::Attribute trans_b;
  trans_b.name = "transB";
  trans_b.type = onnx::kAttrInt;
  trans_b.i = 1;
  onnx::Node gemm{{"h", "W"}, {"y"}, "gemm", "Gemm", "", {trans_b}};
  m.graph.nodes = {add, gemm};
  CHECK(error_of([&] { import_onnx(m, "wide.onnx"); }) ==
        "wide.onnx: input 'x' has 1152921504606846976 columns but the first layer takes 3");
  m.graph.inputs[0].dims[1] = 3;
  const auto ok = import_onnx(m, "ok.onnx");
  CHECK(ok.inputs.offset == std::vector<double>{0.5, 0.5, 0.5});
  m.graph.initializers[0] = {"c", {0}, onnx::kFloat, {}};
  CHECK(error_of([&] { import_onnx(m, "empty.onnx"); }) ==
        "empty.onnx: Add node 'add': constant 'c' is empty");
}
