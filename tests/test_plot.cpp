// `agnostic plot` end to end: the built binary runs tools/agnostic_plot.py on a real (short) training
// run, a real `agnostic fit` document and its workspace, and on synthetic records of the runs that
// write more (DANN, ADNN, systematics, CLs scans, impacts, examples' λ scans, bias tables, pulls), on
// records shaped as each example program writes them, and on `agnostic fit --toys`'s pull study. Every
// expected figure must be a PNG of a sensible size that is not blank; a record missing a field must give
// a message naming it, not a Python traceback. Skipped (with a message) when matplotlib is missing.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/rng.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBinary = AGNOSTIC_BINARY_DIR "/tools/agnostic";
const char* kPython = "/usr/bin/python3";

struct Run {
  int code;
  std::string output;  // stdout and stderr together
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Command lines are built with a stream: GCC 12 warns falsely (stringop-overflow) on chained `+`.
std::string quoted(const std::string& s) {
  std::ostringstream out;
  out << '\'' << s << '\'';
  return out.str();
}

Run run_agnostic(const std::vector<std::string>& args, const fs::path& log) {
  std::ostringstream command;
  command << quoted(kBinary);
  for (const auto& a : args) command << ' ' << quoted(a);
  command << " > " << quoted(log.string()) << " 2>&1";
  const int code = shell(command.str());
  return {code, read_text(log)};
}

// The sanitizer build skips the case that draws every figure: its time (half a minute) is
// matplotlib's, in Debian's python3, which the sanitizers do not instrument; the command's own code
// (reading the run directories, starting python3) is run by the other cases there too.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif
#else
constexpr bool kSanitizedBuild = false;
#endif

bool matplotlib_available() {
  // Built with append, not operator+: GCC 12 reports a false -Warray-bounds inside an inlined
  // operator+(std::string&&, const char*) at -O1 and -O2.
  std::string command(kPython);
  command.append(" -c 'import matplotlib, numpy' > /dev/null 2>&1");
  return shell(command) == 0;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("agnostic_test_plot_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_json(const fs::path& p, const json& j) {
  std::ofstream(p) << j.dump(1);
}

// A PNG file: signature, IHDR width and height (big-endian), at least min_side pixels each way.
void check_png(const fs::path& p, int min_side = 300) {
  INFO(p.string());
  REQUIRE(fs::exists(p));
  std::ifstream in(p, std::ios::binary);
  unsigned char head[24] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  REQUIRE(in.gcount() == 24);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  for (int i = 0; i < 8; ++i) CHECK(head[i] == signature[i]);
  CHECK(std::string(reinterpret_cast<char*>(head + 12), 4) == "IHDR");
  auto be32 = [&](int at) {
    return (std::uint32_t(head[at]) << 24) | (std::uint32_t(head[at + 1]) << 16) |
           (std::uint32_t(head[at + 2]) << 8) | std::uint32_t(head[at + 3]);
  };
  CHECK(be32(16) >= std::uint32_t(min_side));
  CHECK(be32(20) >= std::uint32_t(min_side));
  CHECK(be32(16) <= 6000u);
  CHECK(be32(20) <= 6000u);
}

// Checks each file is a PNG and, with one python call, that none is blank (pixel standard deviation).
void check_figures(const fs::path& dir, const std::vector<std::string>& names) {
  const fs::path log = dir / "blank-check.log";
  std::ostringstream command;
  command << kPython
          << " -c 'import sys, matplotlib.image as m\n"
             "blank = [f for f in sys.argv[1:] if m.imread(f)[..., :3].std() < 0.03]\n"
             "print(\"blank:\", blank); sys.exit(1 if blank else 0)'";
  for (const auto& n : names) {
    const fs::path png = dir / (n + ".png");
    check_png(png);
    command << ' ' << quoted(png.string());
  }
  command << " > " << quoted(log.string()) << " 2>&1";
  const int code = shell(command.str());
  INFO(read_text(log));
  CHECK(code == 0);
}

// Scores of two classes in [0, 1], shifted by domain; the systematic moves every score by ±0.05.
void write_predictions(const fs::path& p, int n, bool with_domain, bool with_systematic, std::uint64_t seed) {
  agnostic::Rng rng(seed);
  std::ofstream out(p);
  out << "label,weight,score" << (with_domain ? ",domain" : "")
      << (with_systematic ? ",score_jes_up,score_jes_down" : "") << "\n";
  for (int i = 0; i < n; ++i) {
    const int label = rng.uniform() < 0.5 ? 1 : 0;
    const int domain = rng.uniform() < 0.5 ? 1 : 0;
    const double z = rng.normal(label ? 1.0 : -1.0, 1.0) + (with_domain ? 0.3 * domain : 0.0);
    const double score = 1.0 / (1.0 + std::exp(-z));
    out << label << "," << (label ? 0.01 : 1.0) * rng.uniform(0.5, 1.5) << "," << score;
    if (with_domain) out << "," << domain;
    if (with_systematic) out << "," << std::min(1.0, score + 0.05) << "," << std::max(0.0, score - 0.05);
    out << "\n";
  }
}

// Three classes, softmax scores score_<class>, a domain column (ADNN's signal models).
void write_softmax_predictions(const fs::path& p, int n, std::uint64_t seed) {
  agnostic::Rng rng(seed);
  std::ofstream out(p);
  out << "label,weight,score_ztt,score_wjets,score_higgs,domain\n";
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.uniform() * 3.0) % 3;
    double e[3], sum = 0.0;
    for (int k = 0; k < 3; ++k) sum += e[k] = std::exp(rng.normal(k == label ? 1.5 : 0.0, 1.0));
    out << label << "," << rng.uniform(0.5, 1.5) << "," << e[0] / sum << "," << e[1] / sum << ","
        << e[2] / sum << "," << (rng.uniform() < 0.5 ? "m125" : "m300") << "\n";
  }
}

