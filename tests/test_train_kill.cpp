// Kill-and-resume: a child process trains with a checkpoint every epoch and is killed with SIGKILL
// in the middle of an epoch; the parent resumes from whatever checkpoint the child left and must
// reach the same final weights, bit for bit, as a run that was never interrupted. Its own
// executable, run on one thread, so that fork() happens before any OpenMP thread exists.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agnostic/core/threads.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/trainer.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

using namespace agnostic;
using namespace agnostic::train;
namespace fs = std::filesystem;

namespace {

Dataset<float> blobs(Index n, std::uint64_t seed) {
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
  Dataset<float> train = blobs(40000, 1), validation = blobs(1000, 2);
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
