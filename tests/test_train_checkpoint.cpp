// Tests for train/checkpoint.hpp, core/atomic_file.hpp and train/classifier.hpp: exact round trip
// of floats, atomic writes, clear errors for corrupt checkpoints, a classifier that learns,
// resuming that gives the same final weights bit for bit as a run never interrupted, and the
// classifier's decorrelation section (train/decorrelation.hpp).
#include <doctest/doctest.h>

#include <agnostic/io/csv.hpp>
#include <agnostic/io/fingerprint.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/rmsprop.hpp>
#include <agnostic/stats/decorrelation_metrics.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/decorrelation.hpp>
#include <agnostic/train/trainer.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>
#include "train_run.hpp"  // train::run, compiled once (tools/train_run.cpp)

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

// ---------------------------------------------------------------- decorrelation (issue 23)
// The "decorrelation" section in training (train/decorrelation.hpp): the config's keys, the step's
// penalty against the operation applied by hand, and whole runs (plain classifier, with the 004
// penalty, event weights) writing the figures.

namespace {

// A W-tagging-like toy: background with a falling mass spectrum whose feature x0 shifts with the
// mass, signal peaked at 80; weights w and weight factors w_up, w_down (a systematic).
void write_mass_toy(const fs::path& path, Index n, std::uint64_t seed) {
  Rng rng(seed);
  std::ofstream out(path);
  out << "x0,x1,mass,label,w,w_up,w_down\n";
  for (Index i = 0; i < n; ++i) {
    const bool signal = rng.uniform() < 0.4;
    const double mass = signal ? 80.0 + 8.0 * rng.normal() : 40.0 - 40.0 * std::log(1.0 - rng.uniform());
    const double x0 = (signal ? 1.0 : 0.0) + rng.normal() + (signal ? 0.0 : 0.02 * (mass - 80.0));
    const double x1 = mass / 100.0 + 0.3 * rng.normal();
    const double w = rng.uniform(0.5, 1.5);
    out << x0 << ',' << x1 << ',' << mass << ',' << (signal ? 1 : 0) << ',' << w << ',' << std::exp(0.1 * x0)
        << ',' << std::exp(-0.1 * x0) << '\n';
  }
}

nlohmann::json mass_toy_config(const fs::path& csv, const fs::path& out,
                               const nlohmann::json& decorrelation) {
  nlohmann::json j;
  j["data"] = {{"files", {csv.string()}}, {"features", {"x0", "x1"}}, {"label", "label"}, {"weight", "w"}};
  j["model"] = {{"hidden", {16}}};
  j["optimiser"] = {{"learning_rate", 0.01}};
  j["training"] = {{"epochs", 3}, {"batch_size", 128}, {"seed", 3}, {"threads", 1}};
  j["output"] = {{"directory", out.string()}, {"progress", "silent"}};
  if (!decorrelation.is_null()) j["decorrelation"] = decorrelation;
  return j;
}

std::string decorrelation_error(const nlohmann::json& section, const std::string& method = "classifier") {
  nlohmann::json j = mass_toy_config("toy.csv", "out", section);
  if (method != "classifier") j["method"] = method;
  try {
    read_decorrelation(config_from_json(j, "c.json"));
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The rows of predictions.csv as columns.
std::map<std::string, std::vector<double>> read_predictions(const fs::path& path) {
  const io::Table t = io::read_csv(path.string());
  std::map<std::string, std::vector<double>> out;
  for (const auto& name : t.column_names()) {
    const auto c = t.column(name);
    out[name].assign(c.begin(), c.end());
  }
  return out;
}

}  // namespace

TEST_CASE("decorrelation section: defaults, and each mistake names its key and value") {
  const auto d = read_decorrelation(config_from_json(
      mass_toy_config("toy.csv", "out", {{"variable", "mass"}, {"method", "disco"}, {"strength", 30}}),
      "c.json"));
  REQUIRE(d.has_value());
  CHECK(d->variable == "mass");
  CHECK(d->strength == 30.0);
  CHECK(d->strength_schedule == "constant");
  CHECK(d->classes == std::vector<Index>{0});
  CHECK(d->bins == 20);
  CHECK(d->order == 0);
  CHECK(d->moment == "cdf");
  CHECK_FALSE(read_decorrelation(config_from_json(mass_toy_config("toy.csv", "out", nullptr), "c.json")));
  const nlohmann::json ok = {{"variable", "mass"}, {"method", "mode"}, {"strength", 1}};
  auto with = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json s = ok;
    s[key] = value;
    return decorrelation_error(s);
  };
  CHECK(decorrelation_error({{"method", "disco"}, {"strength", 1}})
            .find("'decorrelation.variable' is missing") != std::string::npos);
  CHECK(with("method", "dcor").find("'decorrelation.method' is \"dcor\"; allowed: disco, mode, flatness") !=
        std::string::npos);
  CHECK(with("strength", -1).find("'decorrelation.strength' is -1") != std::string::npos);
  CHECK(with("strength_schedule", "fast").find("allowed: constant, linear, ganin") != std::string::npos);
  CHECK(with("classes", {0, 0}).find("'decorrelation.classes[1]' names class 0 twice") != std::string::npos);
  CHECK(with("classes", nlohmann::json::array()).find("non-empty list of class indices") !=
        std::string::npos);
  CHECK(with("bins", 1).find("'decorrelation.bins' is 1; expected an integer from 2 to 1000") !=
        std::string::npos);
  CHECK(with("order", 3).find("'decorrelation.order' is 3; expected an integer from 0 to 2") !=
        std::string::npos);
  CHECK(with("mass", 3).find("'decorrelation.mass' is not a known key") != std::string::npos);
  nlohmann::json disco = ok;
  disco["method"] = "disco";
  disco["order"] = 1;
  CHECK(decorrelation_error(disco).find(
            "'decorrelation.order' is given but 'decorrelation.method' is \"disco\"; it is "
            "read by method \"mode\" only") != std::string::npos);
  CHECK(with("moment", "median").find("'decorrelation.moment' is \"median\"; allowed: cdf, mean") !=
        std::string::npos);
}

TEST_CASE("decorrelation step: lambda times the operation on the batch's background, and the schedule") {
  // 40 events, one batch: the step's penalty is DisCo of the background's sigmoid scores against the
  // standardised variable, with the training weights; a linear schedule starts at 0.
  Rng rng(12);
  const Index n = 40;
  Matrix<float> x(n, 2);
  std::vector<Index> y(static_cast<std::size_t>(n));
  Vector<float> w(n);
  std::vector<double> mass(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    y[static_cast<std::size_t>(i)] = i % 3 == 0 ? 1 : 0;
    mass[static_cast<std::size_t>(i)] = 50.0 + 30.0 * rng.uniform();
    x(i, 0) = static_cast<float>(rng.normal() + 0.02 * mass[static_cast<std::size_t>(i)]);
    x(i, 1) = static_cast<float>(rng.normal());
    w(i) = static_cast<float>(rng.uniform(0.5, 1.5));
  }
  const Dataset<float> data(x, y, w);
  for (const std::string schedule : {"constant", "linear"}) {
    CAPTURE(schedule);
    DecorrelationConfig d;
    d.variable = "mass";
    d.method = "disco";
    d.strength = 7.0;
    d.strength_schedule = schedule;
    d.bins = 4;
    DecorrelationTerm<float> term(d, mass, {}, data, nullptr, {}, 1, 2);
    Rng init(2);
    Sequential<float> model({2, 5, 1}, Activation::tanh(), Activation::identity(), init);
    RMSProp<float> optimiser(model.parameters(), RMSPropOptions{.lr = 0.01});
    ClassifierScheme<float> scheme(model, optimiser, data, nullptr, ClassifierOptions{.batch_size = n});
    scheme.set_decorrelation(&term);
    // By hand, before the step changes the weights: the scores and variable of the background rows
    // in the batch's order (one batch of all rows: the sampler's permutation).
    Rng epoch_rng(9);
    scheme.start_epoch(1, epoch_rng);
    Tape<float> tape;
    const Var<float> logits = model(tape, tape.input(x));
    const Matrix<float> score = (1.0f / (1.0f + (-logits.value().array()).exp())).matrix();
    std::vector<Index> background;
    for (Index i = 0; i < n; ++i)
      if (y[static_cast<std::size_t>(i)] == 0) background.push_back(i);
    double mean = 0.0, squares = 0.0;
    for (double m : mass) mean += m / n;
    for (double m : mass) squares += (m - mean) * (m - mean) / n;
    Matrix<double> s(static_cast<Index>(background.size()), 1), v = s, bw = s;
    for (std::size_t k = 0; k < background.size(); ++k) {
      s(static_cast<Index>(k), 0) = score(background[k], 0);
      v(static_cast<Index>(k), 0) =
          (mass[static_cast<std::size_t>(background[k])] - mean) / std::sqrt(squares);
      bw(static_cast<Index>(k), 0) = w(background[k]);
    }
    Tape<double> by_hand;
    const double expected = distance_correlation_squared(by_hand.input(s), v, bw).item();
    const StepResult r = scheme.step(0);
    CHECK(r.parts.at("decorrelation_penalty") == doctest::Approx(expected).epsilon(1e-5));
    const double lambda = schedule == "constant" ? 7.0 : 0.0;  // linear: p = 0 at the first step
    CHECK(r.loss == doctest::Approx(r.parts.at("cross_entropy") + lambda * expected).epsilon(1e-5));
    Figures f;
    term.add_figures(f, model);
    CHECK(f.at("decorrelation_strength") == lambda);
    CHECK(f.count("dcor") == 0);  // no validation set
  }
}

TEST_CASE("decorrelation runs: figures in history.json and summary.json, the variable in predictions.csv") {
  const fs::path dir = scratch_dir("decorrelation");
  write_mass_toy(dir / "toy.csv", 1500, 4);
  for (const std::string method : {"disco", "mode", "mode_mean", "flatness"}) {
    CAPTURE(method);
    nlohmann::json section = {{"variable", "mass"},
                              {"method", method.substr(0, 4) == "mode" ? "mode" : method},
                              {"strength", 5},
                              {"bins", 8}};
    if (method == "mode") section["order"] = 1;
    if (method == "mode_mean") section["moment"] = "mean";
    const RunResult r =
        run(config_from_json(mass_toy_config(dir / "toy.csv", dir / method, section), "c.json"));
    const auto history = nlohmann::json::parse(std::ifstream(r.directory / "history.json"))["epochs"];
    REQUIRE(history.size() == 3);
    for (const auto& e : history)
      for (const char* key : {"dcor", "jsd_at_50", "background_rejection_at_50",
                              "train_decorrelation_penalty", "train_cross_entropy", "decorrelation_strength"})
        CHECK(e.contains(key));
    const nlohmann::json& s = r.summary.at("decorrelation");
    CHECK(s.at("method") == section.at("method"));
    CHECK(s.at("cuts").size() == 3);
    CHECK(s.at("inverse_jsd_at_50").get<double>() == doctest::Approx(1.0 / s.at("jsd_at_50").get<double>()));
    // The held-out figures from predictions.csv (the model file's scores, the variable as read).
    const auto p = read_predictions(r.directory / "predictions.csv");
    REQUIRE(p.count("mass") == 1);
    std::vector<double> sig, sig_w, bkg, bkg_mass, bkg_w;
    for (std::size_t i = 0; i < p.at("label").size(); ++i)
      if (p.at("label")[i] == 1.0) {
        sig.push_back(p.at("score")[i]);
        sig_w.push_back(p.at("weight")[i]);
      } else {
        bkg.push_back(p.at("score")[i]);
        bkg_mass.push_back(p.at("mass")[i]);
        bkg_w.push_back(p.at("weight")[i]);
      }
    CHECK(s.at("dcor").get<double>() ==
          doctest::Approx(stats::distance_correlation(bkg, bkg_mass, bkg_w)).epsilon(1e-4));
    const stats::SculptingFigures at_50 = stats::sculpting_at_signal_efficiency(
        sig, sig_w, bkg, bkg_mass, bkg_w, std::vector<double>{0.0, 1e9}, 0.5);
    CHECK(s.at("background_rejection_at_50").get<double>() ==
          doctest::Approx(at_50.background_rejection).epsilon(1e-3));
    CHECK(s.at("jsd_at_50").get<double>() >= 0.0);
    CHECK(s.at("jsd_at_50").get<double>() <= 1.0);
  }
}

TEST_CASE("decorrelation at strength 0 trains the plain classifier's weights bit for bit") {
  const fs::path dir = scratch_dir("decorrelation_zero");
  write_mass_toy(dir / "toy.csv", 600, 5);
  const RunResult plain =
      run(config_from_json(mass_toy_config(dir / "toy.csv", dir / "plain", nullptr), "c.json"));
  const RunResult zero =
      run(config_from_json(mass_toy_config(dir / "toy.csv", dir / "zero",
                                           {{"variable", "mass"}, {"method", "disco"}, {"strength", 0}}),
                           "c.json"));
  const auto layers = [](const RunResult& r) {
    return nlohmann::json::parse(std::ifstream(r.directory / "model.json"))["layers"];
  };
  CHECK(layers(plain) == layers(zero));
  CHECK(plain.summary.at("validation_auc") == zero.summary.at("validation_auc"));
  CHECK_FALSE(plain.summary.contains("decorrelation"));
  CHECK(zero.summary.contains("decorrelation"));
}

TEST_CASE("decorrelation with the 004 penalty and event weights; data mistakes are named") {
  const fs::path dir = scratch_dir("decorrelation_systematics");
  write_mass_toy(dir / "toy.csv", 800, 6);
  nlohmann::json j =
      mass_toy_config(dir / "toy.csv", dir / "both",
                      {{"variable", "mass"}, {"method", "mode"}, {"strength", 2}, {"bins", 5}});
  j["systematics"] = {
      {{"name", "shape"}, {"weights", {{"up", "w_up"}, {"down", "w_down"}}}, {"penalty", 1.0}}};
  const RunResult r = run(config_from_json(j, "c.json"));
  const auto last = nlohmann::json::parse(std::ifstream(r.directory / "history.json"))["epochs"].back();
  INFO(last.dump());
  for (const char* key : {"train_penalty_shape_up", "train_decorrelation_penalty", "dcor", "jsd_at_50"})
    CHECK(last.contains(key));
  CHECK(r.summary.contains("workspace"));
  CHECK(r.summary.contains("decorrelation"));

  auto error = [&](const nlohmann::json& section) {
    try {
      run(config_from_json(mass_toy_config(dir / "toy.csv", dir / "bad", section), "c.json"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error({{"variable", "m"}, {"method", "disco"}, {"strength", 1}})
            .find("decorrelation.variable 'm' is not a column of the data files") != std::string::npos);
  CHECK(error({{"variable", "mass"}, {"method", "disco"}, {"strength", 1}, {"classes", {2}}})
            .find("decorrelation.classes names class 2, but the label has 2 classes") != std::string::npos);
}

namespace {

// FNV-1a 64 written out here from its definition, to check io::Fnv1a64 and the data fingerprint.
std::string py_fnv1a64(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + digits;
}

std::string py_read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string py_resume_error(const TrainConfig& config) {
  try {
    run(config, RunOptions{.resume = true});
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE(
    "resume: the checkpoint's data fingerprint refuses other data; older checkpoints resume unchecked") {
  // FNV-1a 64 reference values (Fowler, Noll and Vo's test vectors).
  io::Fnv1a64 hash;
  CHECK(hash.text() == "fnv1a64:cbf29ce484222325");
  hash.add_bytes("a", 1);
  CHECK(hash.value() == 0xaf63dc4c8601ec8cULL);
  io::Fnv1a64 foobar;
  foobar.add_bytes("foobar", 6);
  CHECK(foobar.value() == 0x85944171f73967e8ULL);

  const fs::path dir = scratch_dir("py_fingerprint");
  const fs::path csv = dir / "toy.csv";
  write_mass_toy(csv, 400, 5);
  nlohmann::json j = mass_toy_config(csv, dir / "run", nullptr);
  j["training"]["epochs"] = 2;
  const TrainConfig config = config_from_json(j, "c.json");
  run(config);
  const fs::path checkpoint_path = dir / "run" / "checkpoint.json";
  nlohmann::json checkpoint = nlohmann::json::parse(py_read_bytes(checkpoint_path));
  // A file's fingerprint: the field "file" (its length, ':', the text), then the file's bytes.
  const std::string saved = py_fnv1a64("4:file" + py_read_bytes(csv));
  CHECK(checkpoint.at("data_fingerprint") == saved);
  CHECK(py_resume_error(config) == "(no error)");

  // One value changed in the file: the resume is refused, naming both fingerprints.
  std::string text = py_read_bytes(csv);
  const auto last_comma = text.rfind(',', text.size() - 2);
  text.insert(last_comma + 1, "1");
  std::ofstream(csv, std::ios::binary) << text;
  const std::string now = py_fnv1a64("4:file" + text);
  REQUIRE(now != saved);
  CHECK(py_resume_error(config) ==
        "checkpoint " + checkpoint_path.string() + ": the run was trained on data with fingerprint " + saved +
            " but the data given now have fingerprint " + now +
            " (a hash of every column's name, type, length and values, or of every "
            "data file's bytes); resume with the data the run started with, or start "
            "afresh without --resume (resume=False in Python)");

  // A checkpoint written before fingerprints existed resumes as it did.
  checkpoint.erase("data_fingerprint");
  std::ofstream(checkpoint_path) << checkpoint.dump();
  CHECK(py_resume_error(config) == "(no error)");
}
