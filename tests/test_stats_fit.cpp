// Minimiser and fits: the W6 model against pyhf's reference fit (fit_reference.json: best fit, Hessian
// errors and covariance, MINOS, nll) in both interpolation settings; convergence on every
// pyhf-validation workspace; bounds; MINOS and scans against closed forms; the fit report
// (stats/fit_report.hpp) against the `agnostic fit` command's output and the defaults it decides.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "stats_test_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/fit_report.hpp"
#include "agnostic/stats/fit_yields.hpp"
#include "agnostic/stats/impacts.hpp"

using namespace agnostic;
using namespace agnostic::stats;
using nlohmann::json;

namespace {

using agnostic_test::kReference;
using agnostic_test::load;
using agnostic_test::with;

// A workspace of these channels and observations, with one measurement whose POI is mu.
Workspace workspace_with_poi_mu(const json& channels, const json& observations) {
  return parse_workspace(
      json{{"channels", channels},
           {"observations", observations},
           {"measurements", {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}}},
           {"version", "1.0.0"}});
}

// One bin, one sample scaled by mu, n observed: profile -log L is nu0 mu - n ln(nu0 mu) + const.
Workspace counting_workspace(double nominal, double observed) {
  return workspace_with_poi_mu(
      {{{"name", "c"},
        {"samples",
         {{{"name", "s"},
           {"data", {nominal}},
           {"modifiers", {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}}}}}}}},
      {{{"name", "c"}, {"data", {observed}}}});
}
BinnedLikelihood counting_model(double nominal, double observed) {
  return BinnedLikelihood(counting_workspace(nominal, observed));
}

}  // namespace

TEST_CASE("fit: W6 against pyhf's reference in both interpolation settings") {
  const json ref = load(kReference + "fit_reference.json");
  const Workspace ws = read_workspace(kReference + "w6-workspace.json");
  for (const std::string setting : {"code4_code4p", "code1_code0"}) {
    const bool code1 = setting == "code1_code0";
    const BinnedLikelihood model(ws,
                                 code1 ? with(NormsysInterp::code1, HistosysInterp::code0) : ModelOptions{});
    const json& r = ref["fits"][setting];
    const Data data = model.observed();
    Eigen::VectorXd away(3);
    away << 0.5, 0.3, -0.3;  // as the iminuit cross-check started
    for (const auto& start : {model.init(), away}) {
      CAPTURE(setting);
      CAPTURE(start.transpose());
      FitOptions options;
      options.start = start;
      const FitResult best = fit(model, data, options);
      CHECK(best.converged);
      CHECK(best.status == "converged");
      CHECK(best.hessian_positive_definite);
      CHECK(best.edm < 1e-10);
      CHECK(best.nll == doctest::Approx(r["nll"].get<double>()).epsilon(1e-12));
      const auto order = ref["parameter_order"].get<std::vector<std::string>>();
      for (std::size_t k = 0; k < order.size(); ++k) {
        const int i = model.index(order[k]);
        const double value = r["bestfit"][order[k]].get<double>();
        CHECK(std::abs(best.values[i] - value) < 1e-4 * std::max(std::abs(value), 1.0));
        const double error = r["errors"][order[k]].get<double>();
        CHECK(best.errors[i] == doctest::Approx(error).epsilon(1e-4));  // the bar
        CHECK(best.errors[i] == doctest::Approx(error).epsilon(1e-7));  // what the exact Hessian gives
        if (code1) {
          CHECK(best.errors[i] >= r["errors_range"][order[k]][0].get<double>());
          CHECK(best.errors[i] <= r["errors_range"][order[k]][1].get<double>());
        }
        for (std::size_t l = 0; l < order.size(); ++l)
          CHECK(best.covariance(i, model.index(order[l])) ==
                doctest::Approx(r["covariance"][k][l].get<double>()).epsilon(1e-6));
      }
      const auto [lo, hi] = minos(model, data, best, "mu");
      const auto ref_minos = r["minos"]["mu"].get<std::vector<double>>();
      const double mu_hat = best.values[model.poi()];
      CHECK(std::abs(lo - ref_minos[0]) < 1e-4 * std::abs(ref_minos[0] - mu_hat));
      CHECK(std::abs(hi - ref_minos[1]) < 1e-4 * std::abs(ref_minos[1] - mu_hat));
      // the stored endpoints are exact crossings: ours agree far better than the 1e-4 bar
      CHECK(lo == doctest::Approx(ref_minos[0]).epsilon(1e-7));
      CHECK(hi == doctest::Approx(ref_minos[1]).epsilon(1e-7));
    }
  }
}

TEST_CASE("fit: every pyhf-validation workspace converges, free and at the tested POI") {
  const json index = load(kReference + "pyhf-validation/INDEX.json");
  for (const auto& c : index["cases"]) {
    const std::string file = c["file"].get<std::string>();
    CAPTURE(file);
    const json j = load(kReference + "pyhf-validation/" + file);
    const json& s = j["settings"];
    const BinnedLikelihood model(
        parse_workspace(j["workspace"], file),
        with(s["normsys_interpcode"] == "code1" ? NormsysInterp::code1 : NormsysInterp::code4,
             s["histosys_interpcode"] == "code0" ? HistosysInterp::code0 : HistosysInterp::code4p));
    const Data data = model.observed();
    const FitResult free = fit(model, data);
    CHECK(free.converged);
    CHECK(free.hessian_positive_definite);
    CHECK(free.edm < 1e-10);
    CHECK(free.errors.allFinite());
    FitOptions at_test;
    at_test.fix[s["poi"].get<std::string>()] = s["poi_test"].get<double>();
    const FitResult conditional = fit(model, data, at_test);
    CHECK(conditional.converged);
    CHECK(conditional.values[model.poi()] == s["poi_test"].get<double>());
    CHECK(conditional.errors[model.poi()] == 0.0);
    CHECK(conditional.nll >= free.nll - 1e-9);
    // the gradient of the floating parameters vanishes unless they sit on a bound
    Eigen::VectorXd g;
    model.nll(free.values, data, g);
    for (int i = 0; i < model.n_params(); ++i) {
      if (!free.floating[static_cast<std::size_t>(i)]) continue;
      const bool on_bound = free.values[i] == model.lower()[i] || free.values[i] == model.upper()[i];
      if (!on_bound) CHECK(std::abs(g[i]) < 1e-5);
    }
  }
}

