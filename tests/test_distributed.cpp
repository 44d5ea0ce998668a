// Tests of MPI data-parallel training and distributed toys (include/agnostic/distributed/,
// train/data_parallel.hpp; docs/distributed.md). Built only with -DAGNOSTIC_MPI=ON and run by
// ctest as `mpirun -n 2 --oversubscribe test_distributed`: every case runs on both ranks, and a
// rank compares what it computed alone with what the ranks computed together.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <agnostic/adversarial/adnn.hpp>
#include <agnostic/core/threads.hpp>
#include <agnostic/distributed/communicator.hpp>
#include <agnostic/distributed/statistics.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/stats/toys.hpp>
#include <agnostic/stats/workspace.hpp>
#include <agnostic/train/classifier.hpp>
#include <agnostic/train/trainer.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "three_class_data.hpp"
using namespace agnostic;
using namespace agnostic::train;
namespace fs = std::filesystem;

namespace {

distributed::Communicator& world() {
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
  world().broadcast(std::span<double>(root));
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
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1001}}) {
    CAPTURE(n);
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i) + 0.25 * (r + 1);
    world().sum(std::span<double>(v));
    for (std::size_t i = 0; i < n; ++i)
      CHECK(v[i] == static_cast<double>(k) * static_cast<double>(i) + 0.25 * k * (k + 1) / 2);
    CHECK(same_on_every_rank(v));
  }
  // all_gather concatenates in rank order, whatever the lengths.
  std::vector<double> mine(static_cast<std::size_t>(r + 1), static_cast<double>(r));
  const std::vector<double> all = world().all_gather(mine);
  std::vector<double> expected;
  for (int q = 0; q < k; ++q) expected.insert(expected.end(), static_cast<std::size_t>(q + 1), q);
  CHECK(all == expected);
  const distributed::Share s = distributed::share_of(10, 1, 3);
  CHECK(s.begin == 3);
  CHECK(s.end == 6);
}

TEST_CASE("communicator: time of one sum of a W1- and a W2-sized gradient (reported, not checked)") {
  for (std::size_t n : {std::size_t{4416}, std::size_t{140325}}) {  // W1, W2 parameter counts
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

TEST_CASE("data-parallel ADNN (mixed batches, two optimisers): ranks agree with one process") {
  const Dataset<float> data = three_class_data(300, 5);
  auto train = [&](const DataParallel& dp) {
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
                                           .pretrain_classifier_epochs = 1,
                                           .pretrain_adversary_epochs = 1,
                                           .game_epochs = 2,
                                           .batch_size = 60});
    TrainerOptions o = options(scheme.total_epochs(), dp);
    o.warmup_epochs = scheme.warmup_epochs();
    Trainer<float> trainer(scheme, o);
    trainer.fit();
    return values_of(classifier.parameters() + adversary.parameters());
  };
  const std::vector<double> ranks = train(world().data_parallel()), again = train(world().data_parallel());
  const std::vector<double> alone = train(DataParallel{});
  CHECK(bit_identical(ranks, again));
  CHECK(same_on_every_rank(ranks));
  const double d = max_difference(ranks, alone);
  MESSAGE("ADNN: max |w(2 ranks) - w(1 process)| = " << d);
  CHECK(d < 1e-5);
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
  const ToyEnsemble shared = distributed::run_toys(world(), model, truth, options);
  auto flat = [](const Eigen::MatrixXd& m) { return std::vector<double>(m.data(), m.data() + m.size()); };
  CHECK(shared.n == alone.n);
  CHECK(bit_identical(flat(shared.values), flat(alone.values)));
  CHECK(bit_identical(flat(shared.errors), flat(alone.errors)));
  CHECK(shared.converged == alone.converged);
  CHECK(shared.n_converged == alone.n_converged);
  CHECK(bit_identical(flat(shared.pull_mean), flat(alone.pull_mean)));
  CHECK(bit_identical(flat(shared.pull_width), flat(alone.pull_width)));
  CHECK(shared.pull_count == alone.pull_count);
  // Each rank really ran only its share: rank 1 of 2 starts at toy 6.
  CHECK(world().share(13).begin == (world().rank() == 0 ? 0 : 6));

  // A toy CLs scan, its 3 points shared by the 2 ranks.
  const std::vector<double> grid{0.5, 1.0, 2.0};
  const std::vector<ToyClsResult> scan =
      distributed::toy_cls_scan(world(), model, model.observed(), grid, 30, 9, TestStatistic::qtilde);
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

int main(int argc, char** argv) {
  distributed::MpiSession mpi(argc, argv);
  set_threads(1);
  doctest::Context context(argc, argv);
  // Only rank 0 reports; a failure on another rank still fails the run (its exit code).
  if (world().rank() != 0) context.setOption("out", "/dev/null");
  return context.run();
}
