// Source 003 sec. 3.6: the ensemble test of the cGAN background model, at a size that runs on a
// laptop. Each synthetic data set holds background events from 003's polynomial density
//   f(xc, xs) = 1 + xc + 2 xs + 2 xc^2 + xs^2 + xc xs   on [0, 1]^2
// and signal events Gaussian in xc (mean 0.5, width 0.025), uniform in xs. The signal region is
// xs > 0.95 and 0.45 < xc < 0.55. For each data set an ensemble of cGANs G(z, xc) -> xs is trained
// with `"method": "cgan"` (train::run_cgan) on the events outside the window 0.45 <= xc <= 0.55 (blinded),
// with no xs selection (relaxed in training); the members generate xs at xc values drawn from the
// background's xc density in the window (a quadratic fitted to the sideband xc counts, as the
// background's marginal is quadratic), the xs > 0.95 events are histogrammed in xc
// (adversarial::ensemble_histograms), and the mean and the two leading principal components become
// the background template and its shape nuisances (stats::template_pca). A binned fit of mu (signal
// normfactor, true value 1), a free background normalisation and the two shape nuisances gives the
// pull (mu_hat - 1) / sigma(mu_hat) of each data set; the program reports their mean and width with
// standard errors (JSON and a markdown table). Each member keeps its epoch of lowest held-out
// quality chi2 (the method's default early stopping and restore_best). On a loaded machine run it
// with OMP_NUM_THREADS=1 (the networks are small; two threads waiting on each other cost more).
//
//   cgan-ensemble [--datasets 20] [--background 200000] [--signal 3000] [--members 5] [--keep 5]
//                 [--epochs 8] [--hidden 64] [--layers 3] [--average 0.999] [--learning-rate 0.001]
//                 [--optimiser sgd] [--discriminator-steps 1] [--seed 1] [--work DIR] [--output results.json]
//   cgan-ensemble --average-study [--seeds 4] ...   the tail fraction in the window, with and without
//                 the generator weight average, against the truth (docs/cgan.md)
#include <agnostic/core/process.hpp>
#include <agnostic/io/csv_writer.hpp>
#include <agnostic/stats/fit.hpp>
#include <agnostic/stats/likelihood.hpp>
#include <agnostic/stats/pull_summary.hpp>
#include <agnostic/stats/template_pca.hpp>
#include <agnostic/train/cgan_model.hpp>
#include <agnostic/train/methods/cgan.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace agnostic;