TEST_CASE("fit: a counting experiment against closed forms (best fit, error, MINOS, scan)") {
  // nu = 20 mu, n = 30: mu_hat = 1.5, Hessian n / mu^2 -> error mu_hat / sqrt(n)
  const BinnedLikelihood model = counting_model(20.0, 30.0);
  const Data data = model.observed();
  const FitResult best = fit(model, data);
  REQUIRE(best.converged);
  CHECK(best.values[0] == doctest::Approx(1.5).epsilon(1e-10));
  CHECK(best.errors[0] == doctest::Approx(1.5 / std::sqrt(30.0)).epsilon(1e-10));
  // profile rise: 20 mu - 30 ln mu - (30 - 30 ln 1.5) = delta; check the crossings satisfy it exactly
  for (double delta : {0.5, 1.92}) {
    const auto [lo, hi] = minos(model, data, best, "mu", delta);
    auto rise = [](double mu) { return 20 * mu - 30 * std::log(mu) - (30 - 30 * std::log(1.5)); };
    CHECK(rise(lo) == doctest::Approx(delta).epsilon(1e-9));
    CHECK(rise(hi) == doctest::Approx(delta).epsilon(1e-9));
    CHECK(lo < 1.5);
    CHECK(hi > 1.5);
    CHECK(hi - 1.5 > 1.5 - lo);  // Poisson intervals lean upward
  }
  // without Hessian errors MINOS walks the profile instead of solving the joint system: same crossings
  FitOptions no_hesse;
  no_hesse.hesse = false;
  const FitResult bare = fit(model, data, no_hesse);
  const auto joint = minos(model, data, best, "mu");
  const auto walked = minos(model, data, bare, "mu");
  CHECK(walked.first == doctest::Approx(joint.first).epsilon(1e-9));
  CHECK(walked.second == doctest::Approx(joint.second).epsilon(1e-9));
  const auto scan = profile_scan(model, data, "mu", 1.0, 2.0, 11);
  REQUIRE(scan.size() == 11);
  for (const auto& [mu, q] : scan)
    CHECK(q == doctest::Approx(2 * (20 * mu - 30 * std::log(mu) - (30 - 30 * std::log(1.5))))
                   .epsilon(1e-9)
                   .scale(1.0));
  CHECK(std::abs(scan[5].second) < 1e-9);
}

TEST_CASE("fit: bounds are respected; MINOS reports the bound when the crossing lies beyond it") {
  // n = 1 with nu = 20 mu: mu_hat = 0.05 inside the bounds
  const BinnedLikelihood model = counting_model(20.0, 1.0);
  const FitResult best = fit(model, model.observed());
  CHECK(best.converged);
  CHECK(best.values[0] == doctest::Approx(0.05).epsilon(1e-10));
  // n = 0: the minimum is on the bound mu = 0 with the gradient pointing outward; the profile rises as
  // 20 mu, so the lower MINOS endpoint is the bound and the upper one is delta / 20
  Data empty = model.observed();
  empty.main[0] = 0.0;
  const FitResult at_bound = fit(model, empty);
  CHECK(at_bound.converged);
  CHECK(at_bound.values[0] == 0.0);
  const auto [lo, hi] = minos(model, empty, at_bound, "mu", 2.0);
  CHECK(lo == 0.0);
  CHECK(hi == doctest::Approx(0.1).epsilon(1e-9));
  // W6 profile scan: 2 delta NLL = 1 at the MINOS endpoints
  const BinnedLikelihood w6(read_workspace(kReference + "w6-workspace.json"));
  const FitResult w6_best = fit(w6, w6.observed());
  const auto [w6_lo, w6_hi] = minos(w6, w6.observed(), w6_best, "mu");
  const auto scan = profile_scan(w6, w6.observed(), "mu", w6_lo, w6_hi, 2);
  CHECK(scan[0].second == doctest::Approx(1.0).epsilon(1e-8));
  CHECK(scan[1].second == doctest::Approx(1.0).epsilon(1e-8));
}

