// inferno-evaluate: the expected uncertainty sigma(mu) that a trained network's summary statistic
// gives on INFERNO's synthetic mixture, from a binned Asimov fit (stats/fit.hpp, Hessian errors)
// of its hard histograms on an independent test sample (examples/inferno/generate.cpp).
//
//   inferno-evaluate MODEL.json TEST.csv argmax|score K [SIGMA_R=0.4]
//
// argmax: the summary statistic is the arg-max of the K softmax outputs (the inference-aware
// loss); score: the signal probability (output 1 of a 2-output classifier) in K equal bins on
// [0, 1]. Expected yields s = 50, b = 1000 as in the paper; mu scales the signal. It prints one
// line per benchmark of the paper:
//   0: no nuisance;  2: r (background x0 mean, +-SIGMA_R) and lambda (background x2 rate, 3 +- 1,
//   from the weight columns);  3: as 2, plus a 10 % background normalisation.
// Each shape nuisance is a histosys shared by signal and background, the normalisation a normsys
// with hi = 1.1, lo = 1/1.1 (interpolation code1, so (1.1)^beta exactly); no staterror.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <agnostic/core/process.hpp>
#include <agnostic/io/data_file.hpp>
#include <agnostic/io/model_file.hpp>
#include <agnostic/stats/fit.hpp>
#include <agnostic/stats/inference.hpp>
#include <agnostic/stats/workspace.hpp>

using namespace agnostic;

namespace {

// Columns of the counts: s, b, then per shape nuisance s up, b up, s down, b down.
nlohmann::json workspace(const MatrixD& c, int shapes, bool normalisation) {
  auto column = [&](Index j) {
    std::vector<double> v(static_cast<std::size_t>(c.rows()));
    for (Index k = 0; k < c.rows(); ++k) v[static_cast<std::size_t>(k)] = c(k, j);
    return v;
  };
  const char* names[] = {"r", "lambda"};
  nlohmann::json samples = nlohmann::json::array();
  for (int cls = 0; cls < 2; ++cls) {
    nlohmann::json modifiers = nlohmann::json::array();
    if (cls == 0) modifiers.push_back({{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}});
    for (int j = 0; j < shapes; ++j)
      modifiers.push_back(
          {{"name", names[j]},
           {"type", "histosys"},
           {"data", {{"hi_data", column(2 + 4 * j + cls)}, {"lo_data", column(4 + 4 * j + cls)}}}});
    if (normalisation && cls == 1)
      modifiers.push_back(
          {{"name", "b_norm"}, {"type", "normsys"}, {"data", {{"hi", 1.1}, {"lo", 1.0 / 1.1}}}});
    samples.push_back(
        {{"name", cls == 0 ? "signal" : "background"}, {"data", column(cls)}, {"modifiers", modifiers}});
  }
  std::vector<double> total = column(0);
  for (std::size_t k = 0; k < total.size(); ++k) total[k] += c(static_cast<Index>(k), 1);
  return {{"channels", {{{"name", "summary"}, {"samples", samples}}}},
          {"observations", {{{"name", "summary"}, {"data", total}}}},
          {"measurements",
           {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", nlohmann::json::array()}}}}}},
          {"version", "1.0.0"}};
}

}  // namespace

int main(int argc, char** argv) try {
  agnostic::configure_process(argc, argv);  // the program's start-up settings (docs/process.md)
  if (argc < 5) {
    std::fprintf(stderr, "usage: inferno-evaluate MODEL.json TEST.csv argmax|score K [SIGMA_R=0.4]\n");
    return 2;
  }
  const io::ModelFile<double> model = io::read_model<double>(argv[1]);
  const io::Table test = io::read_table(argv[2]);
  const std::string kind = argv[3];
  const Index K = std::atol(argv[4]);
  const double sigma_r = argc > 5 ? std::atof(argv[5]) : 0.4;
  require(kind == "argmax" || kind == "score", "inferno-evaluate: summary must be argmax or score, not '",
          kind, "'");
  require(K >= 2, "inferno-evaluate: K must be >= 2");
  const Index n = test.n_rows();
  const auto x0 = test.column("x0"), x1 = test.column("x1"), x2 = test.column("x2"),
             label = test.column("label");
  const auto l_up = test.column("lambda_up"), l_down = test.column("lambda_down");
  auto bins_of = [&](double shift) {
    MatrixD raw(n, 3);
    for (Index i = 0; i < n; ++i) {
      const bool background = label[static_cast<std::size_t>(i)] == 0.0;
      raw(i, 0) = x0[static_cast<std::size_t>(i)] + (background ? shift : 0.0);
      raw(i, 1) = x1[static_cast<std::size_t>(i)];
      raw(i, 2) = x2[static_cast<std::size_t>(i)];
    }
    const MatrixD out = io::predict_features(model, raw);
    std::vector<Index> bin(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) {
      Index k = 0;
      if (kind == "argmax")
        out.row(i).maxCoeff(&k);
      else
        k = std::min<Index>(K - 1, static_cast<Index>(out(i, out.cols() - 1) * static_cast<double>(K)));
      bin[static_cast<std::size_t>(i)] = k;
    }
    return bin;
  };
  const std::vector<Index> nominal = bins_of(0.0), r_up = bins_of(sigma_r), r_down = bins_of(-sigma_r);
  double ns = 0.0, nb = 0.0;
  for (Index i = 0; i < n; ++i) (label[static_cast<std::size_t>(i)] == 1.0 ? ns : nb) += 1.0;
  MatrixD c = MatrixD::Zero(K, 10);
  for (Index i = 0; i < n; ++i) {
    const std::size_t e = static_cast<std::size_t>(i);
    const int cls = label[e] == 1.0 ? 0 : 1;
    const double w = cls == 0 ? 50.0 / ns : 1000.0 / nb;
    c(nominal[e], cls) += w;
    c(r_up[e], 2 + cls) += w;
    c(r_down[e], 4 + cls) += w;
    c(nominal[e], 6 + cls) += w * l_up[e];
    c(nominal[e], 8 + cls) += w * l_down[e];
  }
  stats::ModelOptions options;
  options.normsys = stats::NormsysInterp::code1;
  for (int benchmark : {0, 2, 3}) {
    const int shapes = benchmark == 0 ? 0 : 2;
    const MatrixD counts = c.leftCols(2 + 4 * shapes);
    const stats::BinnedLikelihood likelihood(
        stats::parse_workspace(workspace(counts, shapes, benchmark == 3)), options);
    const stats::FitResult fit = stats::fit(likelihood, stats::nominal_asimov_data(likelihood));
    std::printf("benchmark %d: sigma_mu %.4f sigma_s %.2f (converged %d)\n", benchmark,
                fit.errors(likelihood.poi()), 50.0 * fit.errors(likelihood.poi()), fit.converged ? 1 : 0);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "inferno-evaluate: %s\n", e.what());
  return 1;
}
