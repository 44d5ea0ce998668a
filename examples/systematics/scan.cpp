// 004 sec. 3 on the Higgs sample: a +-3 % uncertainty on PRI_tau_pt given as event weights, and a
// scan of the penalty lambda (004 Fig. 7): for each lambda the held-out AUC, the score histograms
// nominal / up / down for signal and background, and the expected significance and dmu/mu from the
// Asimov fit of the run's workspace.json, with the tau_pt share of dmu/mu.
//
//   systematics-scan --events A.csv [B.csv ...] --config config.json --output DIR [--lambdas 0,1,5,20,50]
//
// The weight columns (written to DIR/events.csv with the selected events):
//   - the events with PRI_tau_pt >= 25 GeV are kept (004 raises the threshold from 20 to 25 GeV so
//     that events can migrate in and out of the selection when p_T moves);
//   - for signal and background separately, the physics-weighted histograms of p_T (nominal), of
//     1.03 p_T (up) and of 0.97 p_T (down) are filled from ALL events (p_T >= 20), in 2.5 GeV bins
//     from 25 to 100 GeV and one bin above;
//   - an event of the selection in p_T bin k gets tau_pt_up = up_k / nominal_k and tau_pt_down =
//     down_k / nominal_k: the density ratio that turns the nominal sample into the shifted one,
//     including the events that migrate across 25 GeV (a pure normalisation part for the falling
//     background, as 004 finds).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/process.hpp"
#include "agnostic/io/csv_writer.hpp"
#include "agnostic/io/table.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/inference.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/train/run.hpp"

using namespace agnostic;
namespace fs = std::filesystem;