json adversarial_history(bool dann) {
  json epochs = json::array();
  for (int e = 1; e <= 12; ++e) {
    const double t = e / 12.0;
    json r = {{"epoch", e}, {"seconds", 0.5}, {"learning_rate", e < 7 ? 0.01 : 0.005}};
    if (dann) {
      r["train_label_loss"] = 0.6 - 0.2 * t;
      r["train_domain_loss"] = 0.5 + 0.19 * t;
      r["train_loss"] = r["train_label_loss"].get<double>() - r["train_domain_loss"].get<double>() * t;
      r["lambda"] = 2.0 / (1.0 + std::exp(-10.0 * t)) - 1.0;
      r["domain_accuracy"] = 0.8 - 0.28 * t;
      r["ks_source_target"] = 0.3 * (1.0 - t) + 0.02;
      r["validation_loss"] = 0.62 - 0.18 * t;
      r["validation_auc"] = 0.8 + 0.05 * t;
      r["train_penalty_jes"] = 0.1 * std::exp(-3.0 * t);
      r["train_shape_difference_jes"] = 0.05 * std::exp(-2.0 * t);
    } else {
      r["train_classifier_loss"] = 1.0 - 0.3 * t;
      r["train_adversary_loss"] = 0.69 - 0.05 * std::sin(6.0 * t);
      r["alpha"] = 10.0 * t;
      r["adversary_accuracy"] = 0.7 - 0.2 * t;
      r["mean_ks"] = 0.2 * (1.0 - t) + 0.01;
      r["validation_loss"] = 1.02 - 0.28 * t;
    }
    epochs.push_back(r);
  }
  return {{"epochs", epochs},
          {"rollbacks", json::array({{{"at_epoch", 7},
                                      {"where", "training batch 3 of 10"},
                                      {"loss", "inf"},
                                      {"to_epoch", 6},
                                      {"learning_rate_before", 0.01},
                                      {"learning_rate_after", 0.005},
                                      {"discarded_epochs", json::array()}}})},
          {"best_epoch", 10},
          {"best_figure", "validation_loss"},
          {"best_value", 0.5},
          {"stop_reason", "epochs done"}};
}

json synthetic_fit() {
  json scan = json::array(), cls = json::array();
  for (int i = 0; i <= 20; ++i) {
    const double mu = 0.2 * i;
    scan.push_back({{"mu", mu},
                    {"nll", 10.0 + 0.5 * std::pow((mu - 1.2) / 0.5, 2)},
                    {"delta_nll", 0.5 * std::pow((mu - 1.2) / 0.5, 2)}});
    const double med = std::exp(-1.3 * mu);
    cls.push_back(
        {{"mu", mu},
         {"obs", std::exp(-1.1 * mu)},
         {"exp", {med * 0.4, med * 0.65, med, std::min(1.0, med * 1.4), std::min(1.0, med * 1.9)}}});
  }
  json impacts = json::array();
  const char* names[] = {"jes", "lumi_norm", "bkg_shape", "tau_id", "met_scale"};
  for (int k = 0; k < 5; ++k)
    impacts.push_back({{"name", names[k]},
                       {"pull", 0.3 * (k - 2)},
                       {"constraint", 0.9 - 0.1 * k},
                       {"prefit_up", 0.08 / (k + 1)},
                       {"prefit_down", -0.07 / (k + 1)},
                       {"postfit_up", 0.06 / (k + 1)},
                       {"postfit_down", -0.05 / (k + 1)}});
  json pulls = json::array();
  agnostic::Rng rng(11);
  for (int i = 0; i < 500; ++i) pulls.push_back(rng.normal(0.05, 1.02));
  return {{"status", "ok"},
          {"poi", "mu"},
          {"bestfit", {{"mu", 1.2}, {"jes", 0.3}, {"tau_id", -0.6}, {"staterror[0]", 1.01}}},
          {"errors", {{"mu", 0.5}, {"jes", 0.8}, {"tau_id", 0.9}, {"staterror[0]", 0.02}}},
          {"correlation",
           {{"names", {"mu", "jes", "tau_id"}},
            {"matrix", {{1.0, -0.4, 0.2}, {-0.4, 1.0, 0.1}, {0.2, 0.1, 1.0}}}}},
          {"scan", scan},
          {"upper_limit", {{"cl", 0.95}, {"obs", 2.7}, {"exp", {1.2, 1.6, 2.3, 3.1, 4.0}}}},
          {"cls_scan", cls},
          {"impacts", impacts},
          {"toys", {{"n", 500}, {"pulls", pulls}}},
          {"postfit",
           {{"channels",
             {{{"name", "signal_region"},
               {"samples",
                {{{"name", "ztt"}, {"yields", {50.0, 40.0, 20.0, 8.0}}},
                 {{"name", "higgs"}, {"yields", {2.0, 4.0, 6.0, 5.0}}}}},
               {"data", {53.0, 41.0, 29.0, 12.0}},
               {"uncertainty", {4.0, 3.0, 2.0, 1.5}}}}}}}};
}

