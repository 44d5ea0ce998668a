// The fit results of issue 22 (stats/fit_report.hpp and what it calls): fixed and start values,
// warnings for negative yields, the covariance quality and the fit's status, the saturated goodness
// of fit, channel masking, and the `agnostic fit` options that ask for them (--fix, --set, --mask,
// --goodness-of-fit, --output). Expected values are closed forms on one-bin workspaces, or the numbers
// of tests/data/fit_results_reference.py (numpy/scipy), pasted below with how they were made.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/fit_report.hpp"
#include "agnostic/stats/goodness_of_fit.hpp"

using namespace agnostic;
using namespace agnostic::stats;
using nlohmann::json;

// Named, and called qualified (frh::): the family test_stats may be built as one translation unit
// (a unity build), where helpers of different files must not meet.
namespace fit_results_helpers {

json normfactor(const std::string& name) {
  return {{"name", name}, {"type", "normfactor"}, {"data", nullptr}};
}
json normsys(const std::string& name, double hi, double lo) {
  return {{"name", name}, {"type", "normsys"}, {"data", {{"hi", hi}, {"lo", lo}}}};
}
json sample(const std::string& name, const std::vector<double>& yields, const std::vector<json>& modifiers) {
  return {{"name", name}, {"data", yields}, {"modifiers", json(modifiers)}};
}
Workspace workspace(const json& channels, const json& observations) {
  return parse_workspace(
      json{{"channels", channels},
           {"observations", observations},
           {"measurements", {{{"name", "m"}, {"config", {{"poi", "mu"}, {"parameters", json::array()}}}}}},
           {"version", "1.0.0"}});
}

// One bin: signal 10 scaled by mu, background 50 scaled by the normsys "syst" (hi 1.1, lo 0.9), n seen.
Workspace one_bin(double observed) {
  return workspace({{{"name", "c"},
                     {"samples",
                      {sample("signal", {10.0}, {normfactor("mu")}),
                       sample("background", {50.0}, {normsys("syst", 1.1, 0.9)})}}}},
                   {{{"name", "c"}, {"data", {observed}}}});
}

// tests/data/fit_results_reference.py's model: "sr" and "cr", two bins each; the signal scaled by mu,
// the background by the normsys "bkg_norm" (hi 1.25, lo 0.8: under code1, 1.25^alpha for every alpha).
Workspace two_channels() {
  const std::vector<json> bkg_norm = {normsys("bkg_norm", 1.25, 0.8)};
  return workspace(
      {{{"name", "sr"},
        {"samples",
         {sample("signal", {5.0, 10.0}, {normfactor("mu")}), sample("background", {50.0, 30.0}, bkg_norm)}}},
       {{"name", "cr"},
        {"samples",
         {sample("signal", {1.0, 0.5}, {normfactor("mu")}), sample("background", {100.0, 80.0}, bkg_norm)}}}},
      {{{"name", "sr"}, {"data", {60.0, 45.0}}}, {{"name", "cr"}, {"data", {98.0, 90.0}}}});
}

ModelOptions code1() {
  ModelOptions o;
  o.normsys = NormsysInterp::code1;
  return o;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs the built `agnostic` binary; returns its exit status, stdout in `out`, stderr in `err`.
int run_agnostic(const std::string& arguments, std::string& out, std::string& err) {
  const std::string binary = AGNOSTIC_BINARY_DIR "/tools/agnostic";
  REQUIRE_MESSAGE(std::filesystem::exists(binary), "the agnostic command was not built: ", binary,
                  " is missing (build the agnostic_cli target, AGNOSTIC_BUILD_TOOLS=ON)");
  const std::string err_file =
      (std::filesystem::temp_directory_path() / ("fit_results_test_" + std::to_string(::getpid()) + ".err"))
          .string();
  FILE* pipe = ::popen((binary + " " + arguments + " 2>" + err_file).c_str(), "r");
  REQUIRE(pipe != nullptr);
  out.clear();
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  std::ifstream in(err_file);
  err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::filesystem::path scratch_dir() {
  const auto dir = std::filesystem::temp_directory_path() / ("fit_results_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace fit_results_helpers
namespace frh = fit_results_helpers;

TEST_CASE("fit results: fixed and start values (ModelOptions, --fix, --set)") {
  // One Poisson bin nu = 10 mu + 50 f(syst): with syst held at a value, mu_hat = (n - 50 f) / 10 and
  // its Hessian error is nu / (10 sqrt(n)) (d2(-log L)/dmu2 = 100 n / nu^2 at nu = n).
  const Workspace ws = frh::one_bin(65.0);
  for (const auto& [syst, factor] : {std::pair{0.0, 1.0}, std::pair{1.0, 1.1}, std::pair{-1.0, 0.9}}) {
    FitRequest request;
    request.model.fixed_values["syst"] = syst;
    const FitReport r = fit_report(ws, request);
    const int s = 1;  // "syst" follows "mu" in model order
    REQUIRE(r.names[s] == "syst");
    CHECK(r.best.values[s] == syst);
    CHECK(r.best.errors[s] == 0.0);
    CHECK_FALSE(r.best.floating[s]);
    CHECK(r.best.values[r.poi_index] == doctest::Approx((65.0 - 50.0 * factor) / 10.0).epsilon(1e-9));
    CHECK(r.best.errors[r.poi_index] == doctest::Approx(65.0 / (10.0 * std::sqrt(65.0))).epsilon(1e-7));
    CHECK(r.status == "ok");
    const auto j = to_json(r);
    CHECK(j["bestfit"]["syst"] == syst);
    CHECK(j["correlation"]["names"] == nlohmann::ordered_json::array({"mu"}));
  }
  // A start value moves where the fit starts, not where it ends; the model's init is the value.
  ModelOptions start;
  start.start_values["mu"] = 7.0;
  start.start_values["syst"] = -2.0;
  const BinnedLikelihood started(ws, start), plain(ws);
  CHECK(started.init()[0] == 7.0);
  CHECK(started.init()[1] == -2.0);
  CHECK_FALSE(started.fixed()[1]);
  const FitResult a = fit(started, started.observed()), b = fit(plain, plain.observed());
  CHECK(a.values[0] == doctest::Approx(b.values[0]).epsilon(1e-7));
  CHECK(a.nll == doctest::Approx(b.nll).epsilon(1e-12));
  // The POI held: no significance, and what needs it free says so.
  FitRequest fixed_poi;
  fixed_poi.model.fixed_values["mu"] = 1.5;
  fixed_poi.minos = true;
  CHECK_THROWS_WITH(fit_report(ws, fixed_poi), doctest::Contains("--minos: the POI 'mu' is fixed"));
  fixed_poi.minos = false;
  const FitReport held = fit_report(ws, fixed_poi);
  CHECK_FALSE(held.discovery);
  CHECK(held.best.values[0] == 1.5);
  // syst from its constraint and the bin: closed form of the profile is not needed, only that it floated
  CHECK(held.best.floating[1]);
  // Errors: an unknown name lists the parameters; a value outside the bounds names them.
  ModelOptions unknown;
  unknown.fixed_values["sys"] = 0.0;
  CHECK_THROWS_WITH(
      BinnedLikelihood(ws, unknown),
      doctest::Contains("fixed value (--fix): unknown parameter 'sys'; the model has: mu, syst"));
  ModelOptions outside;
  outside.start_values["mu"] = 11.0;
  CHECK_THROWS_WITH(
      BinnedLikelihood(ws, outside),
      doctest::Contains("start value (--set) 11 of parameter 'mu' is outside its bounds [0, 10]"));
}

TEST_CASE("fit results: negative expected yields give warnings naming channel, sample and bin") {
  // Bin 0: 5 - 1 = 4 (used as it is); bin 1: 1 - 3 = -2 (clipped to 1e-10).
  const Workspace ws = frh::workspace({{{"name", "sr"},
                                        {"samples",
                                         {frh::sample("bkg", {5.0, 1.0}, {frh::normfactor("mu")}),
                                          frh::sample("subtracted", {-1.0, -3.0}, {})}}}},
                                      {{{"name", "sr"}, {"data", {4.0, 0.0}}}});
  const FitReport r = fit_report(ws, {});
  // prefit: two negative entries; postfit: the same two (the subtracted sample does not scale)
  REQUIRE(r.warnings.size() == 4);
  CHECK(frh::contains(r.warnings[0],
                      "prefit: channel 'sr' sample 'subtracted' bin 0: expected yield -1 is negative"));
  CHECK(frh::contains(r.warnings[0], "the bin's total 4 is used"));
  CHECK(frh::contains(r.warnings[1], "prefit: channel 'sr' sample 'subtracted' bin 1: expected yield -3"));
  CHECK(frh::contains(r.warnings[1], "the bin's total -2 is clipped to 1e-10"));
  CHECK(frh::contains(r.warnings[2], "postfit: channel 'sr' sample 'subtracted' bin 0"));
  const auto j = to_json(r);
  REQUIRE(j.contains("warnings"));
  CHECK(j["warnings"].size() == 4);
  // Without negative yields there is no "warnings" key.
  CHECK_FALSE(to_json(fit_report(frh::one_bin(65.0), {})).contains("warnings"));
}

TEST_CASE("fit results: covariance quality and why a fit is not trusted") {
  // The repair of an indefinite Hessian [[1, 2], [2, 1]] (eigenvalues 3 and -1, eigenvectors
  // (1, 1)/sqrt2 and (1, -1)/sqrt2): V diag(1/3, 1) V^T = [[2/3, -1/3], [-1/3, 2/3]].
  Eigen::MatrixXd h(2, 2);
  h << 1.0, 2.0, 2.0, 1.0;
  CovarianceQuality q = CovarianceQuality::accurate;
  Eigen::MatrixXd c = fit_detail::covariance_from_hessian(h, {true, true}, &q);
  CHECK(q == CovarianceQuality::forced_positive_definite);
  CHECK(c(0, 0) == doctest::Approx(2.0 / 3.0).epsilon(1e-12));
  CHECK(c(0, 1) == doctest::Approx(-1.0 / 3.0).epsilon(1e-12));
  h << 2.0, 1.0, 1.0, 2.0;  // positive definite: the inverse [[2, -1], [-1, 2]] / 3
  c = fit_detail::covariance_from_hessian(h, {true, true}, &q);
  CHECK(q == CovarianceQuality::accurate);
  CHECK(c(0, 1) == doctest::Approx(-1.0 / 3.0).epsilon(1e-12));
  h(1, 1) = std::nan("");
  c = fit_detail::covariance_from_hessian(h, {true, true}, &q);
  CHECK(q == CovarianceQuality::not_available);
  CHECK(std::isnan(c(0, 0)));
  (void)fit_detail::covariance_from_hessian(h, {false, false}, &q);  // nothing floats
  CHECK(q == CovarianceQuality::not_available);
  CHECK(to_string(CovarianceQuality::accurate) == "accurate");
  CHECK(to_string(CovarianceQuality::forced_positive_definite) == "forced positive definite");
  CHECK(to_string(CovarianceQuality::not_available) == "not available");

  // A fit at a bound: n = 40 < 50 background with syst held, d(-log L)/dmu = 10 (1 - n / nu) > 0 at
  // mu = 0, so mu_hat = 0, the lower bound.
  FitRequest request;
  request.model.fixed_values["syst"] = 0.0;
  FitReport r = fit_report(frh::one_bin(40.0), request);
  CHECK(r.best.values[0] == 0.0);
  CHECK(r.status == "at a bound: mu = 0 (lower)");
  CHECK(to_json(r)["covariance_quality"] == "accurate");
  r = fit_report(frh::one_bin(65.0), request);
  CHECK(r.status == "ok");

  // Every reason, in order, from a result that has them all.
  const BinnedLikelihood model(frh::one_bin(65.0));
  FitResult bad = fit(model, model.observed());
  bad.converged = false;
  bad.status = "max iterations";
  bad.edm = 0.25;
  bad.covariance_quality = CovarianceQuality::forced_positive_definite;
  bad.values[1] = 5.0;
  const std::vector<std::string> reasons = untrusted_reasons(model, bad);
  REQUIRE(reasons.size() == 4);
  CHECK(reasons[0] == "failed: max iterations");
  CHECK(reasons[1] == "edm 0.25 above 1e-06");
  CHECK(reasons[2] == "hessian not positive definite (covariance forced positive definite)");
  CHECK(reasons[3] == "at a bound: syst = 5 (upper)");
  bad.covariance_quality = CovarianceQuality::not_available;
  CHECK(untrusted_reasons(model, bad)[2] == "covariance not available");
}

TEST_CASE("fit results: saturated goodness of fit against closed forms and scipy") {
  SUBCASE("one bin, nothing floating: q = 2 (nu - n - n ln(nu / n)), chi^2 with 1 dof = erfc(sqrt(q / 2))") {
    FitRequest request;
    request.model.fixed_values["mu"] = 1.0;
    request.model.fixed_values["syst"] = 0.0;
    request.goodness_of_fit = true;
    const FitReport r = fit_report(frh::one_bin(75.0), request);  // nu = 60
    REQUIRE(r.goodness_of_fit);
    const GoodnessOfFit& g = *r.goodness_of_fit;
    const double q = 2.0 * (60.0 - 75.0 - 75.0 * std::log(60.0 / 75.0));
    CHECK(g.saturated_q == doctest::Approx(q).epsilon(1e-12));
    CHECK(g.ndof == 1);
    CHECK(g.p_value == doctest::Approx(std::erfc(std::sqrt(q / 2.0))).epsilon(1e-10));
    REQUIRE(g.per_channel.size() == 1);
    CHECK(g.per_channel[0].saturated_q == doctest::Approx(q).epsilon(1e-12));
    CHECK(std::isnan(g.p_value_toys));
    CHECK(r.status == "ok");  // nothing floats: no covariance, and nothing wrong with that
    CHECK(to_json(r)["covariance_quality"] == "not available");
  }
  SUBCASE("one bin, mu free: the fit is saturated, q = 0 with ndof 0 (no p-value)") {
    FitRequest request;
    request.model.fixed_values["syst"] = 0.0;
    request.goodness_of_fit = true;
    const FitReport r = fit_report(frh::one_bin(75.0), request);
    CHECK(std::abs(r.goodness_of_fit->saturated_q) < 1e-12);
    CHECK(r.goodness_of_fit->ndof == 0);
    CHECK(std::isnan(r.goodness_of_fit->p_value));
    CHECK(to_json(r)["goodness_of_fit"]["p_value"].is_null());
  }
  SUBCASE("two channels (tests/data/fit_results_reference.py)") {
    // /usr/bin/python3 tests/data/fit_results_reference.py (scipy L-BFGS-B then Nelder-Mead):
    //   mu_hat = 1.4331319323, alpha_hat = 0.14738159419
    //   saturated_q = 1.00548847208, ndof = 3, p_value = 0.799923910659
    //   sr: saturated_q = 0.0252960076879, p_value = 0.987431645999
    //   cr: saturated_q = 0.95847113009, p_value = 0.619256592303
    FitRequest request;
    request.model = frh::code1();
    request.goodness_of_fit = true;
    const FitReport r = fit_report(frh::two_channels(), request);
    CHECK(r.best.values[0] == doctest::Approx(1.4331319323).epsilon(1e-7));
    CHECK(r.best.values[1] == doctest::Approx(0.14738159419).epsilon(1e-6));
    const GoodnessOfFit& g = *r.goodness_of_fit;
    CHECK(g.saturated_q == doctest::Approx(1.00548847208).epsilon(1e-9));
    CHECK(g.ndof == 3);
    CHECK(g.p_value == doctest::Approx(0.799923910659).epsilon(1e-9));
    REQUIRE(g.per_channel.size() == 2);
    CHECK(g.per_channel[0].channel == "sr");
    CHECK(g.per_channel[0].saturated_q == doctest::Approx(0.0252960076879).epsilon(1e-7));
    CHECK(g.per_channel[0].p_value == doctest::Approx(0.987431645999).epsilon(1e-9));
    CHECK(g.per_channel[1].saturated_q == doctest::Approx(0.95847113009).epsilon(1e-8));
    CHECK(g.per_channel[1].p_value == doctest::Approx(0.619256592303).epsilon(1e-8));
    const auto j = to_json(r)["goodness_of_fit"];
    for (const char* key : {"saturated_q", "ndof", "p_value", "p_value_toys", "toys", "per_channel"})
      CHECK(j.contains(key));
  }
  SUBCASE("toys: the fraction at or above q_obs, against the exact Poisson sum") {
    // Nothing floats, so q of a toy is a function of its count k ~ Poisson(60) alone, and the exact
    // p-value is the Poisson probability of {k : q(k) >= q_obs}.
    FitRequest request;
    request.model.fixed_values["mu"] = 1.0;
    request.model.fixed_values["syst"] = 0.0;
    request.goodness_of_fit = true;
    request.toys = 3000;
    request.seed = 11;
    const FitReport r = fit_report(frh::one_bin(72.0), request);
    const GoodnessOfFit& g = *r.goodness_of_fit;
    auto q = [](double k) { return 2.0 * (k > 0 ? 60.0 - k - k * std::log(60.0 / k) : 60.0); };
    double exact = 0.0;
    for (int k = 0; k < 400; ++k)
      if (q(k) >= g.saturated_q - 1e-12) exact += std::exp(k * std::log(60.0) - 60.0 - std::lgamma(k + 1.0));
    CHECK(g.toys == 3000);
    CHECK(g.toys_converged == 3000);
    const double sigma = std::sqrt(exact * (1.0 - exact) / 3000.0);
    CHECK(std::abs(g.p_value_toys - exact) < 4.0 * sigma);
    CHECK(g.per_channel[0].p_value_toys == g.p_value_toys);  // one channel, no constraint terms
    CHECK_FALSE(r.toys);  // the toys went to the goodness of fit, no pull study
  }
}

TEST_CASE("fit results: a masked channel leaves the likelihood, keeps its constraints and its prediction") {
  // "sr" masked and mu held at 1: the fit is the CR's and alpha's constraint alone
  // (tests/data/fit_results_reference.py, second case):
  //   alpha_hat = 0.143901845462, saturated_q = 0.960655450622, ndof = 2, p_value = 0.618580634053
  //   sr: saturated_q = 0.578748158507; cr: saturated_q = 0.939947709495
  FitRequest request;
  request.model = frh::code1();
  request.model.masked_channels = {"sr"};
  request.model.fixed_values["mu"] = 1.0;
  request.goodness_of_fit = true;
  const FitReport r = fit_report(frh::two_channels(), request);
  CHECK(r.best.values[1] == doctest::Approx(0.143901845462).epsilon(1e-7));
  const GoodnessOfFit& g = *r.goodness_of_fit;
  CHECK(g.saturated_q == doctest::Approx(0.960655450622).epsilon(1e-9));
  CHECK(g.ndof == 2);
  CHECK(g.p_value == doctest::Approx(0.618580634053).epsilon(1e-9));
  CHECK(g.per_channel[0].masked);
  CHECK_FALSE(g.per_channel[1].masked);
  CHECK(g.per_channel[0].saturated_q == doctest::Approx(0.578748158507).epsilon(1e-7));
  CHECK(g.per_channel[1].saturated_q == doctest::Approx(0.939947709495).epsilon(1e-8));
  // The same -log L as the workspace without the SR (its Poisson terms and constants gone).
  const Workspace cr_only =
      frh::workspace({{{"name", "cr"},
                       {"samples",
                        {frh::sample("signal", {1.0, 0.5}, {frh::normfactor("mu")}),
                         frh::sample("background", {100.0, 80.0}, {frh::normsys("bkg_norm", 1.25, 0.8)})}}}},
                     {{{"name", "cr"}, {"data", {98.0, 90.0}}}});
  FitRequest alone;
  alone.model = frh::code1();
  alone.model.fixed_values["mu"] = 1.0;
  const FitReport reference = fit_report(cr_only, alone);
  CHECK(r.best.nll == doctest::Approx(reference.best.nll).epsilon(1e-12));
  CHECK(r.best.errors[1] == doctest::Approx(reference.best.errors[1]).epsilon(1e-9));
  // The masked channel's post-fit prediction is still there: 5 mu + 50 * 1.25^alpha per bin.
  REQUIRE(r.postfit.size() == 2);
  CHECK(r.postfit[0].name == "sr");
  const double f = std::pow(1.25, r.best.values[1]);
  CHECK(r.postfit[0].total[0] == doctest::Approx(5.0 + 50.0 * f).epsilon(1e-12));
  CHECK(r.postfit[0].total[1] == doctest::Approx(10.0 + 30.0 * f).epsilon(1e-12));
  CHECK(r.postfit[0].uncertainty[0] > 0.0);
  // A parameter constrained only by its constraint term keeps it: a normsys that only the masked
  // channel uses fits to 0 with error 1.
  json with_sr_only = to_json(frh::two_channels());
  with_sr_only["channels"][0]["samples"][1]["modifiers"].push_back(frh::normsys("sr_only", 1.1, 0.9));
  FitRequest masked;
  masked.model = frh::code1();
  masked.model.masked_channels = {"sr"};
  masked.model.fixed_values["mu"] = 1.0;
  const FitReport s = fit_report(parse_workspace(with_sr_only), masked);
  REQUIRE(s.names[2] == "sr_only");
  CHECK(std::abs(s.best.values[2]) < 1e-9);
  CHECK(s.best.errors[2] == doctest::Approx(1.0).epsilon(1e-9));
  // An unknown channel is named, with the ones there are.
  ModelOptions unknown;
  unknown.masked_channels = {"SR"};
  CHECK_THROWS_WITH(BinnedLikelihood(frh::two_channels(), unknown),
                    doctest::Contains("masked channel 'SR' is not in the workspace (channels: 'sr', 'cr')"));
}

TEST_CASE("fit results: agnostic fit --fix --set --mask --goodness-of-fit --output writes the report") {
  const auto dir = frh::scratch_dir();
  const std::string ws_file = (dir / "two_channels.json").string(), out_file = (dir / "report.json").string();
  {
    std::ofstream f(ws_file);
    f << to_json(frh::two_channels()).dump();
  }
  FitRequest request;
  request.model = frh::code1();
  request.model.fixed_values["mu"] = 1.0;
  request.model.start_values["bkg_norm"] = 0.5;
  request.model.masked_channels = {"sr"};
  request.goodness_of_fit = true;
  std::string out, err;
  const int rc = frh::run_agnostic("fit " + ws_file +
                                       " --normsys-interp code1 --fix mu=1 --set bkg_norm=0.5 --mask sr " +
                                       "--goodness-of-fit --output " + out_file,
                                   out, err);
  INFO(err);
  REQUIRE(rc == 0);
  CHECK(out.empty());
  std::ifstream in(out_file);
  const nlohmann::ordered_json written = nlohmann::ordered_json::parse(in);
  const nlohmann::ordered_json expected = to_json(fit_report(read_workspace(ws_file), request));
  CHECK(written["status"] == expected["status"]);
  CHECK(written["bestfit"]["mu"] == 1.0);
  CHECK(written["bestfit"]["bkg_norm"].get<double>() ==
        doctest::Approx(expected["bestfit"]["bkg_norm"].get<double>()).epsilon(1e-9));
  CHECK(written["goodness_of_fit"]["saturated_q"].get<double>() ==
        doctest::Approx(0.960655450622).epsilon(1e-9));
  CHECK(written["goodness_of_fit"]["per_channel"][0]["masked"] == true);
  // Errors: a malformed NAME=VALUE, a parameter both fixed and started, an unknown mask.
  CHECK(frh::run_agnostic("fit " + ws_file + " --fix mu", out, err) == 1);
  CHECK(frh::contains(err, "option --fix: expected NAME=VALUE, got 'mu'"));
  CHECK(frh::run_agnostic("fit " + ws_file + " --fix mu=1 --set mu=2", out, err) == 1);
  CHECK(frh::contains(err, "parameter 'mu' is given to both --fix and --set"));
  CHECK(frh::run_agnostic("fit " + ws_file + " --mask nowhere", out, err) == 1);
  CHECK(frh::contains(err, "masked channel 'nowhere' is not in the workspace"));
  // An output that cannot be written leaves nothing behind and says why.
  CHECK(frh::run_agnostic("fit " + ws_file + " --output " + (dir / "missing" / "r.json").string(), out,
                          err) == 1);
  CHECK_FALSE(std::filesystem::exists(dir / "missing"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("fit results: uncertainty breakdown by freezing groups (tests/data/fit_results_reference.py)") {
  // The two-channel model with a second normsys "sig_norm" (hi 1.1, lo 1/1.1) on the signal. scipy's
  // MINOS intervals of mu (tests/data/fit_results_reference.py, "breakdown model"):
  //   total: up 0.75222412 down 0.6814918243
  //   bkg_norm held: impact up 0.3422358602 down 0.3289724871
  //   sig_norm held: impact up 0.2025448704 down 0.07324942475
  //   stat only (both held): up 0.6410898287 down 0.5911784345, impact up 0.3935034413 down 0.3390267912
  json doc = to_json(frh::two_channels());
  for (int c : {0, 1})
    doc["channels"][c]["samples"][0]["modifiers"].push_back(frh::normsys("sig_norm", 1.1, 1.0 / 1.1));
  const Workspace ws = parse_workspace(doc);
  FitRequest request;
  request.model = frh::code1();
  request.breakdown = true;
  FitReport r = fit_report(ws, request);
  REQUIRE(r.breakdown);
  // default groups: both normsys in "norm", nothing else floats but the POI
  REQUIRE(r.breakdown->size() == 3);
  const auto& norm = r.breakdown->at(0);
  CHECK(norm.group == "norm");
  CHECK(norm.parameters == std::vector<std::string>{"sig_norm", "bkg_norm"});  // model order
  CHECK(norm.impact_up == doctest::Approx(0.3935034413).epsilon(1e-5));
  CHECK(norm.impact_down == doctest::Approx(0.3390267912).epsilon(1e-5));
  CHECK(r.breakdown->at(1).group == "stat only");
  CHECK(r.breakdown->at(1).impact_up == doctest::Approx(0.6410898287).epsilon(1e-6));
  CHECK(r.breakdown->at(1).impact_down == doctest::Approx(0.5911784345).epsilon(1e-6));
  CHECK(r.breakdown->at(2).group == "total");
  CHECK(r.breakdown->at(2).impact_up == doctest::Approx(0.75222412).epsilon(1e-6));
  CHECK(r.breakdown->at(2).impact_down == doctest::Approx(0.6814918243).epsilon(1e-6));

  // groups from a file, in its order
  const auto dir = frh::scratch_dir();
  const std::string groups = (dir / "groups.json").string();
  {
    std::ofstream f(groups);
    f << R"({"sig": ["sig_norm"], "bkg": ["bkg_norm"]})";
  }
  request.breakdown_groups = read_breakdown_groups(groups);
  r = fit_report(ws, request);
  REQUIRE(r.breakdown->size() == 4);
  CHECK(r.breakdown->at(0).group == "sig");
  CHECK(r.breakdown->at(0).impact_up == doctest::Approx(0.2025448704).epsilon(1e-5));
  CHECK(r.breakdown->at(0).impact_down == doctest::Approx(0.07324942475).epsilon(1e-4));
  CHECK(r.breakdown->at(1).group == "bkg");
  CHECK(r.breakdown->at(1).impact_up == doctest::Approx(0.3422358602).epsilon(1e-5));
  CHECK(r.breakdown->at(1).impact_down == doctest::Approx(0.3289724871).epsilon(1e-5));
  const auto j = to_json(r)["breakdown"];
  CHECK(j[0]["group"] == "sig");
  CHECK(j[3]["group"] == "total");
  // an unknown name is named with its group
  request.breakdown_groups = {{"oops", {"bkg_nrom"}}};
  CHECK_THROWS_WITH(fit_report(ws, request),
                    doctest::Contains("breakdown group 'oops': unknown parameter 'bkg_nrom'"));
  {
    std::ofstream f(groups);
    f << R"({"empty": []})";
  }
  CHECK_THROWS_WITH(read_breakdown_groups(groups),
                    doctest::Contains("group 'empty' must be a non-empty array"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("fit results: the default breakdown groups follow the modifier types") {
  // staterror -> stat, normsys and lumi -> norm, histosys (also an alpha shared with a normsys) ->
  // shape, normfactors but the POI and shapefactors -> free; fixed parameters are in no group.
  const json histo = {
      {"name", "shape_a"}, {"type", "histosys"}, {"data", {{"hi_data", {11.0}}, {"lo_data", {9.0}}}}};
  const json shared_histo = {
      {"name", "both"}, {"type", "histosys"}, {"data", {{"hi_data", {21.0}}, {"lo_data", {19.0}}}}};
  const json stat = {{"name", "st"}, {"type", "staterror"}, {"data", {1.0}}};
  const json lumi = {{"name", "lumi"}, {"type", "lumi"}, {"data", nullptr}};
  const json shapefactor = {{"name", "sf"}, {"type", "shapefactor"}, {"data", nullptr}};
  json doc{{"channels",
            {{{"name", "c"},
              {"samples",
               {frh::sample("s", {10.0}, {frh::normfactor("mu"), histo, lumi}),
                frh::sample(
                    "b", {20.0},
                    {frh::normsys("both", 1.1, 0.9), shared_histo, stat, frh::normfactor("k"), shapefactor}),
                frh::sample("o", {5.0}, {frh::normsys("n1", 1.2, 0.8), frh::normfactor("fixed_k")})}}}}},
           {"observations", {{{"name", "c"}, {"data", {36.0}}}}},
           {"measurements",
            {{{"name", "m"},
              {"config",
               {{"poi", "mu"},
                {"parameters",
                 {{{"name", "lumi"}, {"auxdata", {1.0}}, {"sigmas", {0.02}}},
                  {{"name", "fixed_k"}, {"fixed", true}}}}}}}}},
           {"version", "1.0.0"}};
  const Workspace ws = parse_workspace(doc);
  const BinnedLikelihood model(ws);
  const std::vector<BreakdownGroup> groups = default_breakdown_groups(ws, model);
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].name == "stat");
  CHECK(groups[0].parameters == std::vector<std::string>{"st[0]"});
  CHECK(groups[1].name == "norm");
  CHECK(groups[1].parameters == std::vector<std::string>{"lumi", "n1"});
  CHECK(groups[2].name == "shape");
  CHECK(groups[2].parameters == std::vector<std::string>{"shape_a", "both"});
  CHECK(groups[3].name == "free");
  CHECK(groups[3].parameters == std::vector<std::string>{"k", "sf[0]"});
}

TEST_CASE("fit results: the discovery significance in detail, asymptotic and from toys") {
  // One bin, signal 10 mu over a background of 50 held fixed, n = 65 seen:
  // q0 = 2 (n ln(n / b) - (n - b)), Z0 = sqrt(q0), p0 = Phi(-Z0); expected from the Asimov count s + b.
  FitRequest request;
  request.model.fixed_values["syst"] = 0.0;
  request.significance = true;
  FitReport r = fit_report(frh::one_bin(65.0), request);
  const double q0 = 2.0 * (65.0 * std::log(65.0 / 50.0) - 15.0),
               qa = 2.0 * (60.0 * std::log(60.0 / 50.0) - 10.0);
  auto j = to_json(r)["discovery"];
  CHECK(j["method"] == "asymptotic");
  CHECK(j["q0_obs"].get<double>() == doctest::Approx(q0).epsilon(1e-9));
  CHECK(j["z_obs"].get<double>() == doctest::Approx(std::sqrt(q0)).epsilon(1e-9));
  CHECK(j["p0_obs"].get<double>() == doctest::Approx(0.5 * std::erfc(std::sqrt(q0 / 2.0))).epsilon(1e-9));
  CHECK(j["q0_asimov"].get<double>() == doctest::Approx(qa).epsilon(1e-9));
  CHECK(j["z_exp"].get<double>() == doctest::Approx(std::sqrt(qa)).epsilon(1e-9));
  // From toys: q0 grows with the count above b, so p0 = P(N >= 65 | Poisson(50)) exactly.
  request.toys = 2000;
  request.seed = 5;
  r = fit_report(frh::one_bin(65.0), request);
  REQUIRE(r.toy_discovery);
  double below = 0.0;
  for (int k = 0; k < 65; ++k) below += std::exp(k * std::log(50.0) - 50.0 - std::lgamma(k + 1.0));
  const double exact = 1.0 - below;
  CHECK(std::abs(r.toy_discovery->p0_obs - exact) < 4.0 * std::sqrt(exact * (1.0 - exact) / 2000.0));
  j = to_json(r)["discovery"];
  CHECK(j["method"] == "toys");
  CHECK(j["toys"] == 2000);
  CHECK(j["asymptotic"]["q0_obs"].get<double>() == doctest::Approx(q0).epsilon(1e-9));
  CHECK_FALSE(r.toys);  // no pull study
  // A POI held: the significance is undefined, and says why.
  request.model.fixed_values["mu"] = 1.0;
  CHECK_THROWS_WITH(
      fit_report(frh::one_bin(65.0), request),
      doctest::Contains("--significance: the POI 'mu' must float with 0 and 1 inside its bounds"));
}

TEST_CASE("fit results: the yields table against closed forms, in md, tex and csv") {
  // One bin: signal 10 mu (free), background 50 * 1.1^alpha (code1, hi 1.1, lo 1/1.1), n = 65. The fit
  // saturates the bin (mu_hat = 1.5, alpha_hat = 0) and H = g g^T / n + diag(0, 1) with
  // g = (10, c), c = 50 ln 1.1, so post-fit: total sqrt(n), background c, signal sqrt(n + c^2);
  // pre-fit: signal 10 +- 0 (mu has no constraint), background and total +- c.
  const Workspace ws =
      frh::workspace({{{"name", "c"},
                       {"samples",
                        {frh::sample("signal", {10.0}, {frh::normfactor("mu")}),
                         frh::sample("background", {50.0}, {frh::normsys("syst", 1.1, 1.0 / 1.1)})}}}},
                     {{{"name", "c"}, {"data", {65.0}}}});
  FitRequest request;
  request.model = frh::code1();
  request.yields_table = true;
  const FitReport r = fit_report(ws, request);
  REQUIRE(r.yields_table);
  REQUIRE(r.yields_table->size() == 1);
  const YieldsTableChannel& c = r.yields_table->front();
  const double cc = 50.0 * std::log(1.1);
  REQUIRE(c.rows.size() == 3);
  CHECK(c.rows[0].sample == "signal");
  CHECK(c.rows[0].prefit.value == 10.0);
  CHECK(c.rows[0].prefit.error == 0.0);
  CHECK(c.rows[0].postfit.value == doctest::Approx(15.0).epsilon(1e-8));
  CHECK(c.rows[0].postfit.error == doctest::Approx(std::sqrt(65.0 + cc * cc)).epsilon(1e-6));
  CHECK(c.rows[1].prefit.error == doctest::Approx(cc).epsilon(1e-8));
  CHECK(c.rows[1].postfit.error == doctest::Approx(cc).epsilon(1e-6));
  CHECK(c.rows[2].sample == "total");
  CHECK(c.rows[2].prefit.value == doctest::Approx(60.0).epsilon(1e-12));
  CHECK(c.rows[2].prefit.error == doctest::Approx(cc).epsilon(1e-8));
  CHECK(c.rows[2].postfit.value == doctest::Approx(65.0).epsilon(1e-8));
  CHECK(c.rows[2].postfit.error == doctest::Approx(std::sqrt(65.0)).epsilon(1e-6));
  CHECK(c.data == 65.0);
  const std::string md = yields_table_text(*r.yields_table, TableFormat::markdown);
  CHECK(frh::contains(md, "| channel | sample | pre-fit | post-fit |"));
  CHECK(frh::contains(md, "| c | total | 60.00 ± 4.77 | 65.00 ± 8.06 |"));
  CHECK(frh::contains(md, "| c | data | 65 | 65 |"));
  const std::string tex = yields_table_text(*r.yields_table, TableFormat::latex);
  CHECK(frh::contains(tex, "\\begin{tabular}{llrr}"));
  CHECK(frh::contains(tex, "c & background & $50.00 \\pm 4.77$ & $50.00 \\pm 4.77$ \\\\"));
  const std::string csv = yields_table_text(*r.yields_table, TableFormat::csv);
  CHECK(frh::contains(csv, "channel,sample,prefit,prefit_error,postfit,postfit_error\nc,signal,10,0,"));
  CHECK(frh::contains(csv, "c,data,65,,65,\n"));
  const auto j = to_json(r)["yields_table"];
  CHECK(j[0]["channel"] == "c");
  CHECK(j[0]["samples"][2]["postfit_error"].get<double>() == doctest::Approx(std::sqrt(65.0)).epsilon(1e-6));
  CHECK_THROWS_WITH(parse_table_format("html"),
                    doctest::Contains("unknown format 'html' (allowed: md, tex, csv)"));
}

TEST_CASE("fit results: 2-D profile scan and its contours against the closed form") {
  // Two one-bin channels, nu_a = 20 mu (25 seen) and nu_b = 40 k (36 seen): Delta(-2 ln L) is
  // 2 [20 mu - 25 - 25 ln(20 mu / 25)] + 2 [40 k - 36 - 36 ln(40 k / 36)], minimum at (1.25, 0.9).
  const Workspace ws =
      frh::workspace({{{"name", "a"}, {"samples", {frh::sample("s", {20.0}, {frh::normfactor("mu")})}}},
                      {{"name", "b"}, {"samples", {frh::sample("t", {40.0}, {frh::normfactor("k")})}}}},
                     {{{"name", "a"}, {"data", {25.0}}}, {{"name", "b"}, {"data", {36.0}}}});
  auto da = [](double mu) { return 2.0 * (20.0 * mu - 25.0 - 25.0 * std::log(20.0 * mu / 25.0)); };
  auto db = [](double k) { return 2.0 * (40.0 * k - 36.0 - 36.0 * std::log(40.0 * k / 36.0)); };
  FitRequest request;
  request.scan2d = std::pair{ParameterGrid{"mu", 0.5, 2.0, 31}, ParameterGrid{"k", 0.5, 1.4, 37}};
  const FitReport r = fit_report(ws, request);
  REQUIRE(r.scan2d);
  const Scan2D& s = *r.scan2d;
  REQUIRE(s.delta.rows() == 31);
  REQUIRE(s.delta.cols() == 37);
  double worst = 0.0;
  for (int i = 0; i < 31; ++i)
    for (int j = 0; j < 37; ++j)
      worst = std::max(worst, std::abs(s.delta(i, j) - da(s.a_values[i]) - db(s.b_values[j])));
  CHECK(worst < 1e-8);
  REQUIRE(s.contours.size() == 2);
  CHECK(s.contours[0].level == doctest::Approx(2.2957489).epsilon(1e-6));  // -2 ln(1 - 0.6826895)
  CHECK(s.contours[1].level == doctest::Approx(5.9914645).epsilon(1e-6));  // -2 ln 0.05
  for (const Contour& c : s.contours) {
    REQUIRE(c.lines.size() == 1);  // one closed line around the minimum, inside the grid
    const auto& line = c.lines[0];
    REQUIRE(line.size() > 20);
    CHECK(line.front() == line.back());
    double mu_max = 0.0;
    for (const auto& [mu, k] : line) {
      CHECK(std::abs(da(mu) + db(k) - c.level) < 0.03);  // linear interpolation on the cells' edges
      mu_max = std::max(mu_max, mu);
    }
    // the widest mu on the line: where da(mu) = level (k at 0.9), by bisection of the closed form
    double lo = 1.25, hi = 2.0;
    for (int it = 0; it < 60; ++it) (da(0.5 * (lo + hi)) < c.level ? lo : hi) = 0.5 * (lo + hi);
    CHECK(mu_max == doctest::Approx(lo).epsilon(2e-3));
  }
  const auto j = to_json(r)["scan2d"];
  CHECK(j["parameters"] == nlohmann::ordered_json::array({"mu", "k"}));
  CHECK(j["delta_2nll"].size() == 31);
  CHECK(j["contours"][0]["lines"][0][0].size() == 2);
  // errors: a range outside the bounds, the same parameter twice
  request.scan2d = std::pair{ParameterGrid{"mu", -1.0, 2.0, 5}, ParameterGrid{"k", 0.5, 1.3, 5}};
  CHECK_THROWS_WITH(
      fit_report(ws, request),
      doctest::Contains("range [-1, 2] of 'mu' must be increasing and inside its bounds [0, 10]"));
  request.scan2d = std::pair{ParameterGrid{"mu", 0.5, 2.0, 5}, ParameterGrid{"mu", 0.5, 1.3, 5}};
  CHECK_THROWS_WITH(fit_report(ws, request), doctest::Contains("the two parameters must differ"));
}
