// ancestral-pulls: source 003's ensemble test of ancestral sampling (sec. 2.10, fig. 9b): the width
// of the signal-strength pull distribution against N_SR / N_GR, with the generation templates filled
// from the generation-region (GR) events as they are ("without replacement": each event used once) or
// from as many events drawn from them with replacement (a bootstrap).
//
//   ancestral-pulls [DATASETS=300] [OUT_DIR=.]
//
// Each synthetic data set holds N_GR = 20000 background events of two independent variables: the
// fitted variable x in [0, 1] (density proportional to x exp(-6 x), a rising edge then a fall, as
// m(phi, gamma) in 003) and a selection variable y ~ U(0, 1). The signal region (SR) is y > 1 - r,
// a subset of the GR holding a fraction r = N_SR / N_GR of its events. The background model is
// 003's: templates p(x) (40 bins) and p(y) (10 bins) filled from the GR, K = 40 N_GR pseudo-events
// drawn from them, the SR cut applied, their x histogram scaled by 1 / K. The fit of each SR data
// set: a Gaussian signal (mean 0.3, width 0.03, 100 events at mu = 1; mu free in [-20, 20]) plus the
// background model with a free normalisation; the pull is mu_hat / sigma(mu) (Hessian error), the
// true mu being 0.
//
// Expected widths (the model is linear in the counts): without replacement the SR data are a
// fraction r of the GR that builds the model, so data - model fluctuates with variance (1 - r) N_SR
// instead of N_SR: width sqrt(1 - r + 1/K), the 1/K from the finite pseudo-event sample. With
// replacement the bootstrap adds r N_SR of independent variance: width sqrt(1 + 1/K).
//
// Writes OUT_DIR/ancestral_pulls.json ({"settings", "table": [{ratio, replacement, pull_mean,
// pull_mean_error, pull_width, pull_width_error, expected_width}], "pulls": {...}}, which `agnostic
// plot` draws) and OUT_DIR/ancestral_pulls.md (the table), and prints the table.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <agnostic/core/process.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/stats/ancestral.hpp>
#include <agnostic/stats/fit.hpp>
#include <agnostic/stats/histogram.hpp>
#include <agnostic/stats/pull_summary.hpp>
#include <agnostic/stats/workspace.hpp>

using namespace agnostic;

namespace {

constexpr Index kGrEvents = 20000;
constexpr Index kOversampling = 40;  // K: pseudo-events per GR event
constexpr Index kFitBins = 40;
const std::vector<double> kRatios = {0.1, 0.3, 0.5, 0.7, 0.9};

// x from x exp(-6 x) on [0, 1] (a Gamma(2, 1/6) truncated by rejection), y uniform.
MatrixD generation_region(Rng& rng) {
  MatrixD events(kGrEvents, 2);
  for (Index r = 0; r < kGrEvents; ++r) {
    double x = 2.0;
    while (x >= 1.0) x = -(std::log(1.0 - rng.uniform()) + std::log(1.0 - rng.uniform())) / 6.0;
    events(r, 0) = x;
    events(r, 1) = rng.uniform();
  }
  return events;
}

std::vector<double> signal_template() {
  const double mean = 0.3, width = 0.03, events = 100.0;
  std::vector<double> s(static_cast<std::size_t>(kFitBins));
  for (Index b = 0; b < kFitBins; ++b) {
    const double lo = static_cast<double>(b) / kFitBins, hi = static_cast<double>(b + 1) / kFitBins;
    auto cdf = [&](double x) { return 0.5 * std::erfc(-(x - mean) / (width * std::numbers::sqrt2)); };
    s[static_cast<std::size_t>(b)] = events * (cdf(hi) - cdf(lo));
  }
  return s;
}

// x histogram of the events with y > 1 - ratio, scaled by `scale`.
std::vector<double> signal_region_histogram(const MatrixD& events, double ratio, double scale) {
  std::vector<double> h(static_cast<std::size_t>(kFitBins), 0.0);
  const double cut = 1.0 - ratio;
  for (Index r = 0; r < events.rows(); ++r) {
    if (events(r, 1) <= cut) continue;
    const auto bin = static_cast<Index>(events(r, 0) * kFitBins);
    if (bin >= 0 && bin < kFitBins) h[static_cast<std::size_t>(bin)] += scale;
  }
  return h;
}

stats::ModifierSpec normfactor(const std::string& name) {
  stats::ModifierSpec m;
  m.name = name;
  m.type = "normfactor";
  return m;
}

// mu_hat / sigma(mu) of the fit of `observed` with the signal and the background model.
double pull(const std::vector<double>& observed, const std::vector<double>& background,
            const std::vector<double>& signal) {
  stats::Workspace ws;
  stats::ChannelSpec channel;
  channel.name = "sr";
  stats::SampleSpec s, b;
  s.name = "signal";
  s.data = signal;
  s.modifiers.push_back(normfactor("mu"));
  b.name = "background";
  b.data = background;
  b.modifiers.push_back(normfactor("background_norm"));
  channel.samples = {s, b};
  ws.channels.push_back(channel);
  ws.observations.push_back({.name = "sr", .data = observed});
  stats::MeasurementSpec m;
  m.name = "ensemble";
  m.poi = "mu";
  stats::ParameterConfig mu;
  mu.name = "mu";
  mu.bounds = {{-20.0, 20.0}};
  stats::ParameterConfig norm;
  norm.name = "background_norm";
  norm.bounds = {{0.01, 100.0}};
  m.parameters = {mu, norm};
  ws.measurements.push_back(m);
  const stats::BinnedLikelihood model(ws);
  const stats::FitResult best = stats::fit(model, model.observed());
  const int i = model.index("mu");
  if (!best.converged || !(best.errors(i) > 0.0)) return std::nan("");
  return best.values(i) / best.errors(i);
}

}  // namespace

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  const long datasets = argc > 1 ? std::atol(argv[1]) : 300;
  const std::string out_dir = argc > 2 ? argv[2] : ".";
  if (datasets < 3) {
    std::fprintf(stderr, "usage: ancestral-pulls [DATASETS>=3] [OUT_DIR]\n");
    return 2;
  }
  const std::vector<double> signal = signal_template();
  const stats::Axis x_axis = stats::Axis::uniform(40, 0.0, 1.0), y_axis = stats::Axis::uniform(10, 0.0, 1.0);
  // pulls[replacement][ratio][dataset]
  std::vector<std::vector<std::vector<double>>> pulls(
      2, std::vector<std::vector<double>>(kRatios.size(),
                                          std::vector<double>(static_cast<std::size_t>(datasets))));

