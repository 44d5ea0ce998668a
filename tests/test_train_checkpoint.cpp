// Tests for train/checkpoint.hpp, core/atomic_file.hpp and train/classifier.hpp: exact round trip
// of floats, atomic writes, clear errors for corrupt checkpoints, a classifier that learns, and
// resuming that gives the same final weights bit for bit as a run never interrupted.
#include <doctest/doctest.h>

#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/rmsprop.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/trainer.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

using namespace agnostic;
using namespace agnostic::train;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::path(AGNOSTIC_BINARY_DIR) / "test_train_checkpoint" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool same_bits(const Matrix<float>& a, const Matrix<float>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

// Two overlapping Gaussian blobs in 4 features, with event weights; class 1 shifted by +0.8.
Dataset<float> blobs(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<float> x(n, 4);
  std::vector<Index> y(static_cast<std::size_t>(n));
  Vector<float> w(n);
  for (Index i = 0; i < n; ++i) {
    const Index label = rng.uniform() < 0.4 ? 1 : 0;
    y[static_cast<std::size_t>(i)] = label;
    for (Index c = 0; c < 4; ++c)
      x(i, c) = static_cast<float>(rng.normal() + 0.8 * static_cast<double>(label));
    w(i) = static_cast<float>(rng.uniform(0.5, 1.5));
  }
  return Dataset<float>(x, y, w);
}

// Everything a classifier run needs, built the same way every time from a seed.
struct ClassifierRun {
  Rng init;
  Sequential<float> model;
  RMSProp<float> optimiser;
  Dataset<float> train, validation;
  ClassifierScheme<float> scheme;
  ClassifierRun(Index outputs, std::uint64_t init_seed)
      : init(init_seed),
        model({4, 8, 6, outputs}, Activation::elu(), Activation::identity(), init),
        optimiser(model.parameters(), RMSPropOptions{.lr = 0.01}),
        train(blobs(300, 5)),
        validation(blobs(200, 6)),
        scheme(model, optimiser, train, &validation, ClassifierOptions{.batch_size = 32}) {}
};

TrainerOptions options(Index max_epochs, const fs::path& checkpoint) {
  TrainerOptions o;
  o.stopping.max_epochs = max_epochs;
  o.verbosity = Verbosity::silent;
  o.checkpoint = checkpoint;
  o.seed = 17;
  return o;
}

}  // namespace

TEST_CASE("checkpoint: floats and doubles round-trip bit for bit, extremes included") {
  Matrix<float> m(2, 4);
  m << 0.1f, -1.0f / 3.0f, std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(),
      std::numeric_limits<float>::max(), -std::numeric_limits<float>::epsilon(), 3.14159265f, 1e-30f;
  const nlohmann::json j = nlohmann::json::parse(train::detail::matrix_to_json("m", m).dump());
  CHECK(same_bits(train::detail::matrix_from_json<float>(j).value, m));
  Matrix<double> d(1, 3);
  d << 0.1, std::numeric_limits<double>::denorm_min(), -1.0 / 3.0;
  const Matrix<double> back = train::detail::matrix_from_json<double>(
                                  nlohmann::json::parse(train::detail::matrix_to_json("d", d).dump()))
                                  .value;
  CHECK(std::memcmp(back.data(), d.data(), sizeof(double) * 3) == 0);
  m(1, 1) = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH_AS(
      train::detail::matrix_to_json("net.0.weight", m),
      "checkpoint: 'net.0.weight' element (1, 1) is inf; a checkpoint holds finite values only", Error);
}

TEST_CASE("write_file_atomically: complete file, no temporary left, unwritable place named") {
  const fs::path dir = scratch_dir("atomic");
  const fs::path target = dir / "a.json";
  write_file_atomically(target, "first");
  write_file_atomically(target, "second, longer");
  CHECK(read_file(target) == "second, longer");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++files;
    CHECK(entry.path().filename() == "a.json");
  }
  CHECK(files == 1);
  const fs::path missing = dir / "no" / "such" / "dir" / "b.json";
  CHECK_THROWS_WITH_AS(
      write_file_atomically(missing, "x"),
      doctest::Contains(("cannot create " + (dir / "no/such/dir/b.json.tmp.").string()).c_str()), Error);
}