json example_results() {
  json lambda_scan = json::array(), bias = json::array(), pulls = json::array();
  for (double lambda : {0.0, 0.1, 0.3, 1.0, 3.0, 10.0}) {
    const double f = lambda / (lambda + 1.0);
    lambda_scan.push_back({{"lambda", lambda},
                           {"auc_source", 0.9 - 0.05 * f},
                           {"auc_target", 0.82 + 0.03 * f},
                           {"ks_source", 0.05 + 0.02 * f},
                           {"ks_target", 0.3 - 0.25 * f},
                           {"purity", 0.7 + 0.1 * f},
                           {"purity_err", 0.02},
                           {"purity_relative_uncertainty", 0.2 - 0.1 * f}});
  }
  for (const char* model : {"SM", "BSM1", "BSM2", "BSM3"})
    for (const char* method : {"DNN", "ADNN"})
      bias.push_back({{"model", model},
                      {"method", method},
                      {"bias", std::string(method) == "DNN" ? 0.12 : 0.02},
                      {"bias_err", 0.01}});
  agnostic::Rng rng(5);
  for (int i = 0; i < 300; ++i) pulls.push_back(rng.normal(0.0, 1.0));
  return {{"lambda_scan", lambda_scan},
          {"bias_table", bias},
          {"cgan_ensemble", {{"pulls", pulls}}},
          {"jes_histogram",
           {{"name", "JES on Z->tautau"},
            {"edges", {0.0, 0.25, 0.5, 0.75, 1.0}},
            {"nominal", {100.0, 60.0, 30.0, 10.0}},
            {"up", {95.0, 62.0, 33.0, 12.0}},
            {"down", {104.0, 58.0, 28.0, 8.5}}}}};
}

// Small records shaped as the examples' programs write them (docs/plot.md, "What the examples write").
json dann_scan_rows() {  // examples/dann: dann_scan.json
  json rows = json::array();
  for (const char* weights : {"none", "match_target"})
    for (double lambda : {0.0, 1.0, 3.0, 10.0}) {
      const double f = lambda / (lambda + 1.0), w = std::string(weights) == "none" ? 1.0 : 0.2;
      rows.push_back({{"lambda", lambda},
                      {"domain_weights", weights},
                      {"auc_source", 0.87 - 0.02 * f},
                      {"auc_target", 0.86 - 0.1 * w * f},
                      {"ks_background", 0.03 + 0.15 * w * f},
                      {"purity_source", 0.67},
                      {"purity_target", 0.61 - 0.2 * w * f},
                      {"purity_relative_uncertainty", 0.09 + 0.3 * w * f},
                      {"domain_accuracy", 0.73 - 0.2 * f}});
    }
  return rows;
}

json adnn_results() {  // examples/adnn: results.json
  json rows = json::array();
  auto row = [](const char* method, double alpha, int steps, double scale) {
    return json{
        {"method", method},
        {"alpha", alpha},
        {"adversary_steps", steps},
        {"bias", {{"SM", 0.0}, {"BSM1", -0.01 * scale}, {"BSM2", -0.03 * scale}, {"BSM3", -0.05 * scale}}},
        {"mean_ks", 0.07 * scale},
        {"accuracy", 0.8}};
  };
  rows.push_back(row("DNN", 0.0, 0, 1.0));
  rows.push_back(row("ADNN", 10.0, 5, -0.2));
  rows.push_back(row("ADNN", 50.0, 5, -1.1));
  return {{"models", {"SM", "BSM1", "BSM2", "BSM3"}}, {"quick", true}, {"rows", rows}};
}

