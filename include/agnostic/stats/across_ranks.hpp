#pragma once
// The toy ensemble (pull study), toy CLs at one POI value, on a grid and the toy upper limit, and
// the profile-likelihood scan, with their work shared across the ranks of a Communicator
// (core/communicator.hpp): each rank computes its share, every rank gets the whole result, bit for
// bit what the single-process function of toys.hpp, limits.hpp or fit.hpp returns. With one rank
// (one_rank(), or a build without AGNOSTIC_MPI) each call is that single-process function.
// docs/distributed.md says how to run under mpirun.
//
// Why bit for bit: toy i is drawn from its own generator seeded by (seed, i) (toys.hpp), and a toy's
// statistic depends only on the toy and the POI value tested, so each toy is the same computation
// on whichever rank runs it; the ranks' results are gathered in index order, and whatever is sorted
// or summed over them (CLs fractions and quantiles, the pull summary) is computed afterwards on every
// rank from all of them, in that order. Every scan point starts from the best fit's prediction at its
// own value (ProfileScan), so a block of points is the same computation on any rank.
//
// Inside an OpenMP region (e.g. one thread per patch of a patchset) no rank may communicate: the
// whole computation then runs in this process (the same results).
#include <omp.h>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/communicator.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/limits.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::stats {

// run_toys(model, truth, options) with the toys split across the ranks: the same ensemble.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyEnsemble run_toys(Communicator& comm, const BinnedLikelihood& model, const Eigen::VectorXd& truth,
                            const ToyOptions& options) {
  if (comm.size() == 1 || omp_in_parallel()) return run_toys(model, truth, options);
  require(options.n >= 1, "run_toys: the number of toys must be >= 1, got ", options.n);
  const int np = model.n_params(), width = 2 * np + 1;  // values, errors, converged
  const Share s = comm.share(options.n);
  std::vector<double> mine;
  run_collectively(comm, [&] {
    if (s.end == s.begin) return;
    ToyOptions part = options;
    part.first = options.first + static_cast<int>(s.begin);
    part.n = static_cast<int>(s.end - s.begin);
    const ToyEnsemble e = run_toys(model, truth, part);
    for (int i = 0; i < e.n; ++i) {
      for (int p = 0; p < np; ++p) mine.push_back(e.values(i, p));
      for (int p = 0; p < np; ++p) mine.push_back(e.errors(i, p));
      mine.push_back(e.converged[static_cast<std::size_t>(i)] ? 1.0 : 0.0);
    }
  });
  const std::vector<double> all = comm.all_gather(mine);
  require(static_cast<long long>(all.size()) == static_cast<long long>(options.n) * width,
          "run_toys: gathered ", all.size(), " numbers from the ranks, expected ", options.n * width);
  ToyEnsemble e = ToyEnsemble::sized(options.n, options.first, truth, np);
  for (int i = 0; i < options.n; ++i) {
    const double* row = all.data() + static_cast<std::ptrdiff_t>(i) * width;
    for (int p = 0; p < np; ++p) e.values(i, p) = row[p];
    for (int p = 0; p < np; ++p) e.errors(i, p) = row[np + p];
    e.converged[static_cast<std::size_t>(i)] = row[2 * np] != 0.0;
  }
  summarise_pulls(e);
  return e;
}

namespace across_ranks_detail {

// Runs body(j) for the n items j of this rank on its OpenMP threads; an error is rethrown after the
// loop (the first by index) with what(j) in front, so no exception crosses the OpenMP region.
template <class Body, class What>
void for_each_item(long long n, Body&& body, What&& what) {
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  toys_detail::for_each_toy(static_cast<int>(n), [&](int j) {
    try {
      body(j);
    } catch (const std::exception& e) {
      errors[static_cast<std::size_t>(j)] = e.what();
      if (errors[static_cast<std::size_t>(j)].empty()) errors[static_cast<std::size_t>(j)] = "unknown error";
    }
  });
  for (long long j = 0; j < n; ++j)
    if (!errors[static_cast<std::size_t>(j)].empty())
      fail(what(j), ": ", errors[static_cast<std::size_t>(j)]);
}

}  // namespace across_ranks_detail