namespace {

std::vector<double> pt_edges() {
  std::vector<double> e;
  for (double x = 25.0; x <= 100.0 + 1e-9; x += 2.5) e.push_back(x);
  e.push_back(1e9);
  return e;
}

// Writes the selected events with the two weight-factor columns; returns how many were kept.
Index write_weighted_events(const std::vector<std::string>& files, const fs::path& out) {
  const io::Table t = io::read_tables(files);
  const auto pt = t.column("PRI_tau_pt");
  const auto weight = t.column("Weight");
  const auto& label = t.text_column("Label");
  const std::vector<double> edges = pt_edges();
  const std::size_t bins = edges.size() - 1;
  // [class][nominal, up, down][bin]
  std::vector<std::vector<std::vector<double>>> h(
      2, std::vector<std::vector<double>>(3, std::vector<double>(bins, 0.0)));
  auto bin = [&](double x) -> long {
    if (x < edges.front()) return -1;
    for (std::size_t k = 0; k < bins; ++k)
      if (x < edges[k + 1]) return static_cast<long>(k);
    return static_cast<long>(bins) - 1;
  };
  for (Index r = 0; r < t.n_rows(); ++r) {
    const int c = label[static_cast<std::size_t>(r)] == "s" ? 1 : 0;
    const double x = pt[static_cast<std::size_t>(r)], w = weight[static_cast<std::size_t>(r)];
    const double shifted[3] = {x, 1.03 * x, 0.97 * x};
    for (int v = 0; v < 3; ++v)
      if (const long k = bin(shifted[v]); k >= 0)
        h[static_cast<std::size_t>(c)][static_cast<std::size_t>(v)][static_cast<std::size_t>(k)] += w;
  }
  std::vector<Index> keep;
  std::vector<double> up, down;
  for (Index r = 0; r < t.n_rows(); ++r) {
    const long k = bin(pt[static_cast<std::size_t>(r)]);
    if (k < 0) continue;
    const auto& hc = h[label[static_cast<std::size_t>(r)] == "s" ? 1 : 0];
    const double n = hc[0][static_cast<std::size_t>(k)];
    keep.push_back(r);
    up.push_back(hc[1][static_cast<std::size_t>(k)] / n);
    down.push_back(hc[2][static_cast<std::size_t>(k)] / n);
  }
  io::CsvColumns csv;
  for (const auto& name : t.column_names()) {
    const auto col = t.column(name);
    std::vector<double> v;
    for (Index r : keep) v.push_back(col[static_cast<std::size_t>(r)]);
    csv.add_numbers(name, v);
  }
  for (const auto& name : t.text_column_names()) {
    const auto& col = t.text_column(name);
    std::vector<std::string> v;
    for (Index r : keep) v.push_back(col[static_cast<std::size_t>(r)]);
    csv.add(name, v);
  }
  csv.add_numbers("tau_pt_up", up);
  csv.add_numbers("tau_pt_down", down);
  csv.write(out.string());
  return static_cast<Index>(keep.size());
}

struct FitFigures {
  double sigma = 0.0, significance = 0.0;
};

FitFigures asimov_fit(const stats::Workspace& ws) {
  const stats::BinnedLikelihood model(ws);
  const stats::Data data = stats::nominal_asimov_data(model);
  const stats::FitResult best = stats::fit(model, data);
  const stats::DiscoveryResult d = stats::discovery(model, data, {}, 1.0, &best);
  return {best.errors[model.poi()], d.z_obs};
}

// The workspace without its MC statistical uncertainty (every staterror modifier removed): the fit
// of a template known exactly, the limit of an infinite simulated sample. 004's figures (400 000
// events) are close to that limit; the 10 000-event challenge sample is not (docs/systematics.md).
stats::Workspace without_staterror(stats::Workspace ws) {
  for (auto& channel : ws.channels)
    for (auto& sample : channel.samples)
      std::erase_if(sample.modifiers, [](const stats::ModifierSpec& m) { return m.type == "staterror"; });
  ws.json = stats::to_json(ws);
  return ws;
}

// The workspace without the normsys of the named systematic: only its shape (histosys) is left,
// 004's theta_shape.
stats::Workspace shape_only(stats::Workspace ws, const std::string& name) {
  for (auto& channel : ws.channels)
    for (auto& sample : channel.samples)
      std::erase_if(sample.modifiers,
                    [&](const stats::ModifierSpec& m) { return m.name == name && m.type == "normsys"; });
  ws.json = stats::to_json(ws);
  return ws;
}

// The workspace with the named nuisance parameter fixed at 0.
stats::Workspace fixing(stats::Workspace ws, const std::string& name) {
  stats::ParameterConfig p;
  p.name = name;
  p.fixed = true;
  p.inits = {0.0};
  ws.measurements[0].parameters.push_back(p);
  return ws;
}

// sigma(mu) and its tau_pt part sqrt(sigma^2 - sigma^2(tau_pt fixed)).
struct Split {
  FitFigures all;
  double sigma_fixed = 0.0, share = 0.0;
};
Split split_tau_pt(const stats::Workspace& ws) {
  Split s;
  s.all = asimov_fit(ws);
  s.sigma_fixed = asimov_fit(fixing(ws, "tau_pt")).sigma;
  s.share = std::sqrt(std::max(0.0, s.all.sigma * s.all.sigma - s.sigma_fixed * s.sigma_fixed));
  return s;
}

// The sample's histogram varied by the named systematic (histosys shape x normsys factor).
std::vector<double> varied(const stats::SampleSpec& s, const std::string& name, bool up) {
  std::vector<double> shape = s.data;
  double norm = 1.0;
  for (const auto& m : s.modifiers) {
    if (m.name != name) continue;
    if (m.type == "histosys") shape = up ? m.hi_data : m.lo_data;
    if (m.type == "normsys") norm = up ? m.hi : m.lo;
  }
  for (double& x : shape) x *= norm;
  return shape;
}

}  // namespace

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  std::vector<std::string> events;
  std::string config_path, output;
  std::vector<double> lambdas = {0, 1, 5, 20, 50};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events") {
      while (i + 1 < argc && argv[i + 1][0] != '-') events.emplace_back(argv[++i]);
    } else if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--output" && i + 1 < argc) {
      output = argv[++i];
    } else if (a == "--lambdas" && i + 1 < argc) {
      lambdas.clear();
      std::stringstream list(argv[++i]);
      for (std::string x; std::getline(list, x, ',');) lambdas.push_back(std::stod(x));
    } else {
      std::cerr << "usage: systematics-scan --events A.csv [B.csv ...] --config config.json --output DIR "
                   "[--lambdas 0,1,5,20,50]\n";
      return 2;
    }
  }
  if (events.empty() || config_path.empty() || output.empty()) {
    std::cerr << "systematics-scan: --events, --config and --output are required\n";
    return 2;
  }
  try {
    fs::create_directories(output);
    const fs::path weighted = fs::path(output) / "events.csv";
    const Index kept = write_weighted_events(events, weighted);
    std::cout << "systematics-scan: " << kept << " events with PRI_tau_pt >= 25 GeV, weight columns "
              << "tau_pt_up / tau_pt_down in " << weighted.string() << "\n";
    std::ifstream in(config_path);
    const nlohmann::json base = nlohmann::json::parse(in, nullptr, true, true);
    nlohmann::json results = {{"lambdas", nlohmann::json::array()}, {"runs", nlohmann::json::array()}};
    std::ostringstream table;
    table << "| lambda | AUC | shape diff. up (TV) | Z | dmu/mu | tau_pt share | dmu/mu, tau_pt fixed "
             "| Z (no MC stat.) | dmu/mu (no MC stat.) | tau_pt share (no MC stat.) | stat. only (no MC "
             "stat.) | tau_pt shape-only share (no MC stat.) |\n"
          << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (double lambda : lambdas) {
      nlohmann::json j = base;
      j["data"]["files"] = {fs::absolute(weighted).string()};
      j["systematics"][0]["penalty"] = lambda;
      std::ostringstream dir;
      dir << "lambda_" << lambda;
      j["output"] = {{"directory", (fs::path(output) / dir.str()).string()}, {"progress", "silent"}};
      const train::TrainConfig c =
          train::config_from_json(j, config_path, fs::path(config_path).parent_path());
      const train::RunResult r = train::run(c);
      const stats::Workspace ws = stats::read_workspace((r.directory / "workspace.json").string());
      const Split with_mc = split_tau_pt(ws), exact = split_tau_pt(without_staterror(ws));
      const Split shape = split_tau_pt(shape_only(without_staterror(ws), "tau_pt"));
      const FitFigures& all = with_mc.all;
      const auto history = nlohmann::json::parse(std::ifstream(r.directory / "history.json"));
      const auto& last = history["epochs"].back();
      const double tv = last.value("shape_difference_tau_pt_up", std::nan(""));
      nlohmann::json run = {{"lambda", lambda},
                            {"directory", r.directory.string()},
                            {"validation_auc", r.summary.value("validation_auc", std::nan(""))},
                            {"significance", all.significance},
                            {"sigma_mu", all.sigma},
                            {"sigma_mu_tau_pt", with_mc.share},
                            {"sigma_mu_without_tau_pt", with_mc.sigma_fixed},
                            {"no_mc_stat",
                             {{"significance", exact.all.significance},
                              {"sigma_mu", exact.all.sigma},
                              {"sigma_mu_tau_pt", exact.share},
                              {"sigma_mu_without_tau_pt", exact.sigma_fixed},
                              {"sigma_mu_tau_pt_shape_only", shape.share}}},
                            {"shape_difference_tau_pt_up", tv},
                            {"epochs", r.summary["epochs"]}};
      nlohmann::json hist;
      hist["edges"] = c.sections.count("soft_histogram") ? c.sections.at("soft_histogram") : nlohmann::json();
      for (const auto& s : ws.channels[0].samples) {
        const std::string role = s.name == "s" ? "signal" : "background";
        hist[role] = {
            {"nominal", s.data}, {"up", varied(s, "tau_pt", true)}, {"down", varied(s, "tau_pt", false)}};
      }
      run["histograms"] = hist;
      results["lambdas"].push_back(lambda);
      results["runs"].push_back(run);
      char line[512];
      std::snprintf(line, sizeof line,
                    "| %g | %.3f | %.3f | %.2f | %.1f %% | %.1f %% | %.1f %% | %.2f | %.1f %% | %.1f %% | "
                    "%.1f %% | %.1f %% |\n",
                    lambda, run["validation_auc"].get<double>(), tv, all.significance, 100 * all.sigma,
                    100 * with_mc.share, 100 * with_mc.sigma_fixed, exact.all.significance,
                    100 * exact.all.sigma, 100 * exact.share, 100 * exact.sigma_fixed, 100 * shape.share);
      table << line;
      std::cout << line << std::flush;
    }
    std::ofstream(fs::path(output) / "results.json") << results.dump(1) << "\n";
    std::ofstream(fs::path(output) / "results.md") << table.str();
    std::cout << "wrote " << (fs::path(output) / "results.json").string() << " and results.md\n";
  } catch (const std::exception& e) {
    std::cerr << "systematics-scan: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
