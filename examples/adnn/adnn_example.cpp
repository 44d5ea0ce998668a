// The ADNN study of source 000 (Table 5) on a synthetic analogue of its VBF H->WW problem (002):
// does a classifier trained with an adversary give a signal-strength fit that does not depend on
// which model produced the signal?
//
// Events (this file's own generator, 8 features): background (tt/WW-like), a second Higgs process
// (ggH-like) and the signal (VBF-like) from the SM and four alternative models that change its
// kinematics (harder jets and leptons, a different rapidity gap and di-jet mass). Two classifiers:
//   DNN   a plain softmax classifier trained on the SM signal only;
//   ADNN  the same classifier trained on the signal of all five models with an adversary that
//         reads its last hidden layer and guesses the signal's model (train/adnn.hpp), for a
//         few alpha and adversary steps k.
// Then, as in 000 sec. 4.4: templates of the signal-class output (10 bins) from large simulated
// samples; for each model m an Asimov data set = background + ggH + mu_m x (signal of model m,
// normalised to the SM signal yield), mu_m = sigma_m / sigma_SM; a binned likelihood fit of mu
// (stats/workspace.hpp + stats/fit.hpp; SM signal template with a free normalisation, the
// background with a 5 % normalisation uncertainty); bias b = (mu_hat - mu_m) / mu_m.
//
// Usage: adnn-example [output directory] [--quick]
// Writes results.json (for `agnostic plot`) and results.md (the table). --quick: smaller samples and
// fewer epochs. The measured run times, with the machine's load, are in docs/adnn.md.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/process.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/adam.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/ks.hpp"
#include "agnostic/stats/likelihood.hpp"
#include "agnostic/stats/workspace.hpp"
#include "agnostic/train/adnn.hpp"
#include "agnostic/train/classifier.hpp"
#include "agnostic/train/trainer.hpp"

using namespace agnostic;