TEST_CASE("checkpoint: corrupt, truncated or mismatched files give an error naming the file") {
  const fs::path dir = scratch_dir("corrupt");
  ClassifierRun run(1, 3);
  const fs::path path = dir / "checkpoint.json";
  Trainer<float> trainer(run.scheme, options(2, path));
  trainer.fit();
  const std::string text = read_file(path);
  const fs::path truncated = dir / "truncated.json";
  write_file_atomically(truncated, text.substr(0, text.size() / 2));
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(truncated),
                       doctest::Contains(("checkpoint " + truncated.string() +
                                          ": not valid JSON, the file is truncated or corrupt")
                                             .c_str()),
                       Error);
  const fs::path empty = dir / "empty.json";
  write_file_atomically(empty, "");
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(empty),
                       ("checkpoint " + empty.string() + ": the file is empty").c_str(), Error);
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(dir / "absent.json"),
                       ("checkpoint " + (dir / "absent.json").string() + ": file not found").c_str(), Error);
  nlohmann::json j = nlohmann::json::parse(text);
  j.erase("rng");
  const fs::path no_rng = dir / "no_rng.json";
  write_file_atomically(no_rng, j.dump());
  CHECK_THROWS_WITH_AS(load_checkpoint<float>(no_rng),
                       ("checkpoint " + no_rng.string() + ": checkpoint: key 'rng' is missing").c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(
      load_checkpoint<double>(path),
      ("checkpoint " + path.string() + ": written by a float training, read as double").c_str(), Error);
  // A checkpoint of another architecture is refused before anything is changed.
  ClassifierRun other(2, 3);
  Trainer<float> mismatched(other.scheme, options(2, ""));
  CHECK_THROWS_WITH_AS(mismatched.load(path),
                       ("checkpoint " + path.string() +
                        ": parameter 'sequential.2.weight' saved as 1 x 6 but the model's is 2 x 6")
                           .c_str(),
                       Error);
}

TEST_CASE("classifier: learns separable blobs; chunked evaluation equals one pass") {
  ClassifierRun run(1, 4);
  TrainerOptions o = options(15, "");
  Trainer<float> trainer(run.scheme, o);
  const History& h = trainer.fit();
  const EpochRecord& best = h.epochs[static_cast<std::size_t>(h.best_epoch - 1)];
  // Bayes AUC of two unit Gaussians 0.8 * sqrt(4) = 1.6 apart is Phi(1.6 / sqrt 2) = 0.871.
  CHECK(best.figures.at("validation_auc") > 0.8);
  CHECK(best.figures.at("validation_accuracy") > 0.7);
  CHECK(h.series("validation_loss").front() > best.figures.at("validation_loss"));
  // The model now holds the best epoch: its validation loss, recomputed in chunks of 7 events and
  // in one pass, is the recorded one.
  ClassifierScheme<float> chunked(run.model, run.optimiser, run.train, &run.validation,
                                  ClassifierOptions{.batch_size = 32, .evaluation_chunk = 7});
  ClassifierScheme<float> whole(run.model, run.optimiser, run.train, &run.validation,
                                ClassifierOptions{.batch_size = 32, .evaluation_chunk = 1000});
  const double one_pass = whole.figures(run.validation).loss;
  CHECK(one_pass == doctest::Approx(best.figures.at("validation_loss")).epsilon(1e-12));
  CHECK(chunked.figures(run.validation).loss == doctest::Approx(one_pass).epsilon(1e-6));
  CHECK(chunked.figures(run.validation).auc == whole.figures(run.validation).auc);
}

