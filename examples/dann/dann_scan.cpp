// dann-scan: the lambda scan of 001 on a synthetic two-generator problem, with DannScheme from C++.
//
// The problem: 8 features. The signal is drawn from the same distribution in both domains; the
// background comes from one of two "generators" that differ in four features (shifted means, a
// wider spread, a changed correlation; --difference scales the change). The source (simulation) is labelled,
// half signal; the target ("data") is unlabelled, with an expected signal fraction of 0.2 (its labels are
// kept only to measure). For every lambda, with the domain weights "match_target" and "none", a classifier is
// trained by DANN and measured on fresh test events:
//   AUC on source and on target, the K-S distance between the source and target background
//   scores, and the purity at signal efficiency 0.5 for the target's composition, computed with
//   the source background (P_src, what simulation predicts) and the target background (P_tgt,
//   what the data give); |P_src - P_tgt| / P_src is 001's relative purity uncertainty.
//
//   dann-scan [--out DIR] [--lambdas 0,1,3,10,30] [--epochs 20] [--events 6000] [--seed 1]
//             [--difference 1] [--write-csv FILE]   (also write a training sample for `agnostic train`)
// Writes DIR/dann_scan.json (a list of records for `agnostic plot`) and DIR/dann_scan.md.
#include <algorithm>
#include <chrono>
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
#include "agnostic/optim/adam.hpp"
#include "agnostic/stats/ks.hpp"
#include "agnostic/stats/roc.hpp"
#include "agnostic/train/dann.hpp"
#include "agnostic/train/trainer.hpp"

using namespace agnostic;

namespace {

constexpr Index kFeatures = 8;
constexpr double kTargetSignalFraction = 0.2;

// One event: signal (any domain) or background of generator 0 (source) or 1 (target).
// `difference` scales how far the second generator's background is from the first's.
void draw_event(Rng& rng, bool signal, int generator, double difference, double* x) {
  for (Index j = 0; j < kFeatures; ++j) x[j] = rng.normal();
  if (signal) {
    x[0] += 1.0;
    x[1] += 0.8;
    x[2] = 0.6 * x[2] + 0.5;
    x[3] += 0.5 * x[0];
    return;
  }
  if (generator == 1) {  // the second generator's background: four features differ
    x[1] += 0.6 * difference;
    x[2] = (1.0 + 0.6 * difference) * x[2] + 0.9 * difference;
    x[4] += 1.2 * difference;
    x[3] += 0.7 * difference * x[2];
  }
}

struct Sample {
  MatrixD x;
  std::vector<Index> label, domain;
};

// `n` events of a domain with signal fraction f.
void append(Sample& s, Rng& rng, Index n, double f, int domain, double difference) {
  const Index start = s.x.rows();
  s.x.conservativeResize(start + n, kFeatures);
  for (Index i = 0; i < n; ++i) {
    const bool signal = rng.uniform() < f;
    double row[kFeatures];
    draw_event(rng, signal, domain, difference, row);
    for (Index j = 0; j < kFeatures; ++j) s.x(start + i, j) = row[j];
    s.label.push_back(signal ? 1 : 0);
    s.domain.push_back(domain);
  }
}

std::vector<double> parse_list(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stod(item));
  return out;
}

struct Row {
  double lambda = 0;
  std::string weights;
  double auc_source = 0, auc_target = 0, ks_background = 0, purity_source = 0, purity_target = 0,
         purity_relative_uncertainty = 0, domain_accuracy = 0, seconds = 0;
};

Vector<double> scores(Sequential<float>& net, const MatrixF& x) {
  Tape<float> tape;
  const Var<float> z = net(tape, tape.input(x));
  Vector<double> s(x.rows());
  for (Index i = 0; i < x.rows(); ++i) s(i) = 1.0 / (1.0 + std::exp(-static_cast<double>(z.value()(i, 0))));
  return s;
}