// toy_cls_points shared across the ranks, bit for bit. The work is cut finer than the points:
// point k is 2 toys + 1 jobs (the observed statistic, its `toys` signal-plus-background toys, its
// `toys` background-only toys), and the G (2 toys + 1) jobs of all points are shared across the
// ranks in contiguous blocks, so a single point (--cls MU) or a short grid keeps every rank busy.
// Each rank runs its jobs on its OpenMP threads; the statistics are gathered in job order, and
// every rank computes each point's CLs from them (toy_cls_from_statistics).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<ToyClsResult> toy_cls_points(Communicator& comm, const BinnedLikelihood& model,
                                                const Data& data, const std::vector<double>& mus, int toys,
                                                std::uint64_t seed, TestStatistic statistic,
                                                const FitOptions& options = {}) {
  if (comm.size() == 1 || omp_in_parallel())
    return toy_cls_points(model, data, mus, toys, seed, statistic, options);
  // toy_cls's checks, on every rank before any work (so every rank fails alike).
  require(toys >= 1, "toy_cls: the number of toys must be >= 1, got ", toys);
  inference_detail::check_poi_floats(model, options, "toy_cls");
  for (double mu : mus) inference_detail::check_poi_value(model, mu, "toy_cls");
  inference_detail::check_poi_value(model, 0.0, "toy_cls (the background-only hypothesis)");

  const long long per_point = 2LL * toys + 1, jobs = per_point * static_cast<long long>(mus.size());
  require(jobs <= 0x7fffffffLL, "toy_cls: ", mus.size(), " points x (2 x ", toys,
          " toys + 1) jobs are more than one call can share");
  const Eigen::VectorXd background = limits_detail::hypothesis_truth(model, 0.0);
  const FitOptions background_fit = limits_detail::toy_fit_options(options, background);
  std::vector<Eigen::VectorXd> signal;
  std::vector<FitOptions> signal_fit;
  for (double mu : mus) {
    signal.push_back(limits_detail::hypothesis_truth(model, mu));
    signal_fit.push_back(limits_detail::toy_fit_options(options, signal.back()));
  }
  const std::uint64_t signal_seed = limits_detail::signal_toy_seed(seed);
  const Share s = comm.share(jobs);
  std::vector<double> mine(static_cast<std::size_t>(s.end - s.begin));
  auto describe = [&](long long j) {  // what job j of this rank is, for an error message
    const long long job = s.begin + j, k = job / per_point, r = job % per_point;
    const std::string at = "toy CLs at " + model.names()[static_cast<std::size_t>(model.poi())] + " = " +
                           std::to_string(mus[static_cast<std::size_t>(k)]);
    if (r == 0) return at + ", the observed statistic";
    return at + (r <= toys ? ", signal-plus-background toy " + std::to_string(r - 1)
                           : ", background-only toy " + std::to_string(r - 1 - toys));
  };
  run_collectively(comm, [&] {
    across_ranks_detail::for_each_item(
        s.end - s.begin,
        [&](int j) {
          const long long job = s.begin + j, r = job % per_point;
          const auto k = static_cast<std::size_t>(job / per_point);
          const double mu = mus[k];
          double& q = mine[static_cast<std::size_t>(j)];
          if (r == 0)
            q = limits_detail::observed_toy_cls_statistic(model, data, mu, toys, statistic, options);
          else if (r <= toys)
            q = limits_detail::toy_statistic(model, signal[k], mu, static_cast<int>(r - 1), signal_seed,
                                             statistic, signal_fit[k]);
          else
            q = limits_detail::toy_statistic(model, background, mu, static_cast<int>(r - 1 - toys), seed,
                                             statistic, background_fit);
        },
        describe);
  });
  const std::vector<double> all = comm.all_gather(mine);
  std::vector<ToyClsResult> out;
  require(static_cast<long long>(all.size()) == jobs, "toy_cls: gathered ", all.size(),
          " statistics from the ranks, expected ", jobs);
  for (std::size_t k = 0; k < mus.size(); ++k) {
    const auto first = all.begin() + static_cast<std::ptrdiff_t>(static_cast<long long>(k) * per_point);
    out.push_back(toy_cls_from_statistics(mus[k], statistic, *first,
                                          std::vector<double>(first + 1, first + 1 + toys),
                                          std::vector<double>(first + 1 + toys, first + per_point)));
  }
  return out;
}

// toy_cls(model, data, mu, ...) with its toys shared across the ranks: the same result.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyClsResult toy_cls(Communicator& comm, const BinnedLikelihood& model, const Data& data, double mu,
                            int toys, std::uint64_t seed, TestStatistic statistic = TestStatistic::qtilde,
                            const FitOptions& options = {}) {
  return toy_cls_points(comm, model, data, {mu}, toys, seed, statistic, options).front();
}

// toy_upper_limit with the toys of every grid point shared across the ranks: the same limit,
// band and scan.
AGNOSTIC_COMPILED_WHEN_USED
inline ToyUpperLimit toy_upper_limit(Communicator& comm, const BinnedLikelihood& model, const Data& data,
                                     const std::vector<double>& mus, int toys, std::uint64_t seed,
                                     TestStatistic statistic = TestStatistic::qtilde, double cl = 0.95,
                                     const FitOptions& options = {}) {
  limits_detail::check_toy_upper_limit_grid(mus, cl);
  return toy_upper_limit_from_scan(
      mus, toy_cls_points(comm, model, data, mus, toys, seed, statistic, options), cl);
}

// profile_scan with the points split across the ranks: rank r scans its contiguous block of
// the grid (comm.share) and the blocks are gathered in grid order on every rank. Every point starts
// from the best fit's linear prediction at its own value (ProfileScan), so the result is bit
// for bit profile_scan's for any number of ranks.
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::pair<double, double>> profile_scan(Communicator& comm, const BinnedLikelihood& model,
                                                           const Data& data, const std::string& param,
                                                           double lo, double hi, int points,
                                                           const FitOptions& options = {}) {
  if (comm.size() == 1 || omp_in_parallel()) return profile_scan(model, data, param, lo, hi, points, options);
  const ProfileScan scan(model, data, param, lo, hi, points, options);  // every rank: the global fit
  const Share s = comm.share(points);
  std::vector<double> mine;
  run_collectively(comm, [&] {
    for (const auto& [value, q] : scan.block(s.begin, s.end)) {
      mine.push_back(value);
      mine.push_back(q);
    }
  });
  const std::vector<double> all = comm.all_gather(mine);
  require(static_cast<long long>(all.size()) == 2LL * points, "profile_scan: gathered ", all.size(),
          " numbers from the ranks, expected ", 2 * points);
  std::vector<std::pair<double, double>> out;
  for (int k = 0; k < points; ++k)
    out.emplace_back(all[static_cast<std::size_t>(2 * k)], all[static_cast<std::size_t>(2 * k + 1)]);
  return out;
}

}  // namespace agnostic::stats
