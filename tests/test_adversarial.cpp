// Tests for adversarial/: the strength schedules shared by DANN and ADNN, DANN (001) and ADNN
// (000, 002). One executable for both methods; each case names the method it checks.
#include <doctest/doctest.h>

#include <agnostic/adversarial/strength_schedule.hpp>
#include <cmath>
#include <cstring>
#include <string>

using namespace agnostic;
using agnostic::adversarial::StrengthSchedule;
using agnostic::adversarial::StrengthShape;

TEST_CASE("strength schedule: constant, linear and ganin values at known p") {
  const StrengthSchedule constant("constant", 3.0);
  const StrengthSchedule linear("linear", 3.0);
  const StrengthSchedule ganin("ganin", 3.0);
  for (double p : {0.0, 0.25, 0.5, 1.0}) CHECK(constant.at(p) == 3.0);
  CHECK(linear.at(0.0) == 0.0);
  CHECK(linear.at(0.25) == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(linear.at(1.0) == 3.0);
  CHECK(ganin.at(0.0) == 0.0);
  // 2 / (1 + e^-5) - 1 = tanh(2.5) = 0.98661429815143...
  CHECK(ganin.at(0.5) == doctest::Approx(3.0 * 0.9866142981514303).epsilon(1e-14));
  CHECK(ganin.at(0.1) == doctest::Approx(3.0 * std::tanh(0.5)).epsilon(1e-14));
  CHECK(ganin.at(1.0) == doctest::Approx(3.0 * std::tanh(5.0)).epsilon(1e-14));
  // Clamped outside [0, 1]; by epoch: epoch e of E is p = (e - 1) / E.
  CHECK(linear.at(-1.0) == 0.0);
  CHECK(linear.at(2.0) == 3.0);
  CHECK(linear.at_epoch(1, 4) == 0.0);
  CHECK(linear.at_epoch(3, 4) == 1.5);
  CHECK(ganin.at_epoch(2, 10) == doctest::Approx(3.0 * std::tanh(0.5)).epsilon(1e-14));
  CHECK(StrengthSchedule("ganin", 0.0).at(0.7) == 0.0);
}

TEST_CASE("strength schedule: names round-trip; unknown names and bad strengths are errors") {
  for (const char* name : {"constant", "linear", "ganin"}) CHECK(StrengthSchedule(name, 1.0).name() == name);
  CHECK(StrengthSchedule(StrengthShape::ganin, 2.0).shape == StrengthShape::ganin);
  CHECK_THROWS_WITH_AS(
      StrengthSchedule("exponential", 1.0),
      doctest::Contains("\"exponential\" is not known; allowed: \"constant\", \"linear\", \"ganin\""), Error);
  CHECK_THROWS_WITH_AS(StrengthSchedule("linear", -1.0), doctest::Contains("must be finite and >= 0, got -1"),
                       Error);
  CHECK_THROWS_WITH_AS(StrengthSchedule("linear", NAN), doctest::Contains("must be finite"), Error);
  CHECK_THROWS_WITH_AS(StrengthSchedule("linear", 1.0).at(NAN), doctest::Contains("p is NaN"), Error);
}

// ---------------------------------------------------------------------------------------------
// DANN (001)

#include <agnostic/adversarial/dann.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/methods/dann.hpp>
#include <agnostic/train/trainer.hpp>
#include <sstream>

namespace {

using agnostic::adversarial::DannOptions;
using agnostic::adversarial::DannScheme;
using agnostic::adversarial::DannSetup;
using agnostic::train::Dataset;

// A small two-domain data set: source events (domain 0) with labels from a rule, target events
// (domain 1) with the labels `target_label(i)` (never to be read by DANN).
template <class T, class TargetLabel>
Dataset<T> two_domains(Index per_domain, Index features, TargetLabel target_label, std::uint64_t seed = 7) {
  Rng rng(seed);
  const Index n = 2 * per_domain;
  Matrix<T> x(n, features);
  std::vector<Index> y(static_cast<std::size_t>(n)), d(static_cast<std::size_t>(n));
  Vector<T> w(n);
  for (Index i = 0; i < n; ++i) {
    const bool source = i < per_domain;
    for (Index j = 0; j < features; ++j) x(i, j) = static_cast<T>(rng.normal() + (source ? 0.0 : 0.5 * j));
    y[static_cast<std::size_t>(i)] = source ? (x(i, 0) + x(i, 1) > 0 ? 1 : 0) : target_label(i);
    d[static_cast<std::size_t>(i)] = source ? 0 : 1;
    w(i) = static_cast<T>(0.5 + rng.uniform());
  }
  return Dataset<T>(std::move(x), std::move(y), std::move(w), std::move(d), 2);
}

}  // namespace

TEST_CASE("DANN: the gate: scrambling the target labels leaves the trained weights bit-identical") {
  auto train_with = [](std::uint64_t scramble) {
    Rng labels(scramble);
    const Dataset<float> train = two_domains<float>(96, 4, [&](Index) { return Index(labels.below(2)); });
    const Dataset<float> validation = two_domains<float>(
        40, 4, [&](Index) { return Index(labels.below(2)); }, 11);
    Rng init(5);
    Sequential<float> classifier({4, 8, 6, 1}, Activation::tanh(), Activation::identity(), init);
    Sequential<float> domain({6, 5, 2}, Activation::tanh(), Activation::identity(), init,
                             Initialiser::glorot_uniform(), "domain");
    ParameterGroup<float> group("all");
    group.add(classifier.parameters());
    group.add(domain.parameters());
    Adam<float> adam(group, {.lr = 1e-2});
    DannOptions o;
    o.epochs = 3;
    o.batch_size = 32;
    o.lambda = StrengthSchedule("linear", 2.0);
    o.target_signal_fraction = 0.3;
    DannScheme<float> scheme(classifier, domain, adam, train, &validation, o);
    std::ostringstream quiet;
    train::TrainerOptions options;
    options.stopping.max_epochs = 3;
    options.restore_best = false;
    options.verbosity = train::Verbosity::silent;
    options.out = &quiet;
    train::Trainer<float> trainer(scheme, options);
    const train::History& h = trainer.fit();
    CHECK(h.epochs.size() == 3);
    CHECK(h.epochs.back().figures.count("train_label_loss") == 1);
    CHECK(h.epochs.back().figures.count("ks_source_target") == 1);
    CHECK(h.epochs.back().figures.at("lambda") == doctest::Approx(2.0 * 2.0 / 3.0));
    std::vector<float> values;
    for (Parameter<float>* p : group)
      for (Index k = 0; k < p->value.size(); ++k) values.push_back(p->value.data()[k]);
    return values;
  };
  const std::vector<float> a = train_with(1), b = train_with(2);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // And the comparison can fail: the same run with one source label changed differs.
}

TEST_CASE(
    "DANN: set-up B: the domain loss is -y on source and +y on target; the step follows the reversed "
    "gradient (finite differences in double)") {
  // 8 source and 8 target events, a batch of 16 at 1:1: one batch holds every event once.
  const Dataset<double> data = two_domains<double>(8, 3, [](Index) { return Index(0); });
  Rng init(3);
  Sequential<double> classifier({3, 5, 4, 1}, Activation::tanh(), Activation::identity(), init);
  Sequential<double> domain({4, 3, 1}, Activation::tanh(), Activation::identity(), init,
                            Initialiser::glorot_uniform(), "domain");
  const double lambda = 0.7, lr = 1.0;
  ParameterGroup<double> group("all");
  group.add(classifier.parameters());
  group.add(domain.parameters());
  SGD<double> sgd(group, {.lr = lr});
  DannOptions o;
  o.setup = DannSetup::B;
  o.batch_size = 16;
  o.lambda = StrengthSchedule("constant", lambda);
  o.target_signal_fraction = 0.25;
  DannScheme<double> scheme(classifier, domain, sgd, data, nullptr, o);
  const MatrixD& x = data.features;
  const Vector<double> dw = scheme.domain_weights();
  // The two losses computed here by hand from forward passes.
  auto losses = [&](double& label, double& dom) {
    Tape<double> tape;
    auto [z, h] = classifier.forward_tapped(tape, tape.input(x), 1);
    const Var<double> y = domain(tape, h);
    double lw = 0, ls = 0, dws = 0, ds = 0;
    for (Index i = 0; i < x.rows(); ++i) {
      const bool source = data.domains[static_cast<std::size_t>(i)] == 0;
      if (source) {
        const double zi = z.value()(i, 0), t = static_cast<double>(data.labels[static_cast<std::size_t>(i)]);
        ls += data.weights(i) * (std::log1p(std::exp(-std::abs(zi))) + std::max(zi, 0.0) - zi * t);
        lw += data.weights(i);
      }
      ds += dw(i) * (source ? -y.value()(i, 0) : y.value()(i, 0));
      dws += dw(i);
    }
    label = ls / lw;
    dom = ds / dws;
  };
  double label0 = 0, dom0 = 0;
  losses(label0, dom0);
  std::vector<MatrixD> before;
  for (Parameter<double>* p : group) before.push_back(p->value);
  Rng rng(1);
  scheme.start_epoch(1, rng);
  REQUIRE(scheme.batches() == 1);
  const auto s = scheme.train_step(0);
  CHECK(s.label_loss == doctest::Approx(label0).epsilon(1e-12));
  CHECK(s.domain_loss == doctest::Approx(dom0).epsilon(1e-12));
  // Update = -lr * gradient: dL_label/dθ - λ dL_domain/dθ for F, dL_label/dθ for Y, dL_domain/dθ for D.
  const std::size_t n_classifier = classifier.parameters().size();
  const std::size_t head = n_classifier - 2;  // Y's weight and bias
  // Finite differences around the parameters before the step (all of them).
  std::vector<MatrixD> after;
  for (Parameter<double>* p : group) after.push_back(p->value);
  for (std::size_t k = 0; k < group.size(); ++k) group[k].value = before[k];
  double worst = 0.0;
  for (std::size_t k = 0; k < group.size(); ++k) {
    Parameter<double>& p = group[k];
    for (Index e = 0; e < p.value.size(); ++e) {
      const double h = 1e-6, original = p.value.data()[e];
      double lp, dp, lm, dm;
      p.value.data()[e] = original + h;
      losses(lp, dp);
      p.value.data()[e] = original - h;
      losses(lm, dm);
      p.value.data()[e] = original;
      const double g_label = (lp - lm) / (2 * h), g_dom = (dp - dm) / (2 * h);
      const double expected = k < head ? g_label - lambda * g_dom : k < n_classifier ? g_label : g_dom;
      const double step = (before[k].data()[e] - after[k].data()[e]) / lr;
      worst = std::max(worst, std::abs(step - expected) / std::max(1.0, std::abs(expected)));
    }
  }
  CHECK(worst < 1e-7);
}

TEST_CASE("DANN: match_target domain weights give the source the target's signal fraction, its total kept") {
  const Dataset<double> data = two_domains<double>(200, 2, [](Index) { return Index(1); });
  const Vector<double> w = adversarial::dann_domain_weights(data, 0, 0.2);
  double src_total = 0, src_signal = 0, before_total = 0;
  for (Index i = 0; i < data.rows(); ++i) {
    const auto u = static_cast<std::size_t>(i);
    if (data.domains[u] == 0) {
      src_total += w(i);
      before_total += data.weights(i);
      if (data.labels[u] == 1) src_signal += w(i);
    } else {
      CHECK(w(i) == data.weights(i));  // target events keep their weights (labels unread)
    }
  }
  CHECK(src_total == doctest::Approx(before_total).epsilon(1e-12));
  CHECK(src_signal / src_total == doctest::Approx(0.2).epsilon(1e-12));
  // "none": the weights as they are.
  CHECK(adversarial::dann_domain_weights(data, 0, std::nullopt) == data.weights);
  CHECK_THROWS_WITH_AS(adversarial::dann_domain_weights(data, 0, 1.0),
                       doctest::Contains("expected a number in (0, 1)"), Error);
}

TEST_CASE(
    "DANN: each bad value of the dann section is an error naming the key, the value and what is allowed") {
  const nlohmann::json base = {
      {"method", "dann"},
      {"data", {{"files", {"d.csv"}}, {"features", {"a", "b"}}, {"label", "y"}, {"domain", "g"}}},
      {"dann", {{"target_signal_fraction", 0.1}}}};
  auto error_of = [&](const nlohmann::json& dann) {
    nlohmann::json j = base;
    j["dann"] = dann;
    try {
      train::dann_config(train::config_from_json(j, "c.json", ""));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const train::DannConfig d = train::dann_config(train::config_from_json(base, "c.json", ""));
  CHECK(d.lambda == 1.0);
  CHECK(d.lambda_schedule == "ganin");
  CHECK(d.setup == "A");
  CHECK(d.domain_hidden == std::vector<Index>{20, 35, 50});
  CHECK(d.domain_weights == "match_target");
  CHECK(d.target_fraction_in_batch == 0.5);
  const nlohmann::json f = {{"target_signal_fraction", 0.1}};
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = f;
    j[key] = value;
    return error_of(j);
  };
  CHECK(with("source_domain", -1) ==
        "config 'c.json': key 'dann.source_domain' is -1; expected an integer from 0 to 1000000000");
  CHECK(with("target_domain", 0).find("key 'dann.target_domain' is 0, the same as dann.source_domain") !=
        std::string::npos);
  CHECK(with("target_domain", "b").find("key 'dann.target_domain' is \"b\"; expected an integer") !=
        std::string::npos);
  CHECK(with("lambda", -2) == "config 'c.json': key 'dann.lambda' is -2; expected a number in [0, 1e+06]");
  CHECK(with("lambda_schedule", "exp") ==
        "config 'c.json': key 'dann.lambda_schedule' is \"exp\"; allowed: constant, linear, ganin");
  CHECK(with("setup", "C") == "config 'c.json': key 'dann.setup' is \"C\"; allowed: A, B");
  CHECK(with("domain_hidden", nlohmann::json::array({20, 0})) ==
        "config 'c.json': key 'dann.domain_hidden[1]' is 0; expected a layer width from 1 to 100000");
  CHECK(with("domain_weights", "balanced") ==
        "config 'c.json': key 'dann.domain_weights' is \"balanced\"; allowed: match_target, none");
  CHECK(with("target_signal_fraction", 1.0)
            .find("key 'dann.target_signal_fraction' is 1; expected a number in (0, 1)") !=
        std::string::npos);
  CHECK(with("target_signal_fraction", 0) ==
        "config 'c.json': key 'dann.target_signal_fraction' is 0; expected a number in (0, 1]");
  CHECK(with("target_fraction_in_batch", 1)
            .find("key 'dann.target_fraction_in_batch' is 1; expected a number in (0, 1)") !=
        std::string::npos);
  CHECK(with("target_fraction_in_batch", 0) ==
        "config 'c.json': key 'dann.target_fraction_in_batch' is 0; expected a number in (0, 1]");
  CHECK(with("gamma", 1) ==
        "config 'c.json': key 'dann.gamma' is not a known key; allowed keys in 'dann': source_domain, "
        "target_domain, "
        "lambda, lambda_schedule, setup, domain_hidden, domain_weights, target_signal_fraction, "
        "target_fraction_in_batch");
  CHECK(error_of(nlohmann::json::object())
            .find("key 'dann.target_signal_fraction' is missing; with "
                  "\"domain_weights\": \"match_target\" (the default) it is required") != std::string::npos);
  CHECK(error_of({{"domain_weights", "none"}, {"target_signal_fraction", 0.2}})
            .find("is given but \"domain_weights\" is \"none\"") != std::string::npos);
  CHECK(error_of({{"domain_weights", "none"}}) == "no error");
}
