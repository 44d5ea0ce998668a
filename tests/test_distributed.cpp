// Tests of MPI data-parallel training and of toys, CLs and scans shared across ranks
// (include/agnostic/distributed/, stats/across_ranks.hpp, train/data_parallel.hpp; docs/distributed.md).
// Built only with -DAGNOSTIC_MPI=ON and run by ctest as `mpirun -n 2 --oversubscribe test_distributed`: every
// case runs on both ranks, and a rank compares what it computed alone with what the ranks computed together.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <agnostic/core/threads.hpp>
#include <agnostic/distributed/communicator.hpp>
#include <agnostic/io/model_file.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/stats/across_ranks.hpp>
#include <agnostic/stats/fit_report.hpp>
#include <agnostic/stats/limits.hpp>
#include <agnostic/stats/toys.hpp>
#include <agnostic/stats/workspace.hpp>
#include <agnostic/train/adnn.hpp>
#include <agnostic/train/cgan.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/dann.hpp>
#include <agnostic/train/run.hpp>
#include <agnostic/train/trainer.hpp>
#include <agnostic/train/tune.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "three_class_data.hpp"
using namespace agnostic;
using namespace agnostic::train;
namespace fs = std::filesystem;

namespace {

distributed::MpiCommunicator& world() {
  return distributed::world();
}

// Every parameter value, in order, in double.
std::vector<double> values_of(const ParameterGroup<float>& group) {
  std::vector<double> v;
  for (const Parameter<float>* p : group)
    for (Index i = 0; i < p->value.size(); ++i) v.push_back(static_cast<double>(p->value.data()[i]));
  return v;
}

bool bit_identical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

// True when rank 0's vector equals this rank's bit for bit (checked on every rank).
bool same_on_every_rank(const std::vector<double>& mine) {
  std::vector<double> root = mine;
  world().broadcast(std::span<double>(root), 0);
  std::vector<double> same{bit_identical(root, mine) ? 1.0 : 0.0};
  world().sum(std::span<double>(same));
  return same[0] == static_cast<double>(world().size());
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// Two overlapping Gaussian classes in 5 variables; the same on every rank (fixed seed).
Dataset<float> two_classes(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<float> x(n, 5);
  std::vector<Index> y(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    y[static_cast<std::size_t>(i)] = i % 2;
    for (Index k = 0; k < 5; ++k) x(i, k) = static_cast<float>(rng.normal(i % 2 == 1 ? 0.6 : -0.2, 1.0));
  }
  return Dataset<float>(x, y);
}

TrainerOptions options(Index epochs, DataParallel dp, fs::path checkpoint = {}) {
  TrainerOptions o;
  o.stopping.max_epochs = epochs;
  o.verbosity = Verbosity::silent;
  o.restore_best = false;
  o.seed = 5;
  o.checkpoint = std::move(checkpoint);
  o.data_parallel = std::move(dp);
  return o;
}

// A classifier trained `epochs` epochs with SGD on 1000 events in batches of 64 (the last batch
// holds 1000 - 15 * 64 = 40 rows), on the ranks `dp` names; returns its parameters.
struct ClassifierRun {
  Dataset<float> data = two_classes(1000, 3);
  Rng init{7};
  Sequential<float> model{{5, 16, 8, 1}, Activation::tanh(), Activation::identity(), init};
  SGD<float> sgd{model.parameters(), SGDOptions{.lr = 0.05, .momentum = 0.9}};
  ClassifierScheme<float> scheme{model, sgd, data, nullptr, ClassifierOptions{.batch_size = 64}};
};

std::vector<double> train_classifier(Index epochs, const DataParallel& dp) {
  ClassifierRun run;
  Trainer<float> trainer(run.scheme, options(epochs, dp));
  trainer.fit();
  return values_of(run.model.parameters());
}

// Trains twice on the ranks and once as one process: the same bits twice, the same parameters on
// every rank, and one process's parameters to float rounding.
template <class Train>
void check_data_parallel_training(const char* what, Train&& train) {
  const std::vector<double> ranks = train(world().data_parallel()), again = train(world().data_parallel());
  const std::vector<double> alone = train(DataParallel{});
  CHECK(bit_identical(ranks, again));
  CHECK(same_on_every_rank(ranks));
  const double d = max_difference(ranks, alone);
  MESSAGE(std::string(what) << ": max |w(2 ranks) - w(1 process)| = " << d);
  CHECK(d < 1e-5);
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(AGNOSTIC_BINARY_DIR) / "test_distributed" / name;
  if (world().rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  world().barrier();
  return dir;
}

}  // namespace

TEST_CASE("communicator: the sum over ranks is exact, the same on every rank, any length") {
  const int k = world().size(), r = world().rank();
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1001}, std::size_t{1025}}) {
    CAPTURE(n);
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i) + 0.25 * (r + 1);
    world().sum(std::span<double>(v));
    for (std::size_t i = 0; i < n; ++i)
      CHECK(v[i] == static_cast<double>(k) * static_cast<double>(i) + 0.25 * k * (k + 1) / 2);
    CHECK(same_on_every_rank(v));
  }
  // The two ways of summing (short vectors gathered whole, long ones in chunks) give the same bits:
  // values whose sums round, so that a different order would show.
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{1024}, std::size_t{3001}}) {
    CAPTURE(n);
    std::vector<double> gathered(n);
    for (std::size_t i = 0; i < n; ++i) gathered[i] = 0.1 * (r + 1) + 1e-9 * static_cast<double>(i) / (r + 3);
    std::vector<double> chunked = gathered, dispatched = gathered;
    world().sum_gathered(std::span<double>(gathered));
    world().sum_in_chunks(std::span<double>(chunked));
    world().sum(std::span<double>(dispatched));
    CHECK(bit_identical(gathered, chunked));
    CHECK(bit_identical(gathered, dispatched));
    CHECK(same_on_every_rank(gathered));
  }
  // all_gather concatenates in rank order, whatever the lengths.
  std::vector<double> mine(static_cast<std::size_t>(r + 1), static_cast<double>(r));
  const std::vector<double> all = world().all_gather(mine);
  std::vector<double> expected;
  for (int q = 0; q < k; ++q) expected.insert(expected.end(), static_cast<std::size_t>(q + 1), q);
  CHECK(all == expected);
  const Share s = share_of(10, 1, 3);
  CHECK(s.begin == 3);
  CHECK(s.end == 6);
}