TEST_CASE("classifier: three classes with softmax logits") {
  Rng rng(8);
  const Index n = 300;
  Matrix<float> x(n, 4);
  std::vector<Index> y(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const Index c = i % 3;
    y[static_cast<std::size_t>(i)] = c;
    for (Index k = 0; k < 4; ++k) x(i, k) = static_cast<float>(rng.normal() + (k == c ? 2.5 : 0.0));
  }
  const Dataset<float> data(x, y);
  const Split<float> parts = split(data, {.validation_fraction = 0.3, .seed = 2});
  Rng init(1);
  Sequential<float> model({4, 8, 3}, Activation::tanh(), Activation::identity(), init);
  Adam<float> adam(model.parameters(), AdamOptions{.lr = 0.02});
  ClassifierScheme<float> scheme(model, adam, parts.train, &parts.validation,
                                 ClassifierOptions{.batch_size = 16});
  TrainerOptions o = options(10, "");
  Trainer<float> trainer(scheme, o);
  const History& h = trainer.fit();
  CHECK(h.epochs.back().figures.at("validation_accuracy") > 0.8);
  CHECK(h.epochs.back().figures.count("validation_auc") == 0);  // AUC only for two classes
  Dataset<float> four_classes(x, y, {}, {}, 4);
  CHECK_THROWS_WITH_AS(
      ClassifierScheme<float>(model, adam, four_classes, nullptr),
      "ClassifierScheme: the training set has 4 classes but the model has 3 outputs; one logit "
      "per class (or a single logit for two classes) expected",
      Error);
}

TEST_CASE("resume: 3 epochs + resume 3 gives the weights of 6 uninterrupted epochs, bit for bit") {
  const fs::path dir = scratch_dir("resume");
  for (Index outputs : {Index{1}, Index{2}}) {
    CAPTURE(outputs);
    ClassifierRun straight(outputs, 11);
    Trainer<float> uninterrupted(straight.scheme, options(6, dir / "straight.json"));
    uninterrupted.fit();

    ClassifierRun first(outputs, 11);
    Trainer<float>(first.scheme, options(3, dir / "resumed.json")).fit();
    // A fresh process would rebuild everything; a different initialisation proves the load.
    ClassifierRun second(outputs, 999);
    Trainer<float> resumed(second.scheme, options(6, dir / "resumed.json"));
    const History& h = resumed.resume(dir / "resumed.json");
    CHECK(h.epochs.size() == 6);

    const auto a = straight.model.parameters(), b = second.model.parameters();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_bits(a[i].value, b[i].value));
    const auto sa = straight.optimiser.state(), sb = second.optimiser.state();
    CHECK(sa.counters == sb.counters);
    for (const auto& [name, m] : sa.buffers) CHECK(same_bits(m, sb.buffers.at(name)));
    CHECK(uninterrupted.rng().state().s0 == resumed.rng().state().s0);
    for (std::size_t e = 0; e < 6; ++e)
      CHECK(uninterrupted.history().epochs[e].figures == h.epochs[e].figures);
    CHECK(uninterrupted.history().best_epoch == h.best_epoch);
    // The last checkpoints hold the same state (weights before restore-best, optimiser, ring).
    const auto ja = nlohmann::json::parse(read_file(dir / "straight.json"));
    const auto jb = nlohmann::json::parse(read_file(dir / "resumed.json"));
    CHECK(ja["state"] == jb["state"]);
    CHECK(ja["recent"] == jb["recent"]);
    CHECK(ja["best"] == jb["best"]);
  }
}

TEST_CASE("resume: a run that dies mid-training continues from its last checkpoint") {
  const fs::path dir = scratch_dir("crash");
  ClassifierRun straight(1, 21);
  Trainer<float>(straight.scheme, options(5, "")).fit();

  ClassifierRun crashing(1, 21);
  TrainerOptions o = options(5, dir / "checkpoint.json");
  o.on_epoch_end = [](const EpochRecord& r) {
    if (r.epoch == 2) throw std::runtime_error("simulated crash");
  };
  CHECK_THROWS_AS(Trainer<float>(crashing.scheme, o).fit(), std::runtime_error);
  ClassifierRun restarted(1, 1234);
  Trainer<float> resumed(restarted.scheme, options(5, dir / "checkpoint.json"));
  resumed.resume(dir / "checkpoint.json");
  const auto a = straight.model.parameters(), b = restarted.model.parameters();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(same_bits(a[i].value, b[i].value));
  CHECK(load_checkpoint<float>(dir / "checkpoint.json").epoch == 5);
}