json systematics_results() {  // examples/systematics: results.json (004 Fig. 7 and Fig. 2/5)
  json runs = json::array();
  for (double lambda : {0.0, 5.0, 20.0}) {
    const double f = lambda / (lambda + 5.0);
    const json band = {{"nominal", {100.0, 60.0, 30.0, 10.0}},
                       {"up", {96.0 + 3 * f, 62.0, 33.0 - 2 * f, 12.0}},
                       {"down", {104.0 - 3 * f, 58.0, 28.0 + 1 * f, 8.5}}};
    runs.push_back(
        {{"lambda", lambda},
         {"directory", "lambda_" + std::to_string(static_cast<int>(lambda))},
         {"validation_auc", 0.89 - 0.05 * f},
         {"significance", 0.5 - 0.25 * f},
         {"sigma_mu", 2.1 + 2.0 * f},
         {"sigma_mu_tau_pt", 0.8 + 1.4 * f},
         {"sigma_mu_without_tau_pt", 2.0 + 1.5 * f},
         {"epochs", 40},
         {"histograms", {{"edges", {0.0, 0.25, 0.5, 0.75, 1.0}}, {"signal", band}, {"background", band}}}});
  }
  return {{"lambdas", {0.0, 5.0, 20.0}}, {"runs", runs}};
}

json ancestral_results() {  // examples/ancestral: ancestral_pulls.json
  json table = json::array(), pulls = json::object();
  agnostic::Rng rng(9);
  for (int replacement = 0; replacement < 2; ++replacement)
    for (double r : {0.1, 0.5, 0.9}) {
      const double width = replacement ? std::sqrt(1.025) : std::sqrt(1.025 - r);
      json list = json::array();
      for (int i = 0; i < 60; ++i) list.push_back(rng.normal(0.0, width));
      table.push_back({{"ratio", r},
                       {"replacement", replacement == 1},
                       {"pull_mean", 0.01},
                       {"pull_mean_error", width / std::sqrt(60.0)},
                       {"pull_width", width},
                       {"pull_width_error", width / std::sqrt(118.0)},
                       {"expected_width", width},
                       {"failed_fits", 0}});
      std::ostringstream key;
      key << "pulls_" << (replacement ? "with" : "without") << "_replacement_ratio_" << r;
      pulls[key.str()] = list;
    }
  return {{"settings", {{"datasets", 60}}}, {"table", table}, {"pulls", pulls}};
}

json generative_results() {  // the cGAN ensemble test (examples/generative)
  json pulls = json::array();
  agnostic::Rng rng(13);
  for (int i = 0; i < 200; ++i) pulls.push_back(rng.normal(0.1, 1.1));
  return {{"pulls", pulls},
          {"pull_mean", 0.1},
          {"pull_mean_error", 0.08},
          {"pull_width", 1.1},
          {"pull_width_error", 0.055}};
}

// A two-bin workspace: signal with the POI, background with a normsys and a staterror.
json small_workspace() {
  return {{"version", "1.0.0"},
          {"channels",
           {{{"name", "sr"},
             {"samples",
              {{{"name", "signal"},
                {"data", {5.0, 10.0}},
                {"modifiers", {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}}}},
               {{"name", "background"},
                {"data", {50.0, 30.0}},
                {"modifiers",
                 {{{"name", "bkg_norm"}, {"type", "normsys"}, {"data", {{"hi", 1.1}, {"lo", 0.9}}}},
                  {{"name", "stat_sr"}, {"type", "staterror"}, {"data", {3.0, 2.0}}}}}}}}}}},
          {"observations", {{{"name", "sr"}, {"data", {58.0, 41.0}}}}},
          {"measurements", {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}}}};
}

}  // namespace

