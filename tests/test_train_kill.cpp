// Kill-and-resume: a child process trains with a checkpoint every epoch and is killed with SIGKILL
// in the middle of an epoch; the parent resumes from whatever checkpoint the child left and must
// reach the same final weights, bit for bit, as a run that was never interrupted. Its own
// executable, run on one thread, so that fork() happens before any OpenMP thread exists.
// The same for "method": "cgan" through the run function `agnostic train` calls (one generator,
// and an ensemble of two killed inside its second member): generator.json, discriminator.json
// and the histories must come out byte for byte as from an uninterrupted run.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agnostic/core/threads.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/config.hpp>
#include <agnostic/train/methods/cgan.hpp>
#include <agnostic/train/trainer.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

using namespace agnostic;
using namespace agnostic::train;
namespace fs = std::filesystem;

namespace {

Dataset<float> kill_blobs(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<float> x(n, 5);
  std::vector<Index> y(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const Index label = i % 2;
    y[static_cast<std::size_t>(i)] = label;
    for (Index c = 0; c < 5; ++c)
      x(i, c) = static_cast<float>(rng.normal() + 0.5 * static_cast<double>(label));
  }
  return Dataset<float>(x, y);
}

struct Run {
  Rng init{7};
  Sequential<float> model{{5, 32, 32, 1}, Activation::relu(), Activation::identity(), init};
  Adam<float> adam{model.parameters(), AdamOptions{.lr = 0.003}};
  Dataset<float> train = kill_blobs(40000, 1), validation = kill_blobs(1000, 2);
  ClassifierScheme<float> scheme{model, adam, train, &validation, ClassifierOptions{.batch_size = 16}};
};

TrainerOptions options(const fs::path& checkpoint) {
  TrainerOptions o;
  o.stopping.max_epochs = 6;
  o.verbosity = Verbosity::silent;
  o.checkpoint = checkpoint;
  o.seed = 99;
  return o;
}

// Epoch of the checkpoint on disk, or -1 if there is none yet.
Index checkpoint_epoch(const fs::path& path) {
  if (!fs::exists(path)) return -1;
  return load_checkpoint<float>(path).epoch;
}

}  // namespace

TEST_CASE("SIGKILL mid-epoch, then resume: same final weights as an uninterrupted run") {
  set_threads(1);
  const fs::path dir = fs::path(AGNOSTIC_BINARY_DIR) / "test_train_kill";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path checkpoint = dir / "checkpoint.json";

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Run run;
    Trainer<float>(run.scheme, options(checkpoint)).fit();
    _exit(0);  // reached only if the parent was too slow to kill
  }
  // Wait for the checkpoint of epoch 2, then kill the child somewhere inside epoch 3.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  Index seen = -1;
  while (seen < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    seen = checkpoint_epoch(checkpoint);  // never a partial file: the write is atomic
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  const Index left = checkpoint_epoch(checkpoint);
  MESSAGE("killed after the checkpoint of epoch " << left);
  CHECK(left >= 2);
  CHECK(left < 6);

  Run resumed;
  Trainer<float> trainer(resumed.scheme, options(checkpoint));
  trainer.resume(checkpoint);
  CHECK(trainer.history().epochs.size() == 6);

  Run straight;
  Trainer<float>(straight.scheme, options("")).fit();
  const auto a = straight.model.parameters(), b = resumed.model.parameters();
  for (std::size_t i = 0; i < a.size(); ++i)
    CHECK(std::memcmp(a[i].value.data(), b[i].value.data(),
                      sizeof(float) * static_cast<std::size_t>(a[i].size())) == 0);
}