namespace {

constexpr int kFeatures = 8;
constexpr int kModels = 5;  // SM + 4 alternatives
const char* const kModelNames[kModels] = {"SM", "BSM1", "BSM2", "BSM3", "BSM4"};
// sigma_m / sigma_SM: the signal strength each model's Asimov data set should give.
constexpr double kCrossSectionRatio[kModels] = {1.0, 1.3, 0.8, 1.5, 1.2};
// Expected events in the fitted region: background, ggH, SM signal.
constexpr double kBackgroundYield = 3000.0, kGghYield = 400.0, kSignalYield = 300.0;
constexpr int kBins = 10;

double exponential(Rng& rng, double mean) {
  return -mean * std::log(1.0 - rng.uniform());
}

// One event of class `process` (0 background, 1 ggH, 2 signal) from signal model `model`.
// Features: log mjj, |delta eta_jj|, lepton pT 1 and 2, mll, delta phi_ll, MET, leading jet pT.
void generate_event(Rng& rng, int process, int model, float* x) {
  double mjj, deta, pt1, pt2, mll, dphi, met, jet;
  if (process == 0) {  // tt/WW-like: central jets, wide lepton pairs
    mjj = rng.normal(5.3, 0.6);
    deta = std::abs(rng.normal(0.0, 1.6));
    pt1 = 25.0 + exponential(rng, 40.0);
    pt2 = 15.0 + exponential(rng, 25.0);
    mll = 20.0 + exponential(rng, 70.0);
    dphi = rng.uniform(0.0, 3.14);
    met = exponential(rng, 55.0);
    jet = 30.0 + exponential(rng, 60.0);
  } else if (process == 1) {  // ggH-like: Higgs leptons, few forward jets
    mjj = rng.normal(5.5, 0.6);
    deta = std::abs(rng.normal(0.0, 2.0));
    pt1 = 25.0 + exponential(rng, 22.0);
    pt2 = 15.0 + exponential(rng, 12.0);
    mll = rng.normal(40.0, 12.0);
    dphi = std::abs(rng.normal(0.0, 0.9));
    met = exponential(rng, 40.0);
    jet = 30.0 + exponential(rng, 35.0);
  } else {  // VBF-like signal; models 1..4 change the kinematics
    const double k = static_cast<double>(model);
    const double hard = 1.0 + 0.22 * k;  // anomalous couplings: harder spectra
    mjj = rng.normal(6.4 + 0.10 * k, 0.55);
    deta = std::abs(rng.normal(4.2 - 0.25 * k, 1.1));
    pt1 = 25.0 + exponential(rng, 28.0 * hard);
    pt2 = 15.0 + exponential(rng, 14.0 * hard);
    mll = rng.normal(38.0 + 2.0 * k, 11.0);
    dphi = std::abs(rng.normal(0.0, 0.8 + 0.12 * k));
    met = exponential(rng, 45.0 * (1.0 + 0.1 * k));
    jet = 30.0 + exponential(rng, 70.0 * hard);
  }
  const double v[kFeatures] = {mjj,        deta, std::log(pt1),   std::log(pt2),
                               mll / 50.0, dphi, std::log1p(met), std::log(jet)};
  for (int j = 0; j < kFeatures; ++j) x[j] = static_cast<float>(v[j]);
}

struct Sample {
  MatrixF x;
  std::vector<Index> process, model;
};

// `per_class` events of each class; the signal's models in turn from `models` (e.g. {0} or 0..4).
Sample generate(Rng& rng, Index per_class, const std::vector<int>& models) {
  Sample s;
  s.x.resize(3 * per_class, kFeatures);
  for (Index i = 0; i < 3 * per_class; ++i) {
    const int process = static_cast<int>(i % 3);
    const int model =
        process == 2 ? models[static_cast<std::size_t>((i / 3) % static_cast<Index>(models.size()))] : 0;
    float row[kFeatures];
    generate_event(rng, process, model, row);
    for (int j = 0; j < kFeatures; ++j) s.x(i, j) = row[j];
    s.process.push_back(process);
    s.model.push_back(model);
  }
  return s;
}

// Standardisation fitted on the training sample, applied to every sample.
struct Standardiser {
  Eigen::RowVectorXf mean, scale;
  explicit Standardiser(const MatrixF& x) {
    mean = x.colwise().mean();
    scale = ((x.rowwise() - mean).array().square().colwise().sum() / static_cast<float>(x.rows())).sqrt();
  }
  MatrixF operator()(const MatrixF& x) const {
    return ((x.rowwise() - mean).array().rowwise() / scale.array()).matrix();
  }
};

train::Dataset<float> dataset(const Sample& s, const Standardiser& standardise) {
  return train::Dataset<float>(standardise(s.x), s.process, VectorF::Ones(s.x.rows()), s.model, 3);
}

// Softmax probabilities of the classifier for every event.
MatrixF probabilities(Sequential<float>& net, const MatrixF& x) {
  MatrixF p(x.rows(), 3);
  evaluate_in_chunks(net, x, kEvaluationChunk, [&](Index begin, const MatrixF& z) {
    for (Index i = 0; i < z.rows(); ++i) {
      const Eigen::RowVectorXf e = (z.row(i).array() - z.row(i).maxCoeff()).exp();
      p.row(begin + i) = e / e.sum();
    }
  });
  return p;
}

// The signal-class output's histogram (kBins on [0, 1]) of the events of `process` (and `model`),
// normalised to `yield`.
std::vector<double> histogram(const MatrixF& p, const Sample& s, int process, int model, double yield) {
  std::vector<double> h(kBins, 0.0);
  double n = 0.0;
  for (Index i = 0; i < p.rows(); ++i) {
    if (s.process[static_cast<std::size_t>(i)] != process) continue;
    if (process == 2 && s.model[static_cast<std::size_t>(i)] != model) continue;
    const int b = std::min(kBins - 1, static_cast<int>(p(i, 2) * kBins));
    h[static_cast<std::size_t>(b)] += 1.0;
    n += 1.0;
  }
  for (double& v : h) v *= yield / n;
  return h;
}

// The fitted mu on an Asimov data set: SM signal template x mu (free), ggH fixed, background with
// a 5 % normalisation uncertainty.
double fit_mu(const std::vector<double>& signal, const std::vector<double>& ggh,
              const std::vector<double>& background, const std::vector<double>& data) {
  stats::Workspace ws;
  stats::ChannelSpec channel;
  channel.name = "signal_output";
  channel.samples.push_back(
      {"signal", signal, {stats::ModifierSpec{"mu", "normfactor", 0.0, 0.0, {}, {}, {}}}});
  channel.samples.push_back({"ggH", ggh, {}});
  channel.samples.push_back({"background",
                             background,
                             {stats::ModifierSpec{"background_norm", "normsys", 1.05, 0.95, {}, {}, {}}}});
  ws.channels.push_back(channel);
  ws.observations.push_back({"signal_output", data});
  stats::MeasurementSpec measurement;
  measurement.name = "asimov";
  measurement.poi = "mu";
  measurement.parameters.push_back({"mu", {1.0}, {{0.0, 10.0}}, std::nullopt, {}, {}});
  ws.measurements.push_back(measurement);
  const stats::BinnedLikelihood model(ws);
  const stats::FitResult r = stats::fit(model, model.observed());
  require(r.converged, "the fit of mu did not converge: ", r.status);
  return r.values(model.poi());
}

struct Row {
  std::string method;
  double alpha = 0.0;
  Index steps = 0;
  std::map<std::string, double> bias;
  double mean_ks = 0.0, accuracy = 0.0, adversary_accuracy = std::nan("");
};

// Bias per model, mean K-S of the signal output across models, classifier accuracy on the test set.
Row study(Sequential<float>& net, const Sample& templates, const MatrixF& template_x, const Sample& test,
          const MatrixF& test_x) {
  Row row;
  const MatrixF p = probabilities(net, template_x);
  const auto background = histogram(p, templates, 0, 0, kBackgroundYield);
  const auto ggh = histogram(p, templates, 1, 0, kGghYield);
  const auto sm = histogram(p, templates, 2, 0, kSignalYield);
  for (int m = 0; m < kModels; ++m) {
    const auto signal_m = histogram(p, templates, 2, m, kSignalYield * kCrossSectionRatio[m]);
    std::vector<double> asimov(kBins);
    for (int b = 0; b < kBins; ++b)
      asimov[static_cast<std::size_t>(b)] = background[static_cast<std::size_t>(b)] +
                                            ggh[static_cast<std::size_t>(b)] +
                                            signal_m[static_cast<std::size_t>(b)];
    const double mu = fit_mu(sm, ggh, background, asimov);
    row.bias[kModelNames[m]] = (mu - kCrossSectionRatio[m]) / kCrossSectionRatio[m];
  }
  const MatrixF q = probabilities(net, test_x);
  std::vector<double> score, domain;
  double correct = 0.0;
  for (Index i = 0; i < q.rows(); ++i) {
    Index guess = 0;
    q.row(i).maxCoeff(&guess);
    if (guess == test.process[static_cast<std::size_t>(i)]) correct += 1.0;
    if (test.process[static_cast<std::size_t>(i)] == 2) {
      score.push_back(static_cast<double>(q(i, 2)));
      domain.push_back(static_cast<double>(test.model[static_cast<std::size_t>(i)]));
    }
  }
  row.accuracy = correct / static_cast<double>(q.rows());
  row.mean_ks = stats::average_ks_statistic(
      Eigen::Map<const Eigen::VectorXd>(score.data(), static_cast<Index>(score.size())),
      Eigen::Map<const Eigen::VectorXd>(domain.data(), static_cast<Index>(domain.size())));
  return row;
}

Sequential<float> make_classifier(std::uint64_t seed) {
  Rng init(seed);
  return Sequential<float>({kFeatures, 64, 64, 3}, Activation::relu(), Activation::identity(), init,
                           Initialiser::glorot_uniform(), "classifier");
}

}  // namespace