TEST_CASE("fit: fixed parameters, starting points and bad requests") {
  const BinnedLikelihood model(read_workspace(kReference + "w6-workspace.json"));
  const Data data = model.observed();
  FitOptions options;
  options.fix["bkg_norm"] = 0.5;
  const FitResult r = fit(model, data, options);
  CHECK(r.converged);
  CHECK(r.values[1] == 0.5);
  CHECK(r.errors[1] == 0.0);
  CHECK(r.covariance.row(1).isZero());
  CHECK_FALSE(r.floating[1]);
  CHECK_THROWS_WITH_AS(minos(model, data, r, "bkg_norm"), doctest::Contains("'bkg_norm' was not floating"),
                       Error);
  CHECK_THROWS_WITH_AS(minos(model, data, r, "nope"), doctest::Contains("unknown parameter 'nope'"), Error);
  FitOptions unknown;
  unknown.fix["nope"] = 1.0;
  CHECK_THROWS_WITH_AS(fit(model, data, unknown), doctest::Contains("unknown parameter 'nope'"), Error);
  FitOptions short_start;
  short_start.start = Eigen::VectorXd::Ones(2);
  CHECK_THROWS_WITH_AS(fit(model, data, short_start), doctest::Contains("got 2 values, the model has 3"),
                       Error);
  CHECK_THROWS_WITH_AS(profile_scan(model, data, "mu", -1.0, 2.0, 5), doctest::Contains("leaves the bounds"),
                       Error);
  // a start outside the bounds is clamped, and the fit still lands on the reference
  FitOptions outside;
  outside.start = Eigen::Vector3d(20.0, 9.0, -9.0);
  const FitResult clamped = fit(model, data, outside);
  CHECK(clamped.converged);
  CHECK(clamped.values[0] == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("minimiser: Rosenbrock with exact Hessian, and a bounded quadratic with an active bound") {
  auto rosenbrock = [](const Eigen::VectorXd& x, double& f, Eigen::VectorXd* g, Eigen::MatrixXd* h) {
    const double a = 1 - x[0], b = x[1] - x[0] * x[0];
    f = a * a + 100 * b * b;
    if (g) *g = Eigen::Vector2d(-2 * a - 400 * x[0] * b, 200 * b);
    if (h) {
      h->resize(2, 2);
      *h << 2 - 400 * b + 800 * x[0] * x[0], -400 * x[0], -400 * x[0], 200;
    }
    return true;
  };
  const auto r = minimise(rosenbrock, Eigen::Vector2d(-1.2, 1.0), Eigen::Vector2d(-5, -5),
                          Eigen::Vector2d(5, 5), {true, true});
  CHECK(r.converged);
  CHECK(r.x[0] == doctest::Approx(1.0).epsilon(1e-8));
  CHECK(r.x[1] == doctest::Approx(1.0).epsilon(1e-8));
  CHECK(r.hessian_positive_definite);
  // minimum of (x-2)^2 + (y+1)^2 inside [0,1] x [0,1] is (1, 0)
  auto quadratic = [](const Eigen::VectorXd& x, double& f, Eigen::VectorXd* g, Eigen::MatrixXd* h) {
    f = (x[0] - 2) * (x[0] - 2) + (x[1] + 1) * (x[1] + 1);
    if (g) *g = Eigen::Vector2d(2 * (x[0] - 2), 2 * (x[1] + 1));
    if (h) *h = 2 * Eigen::Matrix2d::Identity();
    return true;
  };
  const auto q = minimise(quadratic, Eigen::Vector2d(0.5, 0.5), Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 1),
                          {true, true});
  CHECK(q.converged);
  CHECK(q.x[0] == 1.0);
  CHECK(q.x[1] == 0.0);
  // an indefinite saddle start still descends; fixed coordinates stay put
  const auto fixed = minimise(quadratic, Eigen::Vector2d(0.5, 0.5), Eigen::Vector2d(0, 0),
                              Eigen::Vector2d(1, 1), {false, true});
  CHECK(fixed.x[0] == 0.5);
  CHECK(fixed.x[1] == 0.0);
  CHECK_THROWS_WITH_AS(
      minimise(quadratic, Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1), {true, true}),
      doctest::Contains("lower bound 1 above upper bound 0"), Error);
}

// -- correlation and pre-/post-fit yields (stats/fit_yields.hpp) ------------------------------------------