namespace {

constexpr double kWindowLow = 0.45, kWindowHigh = 0.55, kCut = 0.95, kSignalMean = 0.5, kSignalWidth = 0.025;
constexpr int kBins = 10;

double density(double xc, double xs) {
  return 1 + xc + 2 * xs + 2 * xc * xc + xs * xs + xc * xs;
}

struct Settings {
  int datasets = 20, members = 5, keep = 5, epochs = 8, hidden = 64, layers = 3, seeds = 4;
  int discriminator_steps = 1;  // Chisholm et al.'s, with their optimiser (the library's default is 4)
  long background = 200000, signal = 3000;
  double average = 0.999, learning_rate = 1e-3;
  std::string optimiser = "sgd";
  std::uint64_t seed = 1;
  bool average_study = false;
  std::filesystem::path work = std::filesystem::temp_directory_path() / "agnostic_cgan_ensemble";
  std::string output = "results.json";
};

// Events: column 0 xs, column 1 xc; `signal_rows` of them (last) are signal.
MatrixD synthetic(const Settings& s, std::uint64_t seed) {
  Rng rng(seed);
  MatrixD events(s.background + s.signal, 2);
  for (long i = 0; i < s.background;) {
    const double xc = rng.uniform(), xs = rng.uniform();
    if (rng.uniform() * 8.0 < density(xc, xs)) {
      events(i, 0) = xs;
      events(i, 1) = xc;
      ++i;
    }
  }
  for (long i = s.background; i < s.background + s.signal;) {
    const double xc = rng.normal(kSignalMean, kSignalWidth);
    if (xc < 0.0 || xc > 1.0) continue;
    events(i, 0) = rng.uniform();
    events(i, 1) = xc;
    ++i;
  }
  return events;
}

std::vector<double> window_edges() {
  std::vector<double> e;
  for (int b = 0; b <= kBins; ++b) e.push_back(kWindowLow + (kWindowHigh - kWindowLow) * b / kBins);
  return e;
}

// xc values in the window from a quadratic fitted (least squares, Poisson weights) to the sideband
// xc counts of all events, n of them (accept-reject).
MatrixD window_conditions(const MatrixD& events, Index n, std::uint64_t seed) {
  const int bins = 100;
  std::vector<double> counts(bins, 0.0);
  for (Index i = 0; i < events.rows(); ++i)
    counts[std::min(bins - 1, static_cast<int>(events(i, 1) * bins))] += 1;
  Eigen::Matrix3d a = Eigen::Matrix3d::Zero();
  Eigen::Vector3d y = Eigen::Vector3d::Zero();
  for (int b = 0; b < bins; ++b) {
    const double x = (b + 0.5) / bins;
    if (x > kWindowLow - 0.005 && x < kWindowHigh + 0.005) continue;
    const Eigen::Vector3d v(1.0, x, x * x);
    const double w = 1.0 / std::max(1.0, counts[b]);
    a += w * v * v.transpose();
    y += w * v * counts[b];
  }
  const Eigen::Vector3d c = a.ldlt().solve(y);
  auto rho = [&](double x) { return c(0) + c(1) * x + c(2) * x * x; };
  const double top = std::max(rho(kWindowLow), rho(kWindowHigh)) * 1.01;
  Rng rng(seed);
  MatrixD out(n, 1);
  for (Index i = 0; i < n;) {
    const double x = rng.uniform(kWindowLow, kWindowHigh);
    if (rng.uniform() * top < rho(x)) out(i++, 0) = x;
  }
  return out;
}

std::string write_events(const MatrixD& events, const std::filesystem::path& path) {
  std::ofstream out(path);
  out.precision(17);
  out << "xs,xc\n";
  for (Index i = 0; i < events.rows(); ++i) out << events(i, 0) << "," << events(i, 1) << "\n";
  return path.string();
}

nlohmann::json cgan_config(const Settings& s, const std::string& data, const std::filesystem::path& out,
                           std::uint64_t seed, int members, int keep, double average) {
  const std::vector<int> widths(static_cast<std::size_t>(s.layers), s.hidden);
  nlohmann::json optimiser = {
      {"name", s.optimiser}, {"learning_rate", s.learning_rate}, {"l2", 1e-4}, {"clip_value", 1.0}};
  if (s.optimiser == "sgd") {
    optimiser["momentum"] = 0.9;
    optimiser["nesterov"] = true;
  }
  return {{"method", "cgan"},
          {"data", {{"files", {data}}, {"features", {"xs"}}, {"validation_fraction", 0.25}}},
          {"cgan",
           {{"conditions", {"xc"}},
            {"latent", 9},
            {"generator_hidden", widths},
            {"discriminator_hidden", widths},
            {"discriminator_steps", s.discriminator_steps},
            {"blind", {{"column", "xc"}, {"range", {kWindowLow, kWindowHigh}}}},
            {"generator_average", average},
            {"ensemble", {{"members", members}, {"keep", keep}}}}},
          {"optimiser", optimiser},
          {"training", {{"epochs", s.epochs}, {"batch_size", 512}, {"seed", seed}}},
          {"output", {{"directory", out.string()}, {"progress", "silent"}}}};
}

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

struct DatasetResult {
  double mu = 0.0, error = 0.0, pull = std::nan("");
  std::vector<double> shape_nuisances;
  bool converged = false;
  double seconds = 0.0;
};

DatasetResult one_dataset(const Settings& s, int d) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t seed = s.seed + 1000 * static_cast<std::uint64_t>(d);
  const MatrixD events = synthetic(s, seed);
  const auto dir = s.work / ("dataset" + std::to_string(d));
  std::filesystem::create_directories(dir);
  const std::string data = write_events(events, dir / "events.csv");
  std::ostringstream log;
  train::run_cgan(train::config_from_json(
                      cgan_config(s, data, dir / "run", seed, s.members, s.keep, s.average), "cgan-ensemble"),
                  {.out = &log});
  const adversarial::CganGenerator g =
      adversarial::read_cgan_generator((dir / "run" / "generator.json").string());

