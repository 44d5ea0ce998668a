// Tests for stats/toys.hpp: toy seeding, the sampling of main and auxiliary data, pulls, thread
// independence, and the bias study of source 000 (eq. 10-12) against closed forms; for
// stats/pull_summary.hpp (the mean and width of pulls with their standard errors); and for the
// Communicator of core/communicator.hpp with stats/across_ranks.hpp: one rank, and two ranks played
// by two threads of this process (the MPI build checks the same on real ranks, test_distributed).
#include <doctest/doctest.h>

#include <agnostic/core/communicator.hpp>
#include <agnostic/core/threads.hpp>
#include <agnostic/stats/across_ranks.hpp>
#include <agnostic/stats/pull_summary.hpp>
#include <agnostic/stats/toys.hpp>
#include <barrier>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

using namespace agnostic;
using namespace agnostic::stats;

namespace {

Workspace read_case(const std::string& file) {
  std::ifstream in(AGNOSTIC_SHARED_DIR "/reference/pyhf-validation/" + file);
  REQUIRE_MESSAGE(in.good(), "cannot open ", file);
  return parse_workspace(nlohmann::json::parse(in)["workspace"], file);
}

// Signal s_i (normfactor mu) plus background b_i over several bins, no nuisance parameters.
Workspace template_workspace(const std::vector<double>& s, const std::vector<double>& b) {
  std::vector<double> n(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) n[i] = s[i] + b[i];
  nlohmann::json j = {
      {"channels",
       {{{"name", "sr"},
         {"samples",
          {{{"name", "sig"},
            {"data", s},
            {"modifiers", {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}}}},
           {{"name", "bkg"}, {"data", b}, {"modifiers", nlohmann::json::array()}}}}}}},
      {"observations", {{{"name", "sr"}, {"data", n}}}},
      {"measurements",
       {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", nlohmann::json::array()}}}}}},
      {"version", "1.0.0"}};
  return parse_workspace(j, "templates");
}

}  // namespace

TEST_CASE("toy_rng: one stream per (seed, index), reproducible") {
  Rng a = toy_rng(5, 17), b = toy_rng(5, 17), c = toy_rng(5, 18), d = toy_rng(6, 17);
  const auto first = a.next();
  CHECK(first == b.next());
  CHECK(first != c.next());
  CHECK(first != d.next());
  // neighbouring indices are uncorrelated: the mean of the first uniform over 20000 indices is 1/2
  double sum = 0.0, lag = 0.0, previous = 0.5;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const double u = toy_rng(1, i).uniform();
    sum += u;
    lag += (u - 0.5) * (previous - 0.5);
    previous = u;
  }
  CHECK(sum / 20000 == doctest::Approx(0.5).epsilon(0.02));
  CHECK(std::abs(lag / 20000) < 4.0 * (1.0 / 12.0) / std::sqrt(20000.0));
}