TEST_CASE("fit yields: two normfactors in three bins against closed forms (correlation, yields, bands)") {
  // nu_b = mu s_b + k b_b: -log L has the exact Hessian H = sum_b n_b / nu_b^2 x_b x_b^T, x_b = (s_b, b_b).
  // The background carries a symmetric histosys (b_b +- d_b): pre-fit, the band is d_b exactly (both
  // interpolations have slope d_b at alpha = 0), mu and k being unconstrained.
  const std::vector<double> s{5.0, 20.0, 40.0}, b{100.0, 60.0, 30.0}, d{4.0, 3.0, 1.0}, n{112.0, 75.0, 83.0};
  std::vector<double> hi(3), lo(3);
  for (int i = 0; i < 3; ++i) hi[i] = b[i] + d[i], lo[i] = b[i] - d[i];
  json ws{
      {"channels",
       {{{"name", "sr"},
         {"samples",
          {{{"name", "sig"},
            {"data", s},
            {"modifiers", {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}}}},
           {{"name", "bkg"},
            {"data", b},
            {"modifiers",
             {{{"name", "k"}, {"type", "normfactor"}, {"data", nullptr}},
              {{"name", "shape"}, {"type", "histosys"}, {"data", {{"hi_data", hi}, {"lo_data", lo}}}}}}}}}}}},
      {"observations", {{{"name", "sr"}, {"data", n}}}},
      {"measurements", {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}}},
      {"version", "1.0.0"}};
  const BinnedLikelihood model(parse_workspace(ws));
  const Data data = model.observed();

  SUBCASE("pre-fit: the nominal templates, the data and the histosys band") {
    const auto pre = prefit_yields(model, data);
    REQUIRE(pre.size() == 1);
    CHECK(pre[0].name == "sr");
    REQUIRE(pre[0].samples.size() == 2);
    CHECK(pre[0].samples[0].first == "sig");
    CHECK(pre[0].samples[1].first == "bkg");
    for (int i = 0; i < 3; ++i) {
      CHECK(pre[0].samples[0].second[i] == doctest::Approx(s[i]).epsilon(1e-12));
      CHECK(pre[0].samples[1].second[i] == doctest::Approx(b[i]).epsilon(1e-12));
      CHECK(pre[0].data[i] == n[i]);
      CHECK(pre[0].uncertainty[i] == doctest::Approx(d[i]).epsilon(1e-7));
    }
  }

  SUBCASE("post-fit: yields at the best fit, the band and the correlation from the Hessian") {
    FitOptions o;
    o.fix["shape"] = 0.0;  // two free parameters: the closed form below
    const FitResult best = fit(model, data, o);
    REQUIRE(best.converged);
    const double mu = best.values[model.index("mu")], k = best.values[model.index("k")];
    Eigen::Matrix2d h = Eigen::Matrix2d::Zero();
    for (int i = 0; i < 3; ++i) {
      const Eigen::Vector2d x(s[i], b[i]);
      const double nu = mu * s[i] + k * b[i];
      h += n[i] / (nu * nu) * x * x.transpose();
    }
    const Eigen::Matrix2d c = h.inverse();
    const Correlation r = correlation(model, best);
    REQUIRE(r.names.size() == 2);  // shape was fixed: not in the matrix
    CHECK(((r.names[0] == "k" && r.names[1] == "mu") || (r.names[0] == "mu" && r.names[1] == "k")));
    const double rho = c(0, 1) / std::sqrt(c(0, 0) * c(1, 1));
    CHECK(r.matrix(0, 0) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(r.matrix(1, 1) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(r.matrix(0, 1) == doctest::Approx(rho).epsilon(1e-6));
    CHECK(r.matrix(1, 0) == doctest::Approx(rho).epsilon(1e-6));
    CHECK(rho < -0.3);  // signal and background compete for the same events

    const auto post = postfit_yields(model, data, best);
    REQUIRE(post.size() == 1);
    const Eigen::VectorXd expected = model.expected(best.values);
    for (int i = 0; i < 3; ++i) {
      CHECK(post[0].samples[0].second[i] == doctest::Approx(mu * s[i]).epsilon(1e-12));
      CHECK(post[0].samples[1].second[i] == doctest::Approx(k * b[i]).epsilon(1e-12));
      CHECK(post[0].total[i] == doctest::Approx(expected[i]).epsilon(1e-12));
      const Eigen::Vector2d x(s[i], b[i]);  // (mu, k) order of c
      CHECK(post[0].uncertainty[i] == doctest::Approx(std::sqrt(x.dot(c * x))).epsilon(1e-6));
    }
  }
}

TEST_CASE("fit yields: W6's correlation is the normalised inverse Hessian; post-fit totals are the model") {
  const BinnedLikelihood model(read_workspace(kReference + "w6-workspace.json"));
  const Data data = model.observed();
  const FitResult best = fit(model, data);
  REQUIRE(best.converged);
  const Correlation r = correlation(model, best);
  std::vector<int> idx;
  for (const auto& name : r.names) idx.push_back(model.index(name));
  const auto m = static_cast<Eigen::Index>(idx.size());
  REQUIRE(m >= 3);
  const Eigen::MatrixXd h = model.hessian(best.values, data);
  Eigen::MatrixXd block(m, m);
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      block(a, b) = h(idx[static_cast<std::size_t>(a)], idx[static_cast<std::size_t>(b)]);
  const Eigen::MatrixXd c = block.inverse();
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b)
      CHECK(r.matrix(a, b) ==
            doctest::Approx(c(a, b) / std::sqrt(c(a, a) * c(b, b))).epsilon(1e-6).scale(1.0));
  const Eigen::VectorXd expected = model.expected(best.values);
  for (const auto& channel : postfit_yields(model, data, best)) {
    const int offset = [&] {
      for (const auto& c2 : model.channels())
        if (c2.name == channel.name) return c2.offset;
      return -1;
    }();
    REQUIRE(offset >= 0);
    for (Eigen::Index i = 0; i < channel.total.size(); ++i) {
      CHECK(channel.total[i] == doctest::Approx(expected[offset + i]).epsilon(1e-12));
      CHECK(channel.uncertainty[i] > 0.0);
    }
  }
  // no covariance, no correlation: a clear error
  FitOptions no_hesse;
  no_hesse.hesse = false;
  CHECK_THROWS_WITH(correlation(model, fit(model, data, no_hesse)),
                    doctest::Contains("the fit has no covariance"));
}

// -- the fit report: request -> report -> JSON, the command's document -------------------------------

namespace {

// The stdout of the built `agnostic` binary (a missing binary is a failure, not a skipped test).
std::string agnostic_stdout(const std::string& arguments) {
  const std::string binary = AGNOSTIC_BINARY_DIR "/tools/agnostic";
  REQUIRE_MESSAGE(std::filesystem::exists(binary), "the agnostic command was not built: ", binary,
                  " is missing (build the agnostic_cli target, AGNOSTIC_BUILD_TOOLS=ON)");
  const std::string err =
      (std::filesystem::temp_directory_path() / ("fit_report_test_" + std::to_string(::getpid()) + ".err"))
          .string();
  FILE* pipe = ::popen((binary + " " + arguments + " 2>" + err).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  std::ifstream in(err);
  const std::string messages((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(err);
  INFO("agnostic " << arguments << ": " << messages);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return out;
}

// The first difference between two documents ("" when none): the same keys in the same order, the
// same strings, integers, booleans and nulls, and numbers with a fraction equal to 1e-9 relative
// (plus 1e-12 absolute, for zeros). Not byte for byte: the command is compiled for this CPU
// (-march=native: fused multiply-adds) and the tests are not, which moves last digits.
std::string difference(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b,
                       const std::string& at) {
  if (a.is_number_float() || b.is_number_float()) {
    if (!a.is_number() || !b.is_number()) return at + ": " + a.dump() + " vs " + b.dump();
    const double x = a.get<double>(), y = b.get<double>();
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y)) + 1e-12
               ? std::string()
               : at + ": " + a.dump() + " vs " + b.dump();
  }
  if (a.is_number() && b.is_number())  // integers: signed from the library, unsigned when parsed
    return a == b ? std::string() : at + ": " + a.dump() + " vs " + b.dump();
  if (a.type() != b.type() || a.size() != b.size()) return at + ": " + a.dump() + " vs " + b.dump();
  if (a.is_object()) {
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
      if (i.key() != j.key()) return at + ": key '" + i.key() + "' vs '" + j.key() + "'";
      if (std::string d = difference(i.value(), j.value(), at + "/" + i.key()); !d.empty()) return d;
    }
    return {};
  }
  if (a.is_array()) {
    for (std::size_t k = 0; k < a.size(); ++k)
      if (std::string d = difference(a[k], b[k], at + "/" + std::to_string(k)); !d.empty()) return d;
    return {};
  }
  return a == b ? std::string() : at + ": " + a.dump() + " vs " + b.dump();
}

// Whether the command's stdout is the document as it prints one: dump(2), a newline, nothing else.
std::string difference_from_command(const nlohmann::ordered_json& document, const std::string& arguments) {
  const std::string out = agnostic_stdout(arguments);
  REQUIRE(!out.empty());
  REQUIRE(out.back() == '\n');
  const nlohmann::ordered_json printed = nlohmann::ordered_json::parse(out);
  REQUIRE(printed.dump(2) + "\n" == out);
  return difference(document, printed, "");
}

}  // namespace