TEST_CASE("agnostic plot draws every figure the records allow, as valid non-blank PNGs") {
  REQUIRE_MESSAGE(fs::exists(kBinary), "build the agnostic command first: " << kBinary);
  if (kSanitizedBuild) {
    MESSAGE("SKIPPED in the sanitizer build: the drawing is matplotlib's (the plain build runs this case)");
    return;
  }
  if (!matplotlib_available()) {
    MESSAGE(
        "SKIPPED: /usr/bin/python3 lacks matplotlib or numpy (apt-get install python3-matplotlib "
        "python3-numpy)");
    return;
  }
  const fs::path dir = fresh_dir("figures");

  SUBCASE("a real training run") {
    std::ofstream events(dir / "events.csv");
    events << "a,b,w,Label\n";
    agnostic::Rng rng(3);
    for (int i = 0; i < 600; ++i) {
      const bool s = rng.uniform() < 0.5;
      events << rng.normal(s ? 0.8 : -0.8, 1.0) << "," << rng.normal(0.0, 1.0) << "," << (s ? 0.01 : 1.0)
             << "," << (s ? "s" : "b") << "\n";
    }
    events.close();
    write_json(dir / "config.json",
               {{"data",
                 {{"files", {(dir / "events.csv").string()}},
                  {"features", {"a", "b"}},
                  {"label", "Label"},
                  {"label_classes", {{"b", 0}, {"s", 1}}},
                  {"weight", "w"}}},
                {"model", {{"hidden", {4}}}},
                {"training", {{"epochs", 4}, {"batch_size", 32}, {"seed", 1}, {"threads", 1}}},
                {"output", {{"progress", "silent"}}}});
    const Run train = run_agnostic({"train", (dir / "config.json").string(), "--out", (dir / "run").string()},
                                   dir / "train.log");
    INFO(train.output);
    REQUIRE(train.code == 0);
    const Run plot = run_agnostic({"plot", (dir / "run").string()}, dir / "plot.log");
    INFO(plot.output);
    REQUIRE(plot.code == 0);
    CHECK(plot.output.find("run/plots/losses.png") != std::string::npos);  // every file written is printed
    check_figures(dir / "run" / "plots", {"losses", "metrics", "score_distributions", "roc", "ams_vs_cut"});
  }

  SUBCASE("a DANN run with a systematic, and an ADNN run with three classes") {
    fs::create_directories(dir / "dann");
    write_json(dir / "dann" / "history.json", adversarial_history(true));
    write_predictions(dir / "dann" / "predictions.csv", 2000, true, true, 7);
    write_json(dir / "dann" / "summary.json", {{"ams", {{"weight_scale", 3.0}}}});
    fs::create_directories(dir / "adnn");
    write_json(dir / "adnn" / "history.json", adversarial_history(false));
    write_softmax_predictions(dir / "adnn" / "predictions.csv", 1500, 8);
    const Run plot = run_agnostic(
        {"plot", (dir / "dann").string(), (dir / "adnn").string(), "--output", (dir / "figures").string()},
        dir / "plot.log");
    INFO(plot.output);
    REQUIRE(plot.code == 0);
    check_figures(dir / "figures" / "dann",
                  {"losses", "schedule", "adversarial_monitors", "penalties", "metrics",
                   "score_distributions", "score_by_domain", "roc", "ams_vs_cut", "systematic_jes"});
    check_figures(dir / "figures" / "adnn", {"losses", "schedule", "adversarial_monitors",
                                             "score_distributions", "score_by_domain", "roc"});
    CHECK_FALSE(fs::exists(dir / "figures" / "adnn" / "ams_vs_cut.png"));  // three classes: no single cut
  }

  SUBCASE(
      "fit documents: synthetic with every record, and a real `agnostic fit --scan --cls 1 --scan2d "
      "--significance`") {
    write_json(dir / "fit.json", synthetic_fit());
    const Run plot = run_agnostic({"plot", (dir / "fit.json").string()}, dir / "plot.log");
    INFO(plot.output);
    REQUIRE(plot.code == 0);
    check_figures(dir / "fit-plots", {"pulls", "impacts", "correlation", "likelihood_scan", "cls_scan",
                                      "toy_pulls", "postfit_signal_region"});

    write_json(dir / "workspace.json", small_workspace());
    const Run fit = run_agnostic({"fit", (dir / "workspace.json").string(), "--scan", "--cls", "1",
                                  "--scan2d", "mu:0:3:6,bkg_norm:-2:2:5", "--significance"},
                                 dir / "real-fit.json");
    INFO(fit.output);
    REQUIRE(fit.code == 0);
    // `agnostic fit --toys N` alone: the POI's pull study, drawn with its Gaussian fit; with
    // --significance the toys go to the discovery test instead (both methods in one figure)
    const Run toys = run_agnostic({"fit", (dir / "workspace.json").string(), "--toys", "40", "--seed", "3"},
                                  dir / "toys-fit.json");
    const Run toy_z = run_agnostic(
        {"fit", (dir / "workspace.json").string(), "--significance", "--toys", "40", "--seed", "3"},
        dir / "toy-significance.json");
    INFO(toy_z.output);
    REQUIRE(toy_z.code == 0);
    INFO(toys.output);
    REQUIRE(toys.code == 0);
    const json doc = json::parse(toys.output);
    REQUIRE(doc["toys"]["pulls"].size() == 40);
    CHECK(doc["toys"]["values"].size() == 40);
    CHECK(doc["toys"]["errors"].size() == 40);
    CHECK(doc["toys"]["truth"] == "bestfit");
    CHECK(doc["toys"]["poi_truth"].get<double>() == doc["bestfit"]["mu"].get<double>());
    for (std::size_t i = 0; i < 40; ++i)
      if (!doc["toys"]["pulls"][i].is_null())
        CHECK(doc["toys"]["pulls"][i].get<double>() ==
              doctest::Approx(
                  (doc["toys"]["values"][i].get<double>() - doc["toys"]["poi_truth"].get<double>()) /
                  doc["toys"]["errors"][i].get<double>()));
    CHECK(doc["correlation"]["names"].size() == doc["correlation"]["matrix"].size());
    CHECK(doc["postfit"]["channels"][0]["samples"].size() == 2);
    const Run real = run_agnostic({"plot", (dir / "real-fit.json").string(), (dir / "toys-fit.json").string(),
                                   (dir / "toy-significance.json").string(),
                                   (dir / "workspace.json").string(), "--output", (dir / "real").string()},
                                  dir / "plot-real.log");
    INFO(real.output);
    REQUIRE(real.code == 0);
    check_figures(dir / "real" / "real_fit", {"pulls", "likelihood_scan", "likelihood_scan2d", "significance",
                                              "correlation", "prefit_sr", "postfit_sr"});
    check_figures(dir / "real" / "toy_significance", {"significance"});
    check_figures(dir / "real" / "toys_fit", {"toy_pulls", "correlation", "prefit_sr", "postfit_sr"});
    check_figures(dir / "real" / "workspace", {"prefit_sr"});
  }

  SUBCASE("the examples' own records: DANN, ADNN, systematics, ancestral sampling, cGAN ensemble") {
    write_json(dir / "dann_scan.json", dann_scan_rows());
    write_json(dir / "adnn.json", adnn_results());
    write_json(dir / "systematics.json", systematics_results());
    write_json(dir / "ancestral_pulls.json", ancestral_results());
    write_json(dir / "generative.json", generative_results());
    const Run plot =
        run_agnostic({"plot", (dir / "dann_scan.json").string(), (dir / "adnn.json").string(),
                      (dir / "systematics.json").string(), (dir / "ancestral_pulls.json").string(),
                      (dir / "generative.json").string(), "--output", (dir / "ex").string()},
                     dir / "plot.log");
    INFO(plot.output);
    REQUIRE(plot.code == 0);
    check_figures(dir / "ex" / "dann_scan", {"lambda_scan"});
    check_figures(dir / "ex" / "adnn", {"bias_rows"});
    check_figures(dir / "ex" / "systematics",
                  {"lambda_scan_runs", "systematic_runs_lambda_0_histograms_signal",
                   "systematic_runs_lambda_20_histograms_background"});
    check_figures(dir / "ex" / "ancestral_pulls", {"ratio_scan_table", "pulls_without_replacement_ratio_0_5",
                                                   "pulls_with_replacement_ratio_0_9"});
    check_figures(dir / "ex" / "generative", {"pulls"});
    CHECK_FALSE(fs::exists(dir / "ex" / "adnn" / "alpha_scan_rows.png"));  // a bias table, not an α scan
  }

  SUBCASE("an example's results: λ scan, bias table, pull list, nominal/up/down histogram; pdf and svg") {
    write_json(dir / "results.json", example_results());
    const Run plot = run_agnostic(
        {"plot", (dir / "results.json").string(), "--output", (dir / "out").string()}, dir / "plot.log");
    INFO(plot.output);
    REQUIRE(plot.code == 0);
    check_figures(dir / "out", {"lambda_scan_lambda_scan", "bias_bias_table", "pulls_cgan_ensemble_pulls",
                                "systematic_jes_histogram"});
    for (const char* format : {"pdf", "svg"}) {
      const Run other = run_agnostic(
          {"plot", (dir / "results.json").string(), "--output", (dir / format).string(), "--format", format},
          dir / "plot-format.log");
      INFO(other.output);
      CHECK(other.code == 0);
      CHECK(fs::file_size(dir / format / (std::string("bias_bias_table.") + format)) > 1000);
    }
  }

  SUBCASE("a record missing a field: a message naming it, no traceback, exit code 1") {
    fs::create_directories(dir / "broken");
    write_json(dir / "broken" / "history.json", {{"epochs", {{{"train_loss", 0.5}}}}});
    const Run plot = run_agnostic({"plot", (dir / "broken").string()}, dir / "plot.log");
    INFO(plot.output);
    CHECK(plot.code == 1);
    CHECK(plot.output.find("epochs[0] has no key 'epoch'") != std::string::npos);
    CHECK(plot.output.find("Traceback") == std::string::npos);

    write_json(dir / "cls.json",
               {{"poi", "mu"}, {"cls_scan", {{{"mu", 1.0}, {"obs", 0.1}, {"exp", {0.1, 0.2}}}}}});
    const Run cls = run_agnostic({"plot", (dir / "cls.json").string()}, dir / "cls.log");
    INFO(cls.output);
    CHECK(cls.code == 1);
    CHECK(cls.output.find("cls_scan[0].exp must hold 5 numbers") != std::string::npos);
    CHECK(cls.output.find("Traceback") == std::string::npos);

    write_json(dir / "scan2d.json", {{"poi", "mu"},
                                     {"scan2d",
                                      {{"parameters", {"mu", "b"}},
                                       {"a_values", {0.0, 1.0}},
                                       {"b_values", {0.0, 1.0, 2.0}},
                                       {"delta_2nll", {{0.0, 1.0, 2.0}, {1.0, nullptr}}}}}});
    const Run scan2d = run_agnostic({"plot", (dir / "scan2d.json").string()}, dir / "scan2d.log");
    INFO(scan2d.output);
    CHECK(scan2d.code == 1);
    CHECK(scan2d.output.find("scan2d.delta_2nll[1] must hold 3 values (null: a failed fit)") !=
          std::string::npos);
    CHECK(scan2d.output.find("Traceback") == std::string::npos);

    json adnn = adnn_results();
    adnn["rows"][1]["bias"]["BSM2"] = "large";
    write_json(dir / "adnn.json", adnn);
    json fit = synthetic_fit();
    fit["postfit"]["channels"][0]["samples"][1].erase("yields");
    write_json(dir / "postfit.json", fit);
    write_json(dir / "generative.json", {{"pulls", {0.1, -0.3, "x", 1.2, 0.4, -0.9}}});
    const Run bad = run_agnostic({"plot", (dir / "adnn.json").string(), (dir / "postfit.json").string(),
                                  (dir / "generative.json").string()},
                                 dir / "bad.log");  // each PATH's message, then exit code 1
    INFO(bad.output);
    CHECK(bad.code == 1);
    CHECK(bad.output.find("adnn.json: rows[1].bias.BSM2: expected a number, got 'large'") !=
          std::string::npos);
    CHECK(bad.output.find("postfit: channels[0] lacks 'yields'") != std::string::npos);
    CHECK(bad.output.find("generative.json: pulls[2]: expected a number, got 'x'") != std::string::npos);
    CHECK(bad.output.find("Traceback") == std::string::npos);

    const Run missing = run_agnostic({"plot", (dir / "no-such-run").string()}, dir / "missing.log");
    CHECK(missing.code == 1);
    CHECK(missing.output.find("no such file or directory") != std::string::npos);
  }
  if (!std::getenv("AGNOSTIC_TEST_KEEP")) fs::remove_all(dir);
}