TEST_CASE("communicator: time of one sum of a W1- and a W2-sized gradient (reported, not checked)") {
  // A loss's batch totals (2), then the W1 and W2 parameter counts.
  for (std::size_t n : {std::size_t{2}, std::size_t{4416}, std::size_t{140325}}) {
    std::vector<double> v(n, 1.0);
    world().barrier();
    const auto start = std::chrono::steady_clock::now();
    const int repeats = 50;
    for (int i = 0; i < repeats; ++i) world().sum(std::span<double>(v));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE(n << " doubles on " << world().size() << " ranks: " << 1e6 * seconds / repeats << " us per sum");
    CHECK(v[0] == std::pow(static_cast<double>(world().size()), repeats));
  }
}

TEST_CASE("data-parallel classifier: identical parameters on every rank, the same bits twice") {
  REQUIRE(world().size() == 2);
  const std::vector<double> a = train_classifier(3, world().data_parallel());
  const std::vector<double> b = train_classifier(3, world().data_parallel());
  CHECK(bit_identical(a, b));
  CHECK(same_on_every_rank(a));
  // Training moved the weights (the comparison below is not of two untouched initialisations).
  ClassifierRun untouched;
  CHECK(max_difference(a, values_of(untouched.model.parameters())) > 1e-2);
}

TEST_CASE("data-parallel classifier: 2 ranks and one process with the same global batch agree") {
  const std::vector<double> ranks = train_classifier(3, world().data_parallel());
  const std::vector<double> alone = train_classifier(3, DataParallel{});
  // 3 epochs x 16 SGD steps: float rounding of the summed gradients, not a different training.
  const double d = max_difference(ranks, alone);
  MESSAGE("max |w(2 ranks) - w(1 process)| = " << d);
  CHECK(d < 1e-5);
}