TEST_CASE("fit report: to_json(fit_report(...)) is the document `agnostic fit` prints") {
  const std::string w6 = kReference + "w6-workspace.json";
  const Workspace ws = read_workspace(w6);
  SUBCASE("asymptotic: MINOS, a scan on a grid, CLs at one value, the limit, a CLs scan, impacts") {
    FitRequest request;
    request.minos = true;
    request.scan = true;
    request.scan_grid = PoiGrid{0.0, 2.0, 5};
    request.cls_mu = 1.0;
    request.upper_limit = true;
    request.cls_grid = PoiGrid{0.0, 3.0, 4};
    request.impacts = true;
    CHECK(difference_from_command(
              to_json(fit_report(ws, request)),
              "fit " + w6 + " --minos --scan 0:2:5 --cls 1 --upper-limit --cls-scan 0:3:4 --impacts") == "");
  }
  SUBCASE("toys: the pull study on the Asimov data, and toy CLs with the q statistic") {
    FitRequest pulls;
    pulls.asimov = true;
    pulls.toys = 6;
    pulls.seed = 4;
    CHECK(difference_from_command(to_json(fit_report(ws, pulls)),
                                  "fit " + w6 + " --asimov --toys 6 --seed 4") == "");
    FitRequest cls;
    cls.cls_mu = 1.5;
    cls.test_statistic = TestStatistic::q;
    cls.toys = 5;
    CHECK(difference_from_command(to_json(fit_report(ws, cls)),
                                  "fit " + w6 + " --cls 1.5 --test-stat q --toys 5") == "");
  }
  SUBCASE("a patchset: one patch, every patch, the list") {
    const std::string bkg = AGNOSTIC_SOURCE_DIR "/tests/data/pyhf/example_bkgonly.json";
    const std::string patches = AGNOSTIC_SOURCE_DIR "/tests/data/pyhf/example_patchset.json";
    const Workspace background = read_workspace(bkg);
    const PatchSet ps = read_patchset(patches);
    REQUIRE(!ps.patches.empty());
    FitRequest request;
    request.upper_limit = true;
    const std::string& first = ps.patches.front().name;
    CHECK(difference_from_command(
              to_json(fit_report(background, ps, first, request)),
              "fit " + bkg + " --patchset " + patches + " --patch " + first + " --upper-limit") == "");
    CHECK(difference_from_command(to_json(fit_report(background, ps, request)),
                                  "fit " + bkg + " --patchset " + patches + " --patch all --upper-limit") ==
          "");
    CHECK(difference_from_command(patch_list_json(ps), "fit --list-patches " + patches) == "");
  }
}

