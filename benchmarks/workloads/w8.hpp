#pragma once
// W8: the results a search publishes, on a workspace the size of a real analysis: 30 channels x 12
// bins, 396 parameters. w8_workspace() generates it (deterministically; `agnostic-bench --workload W8`
// writes it next to its result when AGNOSTIC_W8_WORKSPACE names a file, so that other tools can fit the
// same model). Per channel c (c = 0..29), bin b (b = 0..11):
//   signal:     8 exp(-(b - 5.5)^2 / 8) (1 + c / 30); normfactor mu, normsys sig_theory (1.1 / 0.9)
//   background: 100 exp(-b / 6) (1 + c / 15) + 5;   normsys bkg_norm_{c % 4} (1.05 / 0.95), histosys
//               shape_c (a +-8 % tilt across the channel), staterror staterror_c (3 % + 1 event per bin)
//   observed:   the background plus 0.3 x the signal, rounded, with a deterministic +-sqrt(n) wiggle
// Parameters: mu, sig_theory, 4 bkg_norm, 30 shape, 360 staterror gammas = 396.
// Timed (median over --repeats): the best fit with Hessian errors; the asymptotic upper limit with
// its expected band (qtilde, 95 %); the full impact ranking (395 parameters, four refits each).
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../bench_options.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/impacts.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/limits.hpp"
#include "agnostic/stats/workspace.hpp"

inline nlohmann::json w8_workspace() {
  using nlohmann::json;
  json channels = json::array(), observations = json::array();
  for (int c = 0; c < 30; ++c) {
    std::vector<double> s(12), b(12), hi(12), lo(12), unc(12), n(12);
    for (int k = 0; k < 12; ++k) {
      const auto u = static_cast<std::size_t>(k);
      s[u] = 8.0 * std::exp(-(k - 5.5) * (k - 5.5) / 8.0) * (1.0 + c / 30.0);
      b[u] = 100.0 * std::exp(-k / 6.0) * (1.0 + c / 15.0) + 5.0;
      const double tilt = 0.08 * (k - 5.5) / 5.5;
      hi[u] = b[u] * (1.0 + tilt);
      lo[u] = b[u] * (1.0 - tilt);
      unc[u] = 0.03 * b[u] + 1.0;
      const double mean = b[u] + 0.3 * s[u];
      n[u] = std::round(mean + std::sqrt(mean) * std::sin(1.7 * c + 2.3 * k));
    }
    const std::string cn = "ch" + std::to_string(c);
    json sig_mods = json::array(
        {json{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}},
         json{{"name", "sig_theory"}, {"type", "normsys"}, {"data", {{"hi", 1.1}, {"lo", 0.9}}}}});
    json bkg_mods =
        json::array({json{{"name", "bkg_norm_" + std::to_string(c % 4)},
                          {"type", "normsys"},
                          {"data", {{"hi", 1.05}, {"lo", 0.95}}}},
                     json{{"name", "shape_" + std::to_string(c)},
                          {"type", "histosys"},
                          {"data", {{"hi_data", hi}, {"lo_data", lo}}}},
                     json{{"name", "staterror_" + std::to_string(c)}, {"type", "staterror"}, {"data", unc}}});
    channels.push_back({{"name", cn},
                        {"samples",
                         {json{{"name", "signal"}, {"data", s}, {"modifiers", sig_mods}},
                          json{{"name", "background"}, {"data", b}, {"modifiers", bkg_mods}}}}});
    observations.push_back({{"name", cn}, {"data", n}});
  }
  return {{"channels", channels},
          {"observations", observations},
          {"measurements",
           json::array({json{{"name", "w8"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}})},
          {"version", "1.0.0"}};
}

inline nlohmann::json run_w8(const BenchOptions& options) {
  using namespace agnostic::stats;
  const nlohmann::json document = w8_workspace();
  if (const char* path = std::getenv("AGNOSTIC_W8_WORKSPACE"))
    std::ofstream(path) << document.dump(1) << "\n";
  const BinnedLikelihood model(parse_workspace(document, "W8"));
  const Data data = model.observed();
  FitResult best;
  UpperLimit limit;
  std::vector<Impact> ranking;
  std::vector<double> fit_s, limit_s, impacts_s;
  for (int r = 0; r < options.repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    best = fit(model, data);
    fit_s.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    limit = upper_limit(AsymptoticClsCalculator(model, data, TestStatistic::qtilde, {}, &best));
    limit_s.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    ranking = impacts(model, data, best);
    impacts_s.push_back(seconds_since(start));
  }
  const int p = model.poi();
  return {{"workload", "W8"},
          {"threads", options.threads},
          {"n_params", model.n_params()},
          {"n_bins", model.n_main()},
          {"fit_s", median(fit_s)},
          {"upper_limit_s", median(limit_s)},
          {"impacts_s", median(impacts_s)},
          {"repeats", options.repeats},
          {"status", best.status},
          {"mu", best.values[p]},
          {"mu_error", best.errors[p]},
          {"limit_obs", limit.obs},
          {"limit_exp", limit.exp},
          {"limit_evaluations", limit.evaluations},
          {"n_impacts", ranking.size()},
          {"top_impact", ranking.empty() ? std::string() : ranking.front().name}};
}