namespace {

// Events for the decorrelation runs: a falling background mass spectrum whose feature `a` follows the
// mass, a signal peaked at 80; `score_m` repeats the mass under a name that predictions.csv's own score
// columns would take (so the run writes it as `decorrelation_variable`).
void write_decorrelation_events(const fs::path& p) {
  std::ofstream events(p);
  events << "a,b,mass,score_m,w,label\n";
  agnostic::Rng rng(21);
  for (int i = 0; i < 800; ++i) {
    const bool signal = rng.uniform() < 0.4;
    const double mass = signal ? rng.normal(80.0, 8.0) : 40.0 - 40.0 * std::log(1.0 - rng.uniform());
    const double a = signal ? rng.normal(1.0, 1.0) : rng.normal(0.0, 1.0) + 0.025 * (mass - 80.0);
    events << a << "," << rng.normal(signal ? 0.5 : 0.0, 1.0) << "," << mass << "," << mass << ","
           << rng.uniform(0.5, 1.5) << "," << (signal ? 1 : 0) << "\n";
  }
}

json decorrelation_run_config(const fs::path& events, const std::string& variable, double strength) {
  return {
      {"data", {{"files", {events.string()}}, {"features", {"a", "b"}}, {"label", "label"}, {"weight", "w"}}},
      {"model", {{"hidden", {6}}}},
      {"training", {{"epochs", 3}, {"batch_size", 64}, {"seed", 1}, {"threads", 1}}},
      {"decorrelation", {{"variable", variable}, {"method", "disco"}, {"strength", strength}, {"bins", 10}}},
      {"output", {{"progress", "silent"}}}};
}

json read_decorrelation_json(const fs::path& p) {
  return json::parse(read_text(p));
}

}  // namespace