TEST_CASE("fit report: the defaults it decides (status, significance, the scan range, the toy grid)") {
  // A counting experiment: nominal 10 events scaled by mu, 25 observed: mu_hat = 2.5, error 0.5.
  const Workspace ws = counting_workspace(10.0, 25.0);
  FitRequest request;
  request.scan = true;
  FitReport r = fit_report(ws, request);
  CHECK(r.status == "ok");
  CHECK(r.poi == "mu");
  CHECK(r.best.values[r.poi_index] == doctest::Approx(2.5).epsilon(1e-6));
  // the scan: mu_hat +- 3 sigma in 31 points
  REQUIRE(r.scan);
  REQUIRE(r.scan->size() == 31);
  const double sigma = r.best.errors[r.poi_index];
  CHECK(sigma == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(r.scan->front().mu == doctest::Approx(2.5 - 3.0 * sigma).epsilon(1e-9));
  CHECK(r.scan->back().mu == doctest::Approx(2.5 + 3.0 * sigma).epsilon(1e-9));
  CHECK(std::abs(r.scan->at(15).delta_nll) < 1e-8);
  for (const ScanPoint& p : *r.scan)  // closed form: nu0 (mu - mu_hat) - n ln(mu / mu_hat)
    CHECK(p.delta_nll ==
          doctest::Approx(10.0 * (p.mu - 2.5) - 25.0 * std::log(p.mu / 2.5)).epsilon(1e-6).scale(1.0));
  for (const ScanPoint& p : *r.scan) CHECK(p.nll == doctest::Approx(r.best.nll + p.delta_nll).epsilon(1e-12));
  // mu in [0, 10] holds 0 and 1: the significance is there; nothing that was not asked for is
  REQUIRE(r.discovery);
  CHECK(r.discovery->z_obs > 3.0);
  CHECK_FALSE(r.minos);
  CHECK_FALSE(r.cls);
  CHECK_FALSE(r.toys);
  const nlohmann::ordered_json j = to_json(r);
  CHECK(j.contains("significance"));
  CHECK_FALSE(j.contains("minos"));
  CHECK(j["data"] == "observed");

  // The toy upper limit's grid without a CLs grid: 16 points from half the smallest asymptotic limit
  // (observed, expected -2 sigma) to 1.5 times the largest (+2 sigma).
  FitRequest limit;
  limit.upper_limit = true;
  limit.toys = 4;
  r = fit_report(ws, limit);
  REQUIRE(r.upper_limit);
  REQUIRE(r.toy_upper_limit);
  const UpperLimit& a = *r.upper_limit;
  const double lo = std::min({a.obs, a.exp[0], a.exp[4]}), hi = std::max({a.obs, a.exp[0], a.exp[4]});
  REQUIRE(r.toy_upper_limit->scan.size() == 16);
  CHECK(r.toy_upper_limit->scan.front().mu ==
        doctest::Approx(std::max(a.search_lo, 0.5 * lo)).epsilon(1e-12));
  CHECK(r.toy_upper_limit->scan.back().mu == doctest::Approx(std::min(a.search_hi, 1.5 * hi)).epsilon(1e-12));
  CHECK(to_json(r)["upper_limit"]["method"] == "toys");

  // A POI whose bounds leave out 0: no significance; a scan outside the bounds: the message names
  // the option and the bounds.
  nlohmann::json bounded = ws.json;
  bounded["measurements"][0]["config"]["parameters"] = {
      {{"name", "mu"}, {"bounds", {{2.0, 5.0}}}, {"inits", {3.0}}}};
  FitRequest outside;
  outside.scan = true;
  outside.scan_grid = PoiGrid{0.0, 3.0, 4};
  const Workspace shifted = parse_workspace(bounded);
  CHECK_FALSE(fit_report(shifted, {}).discovery);
  CHECK_THROWS_WITH(
      fit_report(shifted, outside),
      doctest::Contains("option --scan: range [0, 3] leaves the bounds of the POI 'mu' [2, 5]"));
}

// -- impacts: the warm-started refits (impacts.hpp) ------------------------------------------------------

namespace {

// Channels of `bins` bins: signal (mu, a 10 % normsys) over a background with a shared normsys, a
// per-channel histosys tilt and staterror, observed = background + 0.3 signal with a wiggle (W8 in small).
Workspace small_analysis(int channels, int bins) {
  json chans = json::array(), obs = json::array();
  for (int c = 0; c < channels; ++c) {
    std::vector<double> s, b, hi, lo, unc, n;
    for (int k = 0; k < bins; ++k) {
      s.push_back(8.0 * std::exp(-(k - 1.5) * (k - 1.5) / 4.0) * (1.0 + c / 3.0));
      b.push_back(60.0 * std::exp(-k / 3.0) * (1.0 + c / 5.0) + 5.0);
      hi.push_back(b.back() * (1.0 + 0.08 * (k - 1.5) / 1.5));
      lo.push_back(b.back() * (1.0 - 0.08 * (k - 1.5) / 1.5));
      unc.push_back(0.04 * b.back() + 1.0);
      const double mean = b.back() + 0.3 * s.back();
      n.push_back(std::round(mean + std::sqrt(mean) * std::sin(1.7 * c + 2.3 * k)));
    }
    const std::string cn = "ch" + std::to_string(c);
    json sig{{"name", "signal"},
             {"data", s},
             {"modifiers",
              {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}},
               {{"name", "sig_theory"}, {"type", "normsys"}, {"data", {{"hi", 1.1}, {"lo", 0.9}}}}}}};
    json bkg{{"name", "background"},
             {"data", b},
             {"modifiers",
              {{{"name", "bkg_norm"}, {"type", "normsys"}, {"data", {{"hi", 1.05}, {"lo", 0.95}}}},
               {{"name", "shape_" + std::to_string(c)},
                {"type", "histosys"},
                {"data", {{"hi_data", hi}, {"lo_data", lo}}}},
               {{"name", "staterror_" + std::to_string(c)}, {"type", "staterror"}, {"data", unc}}}}};
    chans.push_back({{"name", cn}, {"samples", {sig, bkg}}});
    obs.push_back({{"name", cn}, {"data", n}});
  }
  return workspace_with_poi_mu(chans, obs);
}

}  // namespace

TEST_CASE("impacts: one bin, one staterror gamma: the closed form -sigma b / s") {
  // nu = mu s + gamma b with a Gaussian constraint of width sigma on gamma: the bin is fitted exactly
  // (mu_hat = (n - b) / s, gamma_hat = 1), the Hessian error of gamma is sigma, and with gamma fixed at
  // 1 + d the refit gives mu = (n - (1 + d) b) / s: impacts -/+ sigma b / s, pre- and post-fit.
  const double s = 12.0, b = 50.0, n = 70.0, unc = 4.0, sigma = unc / b;
  const json ws{
      {"channels",
       {{{"name", "c"},
         {"samples",
          {{{"name", "signal"},
            {"data", {s}},
            {"modifiers", {{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}}}},
           {{"name", "background"},
            {"data", {b}},
            {"modifiers", {{{"name", "stat"}, {"type", "staterror"}, {"data", {unc}}}}}}}}}}},
      {"observations", {{{"name", "c"}, {"data", {n}}}}},
      {"measurements", {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}}},
      {"version", "1.0.0"}};
  const BinnedLikelihood model(parse_workspace(ws));
  const Data data = model.observed();
  const FitResult best = fit(model, data);
  REQUIRE(best.converged);
  const std::vector<Impact> r = impacts(model, data, best);
  REQUIRE(r.size() == 1);
  CHECK(r[0].sigma_post == doctest::Approx(sigma).epsilon(1e-9));
  CHECK(r[0].sigma_pre == doctest::Approx(sigma).epsilon(1e-12));
  for (double up : {r[0].postfit_up, r[0].prefit_up})
    CHECK(up == doctest::Approx(-sigma * b / s).epsilon(1e-8));
  for (double down : {r[0].postfit_down, r[0].prefit_down})
    CHECK(down == doctest::Approx(sigma * b / s).epsilon(1e-8));
}