namespace {

// Unequal event weights, the same on every rank: 0.2 ... 2.0.
Vector<float> unequal_weights(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Vector<float> w(n);
  for (Index i = 0; i < n; ++i) w(i) = static_cast<float>(rng.uniform(0.2, 2.0));
  return w;
}

// ADNN on `data` for 4 epochs (one of each pretraining, two of the game); its parameters. A's steps read
// the batch's adversary-class events (adversary_batch_size 0) or a batch of their own (the default 8192:
// all 100 of them, each rank its share).
std::vector<double> train_adnn(const Dataset<float>& data, const DataParallel& dp,
                               Index adversary_batch_size) {
  Rng init(2);
  Sequential<float> classifier({4, 10, 8, 3}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({8, 6, 3}, Activation::relu(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 1e-2});
  Adam<float> a_opt(adversary.parameters(), {.lr = 1e-2});
  // 100 adversary-class events of 300: batches of 60 hold 20 of them, 10 per rank.
  adversarial::AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                                        {.alpha = {adversarial::StrengthShape::constant, 5.0},
                                         .adversary_steps = 2,
                                         .adversary_batch_size = adversary_batch_size,
                                         .pretrain_classifier_epochs = 1,
                                         .pretrain_adversary_epochs = 1,
                                         .game_epochs = 2,
                                         .batch_size = 60});
  TrainerOptions o = options(scheme.total_epochs(), dp);
  o.warmup_epochs = scheme.warmup_epochs();
  Trainer<float> trainer(scheme, o);
  trainer.fit();
  return values_of(classifier.parameters() + adversary.parameters());
}

}  // namespace

TEST_CASE("data-parallel ADNN (mixed batches, two optimisers): ranks agree with one process") {
  for (const Index adversary_batch : {Index{0}, adversarial::AdnnOptions{}.adversary_batch_size})
    for (const bool weighted : {false, true}) {
      CAPTURE(adversary_batch);
      CAPTURE(weighted);
      Dataset<float> data = three_class_data(300, 5);
      // Unequal weights: each rank's weighted cross-entropies take the whole batch's weight sums.
      if (weighted) data.weights = unequal_weights(data.rows(), 21);
      const std::string name = std::string(weighted ? "ADNN, unequal weights" : "ADNN") +
                               (adversary_batch > 0 ? ", A's own batch" : "");
      check_data_parallel_training(
          name.c_str(), [&](const DataParallel& dp) { return train_adnn(data, dp, adversary_batch); });
    }
}