#pragma omp parallel for schedule(dynamic)
  for (long d = 0; d < datasets; ++d) {
    Rng rng(1000 +
            static_cast<std::uint64_t>(d));  // one stream per data set: the same results on any thread count
    const MatrixD gr = generation_region(rng);
    for (int replacement = 0; replacement < 2; ++replacement) {
      stats::AncestralSampler sampler({"x", "y"});
      sampler.add({.draw = {0}, .draw_axes = {x_axis}});
      sampler.add({.draw = {1}, .draw_axes = {y_axis}});
      if (replacement)
        sampler.fill_with_replacement(gr, rng);
      else
        sampler.fill(gr);
      const MatrixD pseudo = sampler.sample(kOversampling * kGrEvents, rng);
      for (std::size_t k = 0; k < kRatios.size(); ++k) {
        const std::vector<double> observed = signal_region_histogram(gr, kRatios[k], 1.0);
        const std::vector<double> background =
            signal_region_histogram(pseudo, kRatios[k], 1.0 / static_cast<double>(kOversampling));
        pulls[static_cast<std::size_t>(replacement)][k][static_cast<std::size_t>(d)] =
            pull(observed, background, signal);
      }
    }
  }

  nlohmann::json table = nlohmann::json::array(), pull_lists = nlohmann::json::object();
  std::string markdown =
      "| N_SR/N_GR | templates from | pull mean | pull width | expected width |\n"
      "| --- | --- | --- | --- | --- |\n";
  std::printf("%-10s %-14s %-18s %-18s %s\n", "N_SR/N_GR", "replacement", "pull mean", "pull width",
              "expected");
  for (int replacement = 0; replacement < 2; ++replacement)
    for (std::size_t k = 0; k < kRatios.size(); ++k) {
      const auto& list = pulls[static_cast<std::size_t>(replacement)][k];
      const stats::PullSummary s = stats::pull_summary(list);
      const double r = kRatios[k], inv_k = 1.0 / static_cast<double>(kOversampling);
      const double expected = replacement ? std::sqrt(1.0 + inv_k) : std::sqrt(1.0 - r + inv_k);
      table.push_back({{"ratio", r},
                       {"replacement", replacement == 1},
                       {"pull_mean", s.mean},
                       {"pull_mean_error", s.mean_error},
                       {"pull_width", s.width},
                       {"pull_width_error", s.width_error},
                       {"expected_width", expected},
                       {"failed_fits", s.skipped}});
      char key[64];
      std::snprintf(key, sizeof key, "pulls_%s_ratio_%.1f",
                    replacement ? "with_replacement" : "without_replacement", r);
      pull_lists[key] = list;
      char line[256];
      std::snprintf(line, sizeof line, "| %.1f | %s | %+.3f ± %.3f | %.3f ± %.3f | %.3f |\n", r,
                    replacement ? "bootstrap (with replacement)" : "each event once", s.mean, s.mean_error,
                    s.width, s.width_error, expected);
      markdown += line;
      std::printf("%-10.1f %-14s %+.3f +- %.3f     %.3f +- %.3f      %.3f%s\n", r,
                  replacement ? "with" : "without", s.mean, s.mean_error, s.width, s.width_error, expected,
                  s.skipped ? (" (" + std::to_string(s.skipped) + " failed fits)").c_str() : "");
    }
  const nlohmann::json result = {
      {"settings",
       {{"datasets", datasets},
        {"gr_events", kGrEvents},
        {"oversampling", kOversampling},
        {"fit_bins", kFitBins},
        {"signal", "Gaussian, mean 0.3, width 0.03, 100 events at mu = 1"},
        {"background", "x ~ x exp(-6x) on [0, 1], y ~ U(0, 1); SR: y > 1 - ratio"}}},
      {"table", table},
      {"pulls", pull_lists}};
  std::ofstream(out_dir + "/ancestral_pulls.json") << result.dump(1) << "\n";
  std::ofstream(out_dir + "/ancestral_pulls.md") << markdown;
  std::printf("-> %s/ancestral_pulls.json, %s/ancestral_pulls.md\n", out_dir.c_str(), out_dir.c_str());
  return 0;
}