TEST_CASE("impacts: the warm-started refits agree with conditional fits from scratch") {
  // 4 channels x 4 bins, 24 parameters: every shifted mu against fit(..., fix = {name: value}) started
  // from the model's initial values, to 1e-6 of the POI's error (both minimisers stop at EDM <= 1e-12).
  const BinnedLikelihood model(small_analysis(4, 4));
  const Data data = model.observed();
  const FitResult best = fit(model, data);
  REQUIRE(best.converged);
  const int poi = model.poi();
  const double mu_hat = best.values[poi], sigma_mu = best.errors[poi];
  const std::vector<Impact> r = impacts(model, data, best);
  REQUIRE(r.size() == static_cast<std::size_t>(model.n_params() - 1));
  auto from_scratch = [&](const Impact& i, double shift) {
    FitOptions options;
    options.fix[i.name] = std::clamp(i.value + shift, model.lower()[i.index], model.upper()[i.index]);
    options.hesse = false;
    const FitResult f = fit(model, data, options);
    REQUIRE(f.converged);
    return f.values[poi] - mu_hat;
  };
  double largest = 0.0;
  for (const Impact& i : r) {
    INFO(i.name);
    CHECK(std::abs(i.postfit_up - from_scratch(i, i.sigma_post)) < 1e-6 * sigma_mu);
    CHECK(std::abs(i.postfit_down - from_scratch(i, -i.sigma_post)) < 1e-6 * sigma_mu);
    REQUIRE(i.constrained);
    CHECK(std::abs(i.prefit_up - from_scratch(i, i.sigma_pre)) < 1e-6 * sigma_mu);
    CHECK(std::abs(i.prefit_down - from_scratch(i, -i.sigma_pre)) < 1e-6 * sigma_mu);
    largest = std::max(largest, i.size());
  }
  CHECK(largest > 0.05 * sigma_mu);  // the comparison is not between zeros
}

TEST_CASE(
    "fx_ minos: the crossings are where the profile rises by delta_nll; repeated calls give the same bits") {
  // The fast path (joint Newton, buffers shared by both sides) against conditional fits from scratch at
  // its end points, for delta_nll = 0.5 and 0.125 (the 2-sigma lower end lies beyond mu = 0), and against
  // pyhf's MINOS offsets (fit_reference.json).
  const BinnedLikelihood model(read_workspace(kReference + "w6-workspace.json"));
  const Data data = model.observed();
  const FitResult best = fit(model, data);
  REQUIRE(best.converged);
  const int p = model.poi();
  const std::string poi = model.names()[static_cast<std::size_t>(p)];
  for (double delta : {0.5, 0.125}) {
    INFO("delta_nll = " << delta);
    const auto [lo, hi] = minos(model, data, best, poi, delta);
    const auto again = minos(model, data, best, poi, delta);
    CHECK(again.first == lo);
    CHECK(again.second == hi);
    REQUIRE(lo < best.values[p]);
    REQUIRE(hi > best.values[p]);
    for (double end : {lo, hi}) {
      FitOptions conditional;
      conditional.fix[poi] = end;
      conditional.hesse = false;
      const FitResult f = fit(model, data, conditional);
      REQUIRE(f.converged);
      CHECK(std::abs(f.nll - best.nll - delta) < 1e-9);
    }
  }
  const json ref = load(kReference + "fit_reference.json")["fits"]["code4_code4p"];
  const auto [lo, hi] = minos(model, data, best, poi);
  CHECK(std::abs(lo - best.values[p] - ref["minos_offsets"][poi][0].get<double>()) < 1e-8);
  CHECK(std::abs(hi - best.values[p] - ref["minos_offsets"][poi][1].get<double>()) < 1e-8);
}