TEST_CASE(
    "data-parallel DANN (mixed source/target batches, gradient reversal): ranks agree with one process") {
  // 120 source events (labels from a rule) and 120 target events (shifted; labels never read).
  Rng rng(12);
  Matrix<float> x(240, 4);
  std::vector<Index> y(240), d(240);
  for (Index i = 0; i < 240; ++i) {
    const bool source = i < 120;
    for (Index j = 0; j < 4; ++j) x(i, j) = static_cast<float>(rng.normal() + (source ? 0.0 : 0.4 * j));
    y[static_cast<std::size_t>(i)] = x(i, 0) + x(i, 1) > 0 ? 1 : 0;
    d[static_cast<std::size_t>(i)] = source ? 0 : 1;
  }
  // Equal weights and "none", then unequal event weights with "match_target" domain weights: the
  // weighted means take the whole batch's weight sums over the ranks (core/batch_shard.hpp).
  for (const bool weighted : {false, true}) {
    CAPTURE(weighted);
    const Dataset<float> data(x, y, weighted ? unequal_weights(240, 22) : Vector<float>::Ones(240), d, 2);
    auto train = [&](const DataParallel& dp) {
      Rng init(3);
      Sequential<float> classifier({4, 8, 6, 1}, Activation::tanh(), Activation::identity(), init);
      Sequential<float> domain({6, 5, 2}, Activation::tanh(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "domain");
      ParameterGroup<float> all("all");
      all.add(classifier.parameters());
      all.add(domain.parameters());
      Adam<float> adam(all, {.lr = 1e-2});
      adversarial::DannOptions o;
      o.epochs = 3;
      o.batch_size = 40;  // 20 source + 20 target, 10 + 10 per rank
      o.lambda = adversarial::StrengthSchedule("linear", 2.0);
      if (weighted) o.target_signal_fraction = 0.3;
      adversarial::DannScheme<float> scheme(classifier, domain, adam, data, nullptr, o);
      Trainer<float> trainer(scheme, options(3, dp));
      trainer.fit();
      return values_of(classifier.parameters() + domain.parameters());
    };
    check_data_parallel_training(weighted ? "DANN, unequal weights, match_target" : "DANN", train);
  }
}

TEST_CASE(
    "data-parallel cGAN: each rank keeps its rows of the global batch's noise; ranks agree with one "
    "process") {
  Rng rng(13);
  Matrix<float> data(512, 2);  // one feature, then one condition, in [-1, 1]
  for (Index i = 0; i < data.rows(); ++i) {
    data(i, 1) = static_cast<float>(rng.uniform(-1.0, 1.0));
    data(i, 0) = static_cast<float>(std::tanh(0.5 * data(i, 1) + 0.3 * rng.normal()));
  }
  auto train = [&](const DataParallel& dp) {
    Rng init(4);
    Sequential<float> g({3 + 1, 8, 1}, Activation::leaky_relu(0.4), Activation::tanh(), init,
                        Initialiser::he_normal(), "generator");
    Sequential<float> d({1 + 1, 8, 1}, Activation::leaky_relu(0.4), Activation::identity(), init,
                        Initialiser::he_normal(), "discriminator");
    const SGDOptions sgd{.lr = 1e-2, .momentum = 0.9, .nesterov = true, .l2 = 1e-4, .clip = {.norm = 1.0}};
    SGD<float> g_opt(g.parameters(), sgd), d_opt(d.parameters(), sgd);
    adversarial::CganOptions o;
    o.latent = 3;
    o.batch_size = 64;
    o.generator_average = 0.9;
    adversarial::CganScheme<float> scheme(g, d, g_opt, d_opt, data, nullptr, o);
    Trainer<float> trainer(scheme, options(2, dp));
    trainer.fit();
    return values_of(g.parameters() + d.parameters() + scheme.average().parameters());
  };
  check_data_parallel_training("cGAN", train);
}

namespace {

// 004's toy with unequal event weights: signal (y = 1) at (0, 0), background at (1, 1), weights
// 0.2 ... 2.0, the noise weight factors of test_train_systematics.cpp; written by rank 0.
fs::path write_weighted_toy(const fs::path& dir) {
  const fs::path csv = dir / "toy.csv";
  if (world().rank() == 0) {
    Rng rng(31);
    std::ofstream out(csv);
    out << "x1,x2,y,w,noise_up,noise_down\n";
    for (Index i = 0; i < 1200; ++i) {
      const int y = i % 2 == 0 ? 1 : 0;
      const double m = y == 1 ? 0.0 : 1.0;
      const double f = std::clamp(1.0 + 0.5 * rng.normal(), 0.0, 2.0);
      out << rng.normal(m, 1.0) << "," << rng.normal(m, 1.0) << "," << y << "," << rng.uniform(0.2, 2.0)
          << "," << f << "," << 2.0 - f << "\n";
    }
  }
  world().barrier();
  return csv;
}

nlohmann::json weighted_toy_config(const fs::path& csv) {
  nlohmann::json j;
  j["data"] = {{"files", {csv.string()}},
               {"features", {"x1", "x2"}},
               {"label", "y"},
               {"weight", "w"},
               {"validation_fraction", 0.25}};
  j["model"] = {{"hidden", {12}}};
  j["training"] = {
      {"epochs", 3}, {"batch_size", 150}, {"seed", 3}, {"threads", 1}, {"early_stopping", false}};
  j["optimiser"] = {{"learning_rate", 0.01}};
  j["output"] = {{"progress", "silent"}};
  j["systematics"] = nlohmann::json::parse(
      R"([{"name": "x2", "shift": {"feature": "x2", "up": 1, "down": -1}, "classes": [0], "penalty": 5},
          {"name": "noise", "weights": {"up": "noise_up", "down": "noise_down"}, "penalty": 5}])");
  return j;
}

// Every weight of the model.json in `dir`, in order.
std::vector<double> model_values(const fs::path& dir) {
  const auto model = io::read_model<float>((dir / "model.json").string());
  std::vector<double> v;
  for (const auto& layer : model.layers) {
    for (Index i = 0; i < layer.weights.size(); ++i)
      v.push_back(static_cast<double>(layer.weights.data()[i]));
    for (Index i = 0; i < layer.bias.size(); ++i) v.push_back(static_cast<double>(layer.bias.data()[i]));
  }
  return v;
}

}  // namespace