namespace {

// xc uniform in [0, 1], xs = 0.2 + 0.5 xc^2 + noise: a density for the cGAN to learn.
void write_gan_events(const fs::path& path, int n) {
  Rng rng(11);
  std::ofstream out(path);
  out.precision(17);
  out << "xs,xc\n";
  for (int i = 0; i < n; ++i) {
    const double xc = rng.uniform();
    out << 0.2 + 0.5 * xc * xc + 0.1 * rng.normal() << "," << xc << "\n";
  }
}

nlohmann::json gan_config(const fs::path& events, const fs::path& out, Index members) {
  return {{"method", "cgan"},
          {"data", {{"files", {events.string()}}, {"features", {"xs"}}, {"validation_fraction", 0.2}}},
          {"cgan",
           {{"conditions", {"xc"}},
            {"latent", 3},
            {"generator_hidden", {32, 32}},
            {"discriminator_hidden", {32, 32}},
            {"blind", {{"column", "xc"}, {"range", {0.45, 0.55}}}},
            {"generator_average", 0.99},
            {"discriminator_steps", 2},  // set, as everything here: the defaults are a 5-member study
            {"ensemble", {{"members", members}, {"keep", members}}}}},
          {"training", {{"epochs", 5}, {"batch_size", 16}, {"seed", 21}, {"threads", 1}}},
          {"output", {{"directory", out.string()}, {"progress", "silent"}}}};
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A history file without the epochs' wall times (the only figure a resumed run cannot repeat).
nlohmann::json history_without_times(const fs::path& p) {
  nlohmann::json h = nlohmann::json::parse(file_text(p));
  for (auto& e : h["epochs"]) e.erase("seconds");
  return h;
}

// A checkpoint without its history: the last epoch's weights and optimiser states (which the
// best epoch's weights in generator.json may hide), the best epoch's, the random state and the
// scheme's own state.
nlohmann::json checkpoint_without_history(const fs::path& p) {
  nlohmann::json c = nlohmann::json::parse(file_text(p));
  c.erase("history");
  return c;
}

// Trains `members` cGANs in a child process, kills it with SIGKILL inside an epoch of the last
// member (after that member's checkpoint of epoch 2), resumes as `agnostic train --resume` does,
// and compares every output with an uninterrupted run's.
void kill_and_resume_cgan(Index members) {
  set_threads(1);
  const fs::path dir = fs::path(AGNOSTIC_BINARY_DIR) / ("test_train_kill_cgan" + std::to_string(members));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path events = dir / "events.csv";
  write_gan_events(events, 12000);
  const fs::path killed = dir / "killed", straight = dir / "straight";
  const std::string prefix = members > 1 ? "member" + std::to_string(members - 1) + "_" : "";
  const fs::path watched = killed / (prefix + "checkpoint.json");
  std::ostringstream quiet;

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      run_cgan(config_from_json(gan_config(events, killed, members), "kill.json"), {.out = &quiet});
    } catch (...) {
      _exit(2);
    }
    _exit(0);  // reached only if the parent was too slow to kill
  }
  // Time epoch 2 of the watched member, then kill the child half an epoch after its checkpoint.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(600);
  Index seen = -1;
  auto at_epoch_1 = std::chrono::steady_clock::now();
  while (seen < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const Index now = checkpoint_epoch(watched);
    if (now == 1 && seen < 1) at_epoch_1 = std::chrono::steady_clock::now();
    seen = now;
  }
  REQUIRE(seen == 2);
  std::this_thread::sleep_for((std::chrono::steady_clock::now() - at_epoch_1) / 2);
  REQUIRE(kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  const Index left = checkpoint_epoch(watched);
  MESSAGE(members << " member(s): killed after the checkpoint of epoch " << left);
  CHECK(left >= 2);
  CHECK(left < 5);
  CHECK_FALSE(fs::exists(killed / "generator.json"));

  const RunResult resumed = run_cgan(config_from_json(gan_config(events, killed, members), "kill.json"),
                                     {.resume = true, .out = &quiet});
  run_cgan(config_from_json(gan_config(events, straight, members), "kill.json"), {.out = &quiet});
  CHECK(resumed.summary["members"].size() == static_cast<std::size_t>(members));
  for (const char* name : {"generator.json", "discriminator.json"})
    CHECK_MESSAGE(file_text(killed / name) == file_text(straight / name), name);
  for (Index k = 0; k < members; ++k) {
    const std::string history = members > 1 ? "member" + std::to_string(k) + "_history.json" : "history.json";
    CHECK_MESSAGE(history_without_times(killed / history) == history_without_times(straight / history),
                  history);
    const std::string checkpoint =
        (members > 1 ? "member" + std::to_string(k) + "_" : "") + "checkpoint.json";
    CHECK_MESSAGE(
        checkpoint_without_history(killed / checkpoint) == checkpoint_without_history(straight / checkpoint),
        checkpoint);
  }
}

}  // namespace

TEST_CASE("cGAN: SIGKILL mid-epoch, then --resume: generator.json and history as an uninterrupted run") {
  kill_and_resume_cgan(1);
}

TEST_CASE("cGAN ensemble of 2: SIGKILL inside the second member, then --resume: the same bytes") {
  kill_and_resume_cgan(2);
}
