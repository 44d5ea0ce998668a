#pragma once
// Statistics shared over MPI ranks: a toy ensemble and a toy CLs scan split across the ranks,
// with results bit for bit those of one process (docs/distributed.md).
//
// Why bit for bit: toy i is drawn from its own generator seeded by (seed, i) (stats/toys.hpp), and a
// CLs point depends only on its POI value, so each toy or point is the same computation on
// whichever rank runs it; the ranks' results are gathered in index order, and whatever is summed
// over them (the pull summary) is summed afterwards on every rank in that order.
#include <omp.h>

#include <array>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/distributed/communicator.hpp"
#include "agnostic/stats/limits.hpp"
#include "agnostic/stats/toys.hpp"

namespace agnostic::distributed {

// f(i) for i in [0, n), each rank computing its contiguous share; every rank gets all n results in
// index order. f returns `width` numbers.
template <class F>
std::vector<std::vector<double>> map_points(Communicator& comm, int n, int width, F&& f) {
  // Inside an OpenMP region (e.g. one thread per patch of a patchset) MPI may not be called: the
  // points are then all computed here (the same results).
  const Share s = omp_in_parallel() ? Share{0, n} : comm.share(n);
  std::vector<double> mine;
  mine.reserve(static_cast<std::size_t>((s.end - s.begin) * width));
  for (long long i = s.begin; i < s.end; ++i) {
    const std::vector<double> r = f(static_cast<int>(i));
    require(static_cast<int>(r.size()) == width, "map_points: point ", i, " gave ", r.size(),
            " numbers, expected ", width);
    mine.insert(mine.end(), r.begin(), r.end());
  }
  const std::vector<double> all = omp_in_parallel() ? mine : comm.all_gather(mine);
  require(static_cast<long long>(all.size()) == static_cast<long long>(n) * width, "map_points: gathered ",
          all.size(), " numbers, expected ", n * width);
  std::vector<std::vector<double>> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    out[static_cast<std::size_t>(i)].assign(all.begin() + static_cast<std::ptrdiff_t>(i) * width,
                                            all.begin() + static_cast<std::ptrdiff_t>(i + 1) * width);
  return out;
}

// stats::run_toys(model, truth, options) with the toys split across the ranks: the same ensemble.
inline stats::ToyEnsemble run_toys(Communicator& comm, const stats::BinnedLikelihood& model,
                                   const Eigen::VectorXd& truth, const stats::ToyOptions& options) {
  if (comm.size() == 1 || omp_in_parallel()) return stats::run_toys(model, truth, options);  // see map_points
  require(options.n >= 1, "run_toys: the number of toys must be >= 1, got ", options.n);
  const int np = model.n_params(), width = 2 * np + 1;  // values, errors, converged
  const Share s = comm.share(options.n);
  std::vector<double> mine;
  if (s.end > s.begin) {
    stats::ToyOptions part = options;
    part.first = options.first + static_cast<int>(s.begin);
    part.n = static_cast<int>(s.end - s.begin);
    const stats::ToyEnsemble e = stats::run_toys(model, truth, part);
    for (int i = 0; i < e.n; ++i) {
      for (int p = 0; p < np; ++p) mine.push_back(e.values(i, p));
      for (int p = 0; p < np; ++p) mine.push_back(e.errors(i, p));
      mine.push_back(e.converged[static_cast<std::size_t>(i)] ? 1.0 : 0.0);
    }
  }
  const std::vector<double> all = comm.all_gather(mine);
  require(static_cast<long long>(all.size()) == static_cast<long long>(options.n) * width,
          "run_toys: gathered ", all.size(), " numbers from the ranks, expected ", options.n * width);
  stats::ToyEnsemble e = stats::ToyEnsemble::sized(options.n, options.first, truth, np);
  for (int i = 0; i < options.n; ++i) {
    const double* row = all.data() + static_cast<std::ptrdiff_t>(i) * width;
    for (int p = 0; p < np; ++p) e.values(i, p) = row[p];
    for (int p = 0; p < np; ++p) e.errors(i, p) = row[np + p];
    e.converged[static_cast<std::size_t>(i)] = row[2 * np] != 0.0;
  }
  stats::summarise_pulls(e);
  return e;
}

// stats::toy_cls at every POI value of `grid`, the points split across the ranks.
inline std::vector<stats::ToyClsResult> toy_cls_scan(Communicator& comm, const stats::BinnedLikelihood& model,
                                                     const stats::Data& data, const std::vector<double>& grid,
                                                     int toys, std::uint64_t seed,
                                                     stats::TestStatistic statistic) {
  constexpr int width = 14;
  const auto rows = map_points(comm, static_cast<int>(grid.size()), width, [&](int i) {
    const stats::ToyClsResult t =
        stats::toy_cls(model, data, grid[static_cast<std::size_t>(i)], toys, seed, statistic);
    return std::vector<double>{t.mu,
                               static_cast<double>(static_cast<int>(t.statistic)),
                               t.q_obs,
                               t.cls_obs,
                               t.clsb_obs,
                               t.clb_obs,
                               t.cls_obs_error,
                               t.cls_exp[0],
                               t.cls_exp[1],
                               t.cls_exp[2],
                               t.cls_exp[3],
                               t.cls_exp[4],
                               static_cast<double>(t.n_signal),
                               static_cast<double>(t.n_background)};
  });
  std::vector<stats::ToyClsResult> out;
  for (const std::vector<double>& r : rows) {
    stats::ToyClsResult t;
    t.mu = r[0];
    t.statistic = static_cast<stats::TestStatistic>(static_cast<int>(r[1]));
    t.q_obs = r[2];
    t.cls_obs = r[3];
    t.clsb_obs = r[4];
    t.clb_obs = r[5];
    t.cls_obs_error = r[6];
    for (std::size_t q = 0; q < 5; ++q) t.cls_exp[q] = r[7 + q];
    t.n_signal = static_cast<int>(r[12]);
    t.n_background = static_cast<int>(r[13]);
    out.push_back(t);
  }
  return out;
}

}  // namespace agnostic::distributed