TEST_CASE("sample_toy: Poisson main bins, Gaussian and Poisson auxiliary data around the truth") {
  SUBCASE("Gaussian constraints (W6: normsys + histosys)") {
    const BinnedLikelihood model(read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
    Eigen::VectorXd truth = model.init();
    truth[model.index("bkg_norm")] = 0.4;
    const Data mean = asimov_data(model, truth);
    const int n = 20000;
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(mean.main.size()), sum2 = sum;
    double aux_sum = 0.0, aux_sum2 = 0.0;
    const int a = model.parameter(model.index("bkg_norm")).aux;
    int non_integer = 0;
    for (int i = 0; i < n; ++i) {
      Rng rng = toy_rng(3, static_cast<std::uint64_t>(i));
      const Data t = sample_toy(model, truth, rng);
      for (Index b = 0; b < t.main.size(); ++b) non_integer += t.main[b] != std::floor(t.main[b]);
      sum += t.main;
      sum2 += t.main.cwiseProduct(t.main);
      aux_sum += t.aux[a];
      aux_sum2 += t.aux[a] * t.aux[a];
    }
    CHECK(non_integer == 0);  // Poisson counts
    for (Index b = 0; b < mean.main.size(); ++b) {
      const double m = sum[b] / n, var = sum2[b] / n - m * m;
      CHECK(std::abs(m - mean.main[b]) < 4.0 * std::sqrt(mean.main[b] / n));
      CHECK(var == doctest::Approx(mean.main[b]).epsilon(0.05));  // Poisson: variance = mean
    }
    const double m = aux_sum / n, sd = std::sqrt(aux_sum2 / n - m * m);
    CHECK(std::abs(m - 0.4) < 4.0 / std::sqrt(n));
    CHECK(sd == doctest::Approx(1.0).epsilon(0.03));
  }
  SUBCASE("Poisson constraint (shapesys): aux ~ Poisson(gamma tau)") {
    const BinnedLikelihood model(read_case("1bin_shapesys.json"));
    Eigen::VectorXd truth = model.init();
    const int g = model.index("uncorr_bkguncrt[0]");
    truth[g] = 0.9;
    const double tau = model.parameter(g).tau, expected = 0.9 * tau;
    const int n = 20000;
    double s = 0.0, s2 = 0.0;
    int non_integer = 0;
    for (int i = 0; i < n; ++i) {
      Rng rng = toy_rng(4, static_cast<std::uint64_t>(i));
      const double x = sample_toy(model, truth, rng).aux[model.parameter(g).aux];
      non_integer += x != std::floor(x);
      s += x;
      s2 += x * x;
    }
    CHECK(non_integer == 0);
    const double m = s / n;
    CHECK(std::abs(m - expected) < 4.0 * std::sqrt(expected / n));
    CHECK(s2 / n - m * m == doctest::Approx(expected).epsilon(0.05));
  }
}

TEST_CASE("run_toys: pulls of a well-measured POI have mean 0 and width 1") {
  // 3 bins, mu = 1 far from its bounds: the ML estimator is close to Gaussian.
  const BinnedLikelihood model(template_workspace({120.0, 80.0, 40.0}, {100.0, 150.0, 200.0}));
  ToyOptions o;
  o.n = 2000;
  o.seed = 11;
  const ToyEnsemble e = run_toys(model, model.init(), o);
  CHECK(e.n == 2000);
  CHECK(e.n_converged == 2000);
  const int p = model.poi();
  const PullSummary& mu = e.pull_summaries[static_cast<std::size_t>(p)];
  CHECK(mu.count == 2000);
  CHECK(std::abs(mu.mean) < 4.0 / std::sqrt(2000.0));
  CHECK(std::abs(mu.width - 1.0) < 4.0 / std::sqrt(2.0 * 2000.0));
  // the mean fitted mu is the truth (the estimator is unbiased to O(1/N) here)
  CHECK(std::abs(e.values.col(p).mean() - 1.0) < 4.0 * e.errors.col(p).mean() / std::sqrt(2000.0));
  // the summary is pull_summary of the toys' pulls, bit for bit
  std::vector<double> pulls;
  for (int i = 0; i < e.n; ++i) pulls.push_back(e.pull(i, p));
  const PullSummary s = pull_summary(pulls);
  CHECK(mu.mean == s.mean);
  CHECK(mu.width == s.width);
}

TEST_CASE("pull_summary: mean, width and their standard errors by hand; NaN pulls are skipped") {
  // {-1, 0.5, 2, 3.5}: mean 5/4, deviations +-0.75 and +-2.25, sum of squares 11.25, variance 3.75.
  const std::vector<double> pulls = {-1.0, 0.5, std::nan(""), 2.0, 3.5};
  const PullSummary s = pull_summary(pulls);
  CHECK(s.count == 4);
  CHECK(s.skipped == 1);
  CHECK(s.mean == doctest::Approx(1.25).epsilon(1e-15));
  CHECK(s.width == doctest::Approx(std::sqrt(3.75)).epsilon(1e-15));
  CHECK(s.mean_error == doctest::Approx(std::sqrt(3.75 / 4.0)).epsilon(1e-15));
  CHECK(s.width_error == doctest::Approx(std::sqrt(3.75 / 6.0)).epsilon(1e-15));
  // any range of numbers: an Eigen vector gives the same bits
  Eigen::VectorXd v(5);
  v << -1.0, 0.5, std::nan(""), 2.0, 3.5;
  const PullSummary e = pull_summary(v);
  CHECK(e.mean == s.mean);
  CHECK(e.width == s.width);
  // too few pulls: one has no width, none has nothing
  const PullSummary one = pull_summary(std::vector<double>{std::nan(""), 2.5});
  CHECK(one.count == 1);
  CHECK(one.mean == 2.5);
  CHECK(one.width == 0.0);
  CHECK(one.mean_error == 0.0);
  CHECK(one.width_error == 0.0);
  const PullSummary none = pull_summary(std::vector<double>{std::nan("")});
  CHECK(none.count == 0);
  CHECK(none.skipped == 1);
  CHECK(none.mean == 0.0);
  CHECK(none.width == 0.0);
}

TEST_CASE("pull_summary: the standard errors are the spread of mean and width over repeated studies") {
  // 400 studies of 50 unit-Gaussian pulls: the means scatter by 1/sqrt(50) and the widths by
  // 1/sqrt(2 * 49) (to 1 %), which the errors each study reports must match. With 400 studies the
  // observed scatters are known to ~3.5 %; 12 % is 3.4 of those.
  Rng rng(2024);
  const int studies = 400, n = 50;
  std::vector<double> means, widths, pulls(static_cast<std::size_t>(n));
  double mean_error = 0.0, width_error = 0.0;
  for (int k = 0; k < studies; ++k) {
    for (double& p : pulls) p = rng.normal();
    const PullSummary s = pull_summary(pulls);
    means.push_back(s.mean);
    widths.push_back(s.width);
    mean_error += s.mean_error / studies;
    width_error += s.width_error / studies;
  }
  const PullSummary of_means = pull_summary(means), of_widths = pull_summary(widths);
  // relative differences (doctest's Approx adds an absolute scale of 1, too loose for 0.1)
  auto relative = [](double a, double b) { return std::abs(a / b - 1.0); };
  CHECK(relative(of_means.width, mean_error) < 0.12);
  CHECK(relative(of_widths.width, width_error) < 0.12);
  CHECK(relative(mean_error, 1.0 / std::sqrt(50.0)) < 0.05);
  CHECK(relative(width_error, 1.0 / std::sqrt(98.0)) < 0.05);
}

TEST_CASE("run_toys: the same seed gives the same ensemble with 1 and 2 threads") {
  const BinnedLikelihood model(read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
  ToyOptions o;
  o.n = 300;
  o.seed = 42;
  const int saved = threads();
  set_threads(1);
  const ToyEnsemble one = run_toys(model, model.init(), o);
  set_threads(2);
  const ToyEnsemble two = run_toys(model, model.init(), o);
  set_threads(saved);
  CHECK(one.values == two.values);  // bit for bit
  CHECK(one.errors == two.errors);
  CHECK(one.pull_summaries == two.pull_summaries);
  o.seed = 43;
  const ToyEnsemble other = run_toys(model, model.init(), o);
  CHECK(other.values != one.values);
  // W6's constrained nuisance parameters: pulls near N(0, 1)
  const int a = model.index("bkg_shape");
  CHECK(std::abs(one.pull_summaries[static_cast<std::size_t>(a)].mean) < 4.0 / std::sqrt(300.0));
  CHECK(one.pull_summaries[static_cast<std::size_t>(a)].width == doctest::Approx(1.0).epsilon(0.2));
}

TEST_CASE("run_toys: a range of toy indices gives the same rows as the whole ensemble") {
  // What a split across ranks (or calls) relies on: toy i depends on (seed, i) only.
  const BinnedLikelihood model(template_workspace({30.0, 20.0}, {50.0, 70.0}));
  ToyOptions all;
  all.n = 12;
  all.seed = 5;
  const ToyEnsemble whole = run_toys(model, model.init(), all);
  ToyOptions part = all;
  part.first = 4;
  part.n = 5;
  const ToyEnsemble share = run_toys(model, model.init(), part);
  CHECK(share.first == 4);
  REQUIRE(share.values.rows() == 5);
  CHECK(share.values == whole.values.middleRows(4, 5));  // bit for bit
  CHECK(share.errors == whole.errors.middleRows(4, 5));
  const int p = model.poi();
  for (int i = 0; i < 5; ++i) {
    CHECK(share.pull(i, p) == whole.pull(4 + i, p));
    CHECK(share.pull(i, p) == (share.values(i, p) - 1.0) / share.errors(i, p));
  }
  part.first = -1;
  CHECK_THROWS_WITH(run_toys(model, model.init(), part), doctest::Contains("first toy index must be >= 0"));
}

TEST_CASE("run_toys: fixed parameters have no pulls; bad settings are errors") {
  const BinnedLikelihood model(read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
  ToyOptions o;
  o.n = 20;
  o.fit.fix["bkg_shape"] = 0.0;
  const ToyEnsemble e = run_toys(model, model.init(), o);
  const int a = model.index("bkg_shape");
  CHECK(e.pull_summaries[static_cast<std::size_t>(a)].count == 0);
  CHECK(e.pull_summaries[static_cast<std::size_t>(a)].mean == 0.0);
  CHECK(e.pull_summaries[static_cast<std::size_t>(model.poi())].count > 0);
  o.n = 0;
  CHECK_THROWS_WITH_AS(run_toys(model, model.init(), o), "run_toys: the number of toys must be >= 1, got 0",
                       Error);
  o.n = 5;
  o.fit.hesse = false;
  CHECK_THROWS_WITH_AS(run_toys(model, model.init(), o),
                       "run_toys: pulls need errors; ToyOptions::fit.hesse must be true", Error);
}

TEST_CASE("sorted_quantile interpolates like numpy.percentile") {
  const std::vector<double> v = {1.0, 2.0, 4.0, 8.0};
  CHECK(sorted_quantile(v, 0.0) == 1.0);
  CHECK(sorted_quantile(v, 1.0) == 8.0);
  CHECK(sorted_quantile(v, 0.5) == doctest::Approx(3.0));  // numpy.percentile(v, 50) = 3
  CHECK(sorted_quantile(v, 0.1) == doctest::Approx(1.3));  // numpy.percentile(v, 10) = 1.3
  CHECK(sorted_quantile(v, 0.9) == doctest::Approx(6.8));  // numpy.percentile(v, 90) = 6.8
}

// -- bias study -------------------------------------------------------------------------------------------

TEST_CASE("bias study: an alternative of the same shape is unbiased, mu_hat = mu_tilde") {
  const Workspace ws = template_workspace({30.0, 20.0, 10.0}, {100.0, 100.0, 100.0});
  const BiasResult r = bias_study(ws, "sig", {{"sr", {45.0, 30.0, 15.0}}});
  CHECK(r.mu_tilde == doctest::Approx(1.5).epsilon(1e-14));
  // fits stop at EDM < 1e-10, i.e. within ~1e-5 of an error (0.3 here) of the minimum
  CHECK(r.mu_hat == doctest::Approx(1.5).epsilon(1e-6));
  CHECK(std::abs(r.bias) < 1e-6);
  CHECK(r.mu_hat_error > 0.0);
}

TEST_CASE("bias study: one bin measures the total yield exactly; two bins follow the score equation") {
  SUBCASE("one bin") {
    const BiasResult r = bias_study(template_workspace({20.0}, {100.0}), "sig", {{"sr", {37.0}}});
    CHECK(r.mu_tilde == doctest::Approx(37.0 / 20.0));
    CHECK(r.mu_hat == doctest::Approx(37.0 / 20.0).epsilon(1e-6));
    CHECK(std::abs(r.bias) < 1e-6);
  }
  SUBCASE("two bins, the alternative shifted towards the background-rich bin") {
    // nominal s = (30, 10), b = (20, 200); alternative a = (10, 30): mu_tilde = 1.
    // The fit solves sum_i s_i ((a_i + b_i) / (mu s_i + b_i) - 1) = 0; bisection here gives mu_hat.
    const std::vector<double> s = {30.0, 10.0}, b = {20.0, 200.0}, a = {10.0, 30.0};
    auto score = [&](double mu) {
      double g = 0.0;
      for (int i = 0; i < 2; ++i) g += s[i] * ((a[i] + b[i]) / (mu * s[i] + b[i]) - 1.0);
      return g;
    };
    double lo = 0.0, hi = 10.0;
    for (int k = 0; k < 200; ++k) (score(0.5 * (lo + hi)) > 0.0 ? lo : hi) = 0.5 * (lo + hi);
    const BiasResult r = bias_study(template_workspace(s, b), "sig", {{"sr", a}});
    CHECK(r.mu_tilde == doctest::Approx(1.0));
    CHECK(r.mu_hat == doctest::Approx(lo).epsilon(1e-6));
    CHECK(r.bias == doctest::Approx((lo - 1.0) / 1.0).epsilon(1e-6));
    CHECK(r.bias < -0.3);  // the shape mismatch pulls mu_hat well below mu_tilde
  }
}

TEST_CASE("bias study: floating nuisance parameters change the bias and widen the error") {
  // W6: the alternative signal is the nominal one mirrored (rising instead of falling) with the same total,
  // so mu_tilde = 1; the background normalisation and tilt take up part of the mismatch, moving mu_hat.
  const Workspace ws = read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json");
  const std::vector<double> mirrored = {2.0, 5.5, 9.0, 12.5, 16.0, 19.5, 23.0, 26.5, 30.0};
  const BiasResult floating = bias_study(ws, "signal", {{"w6", mirrored}});
  FitOptions fixed;
  fixed.fix["bkg_shape"] = 0.0;
  fixed.fix["bkg_norm"] = 0.0;
  const BiasResult held = bias_study(ws, "signal", {{"w6", mirrored}}, {}, fixed);
  CHECK(floating.mu_tilde == doctest::Approx(1.0));
  MESSAGE("W6 mirrored signal: b = " << floating.bias << " (nuisances floating), " << held.bias
                                     << " (fixed)");
  CHECK(std::abs(held.bias) > 0.01);
  CHECK(std::abs(floating.bias) != doctest::Approx(std::abs(held.bias)));
  CHECK(floating.mu_hat_error > held.mu_hat_error);  // floating nuisances widen the interval
}

TEST_CASE("bias study: bad alternatives are errors naming the channel, sample and bin") {
  const Workspace ws = template_workspace({30.0, 20.0}, {100.0, 100.0});
  CHECK_THROWS_WITH_AS(bias_study(ws, "sig", {{"cr", {1.0, 2.0}}}),
                       "bias_study: the workspace has no channel 'cr'", Error);
  CHECK_THROWS_WITH_AS(bias_study(ws, "signal", {{"sr", {1.0, 2.0}}}),
                       "bias_study: channel 'sr' has no sample 'signal'", Error);
  CHECK_THROWS_WITH_AS(
      bias_study(ws, "sig", {{"sr", {1.0}}}),
      "bias_study: alternative template for sample 'sig' in channel 'sr' has 1 bins, the channel has 2",
      Error);
  CHECK_THROWS_WITH_AS(
      bias_study(ws, "sig", {{"sr", {1.0, -2.0}}}),
      "bias_study: alternative template of 'sig' in channel 'sr' bin 1 is -2, expected a finite yield >= 0",
      Error);
  CHECK_THROWS_WITH_AS(bias_study(ws, "sig", {}),
                       "bias_study: no alternative template given for sample 'sig'", Error);
}

// -- the Communicator: one rank, and two ranks played by two threads ------------------------------

namespace {

// K ranks of one process, one std::thread each: every collective operation puts this rank's
// values on a shared board, waits for all, reads what it needs and waits again before the board is
// reused. The sum adds in rank order, as MpiCommunicator does.
struct Board {
  explicit Board(int ranks) : ranks(ranks), sync(ranks), posted(static_cast<std::size_t>(ranks)) {}
  int ranks;
  std::barrier<> sync;
  std::vector<std::vector<double>> posted;
  std::string text;
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(Board& board, int rank) : board_(board), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return board_.ranks; }
  void sum(std::span<double> v) override {
    const std::vector<std::vector<double>> all = exchange({v.begin(), v.end()});
    for (std::size_t i = 0; i < v.size(); ++i) {
      double total = 0.0;
      for (const auto& piece : all) total += piece[i];
      v[i] = total;
    }
  }
  void broadcast(std::span<double> v, int root) override {
    const std::vector<std::vector<double>> all = exchange({v.begin(), v.end()});
    std::copy(all[static_cast<std::size_t>(root)].begin(), all[static_cast<std::size_t>(root)].end(),
              v.begin());
  }
  void broadcast(std::string& s, int root) override {
    if (rank_ == root) board_.text = s;
    board_.sync.arrive_and_wait();
    s = board_.text;
    board_.sync.arrive_and_wait();
  }
  std::vector<double> all_gather(const std::vector<double>& mine) override {
    std::vector<double> out;
    for (const auto& piece : exchange(mine)) out.insert(out.end(), piece.begin(), piece.end());
    return out;
  }
  void barrier() override { board_.sync.arrive_and_wait(); }
  [[noreturn]] void abort(int) override { std::abort(); }

 private:
  std::vector<std::vector<double>> exchange(std::vector<double> mine) {
    board_.posted[static_cast<std::size_t>(rank_)] = std::move(mine);
    board_.sync.arrive_and_wait();
    std::vector<std::vector<double>> all = board_.posted;
    board_.sync.arrive_and_wait();
    return all;
  }
  Board& board_;
  int rank_;
};

// f(comm) on each of `ranks` thread-ranks (one OpenMP thread each); every rank's result.
template <class F>
auto on_thread_ranks(int ranks, F&& f) {
  Board board(ranks);
  std::vector<decltype(f(std::declval<Communicator&>()))> results(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      set_threads(1);
      ThreadRank comm(board, r);
      results[static_cast<std::size_t>(r)] = f(comm);
    });
  for (auto& t : threads) t.join();
  return results;
}

std::vector<double> flat(const Eigen::MatrixXd& m) {
  return {m.data(), m.data() + m.size()};
}

bool bit_identical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

std::vector<double> numbers_of(const ToyClsResult& r) {
  std::vector<double> v{r.mu, r.q_obs, r.cls_obs, r.clsb_obs, r.clb_obs, r.cls_obs_error};
  v.insert(v.end(), r.cls_exp.begin(), r.cls_exp.end());
  return v;
}

}  // namespace

TEST_CASE("communicator: shares in rank order; one rank is the identity; errors reach every rank") {
  // 10 items on 3 ranks: [0, 3), [3, 6), [6, 10)
  CHECK(share_of(10, 0, 3).begin == 0);
  CHECK(share_of(10, 0, 3).end == 3);
  CHECK(share_of(10, 1, 3).end == 6);
  CHECK(share_of(10, 2, 3).end == 10);
  Communicator& alone = one_rank();
  CHECK(alone.rank() == 0);
  CHECK(alone.size() == 1);
  CHECK(alone.share(7).end == 7);
  std::vector<double> v{1.5, -2.0};
  alone.sum(std::span<double>(v));
  CHECK(v == std::vector<double>{1.5, -2.0});
  CHECK(alone.all_gather(v) == v);
  CHECK_THROWS_WITH(alone.broadcast(std::span<double>(v), 1), "broadcast: root 1 of a one-rank group");
  CHECK_THROWS_WITH_AS(run_collectively(alone, [] { fail("the fit of toy 3 failed"); }),
                       "the fit of toy 3 failed", Error);

  // Two thread-ranks: the sum in rank order on both, and the failing rank's message on both.
  const auto sums = on_thread_ranks(2, [](Communicator& c) {
    std::vector<double> x{static_cast<double>(c.rank() + 1), 0.5};
    c.sum(std::span<double>(x));
    return x;
  });
  CHECK(sums[0] == std::vector<double>{3.0, 1.0});
  CHECK(sums[1] == sums[0]);
  const auto messages = on_thread_ranks(2, [](Communicator& c) {
    try {
      run_collectively(c, [&] {
        if (c.rank() == 1) fail("only rank 1 fails");
      });
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  CHECK(messages[0] == "only rank 1 fails");
  CHECK(messages[1] == "only rank 1 fails");
}

TEST_CASE("across ranks: toys, toy CLs and the scan shared by 2 and 3 ranks are one process's, bit for bit") {
  const BinnedLikelihood model(read_workspace(AGNOSTIC_SHARED_DIR "/reference/w6-workspace.json"));
  const Data data = model.observed();
  const std::string poi = model.names()[static_cast<std::size_t>(model.poi())];
  ToyOptions options;
  options.n = 7;  // not a multiple of the ranks
  options.seed = 4;
  const ToyEnsemble alone = run_toys(model, model.init(), options);
  const ToyClsResult cls_alone = toy_cls(model, data, 1.2, 5, 11);
  const auto scan_alone = profile_scan(model, data, poi, 0.0, 3.0, 5);
  CHECK(run_toys(one_rank(), model, model.init(), options).values == alone.values);
  for (int ranks : {2, 3}) {
    CAPTURE(ranks);
    const auto ensembles =
        on_thread_ranks(ranks, [&](Communicator& c) { return run_toys(c, model, model.init(), options); });
    const auto cls =
        on_thread_ranks(ranks, [&](Communicator& c) { return toy_cls(c, model, data, 1.2, 5, 11); });
    const auto scans = on_thread_ranks(
        ranks, [&](Communicator& c) { return profile_scan(c, model, data, poi, 0.0, 3.0, 5); });
    for (int r = 0; r < ranks; ++r) {
      const ToyEnsemble& e = ensembles[static_cast<std::size_t>(r)];
      CHECK(bit_identical(flat(e.values), flat(alone.values)));
      CHECK(bit_identical(flat(e.errors), flat(alone.errors)));
      CHECK(e.converged == alone.converged);
      CHECK(e.pull_summaries == alone.pull_summaries);
      CHECK(bit_identical(numbers_of(cls[static_cast<std::size_t>(r)]), numbers_of(cls_alone)));
      CHECK(scans[static_cast<std::size_t>(r)] == scan_alone);
    }
  }
  // A bad request fails on every rank with the same message, before any work.
  const auto errors = on_thread_ranks(2, [&](Communicator& c) {
    try {
      (void)toy_cls(c, model, data, -3.0, 5, 1);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  });
  CHECK(errors[0] == errors[1]);
  CHECK(errors[0].find("toy_cls") != std::string::npos);
}
