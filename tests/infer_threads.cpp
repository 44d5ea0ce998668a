// Many threads on one infer::Network: 8 threads evaluate the events of one shared, const network at
// once and must give the bits one thread gives. Built twice by tests/infer_tsan.cmake: plainly (in
// every build, with its sanitizers) and with clang's ThreadSanitizer, which fails the run on any
// data race in evaluate() or evaluate_batch(). The model is written as a model file (missing-value
// rules with a marker and with NaN, an indicator, three activations, softmax, a test vector) and
// loaded with infer::load_network, the path trigger code takes. No doctest: a program of its own,
// compiled without OpenMP, that prints what differs and exits non-zero.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agnostic/infer.hpp"

namespace {

// 5 raw features, one indicator -> 32 relu -> 24 tanh -> 16 leaky relu -> 3 softmax.
using Net = agnostic::infer::Network<float, 6, 32, 24, 16, 3>;
constexpr std::size_t kFeatures = 5, kOutputs = 3, kEvents = 4096, kThreads = 8;

// A fixed sequence of numbers in [-1, 1) (64-bit LCG), so the model and the events are the same on
// every machine without the library's Rng.
struct Sequence {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  double next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) * 0x1.0p-52 - 1.0;
  }
};

nlohmann::json dense_layer(std::size_t n_in, std::size_t n_out, const nlohmann::json& activation,
                           Sequence& s) {
  nlohmann::json weights = nlohmann::json::array(), bias = nlohmann::json::array();
  const double spread = std::sqrt(2.0 / static_cast<double>(n_in));
  for (std::size_t k = 0; k < n_in * n_out; ++k) weights.push_back(static_cast<float>(spread * s.next()));
  for (std::size_t o = 0; o < n_out; ++o) bias.push_back(static_cast<float>(0.1 * s.next()));
  return {{"architecture", "dense"}, {"weights", weights}, {"bias", bias}, {"activation", activation}};
}

nlohmann::json model_json() {
  Sequence s;
  nlohmann::json inputs = nlohmann::json::array();
  for (const char* name : {"pt", "eta", "phi", "mass", "charge", "mass_missing"})
    inputs.push_back({{"name", name}, {"offset", 10.0 * s.next()}, {"scale", 0.5 + 0.4 * s.next()}});
  nlohmann::json layers = nlohmann::json::array();
  layers.push_back(dense_layer(6, 32, "rectified", s));
  layers.push_back(dense_layer(32, 24, "tanh", s));
  layers.push_back(dense_layer(24, 16, {{"function", "leakyrelu"}, {"alpha", 0.1}}, s));
  layers.push_back(dense_layer(16, 3, "softmax", s));
  nlohmann::json rules = nlohmann::json::array();
  rules.push_back(
      {{"feature", "mass"}, {"marker", -999.0}, {"replacement", 91.1876}, {"indicator", "mass_missing"}});
  rules.push_back({{"feature", "phi"}, {"marker", "nan"}, {"replacement", 0.25}, {"indicator", nullptr}});
  return {{"inputs", inputs},
          {"layers", layers},
          {"outputs", {"background", "higgs", "z"}},
          {"agnostic", {{"format_version", 1}, {"missing_values", rules}, {"training", {{"seed", 1}}}}}};
}

// Raw events, with the markers in a quarter of the rule features.
std::vector<float> events(std::size_t n) {
  Sequence s;
  s.state = 42;
  std::vector<float> x(n * kFeatures);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < kFeatures; ++j) {
      float v = static_cast<float>(20.0 * s.next());
      if (j == 2 && s.next() < -0.5) v = std::numeric_limits<float>::quiet_NaN();
      if (j == 3 && s.next() < -0.5) v = -999.0f;
      x[k * kFeatures + j] = v;
    }
  return x;
}

}  // namespace

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("agnostic_infer_threads_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "model.json").string();
  try {
    // The test vector: the first events and what one network evaluates for them, so that loading the
    // file recomputes and checks it.
    nlohmann::json j = model_json();
    const std::vector<float> raw = events(kEvents);
    {
      const auto first =
          std::make_unique<Net>(agnostic::io::model_record_from_text<float>(j.dump(), "memory"));
      nlohmann::json features = nlohmann::json::array(), outputs = nlohmann::json::array();
      for (std::size_t k = 0; k < 5; ++k) {
        nlohmann::json row = nlohmann::json::array(), out = nlohmann::json::array();
        for (std::size_t f = 0; f < kFeatures; ++f) {
          const float v = raw[k * kFeatures + f];
          if (std::isnan(v))
            row.push_back("nan");
          else
            row.push_back(v);
        }
        float y[kOutputs];
        first->evaluate(raw.data() + k * kFeatures, y);
        for (float v : y) out.push_back(v);
        features.push_back(row);
        outputs.push_back(out);
      }
      j["agnostic"]["test_vector"] = {{"precision", "float"}, {"features", features}, {"outputs", outputs}};
    }
    std::ofstream(path) << j.dump(1) << '\n';
    const std::unique_ptr<const Net> net = agnostic::infer::load_network<Net>(path);

    std::vector<float> one_thread(kEvents * kOutputs);
    for (std::size_t k = 0; k < kEvents; ++k)
      net->evaluate(raw.data() + k * kFeatures, one_thread.data() + k * kOutputs);

    // 8 threads on the one network: even threads call evaluate on interleaved events, odd threads
    // evaluate_batch on a block, each writing its own rows; every thread covers all events twice.
    std::vector<float> shared(kEvents * kOutputs, -1.0f);
    std::vector<std::vector<float>> own(kThreads, std::vector<float>(kEvents * kOutputs, -1.0f));
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (std::size_t k = t; k < kEvents; k += kThreads)
          net->evaluate(raw.data() + k * kFeatures, shared.data() + k * kOutputs);
        if (t % 2 == 0) {
          for (std::size_t k = 0; k < kEvents; ++k)
            net->evaluate(raw.data() + k * kFeatures, own[t].data() + k * kOutputs);
        } else {
          net->evaluate_batch(raw.data(), kEvents, own[t].data());
        }
      });
    for (auto& thread : threads) thread.join();

    int bad = 0;
    auto compare = [&](const std::vector<float>& got, const std::string& what) {
      if (std::memcmp(got.data(), one_thread.data(), got.size() * sizeof(float)) == 0) return;
      for (std::size_t k = 0; k < got.size(); ++k)
        if (std::memcmp(&got[k], &one_thread[k], sizeof(float)) != 0) {
          std::fprintf(stderr, "%s: event %zu output %zu is %.9g, one thread gave %.9g\n", what.c_str(),
                       k / kOutputs, k % kOutputs, static_cast<double>(got[k]),
                       static_cast<double>(one_thread[k]));
          break;
        }
      ++bad;
    };
    compare(shared, "8 threads sharing the outputs");
    for (std::size_t t = 0; t < kThreads; ++t) compare(own[t], "thread " + std::to_string(t));
    // The rules fired: some events hold each marker.
    std::size_t nan_events = 0, marker_events = 0;
    for (std::size_t k = 0; k < kEvents; ++k) {
      nan_events += std::isnan(raw[k * kFeatures + 2]) ? 1 : 0;
      marker_events += raw[k * kFeatures + 3] == -999.0f ? 1 : 0;
    }
    if (nan_events == 0 || marker_events == 0) {
      std::fprintf(stderr, "the events hold no missing-value markers\n");
      ++bad;
    }
    fs::remove_all(dir);
    if (bad != 0) return 1;
    std::printf("infer_threads: %zu threads x %zu events on one network, bit for bit one thread's\n",
                kThreads, kEvents);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "infer_threads: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
}