TEST_CASE(
    "agnostic plot: the decorrelation figures (sculpting, trade-off) from real runs, and their errors") {
  REQUIRE_MESSAGE(fs::exists(kBinary), "build the agnostic command first: " << kBinary);
  if (!matplotlib_available()) {
    MESSAGE("SKIPPED: /usr/bin/python3 lacks matplotlib or numpy");
    return;
  }
  const fs::path dir = fresh_dir("decorrelation");
  write_decorrelation_events(dir / "events.csv");
  for (const auto& [name, variable, strength] :
       {std::tuple<std::string, std::string, double>{"plain", "mass", 0.0},
        {"disco", "mass", 10.0},
        {"renamed", "score_m", 10.0}}) {
    write_json(dir / (name + ".json"), decorrelation_run_config(dir / "events.csv", variable, strength));
    const Run train = run_agnostic(
        {"train", (dir / (name + ".json")).string(), "--out", (dir / name).string()}, dir / "train.log");
    INFO(train.output);
    REQUIRE(train.code == 0);
  }
  // The run's own records: predictions.csv's variable column and summary.json's cuts. The script checks
  // that the background passing each cut in predictions.csv has the summary's efficiency (else a warning).
  const Run plot = run_agnostic(
      {"plot", (dir / "disco").string(), (dir / "renamed").string(), "--output", (dir / "figures").string()},
      dir / "plot.log");
  INFO(plot.output);
  REQUIRE(plot.code == 0);
  CHECK(plot.output.find("warning") == std::string::npos);
  check_figures(dir / "figures" / "disco", {"sculpting", "score_distributions", "roc"});
  check_figures(dir / "figures" / "renamed", {"sculpting"});  // its column is decorrelation_variable
  CHECK(read_text(dir / "renamed" / "predictions.csv").find("decorrelation_variable") != std::string::npos);

  // The trade-off of a set of runs (directories or their summary.json), by default into plots/ in the
  // runs' common parent directory; a directory without summary.json (a plots/ caught by a wildcard) is
  // skipped.
  const Run trade = run_agnostic({"plot", "--trade-off", (dir / "plain").string(), (dir / "disco").string(),
                                  (dir / "renamed" / "summary.json").string(), (dir / "figures").string()},
                                 dir / "trade.log");
  INFO(trade.output);
  REQUIRE(trade.code == 0);
  CHECK(trade.output.find("figures: not a run (no summary.json), skipped") != std::string::npos);
  check_figures(dir / "plots", {"trade_off"});

  // Records that cannot give the figures: each message names the file and the missing key.
  auto copy_run = [&](const std::string& from, const std::string& to) {
    fs::create_directories(dir / to);
    for (const char* f : {"summary.json", "predictions.csv"})
      fs::copy_file(dir / from / f, dir / to / f, fs::copy_options::overwrite_existing);
  };
  copy_run("disco", "no_cuts");
  json summary = read_decorrelation_json(dir / "no_cuts" / "summary.json");
  summary["decorrelation"].erase("cuts");
  write_json(dir / "no_cuts" / "summary.json", summary);
  copy_run("disco", "no_column");
  {
    std::istringstream lines(read_text(dir / "disco" / "predictions.csv"));
    std::ofstream without(dir / "no_column" / "predictions.csv");
    for (std::string line; std::getline(lines, line);) {  // label,weight,mass,score -> label,weight,score
      const auto second = line.find(',', line.find(',') + 1), third = line.find(',', second + 1);
      without << line.substr(0, second) << line.substr(third) << "\n";
    }
  }
  const Run bad = run_agnostic({"plot", (dir / "no_cuts").string(), (dir / "no_column").string()},
                               dir / "bad.log");  // each PATH's message, then exit code 1
  INFO(bad.output);
  CHECK(bad.code == 1);
  CHECK(bad.output.find("no_cuts/summary.json: decorrelation has no key 'cuts'") != std::string::npos);
  CHECK(bad.output.find("no_column/predictions.csv: column 'mass' is missing") != std::string::npos);
  CHECK(bad.output.find("Traceback") == std::string::npos);
  copy_run("disco", "no_figure");
  summary = read_decorrelation_json(dir / "no_figure" / "summary.json");
  summary["decorrelation"].erase("inverse_jsd_at_50");
  write_json(dir / "no_figure" / "summary.json", summary);
  copy_run("disco", "undecorrelated");
  summary.erase("decorrelation");
  write_json(dir / "undecorrelated" / "summary.json", summary);
  for (const auto& [run, message] :
       {std::pair<std::string, std::string>{"no_figure",
                                            "summary.json: decorrelation has no key 'inverse_jsd_at_50'"},
        {"undecorrelated", "summary.json: no key 'decorrelation'"}}) {
    const Run refused = run_agnostic({"plot", "--trade-off", (dir / "disco").string(), (dir / run).string()},
                                     dir / "refused.log");
    INFO(refused.output);
    CHECK(refused.code == 1);
    CHECK(refused.output.find((fs::path(run) / message).string()) != std::string::npos);
    CHECK(refused.output.find("Traceback") == std::string::npos);
  }
  // predictions.csv of one run with the summary.json of another: the cuts disagree, and it says so.
  copy_run("plain", "mixed");
  fs::copy_file(dir / "disco" / "summary.json", dir / "mixed" / "summary.json",
                fs::copy_options::overwrite_existing);
  const Run mixed = run_agnostic({"plot", (dir / "mixed").string()}, dir / "mixed.log");
  INFO(mixed.output);
  CHECK(mixed.code == 0);
  CHECK(mixed.output.find("warning") != std::string::npos);
  CHECK(mixed.output.find("files of different runs?") != std::string::npos);
  if (!std::getenv("AGNOSTIC_TEST_KEEP")) fs::remove_all(dir);
}
