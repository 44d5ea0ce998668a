// Workspace reading/writing and the HistFactory likelihood: modifiers against closed forms, pyhf's
// parameter defaults and auxiliary data (from the pyhf-validation files' `checks`), the W6 NLL value
// against pyhf's (fit_reference.json), analytic gradients and Hessians against finite differences,
// and the non-positive-yield policies.
#include <doctest/doctest.h>

#include "stats_test_helpers.hpp"

#include <cmath>
#include <fstream>
#include <random>
#include <string>

#include "agnostic/stats/likelihood.hpp"

using namespace agnostic;
using namespace agnostic::stats;
using nlohmann::json;

namespace {

using agnostic_test::kReference;
using agnostic_test::load;
using agnostic_test::with;

std::vector<std::string> validation_files() {
  std::vector<std::string> files;
  const json index = load(kReference + "pyhf-validation/INDEX.json");  // kept alive for the loop
  for (const auto& c : index["cases"]) files.push_back(c["file"].get<std::string>());
  return files;
}

ModelOptions validation_options(const json& settings) {
  ModelOptions o;
  o.normsys = settings["normsys_interpcode"] == "code1" ? NormsysInterp::code1 : NormsysInterp::code4;
  o.histosys = settings["histosys_interpcode"] == "code0" ? HistosysInterp::code0 : HistosysInterp::code4p;
  return o;
}

// A one-channel workspace with the given samples, observed data and measurement parameters.
json workspace_json(const json& samples, const json& observed, const json& parameters = json::array(),
                    const std::string& poi = "mu") {
  return json{
      {"channels", json::array({json{{"name", "ch"}, {"samples", samples}}})},
      {"observations", json::array({json{{"name", "ch"}, {"data", observed}}})},
      {"measurements",
       json::array({json{{"name", "meas"}, {"config", json{{"poi", poi}, {"parameters", parameters}}}}})},
      {"version", "1.0.0"}};
}

json modifier(const std::string& name, const std::string& type, const json& data = nullptr) {
  return json{{"name", name}, {"type", type}, {"data", data}};
}

// Every modifier type; alpha "sys" is shared by a normsys and a histosys, gamma "stat" by two samples.
json all_modifiers_workspace() {
  json signal{{"name", "signal"},
              {"data", {5.0, 8.0, 3.0}},
              {"modifiers",
               {modifier("mu", "normfactor"), modifier("lumi", "lumi"),
                modifier("sys", "normsys", {{"hi", 1.1}, {"lo", 0.85}}),
                modifier("stat", "staterror", {1.0, 1.5, 0.5})}}};
  json bkg{{"name", "bkg"},
           {"data", {50.0, 40.0, 30.0}},
           {"modifiers",
            {modifier("lumi", "lumi"),
             modifier("sys", "histosys", {{"hi_data", {55.0, 41.0, 33.0}}, {"lo_data", {46.0, 38.0, 28.5}}}),
             modifier("bkg_norm", "normsys", {{"hi", 1.2}, {"lo", 0.9}}),
             modifier("stat", "staterror", {3.0, 2.0, 2.5}), modifier("shape", "shapesys", {5.0, 4.0, 0.0}),
             modifier("free", "shapefactor")}}};
  json lumi{{"name", "lumi"}, {"auxdata", {1.0}}, {"sigmas", {0.05}}, {"bounds", {{0.5, 1.5}}}};
  return workspace_json(json::array({signal, bkg}), {57.0, 45.5, 36.0}, json::array({lumi}));
}

Eigen::VectorXd random_point(const BinnedLikelihood& m, std::mt19937& gen) {
  Eigen::VectorXd x = m.init();
  for (int i = 0; i < m.n_params(); ++i) {
    double lo = std::max(m.lower()[i], m.init()[i] - 0.8);
    const double hi = std::min(m.upper()[i], m.init()[i] + 0.8);
    if (m.lower()[i] >= 0.0) lo = std::max(lo, 0.3);  // keep scale factors away from 0
    x[i] = std::uniform_real_distribution<double>(lo, hi)(gen);
  }
  return x;
}

// Central differences of nll and of the analytic gradient; compares with the analytic versions.
void check_derivatives(const BinnedLikelihood& m, const Data& d, const Eigen::VectorXd& x) {
  Eigen::VectorXd g;
  m.nll(x, d, g);
  const Eigen::MatrixXd h = m.hessian(x, d);
  for (int i = 0; i < m.n_params(); ++i) {
    const double step = 1e-5;
    Eigen::VectorXd up = x, down = x;
    up[i] += step;
    down[i] -= step;
    const double fd = (m.nll(up, d) - m.nll(down, d)) / (2 * step);
    CHECK(g[i] == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
    Eigen::VectorXd gu, gd;
    m.nll(up, d, gu);
    m.nll(down, d, gd);
    const Eigen::VectorXd column = (gu - gd) / (2 * step);
    for (int k = 0; k < m.n_params(); ++k)
      CHECK(h(k, i) == doctest::Approx(column[k]).epsilon(1e-5).scale(1.0));
  }
}

}  // namespace

TEST_CASE("workspace: W6 reads, round-trips through to_json, and matches its description") {
  const Workspace ws = read_workspace(kReference + "w6-workspace.json");
  REQUIRE(ws.channels.size() == 1);
  CHECK(ws.channels[0].bins() == 9);
  CHECK(ws.channels[0].samples[1].modifiers[0].type == "normsys");
  CHECK(ws.channels[0].samples[1].modifiers[0].hi == 1.05);
  CHECK(ws.measurement().poi == "mu");
  const json written = to_json(ws);
  CHECK(written == ws.json);
  CHECK(to_json(parse_workspace(written)) == written);
}

TEST_CASE("workspace: every pyhf-validation workspace round-trips") {
  for (const auto& file : validation_files()) {
    CAPTURE(file);
    const json original = load(kReference + "pyhf-validation/" + file)["workspace"];
    const Workspace ws = parse_workspace(original, file);
    CHECK(to_json(ws) == original);
  }
  const Workspace ws = parse_workspace(all_modifiers_workspace());
  CHECK(to_json(ws) == all_modifiers_workspace());
}

TEST_CASE("workspace: unsupported or inconsistent parts are errors naming them") {
  auto base = [] { return all_modifiers_workspace(); };
  auto throws_with = [](const json& j, const std::string& part) {
    std::string message;
    try {
      BinnedLikelihood model(parse_workspace(j, "test.json"));
    } catch (const Error& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.find(part) != std::string::npos);
  };
  json j = base();
  j["channels"][0]["samples"][0]["modifiers"][0]["type"] = "shapestat";
  throws_with(j, "unsupported modifier type 'shapestat'");
  j = base();
  j["channels"][0]["samples"][1]["data"] = {1.0, 2.0};
  throws_with(j, "sample 'bkg')");
  throws_with(j, "has 2 bins but sample 'signal' has 3");
  j = base();
  j["channels"][0]["samples"][1]["modifiers"][1]["data"]["hi_data"] = {1.0};
  throws_with(j, "'hi_data' has 1 entries but the sample has 3 bins");
  j = base();
  j["measurements"][0]["config"]["poi"] = "nu";
  throws_with(j, "POI 'nu' of measurement 'meas' is not a scalar parameter");
  j = base();
  j["channels"][0].erase("samples");
  throws_with(j, "channel 'ch'): missing key 'samples'");
  j = base();
  j["version"] = "2.0.0";
  throws_with(j, "unsupported workspace version '2.0.0'");
  j = base();
  j["observations"][0]["data"] = {1.0, 2.0, 3.0, 4.0};
  throws_with(j, "has 4 bins but channel 'ch' has 3");
  j = base();
  j["observations"][0]["name"] = "other";
  throws_with(j, "no channel of that name");
  j = base();
  j["measurements"][0]["config"]["parameters"] = json::array();
  throws_with(j, "lumi parameter 'lumi' needs 'sigmas'");
  j = base();
  j["channels"][0]["samples"][0]["modifiers"][0]["extra"] = 1;
  throws_with(j, "unsupported key 'extra'");
  j = base();
  j["channels"][0]["samples"][0]["modifiers"].push_back(modifier("bkg_norm", "normfactor"));
  throws_with(j, "the name 'bkg_norm' is already a normfactor parameter");
  j = base();
  j["measurements"][0]["config"]["parameters"][0]["bounds"] = {{0.5, 1.5}, {0.5, 1.5}};
  throws_with(j, "'bounds' has 2 entries, the parameter has 1");
  CHECK_THROWS_WITH_AS(read_workspace("/nonexistent/ws.json"),
                       doctest::Contains("cannot open workspace file"), Error);
  CHECK_THROWS_WITH_AS(BinnedLikelihood(parse_workspace(base()),
                                        [] {
                                          ModelOptions o;
                                          o.measurement = "other";
                                          return o;
                                        }()),
                       doctest::Contains("no measurement named 'other' (the workspace has: meas)"), Error);
  const BinnedLikelihood model(parse_workspace(base()));
  CHECK_THROWS_WITH_AS(model.index("nope"), doctest::Contains("unknown parameter 'nope'"), Error);
  CHECK_THROWS_WITH_AS(model.index("stat"), doctest::Contains("use 'stat[0]'"), Error);
}

TEST_CASE("likelihood: parameter defaults and auxiliary data follow pyhf (validation checks)") {
  for (const auto& file : validation_files()) {
    CAPTURE(file);
    const json j = load(kReference + "pyhf-validation/" + file);
    const json& settings = j["settings"];
    const BinnedLikelihood m(parse_workspace(j["workspace"], file), validation_options(settings));
    CHECK(m.n_params() == j["checks"]["n_pars"].get<int>());
    CHECK(m.names()[static_cast<std::size_t>(m.poi())] == settings["poi"].get<std::string>());
    // inits, bounds, fixed flags per parameter name (vectors element by element)
    for (const auto& [name, inits] : settings["inits"].items()) {
      for (std::size_t k = 0; k < inits.size(); ++k) {
        bool scalar = false;
        for (const auto& n : m.names()) scalar = scalar || n == name;
        const std::string element = scalar ? name : name + "[" + std::to_string(k) + "]";
        const int i = m.index(element);
        CHECK(m.init()[i] == inits[k].get<double>());
        CHECK(m.lower()[i] == settings["par_bounds"][name][k][0].get<double>());
        CHECK(m.upper()[i] == settings["par_bounds"][name][k][1].get<double>());
        const bool fixed = settings.contains("fixed") && settings["fixed"].contains(name)
                               ? settings["fixed"][name][k].get<bool>()
                               : false;
        CHECK(m.fixed()[static_cast<std::size_t>(i)] == fixed);
      }
    }
    // auxiliary data in pyhf's parameter order
    std::vector<double> aux;
    const Data observed = m.observed();
    for (const auto& name : j["checks"]["par_order_pyhf"])
      for (const auto& p : m.parameters())
        if (p.modifier == name.get<std::string>() && p.aux >= 0) aux.push_back(observed.aux[p.aux]);
    const auto expected_aux = j["checks"]["auxdata_pyhf"].get<std::vector<double>>();
    REQUIRE(aux.size() == expected_aux.size());
    for (std::size_t k = 0; k < aux.size(); ++k)
      CHECK(aux[k] == doctest::Approx(expected_aux[k]).epsilon(1e-12));
  }
}

TEST_CASE("likelihood: W6 -log L equals pyhf's, with and without constants") {
  const json ref = load(kReference + "fit_reference.json");
  const Workspace ws = read_workspace(kReference + "w6-workspace.json");
  for (const std::string setting : {"code4_code4p", "code1_code0"}) {
    CAPTURE(setting);
    ModelOptions o;
    if (setting == "code1_code0") o = with(NormsysInterp::code1, HistosysInterp::code0);
    const BinnedLikelihood m(ws, o);
    REQUIRE(m.names() == std::vector<std::string>{"mu", "bkg_norm", "bkg_shape"});
    const Data d = m.observed();
    Eigen::VectorXd best(3);
    best << 1.0, 0.0, 0.0;
    const json& fit = ref["fits"][setting];
    CHECK(m.nll(best, d) == doctest::Approx(fit["nll"].get<double>()).epsilon(1e-12));
    // without constants: sum(nu - n ln nu) + alpha^2 / 2 (alpha = 0 here); the rest is lgamma and Gaussian
    // terms
    const Eigen::ArrayXd nu = m.expected(best).array(), n = d.main.array();
    CHECK((nu - n * nu.log()).sum() ==
          doctest::Approx(fit["nll_without_constants"].get<double>()).epsilon(1e-13));
    double constants = 2 * 0.5 * std::log(2 * M_PI);
    for (double count : d.main) constants += std::lgamma(count + 1);
    CHECK(m.nll(best, d) - (nu - n * nu.log()).sum() == doctest::Approx(constants).epsilon(1e-12));
    // the Hessian at the best fit against pyhf's exact Hessian (smooth setting only: code1 has a kink there)
    if (setting == "code4_code4p") {
      const Eigen::MatrixXd h = m.hessian(best, d);
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
          CHECK(h(a, b) == doctest::Approx(fit["hessian"][a][b].get<double>()).epsilon(1e-9));
    }
  }
}

TEST_CASE("likelihood: -log L of a small model by hand, every constant included") {
  // one bin: signal 5 (mu), background 50 with normsys (code1) and shapesys; data 57 (non-integer allowed)
  json samples = json::array(
      {json{{"name", "s"}, {"data", {5.0}}, {"modifiers", {modifier("mu", "normfactor")}}},
       json{{"name", "b"},
            {"data", {50.0}},
            {"modifiers",
             {modifier("n", "normsys", {{"hi", 1.2}, {"lo", 0.9}}), modifier("g", "shapesys", {10.0})}}}});
  const BinnedLikelihood m(parse_workspace(workspace_json(samples, {57.5})),
                           with(NormsysInterp::code1, HistosysInterp::code4p));
  REQUIRE(m.names() == std::vector<std::string>{"mu", "n", "g[0]"});
  const double tau = 25.0;  // (50 / 10)^2
  CHECK(m.parameter(2).tau == doctest::Approx(tau));
  CHECK(m.observed().aux[1] == doctest::Approx(tau));
  Eigen::VectorXd x(3);
  x << 1.3, -0.4, 1.1;
  const double nu = 1.3 * 5.0 + 50.0 * std::pow(0.9, 0.4) * 1.1;
  const double n = 57.5;
  const double expected = (nu - n * std::log(nu) + std::lgamma(n + 1)) +
                          (0.5 * 0.16 + 0.5 * std::log(2 * M_PI)) +
                          (1.1 * tau - tau * std::log(1.1 * tau) + std::lgamma(tau + 1));
  CHECK(m.expected(x)[0] == doctest::Approx(nu).epsilon(1e-14));
  CHECK(m.nll(x, m.observed()) == doctest::Approx(expected).epsilon(1e-13));
  CHECK(m.expected_aux(x)[0] == -0.4);
  CHECK(m.expected_aux(x)[1] == doctest::Approx(1.1 * tau));
}

TEST_CASE("likelihood: each modifier against its closed form") {
  const BinnedLikelihood m(parse_workspace(all_modifiers_workspace()));
  REQUIRE(m.names() == std::vector<std::string>{"mu", "lumi", "sys", "stat[0]", "stat[1]", "stat[2]",
                                                "bkg_norm", "shape[0]", "shape[1]", "shape[2]", "free[0]",
                                                "free[1]", "free[2]"});
  // staterror: relative sigma from the quadrature sum over both samples
  CHECK(m.parameter(m.index("stat[1]")).sigma == doctest::Approx(std::sqrt(1.5 * 1.5 + 2.0 * 2.0) / 48.0));
  CHECK(m.parameter(m.index("stat[0]")).constraint == Constraint::gaussian);
  // shapesys: the zero-uncertainty bin keeps a gamma fixed at 1 with tau = 1
  CHECK(m.parameter(m.index("shape[1]")).tau == doctest::Approx(100.0));
  CHECK(m.fixed()[static_cast<std::size_t>(m.index("shape[2]"))]);
  CHECK(m.parameter(m.index("shape[2]")).tau == 1.0);
  // lumi: the measurement's sigma and bounds
  CHECK(m.parameter(m.index("lumi")).sigma == 0.05);
  CHECK(m.lower()[m.index("lumi")] == 0.5);
  CHECK(m.parameter(m.index("free[0]")).constraint == Constraint::none);

  Eigen::VectorXd x = m.init();
  const double mu = 1.7, lumi = 1.02, alpha = 0.6, norm = -1.4, st = 1.05, sh = 0.97, fr = 1.3;
  x[m.index("mu")] = mu;
  x[m.index("lumi")] = lumi;
  x[m.index("sys")] = alpha;
  x[m.index("bkg_norm")] = norm;
  x[m.index("stat[1]")] = st;
  x[m.index("shape[1]")] = sh;
  x[m.index("free[1]")] = fr;
  // bin 1 by hand, pyhf defaults code4 / code4p
  const auto a = code4_coefficients(1.1, 0.85);
  double poly = 1.0;
  for (int i = 1; i <= 6; ++i) poly += a[static_cast<std::size_t>(i - 1)] * std::pow(alpha, i);
  const double up = 41.0 - 40.0, down = 40.0 - 38.0;
  const double shift =
      alpha * 0.5 * (up + down) +
      (up - down) / 16.0 * (15 * std::pow(alpha, 2) - 10 * std::pow(alpha, 4) + 3 * std::pow(alpha, 6));
  const double signal = 8.0 * mu * lumi * poly * st;
  const double bkg = (40.0 + shift) * lumi * std::pow(0.9, 1.4) * st * sh * fr;  // |alpha| >= 1: exponential
  CHECK(m.expected(x)[1] == doctest::Approx(signal + bkg).epsilon(1e-13));
}

TEST_CASE("likelihood: interpolation codes match their definitions") {
  const double hi = 1.13, lo = 0.91;
  const auto a = code4_coefficients(hi, lo);
  for (double alpha : {-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 3.0}) {
    CAPTURE(alpha);
    const auto c1 = normsys_code1(alpha, hi, lo);
    CHECK(c1.value ==
          doctest::Approx(alpha >= 0 ? std::pow(hi, alpha) : std::pow(lo, -alpha)).epsilon(1e-14));
    if (std::abs(alpha) >= 1.0) CHECK(normsys_code4(alpha, hi, lo, a).value == c1.value);
    const auto h0 = histosys_code0(alpha, 3.0, 2.0);
    CHECK(h0.value == doctest::Approx(alpha >= 0 ? 3.0 * alpha : 2.0 * alpha));
  }
  // code4: f(0) = 1 and value, slope and curvature continuous at +-1 (this fixes the degree-6 polynomial)
  CHECK(normsys_code4(0.0, hi, lo, a).value == 1.0);
  for (double edge : {-1.0, 1.0}) {
    const double inside = edge * (1.0 - 1e-12);
    const auto p = normsys_code4(inside, hi, lo, a);
    const auto e = normsys_code1(edge, hi, lo);
    CHECK(p.value == doctest::Approx(e.value).epsilon(1e-10));
    CHECK(p.d1 == doctest::Approx(e.d1).epsilon(1e-9));
    CHECK(p.d2 == doctest::Approx(e.d2).epsilon(1e-9));
    const auto q = histosys_code4p(inside, 3.0, 2.0);
    const auto l = histosys_code0(edge, 3.0, 2.0);
    CHECK(q.value == doctest::Approx(l.value).epsilon(1e-10));
    CHECK(q.d1 == doctest::Approx(l.d1).epsilon(1e-9));
    CHECK(std::abs(q.d2) < 1e-9);
  }
  // code4p at 0: no shift, slope (up + down) / 2
  CHECK(histosys_code4p(0.0, 3.0, 2.0).value == 0.0);
  CHECK(histosys_code4p(0.0, 3.0, 2.0).d1 == 2.5);
  // derivatives of both smooth codes against central differences
  for (double alpha : {-0.7, 0.2, 0.9}) {
    const double h = 1e-6;
    CHECK(normsys_code4(alpha, hi, lo, a).d1 == doctest::Approx((normsys_code4(alpha + h, hi, lo, a).value -
                                                                 normsys_code4(alpha - h, hi, lo, a).value) /
                                                                (2 * h))
                                                    .epsilon(1e-8));
    CHECK(normsys_code4(alpha, hi, lo, a).d2 ==
          doctest::Approx((normsys_code4(alpha + h, hi, lo, a).d1 - normsys_code4(alpha - h, hi, lo, a).d1) /
                          (2 * h))
              .epsilon(1e-7));
    CHECK(histosys_code4p(alpha, 3.0, 2.0).d2 ==
          doctest::Approx(
              (histosys_code4p(alpha + h, 3.0, 2.0).d1 - histosys_code4p(alpha - h, 3.0, 2.0).d1) / (2 * h))
              .epsilon(1e-7));
  }
}

TEST_CASE("likelihood: analytic gradient and Hessian agree with finite differences") {
  std::mt19937 gen(7);
  std::vector<std::pair<json, std::string>> models{{all_modifiers_workspace(), "all modifiers"},
                                                   {load(kReference + "w6-workspace.json"), "W6"}};
  for (const auto& file : validation_files())
    models.emplace_back(load(kReference + "pyhf-validation/" + file)["workspace"], file);
  for (const auto& model : models)
    for (int code = 0; code < 2; ++code) {
      const json& j = model.first;
      const std::string& name = model.second;
      CAPTURE(name);
      CAPTURE(code);
      ModelOptions o;
      if (code == 1) o = with(NormsysInterp::code1, HistosysInterp::code0);
      const BinnedLikelihood m(parse_workspace(j), o);
      const Data d = m.observed();
      for (int trial = 0; trial < 3; ++trial) check_derivatives(m, d, random_point(m, gen));
    }
}

TEST_CASE("likelihood: non-positive yields are clipped or refused, never NaN") {
  json samples = json::array(
      {json{{"name", "s"}, {"data", {5.0, 1.0}}, {"modifiers", {modifier("mu", "normfactor")}}},
       json{{"name", "b"},
            {"data", {10.0, 0.0}},
            {"modifiers",
             {modifier("h", "histosys", {{"hi_data", {30.0, 0.0}}, {"lo_data", {-5.0, 0.0}}})}}}});
  const Workspace ws = parse_workspace(workspace_json(samples, {12.0, 0.0}));
  Eigen::VectorXd x(2);
  x << 0.5, -2.0;  // bin 0: 2.5 + 10 - 2 * 15 < 0
  const BinnedLikelihood clip(ws);
  const BinnedLikelihood refuse(ws, with(NormsysInterp::code4, HistosysInterp::code4p, NonPositive::refuse));
  CHECK(clip.expected(x)[0] == kClipValue);
  Eigen::VectorXd g;
  const double value = clip.nll(x, clip.observed(), g);
  CHECK(std::isfinite(value));
  CHECK(g.allFinite());
  CHECK_THROWS_WITH_AS(refuse.nll(x, refuse.observed()),
                       doctest::Contains("channel 'ch' bin 0: expected yield"), Error);
  CHECK_THROWS_WITH_AS(refuse.expected(x), doctest::Contains("is negative (non_positive = refuse)"), Error);
  // an empty bin with zero observed is fine under both policies (mu = 0: bin 1 expects exactly 0)
  x << 0.0, 0.0;
  CHECK(std::isfinite(refuse.nll(x, refuse.observed())));
  // normsys factors <= 0
  json bad = json::array({json{
      {"name", "s"},
      {"data", {5.0}},
      {"modifiers", {modifier("mu", "normfactor"), modifier("n", "normsys", {{"hi", 1.2}, {"lo", 0.0}})}}}});
  CHECK_THROWS_WITH_AS(
      BinnedLikelihood(parse_workspace(workspace_json(bad, {5.0})),
                       with(NormsysInterp::code4, HistosysInterp::code4p, NonPositive::refuse)),
      doctest::Contains("hi = 1.2 and lo = 0 must both be > 0"), Error);
  const BinnedLikelihood clipped(parse_workspace(workspace_json(bad, {5.0})),
                                 with(NormsysInterp::code1, HistosysInterp::code4p));
  Eigen::VectorXd y(2);
  y << 1.0, -1.0;
  CHECK(std::isfinite(clipped.nll(y, clipped.observed())));
  // data checks
  Data wrong = clip.observed();
  wrong.main[1] = -1.0;
  CHECK_THROWS_WITH_AS(clip.nll(x, wrong), doctest::Contains("channel 'ch' bin 1 has count -1"), Error);
  wrong.main.resize(5);
  CHECK_THROWS_WITH_AS(clip.nll(x, wrong), doctest::Contains("main has 5 bins, the model has 2"), Error);
}

TEST_CASE(
    "workspace: a model built in C++ from the structs equals its pyhf JSON, and is checked the same way") {
  Workspace ws;
  ChannelSpec channel{"sr", {}};
  SampleSpec signal{"signal", {4.0, 9.0}, {}};
  signal.modifiers.push_back(ModifierSpec{"mu", "normfactor", 0, 0, {}, {}, {}});
  SampleSpec bkg{"bkg", {40.0, 30.0}, {}};
  bkg.modifiers.push_back(ModifierSpec{"jes", "histosys", 0, 0, {44.0, 31.0}, {37.0, 29.5}, {}});
  bkg.modifiers.push_back(ModifierSpec{"stat", "staterror", 0, 0, {}, {}, {2.0, 1.5}});
  channel.samples = {signal, bkg};
  ws.channels = {channel};
  ws.observations = {ObservationSpec{"sr", {47.0, 36.0}}};
  ws.measurements = {MeasurementSpec{"meas", "mu", {}}};
  const BinnedLikelihood direct(ws);
  const json written = to_json(ws);
  const BinnedLikelihood reread(parse_workspace(written));
  Eigen::VectorXd x(4);
  x << 1.4, 0.3, 0.97, 1.02;
  CHECK(direct.nll(x, direct.observed()) == reread.nll(x, reread.observed()));
  CHECK(written["channels"][0]["samples"][1]["modifiers"][0]["data"]["hi_data"][0] == 44.0);
  ws.channels[0].samples[1].data = {40.0};  // a bin short: the same error as from a file
  CHECK_THROWS_WITH_AS(BinnedLikelihood{ws}, doctest::Contains("has 1 bins but sample 'signal' has 2"),
                       Error);
}