  const std::vector<double> edges = window_edges();
  const std::vector<adversarial::ColumnCut> cuts{{"xs", true, kCut}};
  const MatrixD conditions = window_conditions(events, 20000, seed + 7);
  MatrixD members = adversarial::ensemble_histograms(g, conditions, "xc", edges, cuts, 5, seed + 11);
  // Observed: the data in the signal region.
  std::vector<double> observed(kBins, 0.0);
  for (Index i = 0; i < events.rows(); ++i) {
    const double xs = events(i, 0), xc = events(i, 1);
    if (xs > kCut && xc >= kWindowLow && xc < kWindowHigh)
      observed[static_cast<std::size_t>((xc - kWindowLow) / 0.01)] += 1;
  }
  double total_observed = 0.0;
  for (double v : observed) total_observed += v;
  members *= total_observed / members.rowwise().sum().mean();  // pre-fit normalisation: the data's
  // The expected signal: s.signal events, a fraction 1 - kCut of them above the cut.
  std::vector<double> signal(kBins);
  for (int b = 0; b < kBins; ++b)
    signal[b] = static_cast<double>(s.signal) * (1.0 - kCut) *
                (normal_cdf((edges[b + 1] - kSignalMean) / kSignalWidth) -
                 normal_cdf((edges[b] - kSignalMean) / kSignalWidth));
  const stats::TemplatePca pca =
      stats::template_pca(members, std::min<int>(2, static_cast<int>(members.rows()) - 1));
  stats::TemplateWorkspaceOptions wo;
  wo.signal = signal;
  wo.observed = observed;
  stats::Workspace ws = stats::template_workspace(pca, wo);
  stats::ParameterConfig mu;
  mu.name = "mu";
  mu.bounds = {{-20.0, 20.0}};
  stats::ParameterConfig norm;
  norm.name = "background_norm";
  norm.bounds = {{0.01, 100.0}};
  ws.measurements[0].parameters = {mu, norm};
  const stats::BinnedLikelihood model(ws);
  const stats::FitResult best = stats::fit(model, model.observed());
  DatasetResult r;
  const int i = model.index("mu");
  r.converged = best.converged && best.errors(i) > 0.0;
  r.mu = best.values(i);
  r.error = best.errors(i);
  if (r.converged) r.pull = (r.mu - 1.0) / r.error;
  for (int k = 1; k <= static_cast<int>(pca.components.size()); ++k)
    r.shape_nuisances.push_back(best.values(model.index("shape_pc" + std::to_string(k))));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::remove(dir / "events.csv");
  return r;
}

// The background's true fraction of events with xs > kCut among those in the window.
double true_tail_fraction() {
  double all = 0.0, tail = 0.0;
  const int n = 400;
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      const double xc = kWindowLow + (kWindowHigh - kWindowLow) * (a + 0.5) / n, xs = (b + 0.5) / n;
      all += density(xc, xs);
      if (xs > kCut) tail += density(xc, xs);
    }
  return tail / all;
}

