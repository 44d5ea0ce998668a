#pragma once
// W6 of ../shared/BENCHMARKS.md: the binned likelihood fit of reference/w6-workspace.json.
//   ms_per_fit:  one fit from the workspace's initial values with Hessian errors, plus the MINOS
//                interval of mu (median over repeats of the mean over a batch of fits)
//   toys_1000_s: a 1000-toy ensemble around the best fit, each toy fitted with Hessian errors,
//                parallel over toys (deterministic per seed whatever the thread count)
// The result is checked against reference/fit_reference.json (code4/code4p) and the deviations reported.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../bench_options.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/toys.hpp"
#include "agnostic/stats/workspace.hpp"

inline nlohmann::json run_w6(const BenchOptions& options) {
  using namespace agnostic::stats;
  const Workspace ws = read_workspace(options.shared_dir + "/reference/w6-workspace.json");
  const BinnedLikelihood model(ws);
  const Data data = model.observed();
  const std::string poi = model.names()[static_cast<std::size_t>(model.poi())];

  // The timed unit: a fit with Hessian errors and the MINOS interval of the POI.
  FitResult best;
  std::pair<double, double> interval;
  auto one_fit = [&] {
    best = fit(model, data);
    interval = minos(model, data, best, poi);
  };
  for (int i = 0; i < 20; ++i) one_fit();  // warm-up
  // Batches of about 20 ms so the clock's resolution does not matter.
  auto start = std::chrono::steady_clock::now();
  int batch = 0;
  while (seconds_since(start) < 0.02) one_fit(), ++batch;
  std::vector<double> per_fit_ms;
  for (int r = 0; r < options.repeats; ++r) {
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < batch; ++i) one_fit();
    per_fit_ms.push_back(1e3 * seconds_since(start) / batch);
  }

  ToyOptions toy_options;
  toy_options.n = 1000;
  toy_options.seed = 1;
  (void)run_toys(model, best.values, toy_options);  // warm-up (thread pool)
  std::vector<double> toy_s;
  ToyEnsemble toys;
  for (int r = 0; r < std::max(1, std::min(options.repeats, 5)); ++r) {
    start = std::chrono::steady_clock::now();
    toys = run_toys(model, best.values, toy_options);
    toy_s.push_back(seconds_since(start));
  }

  // Agreement with the pyhf reference (code4/code4p, pyhf's defaults).
  std::ifstream in(options.shared_dir + "/reference/fit_reference.json");
  agnostic::require(in.good(), "W6: cannot open ", options.shared_dir, "/reference/fit_reference.json");
  const auto reference = nlohmann::json::parse(in)["fits"]["code4_code4p"];
  double bestfit_dev = 0.0, error_dev = 0.0;
  for (const auto& [name, value] : reference["bestfit"].items()) {
    const int i = model.index(name);
    const double v = value;
    bestfit_dev = std::max(bestfit_dev, std::abs(best.values[i] - v) / std::max(std::abs(v), 1.0));
    const double e = reference["errors"][name];
    error_dev = std::max(error_dev, std::abs(best.errors[i] - e) / e);
  }
  const double mu_hat = best.values[model.poi()];
  const double minos_dev =
      std::max(std::abs((interval.first - mu_hat) - reference["minos_offsets"][poi][0].get<double>()),
               std::abs((interval.second - mu_hat) - reference["minos_offsets"][poi][1].get<double>()));

  const int p = model.poi();
  return {{"workload", "W6"},
          {"threads", options.threads},
          {"ms_per_fit", median(per_fit_ms)},
          {"toys_1000_s", median(toy_s)},
          {"repeats", options.repeats},
          {"fits_per_repeat", batch},
          {"status", best.status},
          {"mu", mu_hat},
          {"mu_error", best.errors[p]},
          {"minos_mu", {interval.first, interval.second}},
          {"nll", best.nll},
          {"toys_converged", toys.n_converged},
          {"toys_pull_mean", toys.pull_summaries[static_cast<std::size_t>(p)].mean},
          {"toys_pull_width", toys.pull_summaries[static_cast<std::size_t>(p)].width},
          {"reference_max_dev", {{"bestfit", bestfit_dev}, {"errors_rel", error_dev}, {"minos", minos_dev}}}};
}