// Fraction of `s` at or above `cut`.
double above(const std::vector<double>& s, double cut) {
  double n = 0;
  for (double v : s) n += v >= cut ? 1.0 : 0.0;
  return n / static_cast<double>(s.size());
}

}  // namespace

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  std::filesystem::path out_dir = "dann-scan";
  std::vector<double> lambdas = {0, 1, 3, 10, 30};
  Index epochs = 20, events = 6000;
  std::uint64_t seed = 1;
  double difference = 1.0;
  std::string csv;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string key = argv[a], value = argv[a + 1];
    if (key == "--out")
      out_dir = value;
    else if (key == "--lambdas")
      lambdas = parse_list(value);
    else if (key == "--epochs")
      epochs = std::stol(value);
    else if (key == "--events")
      events = std::stol(value);
    else if (key == "--seed")
      seed = std::stoull(value);
    else if (key == "--write-csv")
      csv = value;
    else if (key == "--difference")
      difference = std::stod(value);
    else {
      std::cerr << "dann-scan: unknown option '" << key << "'\n";
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::cerr << "dann-scan: options come in pairs (--key value)\n";
    return 2;
  }
  std::filesystem::create_directories(out_dir);

  // Training: labelled source (half signal) + unlabelled target; test: fresh events of each.
  Rng rng(seed);
  Sample train_sample, validation_sample;
  append(train_sample, rng, events, 0.5, 0, difference);
  append(train_sample, rng, events, kTargetSignalFraction, 1, difference);
  append(validation_sample, rng, events / 4, 0.5, 0, difference);
  append(validation_sample, rng, events / 4, kTargetSignalFraction, 1, difference);
  Sample test;
  append(test, rng, 4 * events, 0.5, 0, difference);
  Sample test_target_background;
  append(test_target_background, rng, 2 * events, 0.0, 1, difference);

  if (!csv.empty()) {  // the training sample as `agnostic train` reads it; target labels are -1
    std::ofstream f(csv);
    for (Index j = 0; j < kFeatures; ++j) f << "x" << j << ",";
    f << "label,domain\n";
    for (Index i = 0; i < train_sample.x.rows(); ++i) {
      for (Index j = 0; j < kFeatures; ++j) f << train_sample.x(i, j) << ",";
      const auto u = static_cast<std::size_t>(i);
      f << (train_sample.domain[u] == 1 ? -1 : train_sample.label[u]) << "," << train_sample.domain[u]
        << "\n";
    }
    std::cout << "wrote " << csv << "\n";
  }

  // Standardise with the training sample's mean and spread.
  const Eigen::RowVectorXd mean = train_sample.x.colwise().mean();
  const Eigen::RowVectorXd sd =
      ((train_sample.x.rowwise() - mean).array().square().colwise().mean()).sqrt().matrix();
  auto standard = [&](const MatrixD& x) {
    return MatrixF(((x.rowwise() - mean).array().rowwise() / sd.array()).cast<float>());
  };
  // A target event's label is never read by DANN: scramble it to show it (the gate).
  std::vector<Index> train_labels = train_sample.label;
  for (std::size_t k = 0; k < train_labels.size(); ++k)
    if (train_sample.domain[k] == 1) train_labels[k] = 0;
  const train::Dataset<float> train(standard(train_sample.x), train_labels, {}, train_sample.domain, 2);
  std::vector<Index> validation_labels = validation_sample.label;
  for (std::size_t k = 0; k < validation_labels.size(); ++k)
    if (validation_sample.domain[k] == 1) validation_labels[k] = 0;
  const train::Dataset<float> validation(standard(validation_sample.x), validation_labels, {},
                                         validation_sample.domain, 2);
  const MatrixF test_x = standard(test.x), test_tb_x = standard(test_target_background.x);

  std::vector<Row> rows;
  for (const std::string weights : {"match_target", "none"})
    for (double lambda : lambdas) {
      const auto start = std::chrono::steady_clock::now();
      Rng init(seed + 100);
      Sequential<float> classifier({kFeatures, 32, 32, 1}, Activation::relu(), Activation::identity(), init,
                                   Initialiser::glorot_uniform(), "classifier");
      Sequential<float> domain({32, 20, 35, 50, 2}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "domain");
      ParameterGroup<float> group("dann");
      group.add(classifier.parameters());
      group.add(domain.parameters());
      Adam<float> adam(group, {.lr = 1e-3});
      adversarial::DannOptions o;
      o.lambda = adversarial::StrengthSchedule("ganin", lambda);
      o.epochs = epochs;
      o.batch_size = 128;
      if (weights == "match_target") o.target_signal_fraction = kTargetSignalFraction;
      adversarial::DannScheme<float> scheme(classifier, domain, adam, train, &validation, o);
      train::TrainerOptions options;
      options.stopping.max_epochs = epochs;
      options.restore_best = false;  // the adversarial game's last state, as 001
      options.verbosity = train::Verbosity::silent;
      train::Trainer<float> trainer(scheme, options);
      const train::History& history = trainer.fit();

      // Measure on the test events.
      const Vector<double> s = scores(classifier, test_x), tb = scores(classifier, test_tb_x);
      std::vector<double> signal, source_background, target_background(tb.data(), tb.data() + tb.size());
      for (Index i = 0; i < s.size(); ++i)
        (test.label[static_cast<std::size_t>(i)] == 1 ? signal : source_background).push_back(s(i));
      Vector<double> y_src(s.size());
      for (Index i = 0; i < s.size(); ++i)
        y_src(i) = static_cast<double>(test.label[static_cast<std::size_t>(i)]);
      // Target: the same signal events with the target background.
      Vector<double> s_tgt(static_cast<Index>(signal.size() + target_background.size())), y_tgt(s_tgt.size());
      Index k = 0;
      for (double v : signal) s_tgt(k) = v, y_tgt(k++) = 1.0;
      for (double v : target_background) s_tgt(k) = v, y_tgt(k++) = 0.0;
      std::vector<double> sorted = signal;
      std::sort(sorted.begin(), sorted.end());
      const double cut = sorted[sorted.size() / 2];  // signal efficiency 0.5
      const double eff_s = above(signal, cut);
      auto purity = [&](double eff_b) {
        const double f = kTargetSignalFraction;
        return f * eff_s / (f * eff_s + (1.0 - f) * eff_b);
      };
      Row r;
      r.lambda = lambda;
      r.weights = weights;
      r.auc_source = stats::roc_auc(s, y_src);
      r.auc_target = stats::roc_auc(s_tgt, y_tgt);
      r.ks_background =
          stats::ks_test(Eigen::Map<const Vector<double>>(source_background.data(),
                                                          static_cast<Index>(source_background.size())),
                         Eigen::Map<const Vector<double>>(target_background.data(),
                                                          static_cast<Index>(target_background.size())),
                         stats::KsMethod::asymptotic)
              .statistic;
      r.purity_source = purity(above(source_background, cut));
      r.purity_target = purity(above(target_background, cut));
      r.purity_relative_uncertainty = std::abs(r.purity_source - r.purity_target) / r.purity_source;
      r.domain_accuracy = history.epochs.back().figures.at("domain_accuracy");
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rows.push_back(r);
      std::printf(
          "lambda %5.1f %-12s  AUC src %.3f tgt %.3f  K-S bkg %.3f  purity src %.3f tgt %.3f  rel %.1f %%  "
          "(domain acc %.3f, %.1f s)\n",
          lambda, weights.c_str(), r.auc_source, r.auc_target, r.ks_background, r.purity_source,
          r.purity_target, 100 * r.purity_relative_uncertainty, r.domain_accuracy, r.seconds);
      std::fflush(stdout);
    }

  nlohmann::json records = nlohmann::json::array();
  std::ostringstream md;
  md << "| domain weights | λ | AUC source | AUC target | K-S source/target background | purity source | "
        "purity target | relative purity uncertainty |\n|---|---|---|---|---|---|---|---|\n";
  for (const Row& r : rows) {
    records.push_back({{"lambda", r.lambda},
                       {"domain_weights", r.weights},
                       {"auc_source", r.auc_source},
                       {"auc_target", r.auc_target},
                       {"ks_background", r.ks_background},
                       {"purity_source", r.purity_source},
                       {"purity_target", r.purity_target},
                       {"purity_relative_uncertainty", r.purity_relative_uncertainty},
                       {"domain_accuracy", r.domain_accuracy}});
    char line[256];
    std::snprintf(line, sizeof line, "| %s | %g | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f %% |\n",
                  r.weights.c_str(), r.lambda, r.auc_source, r.auc_target, r.ks_background, r.purity_source,
                  r.purity_target, 100 * r.purity_relative_uncertainty);
    md << line;
  }
  std::ofstream(out_dir / "dann_scan.json") << records.dump(1) << "\n";
  std::ofstream(out_dir / "dann_scan.md") << md.str();
  std::cout << "\n"
            << md.str() << "\nwrote " << (out_dir / "dann_scan.json").string() << " and "
            << (out_dir / "dann_scan.md").string() << "\n";
  return 0;
}