TEST_CASE("fx_ data and parameter checks: messages name the bin and the model's parameters") {
  const BinnedLikelihood model(read_workspace(kReference + "w6-workspace.json"));
  Data data = model.observed();
  const std::string channel = model.channels()[0].name;
  data.main[3] = -1.0;
  CHECK_THROWS_WITH_AS(
      model.check_data(data),
      ("data: channel '" + channel + "' bin 3 has count -1, expected a finite number >= 0").c_str(), Error);
  CHECK_THROWS_WITH_AS(fit(model, data),
                       doctest::Contains(("channel '" + channel + "' bin 3 has count -1").c_str()), Error);
  std::string names;
  for (const auto& n : model.names()) names += (names.empty() ? "" : ", ") + n;
  Eigen::VectorXd short_params = Eigen::VectorXd::Ones(model.n_params() - 1);
  CHECK_THROWS_WITH_AS(model.check_params(short_params),
                       ("parameters: got " + std::to_string(model.n_params() - 1) +
                        " values, the model has " + std::to_string(model.n_params()) + " (" + names + ")")
                           .c_str(),
                       Error);
  Eigen::VectorXd params = model.init();
  params[1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(model.check_params(params),
                       doctest::Contains(("parameter '" + model.names()[1] + "' is nan").c_str()), Error);
  model.check_params(model.init());  // valid: no throw
  model.check_data(model.observed());
}

namespace {

// A random model of the common shape (BinnedLikelihood::common_shape): 1-3 channels of 1-4 bins, 1-3
// samples each with at most one scalar factor (normfactor or normsys) and 0-2 histosys; alpha names come
// from a small pool, so normsys and histosys share parameters within and across samples and channels.
Workspace random_common_workspace(std::mt19937& rng) {
  std::uniform_int_distribution<int> channels(1, 3), bins(1, 4), samples(1, 3), histos(0, 2), pick(0, 3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::vector<std::string> alphas{"a0", "a1", "a2", "a3"};
  json chans = json::array(), obs = json::array();
  const int nc = channels(rng);
  for (int c = 0; c < nc; ++c) {
    const int nb = bins(rng);
    json ss = json::array();
    std::vector<double> n;
    for (int b = 0; b < nb; ++b) n.push_back(std::round(5.0 + 40.0 * u(rng)));
    const int ns = samples(rng);
    for (int s = 0; s < ns; ++s) {
      std::vector<double> nominal;
      for (int b = 0; b < nb; ++b) nominal.push_back(2.0 + 30.0 * u(rng));
      json mods = json::array();
      const int kind = pick(rng);  // 0: none, 1: normfactor, 2-3: normsys
      if (kind == 1) mods.push_back({{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}});
      if (kind >= 2)
        mods.push_back({{"name", alphas[static_cast<std::size_t>(pick(rng))]},
                        {"type", "normsys"},
                        {"data", {{"hi", 1.02 + 0.2 * u(rng)}, {"lo", 0.75 + 0.2 * u(rng)}}}});
      const int nh = histos(rng), first_alpha = pick(rng);  // distinct names within a sample
      for (int h = 0; h < nh; ++h) {
        std::vector<double> hi, lo;
        for (double v : nominal) {
          hi.push_back(v * (1.0 + 0.2 * u(rng)));  // two shifts at |alpha| < 2 keep every yield > 0
          lo.push_back(v * (1.0 - 0.2 * u(rng)));
        }
        mods.push_back({{"name", alphas[static_cast<std::size_t>((first_alpha + h) % 4)]},
                        {"type", "histosys"},
                        {"data", {{"hi_data", hi}, {"lo_data", lo}}}});
      }
      ss.push_back({{"name", "s" + std::to_string(s)}, {"data", nominal}, {"modifiers", mods}});
    }
    if (c == 0)  // the POI exists in every model
      ss[0]["modifiers"] = json::array({{{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}}});
    chans.push_back({{"name", "c" + std::to_string(c)}, {"samples", ss}});
    obs.push_back({{"name", "c" + std::to_string(c)}, {"data", n}});
  }
  return workspace_with_poi_mu(chans, obs);
}

}  // namespace

TEST_CASE("fx_ common-shape evaluation: the general one's bits, and derivatives against finite differences") {
  // 40 random models in the four interpolation settings (one with its last channel masked), each at
  // a random point with |alpha| away from 0 and 1 (the kinks of code0/code1 and the switch of code4/4p):
  // value, gradient and Hessian == the general evaluation's; the gradient against central differences
  // of the value, the Hessian against central differences of the gradient (double, step 1e-6).
  std::mt19937 rng(20261205);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 40; ++trial) {
    ModelOptions options = with(trial % 2 ? NormsysInterp::code1 : NormsysInterp::code4,
                                (trial / 2) % 2 ? HistosysInterp::code0 : HistosysInterp::code4p);
    const Workspace ws = random_common_workspace(rng);
    if (trial == 7 && ws.channels.size() > 1) options.masked_channels = {ws.channels.back().name};
    const BinnedLikelihood model(ws, options);
    INFO("trial " << trial << ": " << model.n_params() << " parameters, " << model.n_main() << " bins");
    REQUIRE(model.common_shape());
    const Data data = model.observed();
    Eigen::VectorXd x(model.n_params());
    for (int i = 0; i < model.n_params(); ++i) {
      const double a = 0.05 + 0.9 * u(rng) + (u(rng) < 0.5 ? 0.0 : 1.0);  // in (0.05, 0.95) or (1.05, 1.95)
      x[i] = model.parameter(i).type == "alpha" ? (u(rng) < 0.5 ? -a : a) : 0.5 + 1.5 * u(rng);
    }
    double value = 0.0, general_value = 0.0;
    Eigen::VectorXd g, general_g;
    Eigen::MatrixXd h, general_h;
    REQUIRE(model.objective(x, data, value, &g, &h));
    REQUIRE(model.objective_general(x, data, general_value, &general_g, &general_h));
    CHECK(value == general_value);
    CHECK((g == general_g));
    CHECK((h == general_h));
    double value_only = 0.0;
    REQUIRE(model.objective(x, data, value_only, nullptr, nullptr));
    CHECK(value_only == value);
    const double step = 1e-6;
    for (int i = 0; i < model.n_params(); ++i) {
      Eigen::VectorXd up = x, down = x, g_up, g_down;
      up[i] += step;
      down[i] -= step;
      double v_up = 0.0, v_down = 0.0;
      REQUIRE(model.objective(up, data, v_up, &g_up, nullptr));
      REQUIRE(model.objective(down, data, v_down, &g_down, nullptr));
      INFO("parameter " << model.names()[static_cast<std::size_t>(i)]);
      CHECK(g[i] == doctest::Approx((v_up - v_down) / (2.0 * step)).epsilon(1e-6).scale(1.0));
      const Eigen::VectorXd column = (g_up - g_down) / (2.0 * step);
      for (int j = 0; j < model.n_params(); ++j)
        CHECK(h(j, i) == doctest::Approx(column[j]).epsilon(1e-6).scale(1.0));
    }
  }
  // a per-bin factor (staterror) or two scalar factors on one sample: the general evaluation
  CHECK_FALSE(BinnedLikelihood(small_analysis(1, 2)).common_shape());
  CHECK(BinnedLikelihood(read_workspace(kReference + "w6-workspace.json")).common_shape());
}

TEST_CASE("fx_ minos: the small Newton systems' elimination against Eigen's LU, pivoting included") {
  std::mt19937 rng(7);
  std::normal_distribution<double> z(0.0, 1.0);
  for (int m : {1, 2, 3, 5, 8}) {
    Eigen::MatrixXd a(m, m);
    Eigen::VectorXd b(m);
    for (int i = 0; i < m; ++i) {
      b[i] = z(rng);
      for (int j = 0; j < m; ++j) a(i, j) = z(rng);
    }
    if (m > 1) a(0, 0) = 0.0;  // the first step must pivot
    const Eigen::VectorXd expected = a.partialPivLu().solve(b);
    Eigen::MatrixXd work = a;
    Eigen::VectorXd x = b;
    fit_detail::solve_in_place(work, x);
    INFO("m = " << m);
    CHECK((a * x - b).cwiseAbs().maxCoeff() < 1e-12 * (1.0 + b.cwiseAbs().maxCoeff()));
    CHECK((x - expected).cwiseAbs().maxCoeff() < 1e-10 * (1.0 + expected.cwiseAbs().maxCoeff()));
  }
  Eigen::MatrixXd singular = Eigen::MatrixXd::Ones(2, 2);
  Eigen::VectorXd rhs = Eigen::VectorXd::Ones(2);
  fit_detail::solve_in_place(singular, rhs);
  CHECK_FALSE(rhs.allFinite());
}