TEST_CASE(
    "data-parallel systematics, unequal event weights: the soft-histogram penalty and the inference-aware "
    "loss agree with one process") {
  const fs::path dir = scratch("systematics");
  const fs::path csv = write_weighted_toy(dir);
  nlohmann::json penalised = weighted_toy_config(csv);
  penalised["soft_histogram"] = {{"bins", 8}, {"range", {0, 1}}};
  penalised["expected_yields"] = {{"1", 50.0}, {"0", 1000.0}};
  nlohmann::json inference = weighted_toy_config(csv);
  inference["loss"] = "inference_aware";
  for (auto& systematic : inference["systematics"]) systematic.erase("penalty");  // the loss is sigma^2(mu)
  inference["inference_aware"] = nlohmann::json::parse(
      R"({"signal_class": 1, "expected_signal": 50, "expected_background": 1000, "outputs": 4,
          "temperature": 0.5, "shape_systematics": ["noise", "x2"],
          "normalisations": [{"name": "b_norm", "class": 0, "relative": 0.1}]})");
  for (const auto& named : {std::pair{"penalised", penalised}, std::pair{"inference", inference}}) {
    const std::string method = named.first;
    const nlohmann::json& config = named.second;
    CAPTURE(method);
    // The ranks together write into one directory (rank 0 writes); alone, each rank its own.
    auto run_in = [&](const fs::path& out, const DataParallel& dp) {
      nlohmann::json j = config;
      j["output"]["directory"] = out.string();
      std::ostringstream sink;
      run(config_from_json(j, method + ".json"), {.out = &sink, .data_parallel = dp});
      world().barrier();
      return model_values(out);
    };
    const std::vector<double> ranks = run_in(dir / (method + "-ranks"), world().data_parallel());
    const std::vector<double> alone =
        run_in(dir / (method + "-alone-" + std::to_string(world().rank())), DataParallel{});
    const double d = max_difference(ranks, alone);
    MESSAGE(method << ", unequal weights: max |w(2 ranks) - w(1 process)| = " << d);
    CHECK(d < 1e-5);
  }
}

TEST_CASE("data-parallel resume: 2 epochs + resume to 5 gives the bits of 5 uninterrupted epochs") {
  const fs::path dir = scratch("resume");
  std::vector<double> straight;
  {
    ClassifierRun run;
    Trainer<float> trainer(run.scheme, options(5, world().data_parallel(), dir / "straight.json"));
    trainer.fit();
    straight = values_of(run.model.parameters());
  }
  {
    ClassifierRun run;
    Trainer<float> trainer(run.scheme, options(2, world().data_parallel(), dir / "split.json"));
    trainer.fit();
  }
  ClassifierRun resumed;  // fresh weights: everything must come from the checkpoint
  Trainer<float> trainer(resumed.scheme, options(5, world().data_parallel(), dir / "split.json"));
  const History& h = trainer.resume(dir / "split.json");
  CHECK(h.epochs.size() == 5);
  CHECK(bit_identical(values_of(resumed.model.parameters()), straight));
  CHECK(same_on_every_rank(straight));
  // Only rank 0 wrote: no temporary files of another process are left beside the checkpoint.
  world().barrier();
  Index files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    (void)entry;
    ++files;
  }
  CHECK(files == 2);
}