void average_study(const Settings& s) {
  const double truth = true_tail_fraction();
  std::cout << "| seed | decay | predicted tail fraction | relative error |\n| --- | --- | --- | --- |\n";
  std::map<double, std::vector<double>> errors;
  for (int k = 0; k < s.seeds; ++k) {
    Settings only_background = s;
    only_background.signal = 0;
    const std::uint64_t seed = s.seed + 1000 * static_cast<std::uint64_t>(k);
    const MatrixD events = synthetic(only_background, seed);
    const auto dir = s.work / ("average" + std::to_string(k));
    std::filesystem::create_directories(dir);
    const std::string data = write_events(events, dir / "events.csv");
    const MatrixD conditions = window_conditions(events, 20000, seed + 7);
    for (double decay : {0.0, 0.99, 0.999}) {
      std::ostringstream log;
      train::run_cgan(
          train::config_from_json(cgan_config(s, data, dir / "run", seed, 1, 1, decay), "cgan-ensemble"),
          {.out = &log});
      const auto g = adversarial::read_cgan_generator((dir / "run" / "generator.json").string());
      const MatrixD generated = adversarial::generate(g, conditions, 10, seed + 3);
      double pass = 0.0;
      for (Index i = 0; i < generated.rows(); ++i) pass += generated(i, 1) > kCut ? 1.0 : 0.0;
      const double fraction = pass / static_cast<double>(generated.rows());
      errors[decay].push_back(fraction / truth - 1.0);
      std::printf("| %d | %g | %.4f | %+.1f %% |\n", k, decay, fraction, 100.0 * (fraction / truth - 1.0));
      std::fflush(stdout);
    }
  }
  std::printf("\ntrue tail fraction %.4f; mean |relative error| by decay:", truth);
  for (const auto& [decay, e] : errors) {
    double m = 0.0;
    for (double v : e) m += std::abs(v);
    std::printf("  %g: %.1f %%", decay, 100.0 * m / static_cast<double>(e.size()));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  Settings s;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        require(i + 1 < argc, "option ", a, " needs a value");
        return argv[++i];
      };
      if (a == "--datasets")
        s.datasets = std::stoi(next());
      else if (a == "--background")
        s.background = std::stol(next());
      else if (a == "--signal")
        s.signal = std::stol(next());
      else if (a == "--members")
        s.members = std::stoi(next());
      else if (a == "--keep")
        s.keep = std::stoi(next());
      else if (a == "--epochs")
        s.epochs = std::stoi(next());
      else if (a == "--hidden")
        s.hidden = std::stoi(next());
      else if (a == "--layers")
        s.layers = std::stoi(next());
      else if (a == "--average")
        s.average = std::stod(next());
      else if (a == "--learning-rate")
        s.learning_rate = std::stod(next());
      else if (a == "--optimiser")
        s.optimiser = next();
      else if (a == "--discriminator-steps")
        s.discriminator_steps = std::stoi(next());
      else if (a == "--seed")
        s.seed = std::stoull(next());
      else if (a == "--seeds")
        s.seeds = std::stoi(next());
      else if (a == "--work")
        s.work = next();
      else if (a == "--output")
        s.output = next();
      else if (a == "--average-study")
        s.average_study = true;
      else
        fail("unknown option '", a, "' (see the top of examples/generative/cgan_ensemble.cpp)");
    }
    if (s.average_study) {
      average_study(s);
      return 0;
    }
    std::vector<DatasetResult> results;
    std::vector<double> pulls;  // NaN where the fit did not converge
    for (int d = 0; d < s.datasets; ++d) {
      results.push_back(one_dataset(s, d));
      const DatasetResult& r = results.back();
      std::printf("data set %d: mu = %.3f +- %.3f, pull %+.2f (%.0f s)\n", d, r.mu, r.error, r.pull,
                  r.seconds);
      std::fflush(stdout);
      pulls.push_back(r.converged ? r.pull : std::nan(""));
    }
    const stats::PullSummary summary = stats::pull_summary(pulls);
    require(summary.count >= 2, "fewer than two fits converged");
    nlohmann::json j;
    j["pulls"] = nlohmann::json::array();
    j["mu"] = nlohmann::json::array();
    j["mu_error"] = nlohmann::json::array();
    j["shape_nuisances"] = nlohmann::json::array();
    double seconds = 0.0;
    for (const auto& r : results) {
      j["pulls"].push_back(r.converged ? nlohmann::json(r.pull) : nlohmann::json(nullptr));
      j["mu"].push_back(r.mu);
      j["mu_error"].push_back(r.error);
      j["shape_nuisances"].push_back(r.shape_nuisances);
      seconds += r.seconds;
    }
    j["pull_mean"] = summary.mean;
    j["pull_mean_error"] = summary.mean_error;
    j["pull_width"] = summary.width;
    j["pull_width_error"] = summary.width_error;
    j["converged_fits"] = summary.count;
    j["settings"] = {{"datasets", s.datasets},
                     {"background", s.background},
                     {"signal", s.signal},
                     {"members", s.members},
                     {"keep", s.keep},
                     {"epochs", s.epochs},
                     {"hidden", s.hidden},
                     {"layers", s.layers},
                     {"generator_average", s.average},
                     {"optimiser", s.optimiser},
                     {"learning_rate", s.learning_rate},
                     {"discriminator_steps", s.discriminator_steps},
                     {"seed", s.seed}};
    j["seconds"] = seconds;
    std::ofstream(s.output) << j.dump(1) << "\n";
    std::printf(
        "\n| data sets | background events | members (kept) | pull mean | pull width |\n"
        "| --- | --- | --- | --- | --- |\n| %d | %ld | %d (%d) | %+.3f +- %.3f | %.3f +- %.3f |\n",
        summary.count, s.background, s.members, s.keep, summary.mean, summary.mean_error, summary.width,
        summary.width_error);
    std::printf("total %.0f s; results in %s\n", seconds, s.output.c_str());
  } catch (const std::exception& e) {
    std::cerr << "cgan-ensemble: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