int main(int argc, char** argv) {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  std::filesystem::path out = "adnn-example-output";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else
      out = a;
  }
  std::filesystem::create_directories(out);
  const Index per_class = quick ? 3000 : 20000, template_per_class = quick ? 10000 : 60000;
  const Index pretrain_c = quick ? 3 : 10, pretrain_a = quick ? 2 : 5, game = quick ? 4 : 20;

  Rng rng(2022);
  const std::vector<int> all_models{0, 1, 2, 3, 4};
  const Sample sm_train = generate(rng, per_class, {0}), sm_validation = generate(rng, per_class / 4, {0});
  const Sample all_train = generate(rng, per_class, all_models),
               all_validation = generate(rng, per_class / 4, all_models);
  const Sample templates = generate(rng, template_per_class, all_models),
               test = generate(rng, per_class / 2, all_models);
  const Standardiser standardise(all_train.x);
  const MatrixF template_x = standardise(templates.x), test_x = standardise(test.x);
  std::vector<Row> rows;

  train::TrainerOptions quiet;
  quiet.verbosity = train::Verbosity::silent;
  quiet.stopping.max_epochs = pretrain_c + game;
  {  // DNN: trained on the SM signal only, as many epochs as the ADNN's classifier gets.
    const auto train = dataset(sm_train, standardise), validation = dataset(sm_validation, standardise);
    Sequential<float> net = make_classifier(7);
    Adam<float> adam(net.parameters(), {.lr = 1e-3});
    train::ClassifierScheme<float> scheme(net, adam, train, &validation,
                                          {.batch_size = 256, .training_metrics = false});
    train::Trainer<float> trainer(scheme, quiet);
    trainer.fit();
    rows.push_back(study(net, templates, template_x, test, test_x));
    rows.back().method = "DNN";
    std::cout << "DNN done\n" << std::flush;
  }
  struct Setting {
    double alpha;
    Index steps;
  };
  const std::vector<Setting> settings = {{1.0, 5}, {10.0, 5}, {10.0, 1}, {50.0, 5}};
  const auto train = dataset(all_train, standardise), validation = dataset(all_validation, standardise);
  for (const Setting& s : settings) {
    Sequential<float> net = make_classifier(7);
    Rng init(8);
    Sequential<float> adversary({64, 32, 32, kModels}, Activation::relu(), Activation::identity(), init,
                                Initialiser::glorot_uniform(), "adversary");
    Adam<float> c_opt(net.parameters(), {.lr = 1e-3}), a_opt(adversary.parameters(), {.lr = 1e-3});
    adversarial::AdnnScheme<float> scheme(net, adversary, c_opt, a_opt, train, &validation,
                                          {.alpha = {adversarial::StrengthShape::constant, s.alpha},
                                           .adversary_class = 2,
                                           .adversary_steps = s.steps,
                                           .adversary_batch_size = 0,  // A on the batch's, as 000
                                           .pretrain_classifier_epochs = pretrain_c,
                                           .pretrain_adversary_epochs = pretrain_a,
                                           .game_epochs = game,
                                           .batch_size = 256});
    train::TrainerOptions options = quiet;
    options.stopping.max_epochs = scheme.total_epochs();
    options.warmup_epochs = scheme.warmup_epochs();
    options.restore_best = false;  // the game's end, as 000 (the objective is not a stopping figure)
    train::Trainer<float> trainer(scheme, options);
    const train::History& history = trainer.fit();
    rows.push_back(study(net, templates, template_x, test, test_x));
    rows.back().method = "ADNN";
    rows.back().alpha = s.alpha;
    rows.back().steps = s.steps;
    rows.back().adversary_accuracy = history.epochs.back().figures.at("adversary_accuracy");
    std::cout << "ADNN alpha " << s.alpha << ", k " << s.steps << " done\n" << std::flush;
  }

  // results.json and results.md
  nlohmann::json j;
  j["models"] = std::vector<std::string>(kModelNames, kModelNames + kModels);
  j["cross_section_ratio"] = std::vector<double>(kCrossSectionRatio, kCrossSectionRatio + kModels);
  j["quick"] = quick;
  j["rows"] = nlohmann::json::array();
  std::ostringstream md;
  md << "| method | alpha | k | mean K-S | accuracy | adversary accuracy |";
  for (const char* m : kModelNames) md << " b(" << m << ") |";
  md << "\n|---|---|---|---|---|---|";
  for (int m = 0; m < kModels; ++m) md << "---|";
  md << "\n" << std::fixed;
  for (const Row& r : rows) {
    nlohmann::json row = {{"method", r.method}, {"alpha", r.alpha},     {"adversary_steps", r.steps},
                          {"bias", r.bias},     {"mean_ks", r.mean_ks}, {"accuracy", r.accuracy}};
    if (!std::isnan(r.adversary_accuracy)) row["adversary_accuracy"] = r.adversary_accuracy;
    j["rows"].push_back(row);
    md << "| " << r.method << " | "
       << (r.method == "DNN" ? std::string("-") : std::to_string(static_cast<int>(r.alpha))) << " | "
       << (r.method == "DNN" ? std::string("-") : std::to_string(r.steps)) << " | " << std::setprecision(3)
       << r.mean_ks << " | " << r.accuracy << " | ";
    if (std::isnan(r.adversary_accuracy))
      md << "-";
    else
      md << r.adversary_accuracy;
    md << " |";
    for (const char* m : kModelNames)
      md << " " << std::showpos << std::setprecision(3) << r.bias.at(m) << std::noshowpos << " |";
    md << "\n";
  }
  std::ofstream(out / "results.json") << j.dump(1) << "\n";
  std::ofstream(out / "results.md") << md.str();
  std::cout << md.str() << "wrote " << (out / "results.json").string() << " and "
            << (out / "results.md").string() << "\n";
  return 0;
}