TEST_CASE("distributed toys: the ranks' shares, gathered, are bit for bit one process's ensemble") {
  using namespace agnostic::stats;
  const BinnedLikelihood model(read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
  const Eigen::VectorXd truth = model.init();
  const ToyOptions options{.n = 13, .first = 0, .seed = 4, .fit = {}};  // 13: not a multiple of the ranks
  const ToyEnsemble alone = stats::run_toys(model, truth, options);
  const ToyEnsemble shared = stats::run_toys(world(), model, truth, options);
  auto flat = [](const Eigen::MatrixXd& m) { return std::vector<double>(m.data(), m.data() + m.size()); };
  CHECK(shared.n == alone.n);
  CHECK(bit_identical(flat(shared.values), flat(alone.values)));
  CHECK(bit_identical(flat(shared.errors), flat(alone.errors)));
  CHECK(shared.converged == alone.converged);
  CHECK(shared.n_converged == alone.n_converged);
  auto summaries = [](const stats::ToyEnsemble& e) {  // every figure of every pull summary, in order
    std::vector<double> v;
    for (const stats::PullSummary& s : e.pull_summaries)
      v.insert(v.end(), {static_cast<double>(s.count), static_cast<double>(s.skipped), s.mean, s.mean_error,
                         s.width, s.width_error});
    return v;
  };
  CHECK(bit_identical(summaries(shared), summaries(alone)));
  // Each rank really ran only its share: rank 1 of 2 starts at toy 6.
  CHECK(world().share(13).begin == (world().rank() == 0 ? 0 : 6));

  // A toy CLs scan, its 3 points shared by the 2 ranks.
  const std::vector<double> grid{0.5, 1.0, 2.0};
  const std::vector<ToyClsResult> scan =
      stats::toy_cls_points(world(), model, model.observed(), grid, 30, 9, TestStatistic::qtilde);
  REQUIRE(scan.size() == grid.size());
  for (std::size_t k = 0; k < grid.size(); ++k) {
    const ToyClsResult one = toy_cls(model, model.observed(), grid[k], 30, 9, TestStatistic::qtilde);
    CAPTURE(k);
    CHECK(scan[k].mu == one.mu);
    CHECK(bit_identical(
        {scan[k].q_obs, scan[k].cls_obs, scan[k].clsb_obs, scan[k].clb_obs, scan[k].cls_obs_error},
        {one.q_obs, one.cls_obs, one.clsb_obs, one.clb_obs, one.cls_obs_error}));
    CHECK(bit_identical(std::vector<double>(scan[k].cls_exp.begin(), scan[k].cls_exp.end()),
                        std::vector<double>(one.cls_exp.begin(), one.cls_exp.end())));
    CHECK(scan[k].n_signal == one.n_signal);
    CHECK(scan[k].n_background == one.n_background);
  }
}

namespace {

// Every number of a toy CLs result, in order (mu, statistics, fractions, band), and its counts.
std::vector<double> numbers_of(const stats::ToyClsResult& t) {
  std::vector<double> v{t.mu, t.q_obs, t.cls_obs, t.clsb_obs, t.clb_obs, t.cls_obs_error};
  v.insert(v.end(), t.cls_exp.begin(), t.cls_exp.end());
  v.insert(v.end(), {static_cast<double>(t.n_signal), static_cast<double>(t.n_background),
                     static_cast<double>(static_cast<int>(t.statistic))});
  return v;
}

stats::BinnedLikelihood w6_model() {
  return stats::BinnedLikelihood(stats::read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
}

// The message of what f throws ("" when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("distributed toy CLs at one POI value (--cls MU --toys N): bit for bit one process's") {
  using namespace agnostic::stats;
  const BinnedLikelihood model = w6_model();
  // 7 toys per hypothesis: 15 jobs (observed, 7 signal-plus-background, 7 background-only), cut by
  // the 2 ranks inside the signal-plus-background ensemble (rank 1 starts at job 7).
  for (const TestStatistic statistic : {TestStatistic::qtilde, TestStatistic::q}) {
    CAPTURE(to_string(statistic));
    const ToyClsResult alone = toy_cls(model, model.observed(), 1.2, 7, 11, statistic);
    const ToyClsResult shared = stats::toy_cls(world(), model, model.observed(), 1.2, 7, 11, statistic);
    CHECK(bit_identical(numbers_of(shared), numbers_of(alone)));
    CHECK(same_on_every_rank(numbers_of(shared)));
  }
  CHECK(world().share(15).begin == (world().rank() == 0 ? 0 : 7));
  // Other data (a pseudo-experiment: W6's observations are its Asimov data at mu = 1), 40 toys.
  Rng rng = toy_rng(3, 0);
  const Data other = sample_toy(model, model.init(), rng);
  CHECK(bit_identical(numbers_of(stats::toy_cls(world(), model, other, 0.8, 40, 2)),
                      numbers_of(toy_cls(model, other, 0.8, 40, 2))));
}

TEST_CASE("distributed toy upper limit (--upper-limit --toys N): limit, band, scan and notes bit for bit") {
  using namespace agnostic::stats;
  const BinnedLikelihood model = w6_model();
  const std::vector<double> grid = linear_grid(0.5, 4.0, 6);
  const ToyUpperLimit alone = toy_upper_limit(model, model.observed(), grid, 25, 5);
  const ToyUpperLimit shared = stats::toy_upper_limit(world(), model, model.observed(), grid, 25, 5);
  auto limits_of = [](const ToyUpperLimit& u) {
    std::vector<double> v{u.cl, u.obs, u.obs_error, u.obs_found ? 1.0 : 0.0};
    for (std::size_t k = 0; k < 5; ++k) v.insert(v.end(), {u.exp[k], u.exp_found[k] ? 1.0 : 0.0});
    for (const ToyClsResult& t : u.scan) {
      const std::vector<double> n = numbers_of(t);
      v.insert(v.end(), n.begin(), n.end());
    }
    return v;
  };
  // NaN (a band edge not found) compares unequal to itself: compare the bits.
  CHECK(bit_identical(limits_of(shared), limits_of(alone)));
  CHECK(shared.notes == alone.notes);
  CHECK(alone.obs_found);  // the comparison is of a real limit
  CHECK(same_on_every_rank(limits_of(shared)));
  // A bad grid fails on every rank with the same message, before any toy.
  const std::string bad = error_of([&] {
    stats::toy_upper_limit(world(), model, model.observed(), {2.0, 1.0}, 5, 1);
  });
  CHECK(bad.find("toy_upper_limit: the grid must increase, got 2 then 1") != std::string::npos);
  const std::string outside = error_of([&] { stats::toy_cls(world(), model, model.observed(), -3.0, 5, 1); });
  CHECK(outside.find("toy_cls") != std::string::npos);
}

TEST_CASE("distributed profile scan: blocks of points per rank give one process's scan bit for bit") {
  using namespace agnostic::stats;
  const BinnedLikelihood model = w6_model();
  const std::string poi = model.names()[static_cast<std::size_t>(model.poi())];
  Rng rng = toy_rng(8, 0);  // W6's observations, and a pseudo-experiment
  for (const Data& data : {model.observed(), sample_toy(model, model.init(), rng)}) {
    for (int points : {1, 2, 31, 101}) {
      CAPTURE(points);
      const auto alone = profile_scan(model, data, poi, 0.0, 5.0, points);
      const auto shared = stats::profile_scan(world(), model, data, poi, 0.0, 5.0, points);
      REQUIRE(shared.size() == alone.size());
      std::vector<double> mus, q;
      for (std::size_t k = 0; k < alone.size(); ++k) {
        mus.push_back(shared[k].first);
        q.push_back(shared[k].second);
        CHECK(shared[k].first == alone[k].first);
        CHECK(shared[k].second == alone[k].second);
      }
      CHECK(same_on_every_rank(mus));
      CHECK(same_on_every_rank(q));
    }
  }
  const std::string bad =
      error_of([&] { stats::profile_scan(world(), model, model.observed(), poi, 0.0, 5.0, 0); });
  CHECK(bad.find("profile_scan: points must be >= 1, got 0") != std::string::npos);
}

TEST_CASE("run_collectively: an error on one rank is thrown on every rank, with that rank's message") {
  const std::string message = error_of([&] {
    run_collectively(world(), [&] {
      if (world().rank() == world().size() - 1) throw std::runtime_error("only the last rank fails");
    });
  });
  CHECK(message == "only the last rank fails");
  CHECK(error_of([&] { run_collectively(world(), [] {}); }).empty());
}

TEST_CASE("stats::fit_report on the ranks of world(): one process's report and JSON, bit for bit") {
  using namespace agnostic::stats;
  const Workspace ws = read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json");
  FitRequest cls;  // every computation that takes the communicator: the scan, toy CLs, the toy limit
  cls.scan = true;
  cls.cls_mu = 1.0;
  cls.upper_limit = true;
  cls.cls_grid = PoiGrid{0.5, 3.0, 4};
  cls.toys = 5;
  cls.seed = 3;
  FitRequest pulls;  // the pull study
  pulls.toys = 7;
  pulls.seed = 2;
  for (const FitRequest& request : {cls, pulls}) {
    const FitReport shared = fit_report(ws, request, world()), alone = fit_report(ws, request, one_rank());
    const std::string text = to_json(shared).dump();
    CHECK(text == to_json(alone).dump());
    std::string root = text;  // and every rank holds rank 0's report
    world().broadcast(root, 0);
    CHECK(root == text);
  }
  const FitReport shared = fit_report(ws, cls, world());
  REQUIRE(shared.toy_cls_scan);
  CHECK(shared.toy_cls_scan->size() == 4);
  CHECK(shared.toy_upper_limit);
  CHECK(shared.scan->size() == 31);
}

namespace {

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The figures of a tune run, in trial order, and each trial's model.
struct TuneRun {
  std::vector<double> figures;
  std::vector<std::string> models;
  std::vector<int> threads;  // what each trial's training recorded
};

// 4 trials of a 2 x 2 grid (learning rate, hidden layer) on 300 generated events, 3 epochs each,
// `parallel` trials at a time with `threads` OpenMP threads each; the config leaves
// training.threads unset, so the trial's thread count is the one run_trials gives it.
TuneRun tune_trials(const fs::path& dir, const train::TrialParallelism& parallel) {
  fs::create_directories(dir);
  {
    Rng rng(12);
    std::ofstream out(dir / "events.csv");
    out << "a,b,c,label\n";
    for (int i = 0; i < 300; ++i) {
      const int y = i % 2;
      out << rng.normal(y ? 0.7 : -0.7, 1.0) << "," << rng.normal(0.0, 1.0) << ","
          << rng.normal(y ? 0.3 : -0.3, 1.0) << "," << y << "\n";
    }
  }
  const nlohmann::json config = {
      {"data",
       {{"files", {(dir / "events.csv").string()}}, {"features", {"a", "b", "c"}}, {"label", "label"}}},
      {"model", {{"hidden", {8}}, {"activation", "tanh"}}},
      {"optimiser", {{"name", "adam"}, {"learning_rate", 0.01}}},
      {"training", {{"epochs", 3}, {"batch_size", 32}, {"seed", 3}}},
      {"output", {{"progress", "silent"}}}};
  const train::SearchSpace space =
      train::search_space_from_json({{"search", "grid"},
                                     {"parameters",
                                      {{"optimiser.learning_rate", {{"values", {0.003, 0.03}}}},
                                       {"/model/hidden", {{"values", {{4}, {8}}}}}}}},
                                    "space");
  const std::vector<nlohmann::json> settings = train::trial_settings(space, 4);
  const std::vector<train::TrialResult> results = train::run_trials(4, parallel, [&](int i) {
    return train::run_trial(config, "config", dir, space, i, settings[static_cast<std::size_t>(i)],
                            dir / ("trial-" + std::to_string(i)));
  });
  TuneRun run;
  for (const train::TrialResult& r : results) {
    run.figures.insert(run.figures.end(),
                       {static_cast<double>(r.trial), r.validation_accuracy, r.validation_auc, r.epochs});
    // The weights and standardisation (the file also holds the date and the data's path).
    const nlohmann::json model =
        nlohmann::json::parse(text_of(dir / ("trial-" + std::to_string(r.trial)) / "model.json"));
    run.models.push_back(model.at("layers").dump() + model.at("inputs").dump());
    run.threads.push_back(model.at("agnostic").at("training").at("threads").get<int>());
  }
  return run;
}

}  // namespace

TEST_CASE("tune trials side by side on one node (--parallel-trials): the serial table, bit for bit") {
  // Not MPI: each rank runs this on its own, in its own directory.
  const fs::path dir = scratch("tune") / ("rank-" + std::to_string(world().rank()));
  const int before = threads();
  const TuneRun serial = tune_trials(dir / "serial", {.trials = 1, .threads = 1});
  const TuneRun parallel = tune_trials(dir / "parallel", {.trials = 2, .threads = 1});
  const TuneRun three = tune_trials(dir / "three", {.trials = 3, .threads = 1});  // 4 trials, 3 threads
  CHECK(threads() == before);  // the caller's thread count is left alone
  REQUIRE(serial.models.size() == 4);
  CHECK(bit_identical(parallel.figures, serial.figures));
  CHECK(bit_identical(three.figures, serial.figures));
  CHECK(parallel.models == serial.models);
  CHECK(three.models == serial.models);
  CHECK(parallel.threads == std::vector<int>{1, 1, 1, 1});
  CHECK(serial.models[0] != serial.models[1]);  // the trials differ: the comparison means something
  for (std::size_t i = 0; i < 4; ++i) CHECK(serial.figures[4 * i] == static_cast<double>(i));

  // Each trial's thread sees its own thread count; the first failed trial by index is reported.
  const std::vector<train::TrialResult> seen = train::run_trials(6, {.trials = 3, .threads = 2}, [](int i) {
    train::TrialResult r;
    r.trial = i;
    r.epochs = threads();
    return r;
  });
  for (int i = 0; i < 6; ++i) {
    CHECK(seen[static_cast<std::size_t>(i)].trial == i);
    CHECK(seen[static_cast<std::size_t>(i)].epochs == 2.0);
  }
  CHECK(threads() == before);
  const std::string failed = error_of([] {
    train::run_trials(8, {.trials = 4, .threads = 1}, [](int i) -> train::TrialResult {
      if (i == 2 || i == 5) fail("trial ", i, " refused");
      return {};
    });
  });
  CHECK(failed == "trial 2 refused");
  CHECK(error_of([] { train::run_trials(1, {.trials = 0}, [](int) { return train::TrialResult{}; }); }) ==
        "tune: trials run at once must be >= 1, got 0");
}

int main(int argc, char** argv) {
  distributed::MpiSession mpi(argc, argv);
  set_threads(1);
  doctest::Context context(argc, argv);
  // Only rank 0 reports; a failure on another rank still fails the run (its exit code).
  if (world().rank() != 0) context.setOption("out", "/dev/null");
  return context.run();
}
