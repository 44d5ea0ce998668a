// Tests for the adversarial schemes of train/: the strength schedules shared by DANN and ADNN, DANN (001) and
// ADNN (000, 002). One executable for both methods; each case names the method it checks.
#include <doctest/doctest.h>

#include <agnostic/train/strength_schedule.hpp>
#include <cmath>
#include <cstring>
#include <string>

#include "three_class_data.hpp"
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
  // By step: batch b of B in epoch e of E is p = ((e - 1) B + b) / (E B).
  CHECK(linear.at_step(1, 0, 5, 4) == 0.0);
  CHECK(linear.at_step(2, 3, 5, 4) == doctest::Approx(3.0 * 8.0 / 20.0).epsilon(1e-15));
  CHECK(linear.at_step(4, 4, 5, 4) == doctest::Approx(3.0 * 19.0 / 20.0).epsilon(1e-15));
  CHECK(ganin.at_step(1, 1, 5, 2) == doctest::Approx(3.0 * std::tanh(0.5)).epsilon(1e-14));
  CHECK_THROWS_WITH_AS(linear.at_step(1, 5, 5, 4), doctest::Contains("batch 5 of 5 in epoch 1 of 4"), Error);
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

#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/train/dann.hpp>
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
    // lambda is set per step; history holds that of the epoch's last step, p = (3 B - 1) / (3 B).
    const double steps = 3.0 * static_cast<double>(scheme.batches());
    CHECK(h.epochs.back().figures.at("lambda") ==
          doctest::Approx(2.0 * (steps - 1.0) / steps).epsilon(1e-12));
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

// ---------------------------------------------------------------------------------------------
// ADNN (000 Algorithm 1, 002): the two steps, the objective and its gradient, the schedule and
// phases, a run through the Trainer and train::run, and the "adnn" config section's errors.
#include <agnostic/autodiff/gradcheck.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/train/adnn.hpp>
#include <agnostic/train/methods/adnn.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include "train_run.hpp"  // train::run, compiled once (tools/train_run.cpp)

namespace adnn_test {

using agnostic::adversarial::AdnnOptions;
using agnostic::adversarial::AdnnPhase;
using agnostic::adversarial::AdnnScheme;
using agnostic::adversarial::AdversaryInput;

inline std::vector<MatrixF> values_of(const ParameterGroup<float>& group) {
  std::vector<MatrixF> out;
  for (std::size_t i = 0; i < group.size(); ++i) out.push_back(group[i].value);
  return out;
}
inline bool bit_identical(const std::vector<MatrixF>& a, const std::vector<MatrixF>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() ||
        std::memcmp(a[i].data(), b[i].data(), sizeof(float) * static_cast<std::size_t>(a[i].size())) != 0)
      return false;
  return true;
}

}  // namespace adnn_test

TEST_CASE("ADNN: step (1) leaves the adversary bit-unchanged, step (2) the classifier") {
  using namespace adnn_test;
  const auto data = three_class_data(300, 5);
  Rng init(2);
  Sequential<float> classifier({4, 10, 8, 3}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({8, 6, 3}, Activation::relu(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 1e-2});
  Adam<float> a_opt(adversary.parameters(), {.lr = 1e-2});
  AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                           {.alpha = {agnostic::adversarial::StrengthShape::constant, 5.0},
                            .adversary_steps = 3,
                            .adversary_batch_size = 0,  // step (2) on the batch's events
                            .pretrain_classifier_epochs = 0,
                            .pretrain_adversary_epochs = 0,
                            .game_epochs = 2,
                            .batch_size = 60});
  Rng rng(1);
  scheme.start_epoch(1, rng);
  CHECK(scheme.phase() == AdnnPhase::game);
  for (Index b = 0; b < 3; ++b) {
    scheme.gather_batch(b);
    const auto c0 = values_of(classifier.parameters()), a0 = values_of(adversary.parameters());
    const auto losses = scheme.classifier_step();
    CHECK(std::isfinite(losses.objective));
    CHECK(losses.objective ==
          doctest::Approx(losses.classifier_loss - 5.0 * losses.adversary_loss).epsilon(1e-5));
    CHECK(bit_identical(values_of(adversary.parameters()), a0));
    CHECK_FALSE(bit_identical(values_of(classifier.parameters()), c0));
    const auto c1 = values_of(classifier.parameters()), a1 = values_of(adversary.parameters());
    CHECK(std::isfinite(scheme.adversary_steps()));
    CHECK(bit_identical(values_of(classifier.parameters()), c1));
    CHECK_FALSE(bit_identical(values_of(adversary.parameters()), a1));
    CHECK(a_opt.steps() == 3 * (b + 1));
  }
  // Pre-training the adversary (phase 2): step (1) changes nothing at all.
  AdnnScheme<float> pre(classifier, adversary, c_opt, a_opt, data, nullptr,
                        {.pretrain_classifier_epochs = 1, .pretrain_adversary_epochs = 1, .batch_size = 60});
  pre.start_epoch(2, rng);
  CHECK(pre.phase() == AdnnPhase::pretrain_adversary);
  pre.gather_batch(0);
  const auto c0 = values_of(classifier.parameters()), a0 = values_of(adversary.parameters());
  pre.classifier_step();
  CHECK(bit_identical(values_of(classifier.parameters()), c0));
  CHECK(bit_identical(values_of(adversary.parameters()), a0));
}

TEST_CASE("ADNN: L(C) - alpha L(A) by hand, and its gradient against finite differences in double") {
  using namespace adnn_test;
  Rng init(4);
  Sequential<double> classifier({3, 4, 3, 3}, Activation::tanh(), Activation::identity(), init,
                                Initialiser::glorot_uniform(), "classifier");
  Sequential<double> adversary({3, 4, 2}, Activation::tanh(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "adversary");
  MatrixD x(6, 3);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < 3; ++j) x(i, j) = init.normal();
  const std::vector<Index> labels{0, 1, 2, 1, 0, 1}, adversary_rows{1, 3, 5}, domains{0, 1, 1};
  VectorD weights(6), adversary_weights(3);
  weights << 1.0, 0.5, 2.0, 1.5, 1.0, 0.7;
  adversary_weights << 0.5, 1.5, 0.7;
  const double alpha = 2.5;

  // By hand: weighted mean cross-entropies of softmax outputs.
  auto layer = [](const Sequential<double>& net, std::size_t i, const MatrixD& in, bool tanh) {
    const Dense<double>& d = net.dense_layer(i);
    MatrixD out = (in * d.weight.value.transpose()).rowwise() + d.bias.value.row(0);
    return tanh ? MatrixD(out.array().tanh()) : out;
  };
  auto cross_entropy = [](const MatrixD& z, const std::vector<Index>& y, const VectorD& w) {
    double sum = 0.0;
    for (Index i = 0; i < z.rows(); ++i) {
      const double lse = std::log(z.row(i).array().exp().sum());
      sum += w(i) * (lse - z(i, y[static_cast<std::size_t>(i)]));
    }
    return sum / w.sum();
  };
  const MatrixD h1 = layer(classifier, 0, x, true), h2 = layer(classifier, 1, h1, true);
  const MatrixD logits = layer(classifier, 2, h2, false);
  MatrixD rep(3, 3);
  for (Index k = 0; k < 3; ++k) rep.row(k) = h2.row(adversary_rows[static_cast<std::size_t>(k)]);
  const MatrixD domain_logits = layer(adversary, 1, layer(adversary, 0, rep, true), false);
  const double lc = cross_entropy(logits, labels, weights),
               la = cross_entropy(domain_logits, domains, adversary_weights);

  Tape<double> tape;
  adversary.freeze();
  const auto l = agnostic::adversarial::adnn_losses(tape, classifier, adversary, tape.input(x), labels,
                                                    weights, adversary_rows, domains, adversary_weights,
                                                    alpha, AdversaryInput::penultimate);
  CHECK(l.classifier_loss.item() == doctest::Approx(lc).epsilon(1e-12));
  CHECK(l.adversary_loss.item() == doctest::Approx(la).epsilon(1e-12));
  CHECK(l.objective.item() == doctest::Approx(lc - alpha * la).epsilon(1e-12));

  // The gradient with respect to the classifier's parameters and the inputs (adversary frozen).
  std::vector<Parameter<double>*> params;
  const auto group = classifier.parameters();
  for (std::size_t i = 0; i < group.size(); ++i) params.push_back(&group[i]);
  for (AdversaryInput input : {AdversaryInput::penultimate, AdversaryInput::output}) {
    Sequential<double> reader =
        input == AdversaryInput::output
            ? Sequential<double>({3, 4, 2}, Activation::tanh(), Activation::identity(), init,
                                 Initialiser::glorot_uniform(), "adversary")
            : adversary;
    reader.freeze();
    const auto report = gradcheck(
        [&](Tape<double>& t, const std::vector<Var<double>>& v) {
          return agnostic::adversarial::adnn_losses(t, classifier, reader, v[0], labels, weights,
                                                    adversary_rows, domains, adversary_weights, alpha, input)
              .objective;
        },
        {x}, params);
    CHECK_MESSAGE(report.ok, report.worst);
    CHECK(report.compared > 40);
  }
  // And the adversary's gradient of L(A) (its own step), with the classifier frozen.
  adversary.unfreeze();
  classifier.freeze();
  std::vector<Parameter<double>*> a_params;
  const auto a_group = adversary.parameters();
  for (std::size_t i = 0; i < a_group.size(); ++i) a_params.push_back(&a_group[i]);
  const auto report = gradcheck(
      [&](Tape<double>& t, const std::vector<Var<double>>& v) {
        return agnostic::adversarial::adnn_losses(t, classifier, adversary, v[0], labels, weights,
                                                  adversary_rows, domains, adversary_weights, alpha,
                                                  AdversaryInput::penultimate)
            .adversary_loss;
      },
      {x}, a_params);
  CHECK_MESSAGE(report.ok, report.worst);
}

TEST_CASE("ADNN: phases and the alpha schedule (strength_schedule) by epoch") {
  using namespace adnn_test;
  const auto data = three_class_data(90, 1);
  Rng init(2);
  Sequential<float> classifier({4, 6, 3}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({6, 3}, Activation::relu(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {}), a_opt(adversary.parameters(), {});
  AdnnScheme<float> linear(classifier, adversary, c_opt, a_opt, data, nullptr,
                           {.alpha = {agnostic::adversarial::StrengthShape::linear, 8.0},
                            .pretrain_classifier_epochs = 2,
                            .pretrain_adversary_epochs = 3,
                            .game_epochs = 4});
  CHECK(linear.warmup_epochs() == 5);
  CHECK(linear.total_epochs() == 9);
  for (Index e : {1, 2}) CHECK(linear.phase_of(e) == AdnnPhase::pretrain_classifier);
  for (Index e : {3, 4, 5}) CHECK(linear.phase_of(e) == AdnnPhase::pretrain_adversary);
  for (Index e = 1; e <= 5; ++e) CHECK(linear.alpha_of(e) == 0.0);
  // Game epoch g of 4: 8 (g - 1) / 4.
  CHECK(linear.phase_of(6) == AdnnPhase::game);
  CHECK(linear.alpha_of(6) == 0.0);
  CHECK(linear.alpha_of(7) == 2.0);
  CHECK(linear.alpha_of(9) == 6.0);
  CHECK(linear.alpha_of(20) == 8.0);  // past the planned end: the final value
  AdnnScheme<float> ganin(classifier, adversary, c_opt, a_opt, data, nullptr,
                          {.alpha = {agnostic::adversarial::StrengthShape::ganin, 8.0},
                           .pretrain_classifier_epochs = 0,
                           .pretrain_adversary_epochs = 0,
                           .game_epochs = 10});
  CHECK(ganin.alpha_of(2) == doctest::Approx(8.0 * std::tanh(0.5)).epsilon(1e-14));
  AdnnScheme<float> constant(classifier, adversary, c_opt, a_opt, data, nullptr,
                             {.alpha = {agnostic::adversarial::StrengthShape::constant, 8.0},
                              .pretrain_classifier_epochs = 1,
                              .pretrain_adversary_epochs = 0});
  CHECK(constant.alpha_of(1) == 0.0);
  CHECK(constant.alpha_of(2) == 8.0);
  // Construction errors a user can act on.
  CHECK_THROWS_WITH_AS(AdnnScheme<float>(classifier, adversary, c_opt, a_opt, data, nullptr,
                                         {.adversary_input = AdversaryInput::output}),
                       "ADNN: the adversary takes 6 inputs but the classifier's output has 3",
                       agnostic::Error);
  CHECK_THROWS_WITH_AS(
      AdnnScheme<float>(classifier, adversary, c_opt, a_opt, data, nullptr, {.adversary_steps = 0}),
      "ADNN: adversary_steps is 0; must be >= 1", agnostic::Error);
}

TEST_CASE(
    "ADNN: a Trainer run reports the monitors each epoch and never stops or picks the best in pre-training") {
  using namespace adnn_test;
  const auto train = three_class_data(600, 11), validation = three_class_data(300, 12);
  Rng init(3);
  Sequential<float> classifier({4, 16, 12, 3}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({12, 16, 3}, Activation::relu(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 5e-3}), a_opt(adversary.parameters(), {.lr = 5e-3});
  AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, train, &validation,
                           {.alpha = {agnostic::adversarial::StrengthShape::constant, 1.0},
                            .adversary_steps = 2,
                            .adversary_batch_size = 0,
                            .pretrain_classifier_epochs = 3,
                            .pretrain_adversary_epochs = 2,
                            .game_epochs = 3,
                            .batch_size = 100});
  agnostic::train::TrainerOptions options;
  options.stopping.max_epochs = scheme.total_epochs();
  options.stopping.patience = agnostic::train::PatienceRule{1, 0.0};
  options.warmup_epochs = scheme.warmup_epochs();
  options.verbosity = agnostic::train::Verbosity::silent;
  agnostic::train::Trainer<float> trainer(scheme, options);
  const auto& history = trainer.fit();
  REQUIRE(history.epochs.size() >= 6);  // patience 1 may stop the game, never the pre-training
  CHECK(history.best_epoch >= 6);
  for (const auto& e : history.epochs) {
    for (const char* key : {"train_loss", "train_classifier_loss", "train_adversary_loss", "validation_loss",
                            "validation_classifier_loss", "validation_adversary_loss", "adversary_accuracy",
                            "mean_ks", "alpha", "phase"})
      CHECK_MESSAGE(e.figures.count(key) == 1, "epoch ", e.epoch, " lacks ", key);
    const double phase = e.figures.at("phase");
    CHECK(phase == (e.epoch <= 3 ? 1.0 : e.epoch <= 5 ? 2.0 : 3.0));
    CHECK(e.figures.at("alpha") == (e.epoch <= 5 ? 0.0 : 1.0));
    CHECK(e.figures.at("mean_ks") >= 0.0);
    CHECK(e.figures.at("mean_ks") <= 1.0);
    CHECK(e.figures.at("adversary_accuracy") >= 0.0);
  }
  // Domain 0 vs 1 and 2 differ in feature 0: a trained adversary beats chance (1/3).
  CHECK(history.epochs[4].figures.at("adversary_accuracy") > 0.38);
}

namespace adnn_test {

inline std::filesystem::path fresh(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("agnostic_test_adnn_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A CSV with class text labels bkg/ggh/sig; the signal's model in column "model" (sm, bsm1, bsm2);
// background and ggH events carry junk in that column, which the method must never read.
inline void write_csv(const std::filesystem::path& path, int n, std::uint64_t seed) {
  Rng rng(seed);
  std::ofstream out(path);
  out << "a,b,c,process,model\n";
  const char* models[] = {"sm", "bsm1", "bsm2"};
  for (int i = 0; i < n; ++i) {
    const int y = i % 3, d = (i / 3) % 3;
    const double shift = 0.7 * (y - 1) + (y == 2 ? 0.5 * d : 0.0);
    out << rng.normal(shift, 1.0) << "," << rng.normal(-shift, 1.0) << "," << rng.normal(0.0, 1.0) << ","
        << (y == 0   ? "bkg"
            : y == 1 ? "ggh"
                     : "sig")
        << "," << (y == 2 ? models[d] : "not a model") << "\n";
  }
}

inline nlohmann::json config_for(const std::filesystem::path& data, const std::filesystem::path& out) {
  return {{"method", "adnn"},
          {"data",
           {{"files", {data.string()}},
            {"features", {"a", "b", "c"}},
            {"label", "process"},
            {"label_classes", {{"bkg", 0}, {"ggh", 1}, {"sig", 2}}},
            {"domain", "model"},
            {"domain_classes", {{"sm", 0}, {"bsm1", 1}, {"bsm2", 2}}}}},
          {"model", {{"hidden", {12, 8}}, {"activation", "rectified"}}},
          {"optimiser", {{"name", "adam"}, {"learning_rate", 0.005}}},
          {"adnn",
           {{"adversary_class", "sig"},
            {"alpha", 2.0},
            {"adversary_hidden", {8}},
            {"adversary_steps", 2},
            {"pretrain_classifier_epochs", 2},
            {"pretrain_adversary_epochs", 1},
            {"adversary_batch_size", 0},  // small runs, as before the default became 8192
            {"adversary_optimiser", {{"name", "adam"}, {"learning_rate", 0.01}}}}},
          {"training", {{"epochs", 3}, {"batch_size", 64}, {"seed", 2}, {"threads", 1}}},
          {"output", {{"directory", out.string()}, {"progress", "silent"}}}};
}

inline std::string adnn_error(nlohmann::json j) {
  try {
    agnostic::train::adnn_config(agnostic::train::config_from_json(j, "c.json"));
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace adnn_test

TEST_CASE(
    "ADNN: train::run with method adnn writes the classifier, the adversary branch and a domain column") {
  using namespace adnn_test;
  const auto dir = fresh("run");
  write_csv(dir / "events.csv", 900, 4);
  const auto config =
      agnostic::train::config_from_json(config_for(dir / "events.csv", dir / "out"), "c.json");
  std::ostringstream log;
  const auto result = agnostic::train::run(config, {.out = &log});
  CHECK(result.summary["method"] == "adnn");
  CHECK(result.summary["pretraining_epochs"] == 3);
  CHECK(result.summary["epochs"] == 6);
  CHECK(result.summary.contains("model_mean_ks"));
  const auto model = agnostic::io::read_model<float>((dir / "out" / "model.json").string());
  CHECK(model.outputs == std::vector<std::string>{"bkg", "ggh", "sig"});
  REQUIRE(model.branches.size() == 1);
  CHECK(model.branches[0].name == "adversary");
  CHECK(model.branches[0].input_layer == 2);  // the classifier's second-to-last layer (1-based)
  CHECK(model.branches[0].outputs == std::vector<std::string>{"sm", "bsm1", "bsm2"});
  const auto history = nlohmann::json::parse(std::ifstream(dir / "out" / "history.json"));
  CHECK(history["epochs"].size() == 6);
  CHECK(history["best_epoch"].get<int>() >= 4);
  // The best epoch is, among the game epochs whose validation_loss is within 5 % of the lowest, the
  // one with the lowest mean_ks (training.early_stopping.figure's default for adnn).
  CHECK(history["best_figure"] == "mean_ks");
  auto best_game_epoch = [](const nlohmann::json& h, const std::string& figure, double tolerance) {
    double lowest = 1e300;
    for (const auto& e : h["epochs"])
      if (e["phase"] == 3.0) lowest = std::min(lowest, e["validation_loss"].get<double>());
    int best = 0;
    double value = 1e300;
    for (const auto& e : h["epochs"])
      if (e["phase"] == 3.0 && e["validation_loss"].get<double>() <= lowest + tolerance * std::abs(lowest) &&
          e[figure].get<double>() < value) {
        value = e[figure].get<double>();
        best = e["epoch"].get<int>();
      }
    return best;
  };
  CHECK(history["best_epoch"].get<int>() == best_game_epoch(history, "mean_ks", 0.05));
  for (const auto& e : history["epochs"]) {
    // validation_loss is L(C); the objective L(C) - alpha L(A) is recorded apart.
    CHECK(e["validation_loss"] == e["validation_classifier_loss"]);
    CHECK(e["validation_objective"].get<double>() ==
          doctest::Approx(e["validation_loss"].get<double>() -
                          e["alpha"].get<double>() * e["validation_adversary_loss"].get<double>()));
  }
  // With figure validation_loss the best epoch is the game epoch of lowest L(C).
  nlohmann::json by_loss = config_for(dir / "events.csv", dir / "by_loss");
  by_loss["training"]["early_stopping"] = {{"figure", "validation_loss"}};
  agnostic::train::run(agnostic::train::config_from_json(by_loss, "c.json"), {.out = &log});
  const auto h2 = nlohmann::json::parse(std::ifstream(dir / "by_loss" / "history.json"));
  CHECK(h2["best_figure"] == "validation_loss");
  CHECK(h2["best_epoch"].get<int>() == best_game_epoch(h2, "validation_loss", 0.0));
  std::ifstream predictions(dir / "out" / "predictions.csv");
  std::string header, line;
  std::getline(predictions, header);
  CHECK(header == "label,weight,domain,score_bkg,score_ggh,score_sig");
  int signal = 0, other = 0;
  while (std::getline(predictions, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    REQUIRE(fields.size() == 6);
    if (fields[0] == "2") {
      ++signal;
      CHECK((fields[2] == "0" || fields[2] == "1" || fields[2] == "2"));
    } else {
      ++other;
      CHECK(fields[2].empty());
    }
  }
  CHECK(signal > 50);
  CHECK(other > 100);
}

TEST_CASE("ADNN: every key of the adnn section is checked, with the key, the value and what is allowed") {
  using namespace adnn_test;
  const auto base = config_for("events.csv", "out");
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = base;
    j["adnn"][key] = value;
    return adnn_error(j);
  };
  const std::string at = "config 'c.json': key 'adnn.";
  CHECK(adnn_error(base) == "no error");
  CHECK(with("alpha", -1) == at + "alpha' is -1; expected a number in [0, 1e+06]");
  CHECK(with("alpha", "big") == at + "alpha' is \"big\"; expected a number");
  CHECK(with("alpha_schedule", "cosine") ==
        at + "alpha_schedule' is \"cosine\"; allowed: constant, linear, ganin");
  CHECK(with("adversary_class", "signal")
            .find(at + "adversary_class' is \"signal\", which is not a value of "
                       "'data.label_classes' (\"bkg\", \"ggh\", \"sig\")") == 0);
  CHECK(with("adversary_class", -2) == at + "adversary_class' is -2; expected an integer from 0 to 1000000");
  CHECK(with("adversary_hidden", 5).find(at + "adversary_hidden' is 5; expected a list of layer widths") ==
        0);
  CHECK(with("adversary_input", "last") == at + "adversary_input' is \"last\"; allowed: penultimate, output");
  CHECK(with("adversary_steps", 0) == at + "adversary_steps' is 0; expected an integer from 1 to 1000");
  CHECK(with("pretrain_classifier_epochs", 1.5) ==
        at + "pretrain_classifier_epochs' is 1.5; expected an integer from 0 to 1000000000");
  CHECK(with("pretrain_adversary_epochs", -1) ==
        at + "pretrain_adversary_epochs' is -1; expected an integer from 0 to 1000000000");
  CHECK(with("adversary_optimiser", {{"name", "lbfgs"}}) ==
        at + "adversary_optimiser.name' is \"lbfgs\"; allowed: sgd, rmsprop, adam, adamw");
  CHECK(with("adversary_optimiser", {{"learning_rate", 0}}) ==
        at + "adversary_optimiser.learning_rate' is 0; expected a number in (0, 1000]");
  CHECK(with("lambda", 1).find(at + "lambda' is not a known key") == 0);
  // training.early_stopping.figure: the figures of this method, named in the error.
  nlohmann::json figure = base;
  figure["training"]["early_stopping"] = {{"figure", "ks_source_target"}};
  CHECK(adnn_error(figure) ==
        "config 'c.json': key 'training.early_stopping.figure' is \"ks_source_target\"; "
        "method \"adnn\" allows \"mean_ks\", \"validation_loss\" (the default is "
        "\"mean_ks\")");
  figure["method"] = "classifier";
  figure.erase("adnn");
  figure.erase("loss");
  figure["data"].erase("domain");
  figure["data"].erase("domain_classes");
  figure["training"]["early_stopping"]["figure"] = "mean_ks";
  try {
    agnostic::train::config_from_json(figure, "c.json");
    FAIL("no error");
  } catch (const agnostic::Error& e) {
    CHECK(std::string(e.what()) ==
          "config 'c.json': key 'training.early_stopping.figure' is \"mean_ks\"; method "
          "\"classifier\" allows \"validation_loss\" (the default is "
          "\"validation_loss\")");
  }
  // Defaults, and the adversary's optimiser copied from "optimiser" when not given.
  nlohmann::json minimal = base;
  minimal["adnn"] = {{"adversary_class", 2}};
  const auto c = agnostic::train::config_from_json(minimal, "c.json");
  const auto a = agnostic::train::adnn_config(c);
  CHECK(a.alpha == 20.0);
  CHECK(a.alpha == agnostic::adversarial::AdnnOptions{}.alpha.final_value);
  CHECK(a.alpha_schedule == "constant");
  CHECK(a.adversary_class == 2);
  CHECK(a.adversary_hidden == std::vector<Index>{32, 32});
  CHECK(a.adversary_input == "penultimate");
  CHECK(a.adversary_steps == 5);
  CHECK(a.pretrain_classifier_epochs == 15);
  CHECK(a.pretrain_adversary_epochs == 5);
  CHECK(a.adversary_optimiser.learning_rate == 0.005);
  // Missing pieces.
  nlohmann::json no_class = base;
  no_class["adnn"].erase("adversary_class");
  CHECK(adnn_error(no_class).find(at + "adversary_class' is missing; give the class whose events train the "
                                       "adversary") == 0);
  nlohmann::json no_section = base;
  no_section.erase("adnn");
  CHECK(adnn_error(no_section).find("config 'c.json': key 'adnn' is missing") == 0);
  nlohmann::json no_domain = base;
  no_domain["data"].erase("domain");
  no_domain["data"].erase("domain_classes");
  CHECK(adnn_error(no_domain).find(
            "config 'c.json': key 'data.domain' is missing; method \"adnn\" needs the domain") == 0);
  nlohmann::json binary = base;
  binary["loss"] = "binary_cross_entropy";
  CHECK(adnn_error(binary).find(
            "config 'c.json': key 'loss' is \"binary_cross_entropy\" but method \"adnn\" trains "
            "a softmax classifier") == 0);
  // A class index beyond the label's classes is found once the data are read.
  const auto dir = fresh("errors");
  write_csv(dir / "events.csv", 90, 1);
  nlohmann::json too_high = config_for(dir / "events.csv", dir / "out");
  too_high["adnn"]["adversary_class"] = 5;
  std::ostringstream log;
  CHECK_THROWS_WITH_AS(
      agnostic::train::run(agnostic::train::config_from_json(too_high, "c.json"), {.out = &log}),
      "config 'c.json': key 'adnn.adversary_class' is 5 but the label column 'process' has 3 "
      "classes (0 to 2)",
      agnostic::Error);
}

// ---- cGAN (003 sec. 3): train/cgan.hpp, train/cgan_model.hpp, train/methods/cgan.hpp ----

#include <agnostic/train/cgan.hpp>
#include <agnostic/train/cgan_model.hpp>
#include <agnostic/train/methods/cgan.hpp>

using agnostic::adversarial::CganGenerator;

namespace cgan_test {

inline std::filesystem::path fresh(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("agnostic_test_cgan_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// xc uniform in [0, 1]; xs = 0.3 + 0.4 xc + noise; events with 0.45 <= xc <= 0.55 get `inside`
// added to xs (and xc moved by `move`): what a blinded run must never see.
inline void write_csv(const std::filesystem::path& path, int n, double inside, double move = 0.0) {
  Rng rng(3);
  std::ofstream out(path);
  out << "xs,xc\n";
  out.precision(17);
  for (int i = 0; i < n; ++i) {
    double xc = rng.uniform();
    double xs = 0.3 + 0.4 * xc + 0.1 * rng.normal();
    if (xc >= 0.45 && xc <= 0.55) {
      xs += inside;
      xc = std::clamp(xc + move, 0.45, 0.55);
    }
    out << xs << "," << xc << "\n";
  }
}

inline nlohmann::json config_for(const std::filesystem::path& data, const std::filesystem::path& out) {
  return {{"method", "cgan"},
          {"data", {{"files", {data.string()}}, {"features", {"xs"}}, {"validation_fraction", 0.25}}},
          {"cgan",
           {{"conditions", {"xc"}},
            {"latent", 2},
            {"generator_hidden", {8}},
            {"discriminator_hidden", {8}},
            {"discriminator_steps", 2},
            {"blind", {{"column", "xc"}, {"range", {0.45, 0.55}}}},
            {"generator_average", 0.9},
            {"ensemble", {{"members", 1}}}}},  // small and explicit: the defaults train 5 members
          {"training", {{"epochs", 2}, {"batch_size", 32}, {"seed", 5}, {"threads", 1}}},
          {"output", {{"directory", out.string()}, {"progress", "silent"}}}};
}

inline std::string cgan_error(const nlohmann::json& j) {
  try {
    agnostic::train::cgan_config(agnostic::train::config_from_json(j, "c.json"));
  } catch (const agnostic::Error& e) {
    return e.what();
  }
  return "no error";
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace cgan_test

TEST_CASE("cGAN: L_D and L_G by hand, and their gradients against finite differences in double") {
  Rng init(7);
  Sequential<double> generator({3 + 1, 5, 2}, Activation::tanh(), Activation::tanh(), init,
                               Initialiser::he_normal(), "generator");
  Sequential<double> discriminator({2 + 1, 5, 1}, Activation::tanh(), Activation::identity(), init,
                                   Initialiser::he_normal(), "discriminator");
  const Index n = 5;
  MatrixD real(n, 3), z(n, 3), c(n, 1);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 3; ++j) real(i, j) = init.uniform(-1.0, 1.0);
    for (Index j = 0; j < 3; ++j) z(i, j) = init.normal();
    c(i, 0) = real(i, 2);
  }
  const MatrixD ones = MatrixD::Ones(n, 1), zeros = MatrixD::Zero(n, 1);
  // By hand: -mean log sigmoid(D(real)) - mean log(1 - sigmoid(D(G(z, c), c))), and -mean log
  // sigmoid(D(G(z, c), c)).
  auto net = [](const Sequential<double>& s, const MatrixD& x, bool tanh_last) {
    const Dense<double>& a = s.dense_layer(0);
    const Dense<double>& b = s.dense_layer(1);
    const MatrixD h = ((x * a.weight.value.transpose()).rowwise() + a.bias.value.row(0)).array().tanh();
    MatrixD y = (h * b.weight.value.transpose()).rowwise() + b.bias.value.row(0);
    return tanh_last ? MatrixD(y.array().tanh()) : y;
  };
  MatrixD gz(n, 4);
  gz << z, c;
  MatrixD fake(n, 3);
  fake << net(generator, gz, true), c;
  const MatrixD d_real = net(discriminator, real, false), d_fake = net(discriminator, fake, false);
  auto log_sigmoid = [](double v) { return -std::log1p(std::exp(-v)); };
  double ld = 0.0, lg = 0.0;
  for (Index i = 0; i < n; ++i) {
    ld -= (log_sigmoid(d_real(i, 0)) + log_sigmoid(-d_fake(i, 0))) / static_cast<double>(n);
    lg -= log_sigmoid(d_fake(i, 0)) / static_cast<double>(n);
  }
  {
    Tape<double> tape;
    const auto d = agnostic::adversarial::cgan_discriminator_loss(
        generator, discriminator, tape.input(real), tape.input(c), tape.input(z), OperandOf<double>(ones),
        OperandOf<double>(zeros));
    const auto g = agnostic::adversarial::cgan_generator_loss(generator, discriminator, tape.input(c),
                                                              tape.input(z), OperandOf<double>(ones));
    CHECK(d.item() == doctest::Approx(ld).epsilon(1e-12));
    CHECK(g.item() == doctest::Approx(lg).epsilon(1e-12));
  }
  auto params = [](Sequential<double>& s) {
    std::vector<Parameter<double>*> out;
    const auto group = s.parameters();
    for (std::size_t i = 0; i < group.size(); ++i) out.push_back(&group[i]);
    return out;
  };
  // D's step: G frozen; the gradient in D's parameters and in the inputs (through the frozen G).
  generator.freeze();
  auto report = gradcheck(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return agnostic::adversarial::cgan_discriminator_loss(
            generator, discriminator, v[0], v[1], v[2], OperandOf<double>(ones), OperandOf<double>(zeros));
      },
      {real, c, z}, params(discriminator));
  CHECK_MESSAGE(report.ok, report.worst);
  CHECK(report.compared > 30);
  generator.unfreeze();
  // G's step: D frozen; the gradient in G's parameters and in the inputs.
  discriminator.freeze();
  report = gradcheck(
      [&](Tape<double>&, const std::vector<Var<double>>& v) {
        return agnostic::adversarial::cgan_generator_loss(generator, discriminator, v[0], v[1],
                                                          OperandOf<double>(ones));
      },
      {c, z}, params(generator));
  CHECK_MESSAGE(report.ok, report.worst);
  CHECK(report.compared > 30);
}

TEST_CASE("cGAN: the [-1, 1] scaling round-trips, and a generator file round-trips to the same events") {
  MatrixD x(4, 2);
  x << 1.0, -5.0, 3.0, 5.0, 2.0, 0.0, 1.5, 2.5;
  const auto s = agnostic::adversarial::RangeScaling::fit(x);
  const Matrix<float> y = s.apply<float>(x);
  CHECK(y.col(0).minCoeff() == -1.0f);
  CHECK(y.col(0).maxCoeff() == 1.0f);
  CHECK(y(2, 1) == 0.0f);
  CHECK(y(2, 0) == doctest::Approx(0.0));
  const MatrixD back = s.undo(y);
  CHECK((back - x).cwiseAbs().maxCoeff() < 1e-6);
  // A constant column maps to 0 and back.
  MatrixD flat = MatrixD::Constant(3, 1, 2.0);
  const auto f = agnostic::adversarial::RangeScaling::fit(flat);
  CHECK(f.apply<float>(flat).cwiseAbs().maxCoeff() == 0.0f);

  Rng init(3);
  CganGenerator g;
  g.conditions = {"xc"};
  g.features = {"a", "b"};
  g.latent = 3;
  g.condition_scaling = agnostic::adversarial::RangeScaling{{0.0}, {1.0}};
  g.feature_scaling = agnostic::adversarial::RangeScaling{{-2.0, 10.0}, {2.0, 20.0}};
  for (int m = 0; m < 2; ++m) {
    Sequential<float> net({4, 6, 2}, Activation::leaky_relu(0.4), Activation::tanh(), init,
                          Initialiser::he_normal(), "generator");
    g.members.push_back({static_cast<std::uint64_t>(m), 1.0 + m, agnostic::io::dense_weights(net)});
  }
  const CganGenerator back_g =
      agnostic::adversarial::cgan_generator_from_json(nlohmann::json::parse(to_json(g).dump()), "g.json");
  MatrixD conditions(3, 1);
  conditions << 0.1, 0.5, 0.9;
  const MatrixD a = agnostic::adversarial::generate(g, conditions, 4, 11);
  const MatrixD b = agnostic::adversarial::generate(back_g, conditions, 4, 11);
  CHECK(a == b);
  REQUIRE(a.rows() == 12);
  CHECK(a(5, 0) == 0.5);  // row 1's events 4..7 carry its condition
  CHECK(a.col(1).minCoeff() >= -2.0);
  CHECK(a.col(2).minCoeff() >= 10.0);
  CHECK(a.col(2).maxCoeff() <= 20.0);
  CHECK_THROWS_WITH_AS(agnostic::adversarial::cgan_generator_from_json(
                           {{"format", "agnostic-cgan-generator"}, {"version", 2}}, "g.json"),
                       "generator 'g.json': key 'version' is 2; this build reads version 1", agnostic::Error);
}

TEST_CASE("cGAN: generate is deterministic in the seed, and an ensemble's events alternate its members") {
  using namespace cgan_test;
  const auto dir = fresh("ensemble");
  write_csv(dir / "events.csv", 600, 0.0);
  nlohmann::json j = config_for(dir / "events.csv", dir / "out");
  j["cgan"]["ensemble"] = {{"members", 3}, {"keep", 2}};
  std::ostringstream log;
  const auto result = agnostic::train::run(agnostic::train::config_from_json(j, "c.json"), {.out = &log});
  REQUIRE(result.summary["members"].size() == 3);
  int kept = 0;
  for (const auto& m : result.summary["members"]) kept += m["kept"].get<bool>() ? 1 : 0;
  CHECK(kept == 2);
  for (const char* file :
       {"generator.json", "discriminator.json", "member0_history.json", "member2_checkpoint.json"})
    CHECK_MESSAGE(std::filesystem::exists(dir / "out" / file), file);
  const auto history = nlohmann::json::parse(std::ifstream(dir / "out" / "member1_history.json"));
  for (const char* key : {"train_discriminator_loss", "train_generator_loss", "quality_chi2"})
    CHECK_MESSAGE(history["epochs"][0].contains(key), key);

  const CganGenerator g =
      agnostic::adversarial::read_cgan_generator((dir / "out" / "generator.json").string());
  REQUIRE(g.members.size() == 2);
  CHECK(g.members[0].quality_chi2 <= g.members[1].quality_chi2);
  MatrixD conditions(5, 1);
  conditions << 0.05, 0.3, 0.5, 0.7, 0.95;
  const MatrixD a = agnostic::adversarial::generate(g, conditions, 3, 9);
  CHECK(a == agnostic::adversarial::generate(g, conditions, 3, 9));
  CHECK(a != agnostic::adversarial::generate(g, conditions, 3, 10));
  const MatrixD m0 = agnostic::adversarial::generate(g, conditions, 3, 9, 0);
  const MatrixD m1 = agnostic::adversarial::generate(g, conditions, 3, 9, 1);
  for (Index e = 0; e < a.rows(); ++e) CHECK(a.row(e) == (e % 2 == 0 ? m0 : m1).row(e));
  CHECK(m0 != m1);

  // The template of the ensemble: each member's histogram, divided by the events per row.
  const std::vector<double> edges = agnostic::adversarial::parse_bin_edges("4:0:1");
  CHECK(edges == std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0});
  const std::vector<agnostic::adversarial::ColumnCut> cuts{agnostic::adversarial::parse_column_cut("xs>0.5")};
  const MatrixD h = agnostic::adversarial::ensemble_histograms(g, conditions, "xc", edges, cuts, 3, 9);
  REQUIRE(h.rows() == 2);
  for (Index m = 0; m < 2; ++m) {
    const MatrixD events = agnostic::adversarial::generate(
        g, conditions, 3, 9 + static_cast<std::uint64_t>(m), static_cast<std::size_t>(m));
    double passing = 0.0;
    for (Index e = 0; e < events.rows(); ++e) passing += events(e, 1) > 0.5 ? 1.0 : 0.0;
    CHECK(h.row(m).sum() == doctest::Approx(passing / 3.0));
  }
  CHECK_THROWS_WITH_AS(agnostic::adversarial::parse_column_cut("xs=1"),
                       "cut 'xs=1' is not of the form COLUMN>VALUE or COLUMN<VALUE", agnostic::Error);
  CHECK_THROWS_WITH_AS(agnostic::adversarial::parse_bin_edges("0,2,1"),
                       "bins '0,2,1': the edges are not strictly increasing at entry 2", agnostic::Error);
}

TEST_CASE(
    "cGAN: events inside the blind window are never used (changing them leaves every weight bit-identical)") {
  using namespace cgan_test;
  const auto dir = fresh("blind");
  write_csv(dir / "a.csv", 500, 0.0);
  write_csv(dir / "b.csv", 500, 3.0, 0.02);
  CHECK(read_text(dir / "a.csv") != read_text(dir / "b.csv"));
  std::ostringstream log;
  nlohmann::json ja = config_for(dir / "a.csv", dir / "out_a");
  nlohmann::json jb = config_for(dir / "b.csv", dir / "out_b");
  const auto ra = agnostic::train::run(agnostic::train::config_from_json(ja, "c.json"), {.out = &log});
  const auto rb = agnostic::train::run(agnostic::train::config_from_json(jb, "c.json"), {.out = &log});
  CHECK(ra.summary["blinded_events"].get<int>() > 20);
  CHECK(ra.summary["blinded_events"] == rb.summary["blinded_events"]);
  CHECK(read_text(dir / "out_a" / "generator.json") == read_text(dir / "out_b" / "generator.json"));
  CHECK(read_text(dir / "out_a" / "discriminator.json") == read_text(dir / "out_b" / "discriminator.json"));
  // Without the window the same change does reach the generator.
  ja["cgan"].erase("blind");
  jb["cgan"].erase("blind");
  agnostic::train::run(agnostic::train::config_from_json(ja, "c.json"), {.out = &log});
  agnostic::train::run(agnostic::train::config_from_json(jb, "c.json"), {.out = &log});
  CHECK(read_text(dir / "out_a" / "generator.json") != read_text(dir / "out_b" / "generator.json"));
}

TEST_CASE("cGAN: every key of the cgan section is checked, with the key, the value and what is allowed") {
  using namespace cgan_test;
  const auto base = config_for("events.csv", "out");
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = base;
    j["cgan"][key] = value;
    return cgan_error(j);
  };
  const std::string at = "config 'c.json': key 'cgan.";
  CHECK(cgan_error(base) == "no error");
  CHECK(with("conditions", nlohmann::json::array()) ==
        at + "conditions' is empty; give at least one conditioning column");
  CHECK(with("conditions", {"xs"}).find(at + "conditions' names \"xs\", which is also in 'data.features'") ==
        0);
  CHECK(with("latent", 0) == at + "latent' is 0; expected an integer from 1 to 100000");
  CHECK(with("generator_hidden", 5).find(at + "generator_hidden' is 5; expected a list of layer widths") ==
        0);
  CHECK(with("discriminator_steps", 0) ==
        at + "discriminator_steps' is 0; expected an integer from 1 to 1000");
  CHECK(with("generator_average", 1.0) ==
        at + "generator_average' is 1; expected a decay in [0, 1) (0 = no averaging)");
  CHECK(with("generator_average", -0.5) == at + "generator_average' is -0.5; expected a number in [0, 1]");
  CHECK(with("blind", {{"column", "xc"}, {"range", {0.6, 0.5}}}) ==
        at + "blind.range' is [0.6,0.5]; expected [lo, hi] with lo < hi (events with lo <= value <= hi are "
             "never used)");
  CHECK(with("blind", {{"range", {0.4, 0.5}}}).find(at + "blind.column' is missing") == 0);
  CHECK(with("blind", {{"column", "xc"}, {"range", {0.4, 0.5}}, {"width", 1}})
            .find(at + "blind.width' is not a known key") == 0);
  CHECK(with("ensemble", {{"members", 2}, {"keep", 3}}) ==
        at + "ensemble.keep' is 3 but only 2 members are trained; keep must be <= members");
  CHECK(with("ensemble", {{"members", 0}}) ==
        at + "ensemble.members' is 0; expected an integer from 1 to 10000");
  CHECK(with("lambda", 1).find(at + "lambda' is not a known key") == 0);
  // training.early_stopping.figure: a cGAN has one, the held-out quality chi2.
  nlohmann::json figure = base;
  figure["training"]["early_stopping"] = {{"figure", "validation_loss"}};
  CHECK(cgan_error(figure) ==
        "config 'c.json': key 'training.early_stopping.figure' is \"validation_loss\"; "
        "method \"cgan\" allows \"quality_chi2\" (the default is \"quality_chi2\")");
  nlohmann::json none = base;
  none.erase("cgan");
  CHECK(cgan_error(none).find("config 'c.json': key 'cgan' is missing") == 0);
  // Defaults: the set-up that met issue 19's figures on the harder density (docs/cgan.md, "Ensembles,
  // and the ratio of D to G steps"; examples/generative/harder/run.sh best_dsteps4).
  nlohmann::json minimal = base;
  minimal["cgan"] = {{"conditions", {"xc"}}};
  const auto g = agnostic::train::cgan_config(agnostic::train::config_from_json(minimal, "c.json"));
  CHECK(g.latent == 9);
  CHECK(g.generator_hidden == std::vector<Index>(3, 64));
  CHECK(g.discriminator_hidden == std::vector<Index>(3, 128));
  CHECK(g.discriminator_steps == 4);
  CHECK(g.generator_average == 0.999);
  CHECK(g.members == 5);
  CHECK(g.keep == 2);
  CHECK(g.blind_column.empty());
  CHECK(g.activation == Activation::leaky_relu(0.4));
  CHECK(g.init == Initialiser::he_normal());
  // The optimiser: Adam 2e-4, beta1 0.5, the rest as an "optimiser" section {"name": "adam"} reads.
  const auto& opt = g.optimiser;
  CHECK(opt.name == "adam");
  CHECK(opt.learning_rate == 2e-4);
  CHECK(opt.beta1 == 0.5);
  nlohmann::json adam = minimal;
  adam["optimiser"] = {{"name", "adam"}, {"learning_rate", 2e-4}, {"beta1", 0.5}};
  const auto read = agnostic::train::cgan_config(agnostic::train::config_from_json(adam, "c.json")).optimiser;
  CHECK(opt.beta2 == read.beta2);
  CHECK(opt.epsilon == read.epsilon);
  CHECK(opt.weight_decay == read.weight_decay);
  CHECK(opt.l2 == read.l2);
  CHECK(opt.l2 == 0.0);
  CHECK(opt.clip.value == read.clip.value);
  CHECK(opt.clip.norm == read.clip.norm);
  CHECK(opt.clip.value == 0.0);
  CHECK(opt.clip.norm == 0.0);
  // D's widths default to twice G's; the kept members to the smaller of 2 and the members.
  minimal["cgan"]["generator_hidden"] = {16, 8};
  minimal["cgan"]["ensemble"] = {{"members", 1}};
  const auto h = agnostic::train::cgan_config(agnostic::train::config_from_json(minimal, "c.json"));
  CHECK(h.discriminator_hidden == std::vector<Index>{32, 16});
  CHECK(h.members == 1);
  CHECK(h.keep == 1);
  minimal["cgan"]["discriminator_hidden"] = {5};
  minimal["cgan"]["ensemble"] = {{"members", 3}};
  const auto k = agnostic::train::cgan_config(agnostic::train::config_from_json(minimal, "c.json"));
  CHECK(k.discriminator_hidden == std::vector<Index>{5});
  CHECK(k.members == 3);
  CHECK(k.keep == 2);
  minimal["cgan"]["ensemble"] = {{"keep", 4}};
  const auto m = agnostic::train::cgan_config(agnostic::train::config_from_json(minimal, "c.json"));
  CHECK(m.members == 5);
  CHECK(m.keep == 4);
  minimal["cgan"] = {{"conditions", {"xc"}}};
  // The training keys a cGAN defaults to its own values, only where the config leaves them out.
  nlohmann::json bare = minimal;
  bare["data"].erase("validation_fraction");
  bare.erase("training");
  const auto t = agnostic::train::cgan_training_defaults(agnostic::train::config_from_json(bare, "c.json"));
  CHECK(t.training.epochs == 150);
  CHECK(t.training.batch_size == 512);
  CHECK(t.data.validation_fraction == 0.25);
  CHECK(t.training.early_stopping.enabled);
  CHECK(t.training.early_stopping.patience == 10);
  bare["training"] = {{"seed", 2}};
  CHECK(agnostic::train::cgan_training_defaults(agnostic::train::config_from_json(bare, "c.json"))
            .training.epochs == 150);
  const auto given =
      agnostic::train::cgan_training_defaults(agnostic::train::config_from_json(base, "c.json"));
  CHECK(given.training.epochs == 2);
  CHECK(given.training.batch_size == 32);
  nlohmann::json fraction = base;
  fraction["data"]["validation_fraction"] = 0.3;
  CHECK(agnostic::train::cgan_training_defaults(agnostic::train::config_from_json(fraction, "c.json"))
            .data.validation_fraction == 0.3);
  // null is no value in a training config (docs/config.md): an error naming the key, not the default.
  minimal["model"] = {{"activation", nullptr}};
  CHECK(cgan_error(minimal).find("config 'c.json': key 'model.activation' is null; give it a value, or "
                                 "leave the key out for its default") == 0);
  minimal.erase("model");
  minimal["optimiser"] = {{"name", "adam"}};
  CHECK(agnostic::train::cgan_config(agnostic::train::config_from_json(minimal, "c.json")).optimiser.name ==
        "adam");
  // A blind column or a condition missing from the data is found when the data are read.
  const auto dir = fresh("errors");
  write_csv(dir / "events.csv", 100, 0.0);
  nlohmann::json wrong = config_for(dir / "events.csv", dir / "out");
  wrong["cgan"]["blind"]["column"] = "mass";
  std::ostringstream log;
  CHECK_THROWS_WITH_AS(
      agnostic::train::run(agnostic::train::config_from_json(wrong, "c.json"), {.out = &log}),
      doctest::Contains("the blind column 'mass' (cgan.blind.column) is not a numeric column"),
      agnostic::Error);
}

TEST_CASE(
    "cGAN: stopped after epoch 2 and resumed from its checkpoint, a run ends bit for bit as an uninterrupted "
    "one") {
  using namespace cgan_test;
  const auto dir = fresh("resume");
  Rng rng(8);
  MatrixF data(600, 2);
  for (Index i = 0; i < data.rows(); ++i) {
    data(i, 1) = static_cast<float>(rng.uniform(-1.0, 1.0));
    data(i, 0) = static_cast<float>(std::tanh(0.5 * data(i, 1) + 0.3 * rng.normal()));
  }
  const MatrixF held_out = data.topRows(150), train = data.bottomRows(450);
  auto run_to = [&](Index epochs, const std::filesystem::path& checkpoint, bool resume) {
    Rng init(4);
    Sequential<float> g({3 + 1, 8, 1}, Activation::leaky_relu(0.4), Activation::tanh(), init,
                        Initialiser::he_normal(), "generator");
    Sequential<float> d({1 + 1, 8, 1}, Activation::leaky_relu(0.4), Activation::identity(), init,
                        Initialiser::he_normal(), "discriminator");
    const SGDOptions sgd{.lr = 1e-2, .momentum = 0.9, .nesterov = true, .l2 = 1e-4, .clip = {.value = 1.0}};
    SGD<float> g_opt(g.parameters(), sgd), d_opt(d.parameters(), sgd);
    agnostic::adversarial::CganOptions o;
    o.latent = 3;
    o.batch_size = 32;
    o.generator_average = 0.9;
    agnostic::adversarial::CganScheme<float> scheme(g, d, g_opt, d_opt, train, &held_out, o);
    agnostic::train::TrainerOptions to;
    to.stopping.max_epochs = epochs;
    to.monitor = "quality_chi2";
    to.restore_best = false;
    to.checkpoint = checkpoint;
    to.verbosity = agnostic::train::Verbosity::silent;
    agnostic::train::Trainer<float> trainer(scheme, to);
    const auto& history = resume ? trainer.resume(checkpoint) : trainer.fit();
    std::vector<MatrixF> values;
    for (Parameter<float>* p : scheme.parameters()) values.push_back(p->value);
    return std::make_pair(values, history.epochs.back().figures.at("quality_chi2"));
  };
  const auto whole = run_to(4, dir / "whole.json", false);
  run_to(2, dir / "part.json", false);
  const auto resumed = run_to(4, dir / "part.json", true);
  REQUIRE(whole.first.size() == resumed.first.size());
  CHECK(whole.first.size() == 12);  // G, D and G's average: 2 layers x (weight, bias) each
  for (std::size_t i = 0; i < whole.first.size(); ++i) CHECK(whole.first[i] == resumed.first[i]);
  CHECK(whole.second == resumed.second);
}

// ---- ADNN: classifier weight averaging and the gradient-reversal game step (issue 19) ----

namespace adnn_ga_test {

using agnostic::adversarial::AdnnGameStep;
using agnostic::adversarial::AdnnScheme;
using agnostic::adversarial::AdversaryInput;
using agnostic::adversarial::ClassifierAverage;

inline std::vector<MatrixD> adnn_ga_values(const ParameterGroup<float>& group) {
  std::vector<MatrixD> out;
  for (std::size_t i = 0; i < group.size(); ++i) out.push_back(group[i].value.cast<double>());
  return out;
}
inline double adnn_ga_largest_difference(const std::vector<MatrixD>& a, const std::vector<MatrixD>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, (a[i] - b[i]).cwiseAbs().maxCoeff());
  return worst;
}

}  // namespace adnn_ga_test

TEST_CASE("ADNN: the averaged classifier is the mean (or the moving average) of its weights over the game") {
  using namespace adnn_ga_test;
  const auto data = three_class_data(300, 5);
  for (ClassifierAverage kind : {ClassifierAverage::uniform, ClassifierAverage::exponential}) {
    CAPTURE(static_cast<int>(kind));
    Rng init(2);
    Sequential<float> classifier({4, 10, 8, 3}, Activation::relu(), Activation::identity(), init,
                                 Initialiser::glorot_uniform(), "classifier");
    Sequential<float> adversary({8, 6, 3}, Activation::relu(), Activation::identity(), init,
                                Initialiser::glorot_uniform(), "adversary");
    Adam<float> c_opt(classifier.parameters(), {.lr = 1e-2});
    Adam<float> a_opt(adversary.parameters(), {.lr = 1e-2});
    const double decay = 0.8;
    AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                             {.alpha = {agnostic::adversarial::StrengthShape::constant, 5.0},
                              .adversary_steps = 2,
                              .classifier_average = kind,
                              .average_decay = decay,
                              .adversary_batch_size = 0,
                              .pretrain_classifier_epochs = 1,
                              .pretrain_adversary_epochs = 1,
                              .game_epochs = 2,
                              .batch_size = 60});
    CHECK(scheme.parameters().size() == 2 * classifier.parameters().size() + adversary.parameters().size());
    Rng rng(1);
    std::vector<MatrixD> sum, moving;  // the independent averages, in double
    Index steps = 0;
    for (Index epoch = 1; epoch <= 4; ++epoch) {
      scheme.start_epoch(epoch, rng);
      for (Index b = 0; b < scheme.batches(); ++b) {
        REQUIRE(std::isfinite(scheme.step(b).loss));
        const auto raw = adnn_ga_values(classifier.parameters());
        if (epoch <= 2) {
          moving = raw;  // before the game the average is the classifier itself
          continue;
        }
        ++steps;
        if (sum.empty()) sum.assign(raw.size(), MatrixD());
        for (std::size_t i = 0; i < raw.size(); ++i) {
          sum[i] = steps == 1 ? raw[i] : MatrixD(sum[i] + raw[i]);
          moving[i] = decay * moving[i] + (1.0 - decay) * raw[i];
        }
      }
      const auto raw = adnn_ga_values(classifier.parameters());
      scheme.evaluate();
      // After the epoch the classifier holds the average, the other set the raw weights.
      CHECK(adnn_ga_largest_difference(adnn_ga_values(scheme.averaged_parameters()), raw) == 0.0);
      std::vector<MatrixD> expected = raw;
      if (epoch > 2)
        for (std::size_t i = 0; i < raw.size(); ++i)
          expected[i] =
              kind == ClassifierAverage::uniform ? MatrixD(sum[i] / static_cast<double>(steps)) : moving[i];
      CHECK(adnn_ga_largest_difference(adnn_ga_values(classifier.parameters()), expected) < 2e-6);
      if (epoch > 2) CHECK(adnn_ga_largest_difference(expected, raw) > 1e-3);  // the average is not C
    }
    CHECK(steps == 2 * scheme.batches());
    // A second evaluate() changes nothing; the next epoch trains on from the raw weights.
    const auto average = adnn_ga_values(classifier.parameters()),
               raw = adnn_ga_values(scheme.averaged_parameters());
    scheme.evaluate();
    CHECK(adnn_ga_largest_difference(adnn_ga_values(classifier.parameters()), average) == 0.0);
    scheme.start_epoch(5, rng);
    CHECK(adnn_ga_largest_difference(adnn_ga_values(classifier.parameters()), raw) == 0.0);
  }
}

TEST_CASE("ADNN: the gradient-reversal step: C gets dL(C) - alpha dL(A), A gets dL(A) (finite differences)") {
  using namespace adnn_ga_test;
  Rng init(4);
  Sequential<double> classifier({3, 4, 3, 3}, Activation::tanh(), Activation::identity(), init,
                                Initialiser::glorot_uniform(), "classifier");
  Sequential<double> adversary({3, 4, 2}, Activation::tanh(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "adversary");
  MatrixD x(6, 3);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < 3; ++j) x(i, j) = init.normal();
  const std::vector<Index> labels{0, 1, 2, 1, 0, 1}, adversary_rows{1, 3, 5}, domains{0, 1, 1};
  VectorD weights(6), adversary_weights(3);
  weights << 1.0, 0.5, 2.0, 1.5, 1.0, 0.7;
  adversary_weights << 0.5, 1.5, 0.7;
  const double alpha = 2.5;
  auto losses = [&](Tape<double>& tape, bool reversal) {
    return agnostic::adversarial::adnn_losses(tape, classifier, adversary, tape.input(x), labels, weights,
                                              adversary_rows, domains, adversary_weights, alpha,
                                              AdversaryInput::penultimate, true, reversal);
  };
  Tape<double> tape;
  const auto l = losses(tape, true);
  CHECK(l.joint.item() == doctest::Approx(l.classifier_loss.item() + l.adversary_loss.item()).epsilon(1e-14));
  CHECK(l.objective.item() ==
        doctest::Approx(l.classifier_loss.item() - alpha * l.adversary_loss.item()).epsilon(1e-14));
  classifier.parameters().zero_grad();
  adversary.parameters().zero_grad();
  tape.backward(l.joint);
  // Central differences of L(C) - alpha L(A) in C's weights and of L(A) in A's.
  auto figure = [&](bool of_classifier) {
    Tape<double> t;
    const auto v = losses(t, false);
    return of_classifier ? v.objective.item() : v.adversary_loss.item();
  };
  int compared = 0;
  for (bool of_classifier : {true, false}) {
    const auto group = of_classifier ? classifier.parameters() : adversary.parameters();
    for (std::size_t p = 0; p < group.size(); ++p)
      for (Index k = 0; k < group[p].value.size(); ++k) {
        double& w = group[p].value.data()[k];
        const double keep = w, h = 1e-6;
        w = keep + h;
        const double up = figure(of_classifier);
        w = keep - h;
        const double down = figure(of_classifier);
        w = keep;
        const double numeric = (up - down) / (2 * h), analytic = group[p].grad.data()[k];
        CHECK_MESSAGE(std::abs(numeric - analytic) <= 1e-7 * (1.0 + std::abs(numeric)), group[p].name, "[", k,
                      "]: ", analytic, " against ", numeric);
        ++compared;
      }
  }
  CHECK(compared == 16 + 15 + 12 + 16 + 10);
}

TEST_CASE("ADNN: the gradient-reversal game step moves C and A once each, then k - 1 steps of A alone") {
  using namespace adnn_ga_test;
  const auto data = three_class_data(300, 5);
  Rng init(2);
  Sequential<float> classifier({4, 10, 8, 3}, Activation::relu(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({8, 6, 3}, Activation::relu(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  Adam<float> c_opt(classifier.parameters(), {.lr = 1e-2});
  Adam<float> a_opt(adversary.parameters(), {.lr = 1e-2});
  AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr,
                           {.alpha = {agnostic::adversarial::StrengthShape::constant, 5.0},
                            .adversary_steps = 3,
                            .game_step = AdnnGameStep::gradient_reversal,
                            .adversary_batch_size = 0,
                            .pretrain_classifier_epochs = 1,
                            .pretrain_adversary_epochs = 0,
                            .game_epochs = 1,
                            .batch_size = 60});
  Rng rng(1);
  scheme.start_epoch(1, rng);  // pre-training: C alone, as with alternating steps
  scheme.step(0);
  CHECK(c_opt.steps() == 1);
  CHECK(a_opt.steps() == 0);
  scheme.start_epoch(2, rng);
  const auto c0 = adnn_ga_values(classifier.parameters()), a0 = adnn_ga_values(adversary.parameters());
  scheme.gather_batch(0);
  const auto l = scheme.joint_step();
  CHECK(l.objective == doctest::Approx(l.classifier_loss - 5.0 * l.adversary_loss).epsilon(1e-5));
  CHECK(c_opt.steps() == 2);
  CHECK(a_opt.steps() == 1);
  CHECK(adnn_ga_largest_difference(adnn_ga_values(classifier.parameters()), c0) > 0.0);
  CHECK(adnn_ga_largest_difference(adnn_ga_values(adversary.parameters()), a0) > 0.0);
  const auto r = scheme.step(1);
  CHECK(std::isfinite(r.loss));
  CHECK(c_opt.steps() == 3);
  CHECK(a_opt.steps() == 1 + 3);
}

TEST_CASE("ADNN: game_step, classifier_average and its decay from the config, errors with key and value") {
  using namespace adnn_test;
  const auto base = config_for("events.csv", "out");
  auto with = [&](const nlohmann::json& keys) {
    nlohmann::json j = base;
    for (const auto& [key, value] : keys.items()) j["adnn"][key] = value;
    return adnn_error(j);
  };
  const std::string at = "config 'c.json': key 'adnn.";
  CHECK(with({{"game_step", "joint"}}) ==
        at + "game_step' is \"joint\"; allowed: alternating, gradient_reversal");
  CHECK(with({{"classifier_average", "swa"}}) ==
        at + "classifier_average' is \"swa\"; allowed: none, uniform, exponential");
  CHECK(with({{"classifier_average", "exponential"}, {"classifier_average_decay", 1}}) ==
        at + "classifier_average_decay' is 1; expected a number in (0, 1) (1 would never move the average)");
  CHECK(with({{"classifier_average", "exponential"}, {"classifier_average_decay", 0}}) ==
        at + "classifier_average_decay' is 0; expected a number in (0, 1]");
  CHECK(with({{"classifier_average", "uniform"}, {"classifier_average_decay", 0.9}}) ==
        at + "classifier_average_decay' is given but 'adnn.classifier_average' is \"uniform\"; the decay is "
             "read with \"exponential\" only");
  const auto c = agnostic::train::config_from_json(base, "c.json");
  const auto a = agnostic::train::adnn_config(c);
  CHECK(a.game_step == "alternating");
  CHECK(a.classifier_average == "none");
  CHECK(a.classifier_average_decay == 0.999);
  // A run with both: the kept model is the averaged classifier of the chosen epoch.
  const auto dir = fresh("ga_average");
  write_csv(dir / "events.csv", 900, 4);
  nlohmann::json j = config_for(dir / "events.csv", dir / "out");
  j["adnn"]["game_step"] = "gradient_reversal";
  j["adnn"]["classifier_average"] = "exponential";
  j["adnn"]["classifier_average_decay"] = 0.9;
  std::ostringstream log;
  const auto result = agnostic::train::run(agnostic::train::config_from_json(j, "c.json"), {.out = &log});
  CHECK(result.summary["epochs"] == 6);
  CHECK(result.summary.contains("model_mean_ks"));
}

// ---- ADNN: the adversary's own batch of adversary-class events (adnn.adversary_batch_size, issue 19) ----

namespace adnn_ga_test {

// L(A) of `adversary` on every adversary-class (label 1) event of `data`, reading `classifier`'s last
// hidden layer, and its gradient in the weights of `differentiated` (the adversary or the classifier,
// into their grad; the other network frozen), on a tape of its own.
inline double adnn_ga_full_loss(Sequential<float>& classifier, Sequential<float>& adversary,
                                const agnostic::train::Dataset<float>& data,
                                Sequential<float>& differentiated) {
  Sequential<float>& frozen = &differentiated == &adversary ? classifier : adversary;
  std::vector<Index> rows, domains;
  for (Index i = 0; i < data.rows(); ++i)
    if (data.labels[static_cast<std::size_t>(i)] == 1) {
      rows.push_back(i);
      domains.push_back(data.domains[static_cast<std::size_t>(i)]);
    }
  MatrixF x(static_cast<Index>(rows.size()), data.cols());
  for (std::size_t k = 0; k < rows.size(); ++k) x.row(static_cast<Index>(k)) = data.features.row(rows[k]);
  Tape<float> tape;
  frozen.freeze();
  differentiated.parameters().zero_grad();
  auto [logits, representation] = classifier.forward_tapped(tape, tape.input(x), classifier.size() - 2);
  (void)logits;
  const VectorF weights = VectorF::Ones(static_cast<Index>(rows.size()));  // three_class_data's weights
  const auto loss = agnostic::categorical_cross_entropy(adversary(tape, representation), domains, weights);
  tape.backward(loss);
  frozen.unfreeze();
  return static_cast<double>(loss.item());
}

}  // namespace adnn_ga_test

TEST_CASE("ADNN: with adversary_batch_size A steps on its own batch, read at C's weights before C's step") {
  using namespace adnn_ga_test;
  const auto data = three_class_data(300, 5);  // 100 adversary-class events
  Rng init(3);
  Sequential<float> classifier({4, 10, 8, 3}, Activation::tanh(), Activation::identity(), init,
                               Initialiser::glorot_uniform(), "classifier");
  Sequential<float> adversary({8, 6, 3}, Activation::tanh(), Activation::identity(), init,
                              Initialiser::glorot_uniform(), "adversary");
  const double lr = 0.5;
  SGD<float> c_opt(classifier.parameters(), {.lr = lr});
  SGD<float> a_opt(adversary.parameters(), {.lr = lr});
  // A's batch is the default's (8192): more than the 100 adversary-class events.
  agnostic::adversarial::AdnnOptions options{.alpha = {agnostic::adversarial::StrengthShape::constant, 5.0},
                                             .adversary_steps = 1,
                                             .pretrain_classifier_epochs = 1,
                                             .pretrain_adversary_epochs = 0,
                                             .game_epochs = 1,
                                             .batch_size = 60};
  REQUIRE(options.adversary_batch_size == 8192);
  AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr, options);
  Rng rng(1);
  scheme.start_epoch(1, rng);
  for (Index b = 0; b < scheme.batches(); ++b) scheme.step(b);
  CHECK(a_opt.steps() == 0);  // C's pre-training: A does not move
  scheme.start_epoch(2, rng);
  Sequential<float> c_before = classifier, a_before = adversary;
  REQUIRE(std::isfinite(scheme.step(0).loss));
  CHECK(a_opt.steps() == 1);
  // The batch is every adversary-class event, once (not 8192 draws, which would count some of them
  // more often than others): A's one SGD step is -lr dL(A) over all of them, with C's weights before
  // its step.
  const double loss_before = adnn_ga_full_loss(c_before, a_before, data, a_before);
  CHECK(loss_before > 0.5);
  const auto expected = adnn_ga_values(a_before.parameters());
  const auto gradient = a_before.parameters();
  double step_size = 0.0, worst = 0.0;
  const auto moved = adnn_ga_values(adversary.parameters());
  for (std::size_t p = 0; p < expected.size(); ++p) {
    const MatrixD want = expected[p] - lr * gradient[p].grad.cast<double>();
    worst = std::max(worst, (moved[p] - want).cwiseAbs().maxCoeff());
    step_size = std::max(step_size, (moved[p] - expected[p]).cwiseAbs().maxCoeff());
  }
  CHECK(step_size > 1e-3);
  CHECK(worst < 1e-6);
  // Not the gradient at C's weights after its step, nor that of the classifier batch's 20 events.
  Sequential<float> a_again = a_before;
  adnn_ga_full_loss(classifier, a_again, data, a_again);
  double after_difference = 0.0;
  for (std::size_t p = 0; p < expected.size(); ++p)
    after_difference = std::max(
        after_difference,
        (moved[p] - (expected[p] - lr * a_again.parameters()[p].grad.cast<double>())).cwiseAbs().maxCoeff());
  CHECK(after_difference > 100 * worst);

  // Smaller batches are drawn per step; the same seeds give the same bits; 0 leaves the epoch's random
  // stream to the classifier's batches, as before the key existed.
  auto train = [&](Index adversary_batch_size, Rng& stream) {
    Rng w(3);
    Sequential<float> c({4, 10, 8, 3}, Activation::relu(), Activation::identity(), w,
                        Initialiser::glorot_uniform(), "classifier");
    Sequential<float> a({8, 6, 3}, Activation::relu(), Activation::identity(), w,
                        Initialiser::glorot_uniform(), "adversary");
    Adam<float> co(c.parameters(), {.lr = 1e-2});
    Adam<float> ao(a.parameters(), {.lr = 1e-2});
    agnostic::adversarial::AdnnOptions o = options;
    o.adversary_steps = 2;
    o.adversary_batch_size = adversary_batch_size;
    o.pretrain_adversary_epochs = 1;
    AdnnScheme<float> s(c, a, co, ao, data, nullptr, o);
    for (Index epoch = 1; epoch <= 3; ++epoch) {
      s.start_epoch(epoch, stream);
      for (Index b = 0; b < s.batches(); ++b) REQUIRE(std::isfinite(s.step(b).loss));
    }
    auto all = adnn_ga_values(c.parameters());
    for (const auto& m : adnn_ga_values(a.parameters())) all.push_back(m);
    return all;
  };
  Rng r1(7), r2(7), r3(7), r4(7);
  const auto own = train(30, r1);
  CHECK(adnn_ga_largest_difference(own, train(30, r2)) == 0.0);
  CHECK(adnn_ga_largest_difference(own, train(0, r3)) > 1e-3);
  std::vector<Index> signal, other;
  for (Index i = 0; i < data.rows(); ++i)
    (data.labels[static_cast<std::size_t>(i)] == 1 ? signal : other).push_back(i);
  agnostic::train::MixedBatchSampler sampler(signal, other, 60, 100.0, 200.0);
  for (int epoch = 0; epoch < 3; ++epoch) sampler.start_epoch(r4);
  CHECK(r3.state().s0 == r4.state().s0);
  CHECK(r3.state().s1 == r4.state().s1);
  CHECK(r1.state().s0 != r4.state().s0);

  CHECK_THROWS_WITH_AS(
      AdnnScheme<float>(classifier, adversary, c_opt, a_opt, data, nullptr, {.adversary_batch_size = -4}),
      "ADNN: adversary_batch_size is -4; must be >= 0 (0: the classifier batch's "
      "adversary-class events)",
      agnostic::Error);
}

namespace adnn_test {
// An ADNN batch key (adnn.<key>): its errors name key and value, it defaults to `default_value` (that
// of AdnnOptions, for a C++ user), and a value given reaches the scheme's options (read by `option`).
template <class Option>
void check_adnn_batch_key(const std::string& key, Index default_value, Index value, Option option) {
  auto base = config_for("events.csv", "out");
  base["adnn"].erase(key);
  auto with = [&](const nlohmann::json& given) {
    nlohmann::json j = base;
    j["adnn"][key] = given;
    return adnn_error(j);
  };
  const std::string at = "config 'c.json': key 'adnn." + key + "' is ";
  const std::string expected = "; expected an integer from 0 to 100000000";
  CHECK(with(-1) == at + "-1" + expected);
  CHECK(with(2.5) == at + "2.5" + expected);
  CHECK(with("4096") == at + "\"4096\"" + expected);
  const auto c = agnostic::train::config_from_json(base, "c.json");
  CHECK(option(agnostic::train::adnn_options(c, agnostic::train::adnn_config(c))) == default_value);
  CHECK(option(agnostic::adversarial::AdnnOptions{}) == default_value);
  nlohmann::json j = base;
  j["adnn"][key] = value;
  const auto set = agnostic::train::config_from_json(j, "c.json");
  CHECK(option(agnostic::train::adnn_options(set, agnostic::train::adnn_config(set))) == value);
}
}  // namespace adnn_test

TEST_CASE("ADNN: adnn.adversary_batch_size from the config, errors with key and value") {
  using namespace adnn_test;
  CHECK(agnostic::train::adnn_config(
            agnostic::train::config_from_json(config_for("events.csv", "out"), "c.json"))
            .adversary_batch_size == 0);  // config_for sets it
  check_adnn_batch_key("adversary_batch_size", 8192, 4096,
                       [](const auto& o) { return o.adversary_batch_size; });
  check_adnn_batch_key("adversary_batch_size", 8192, 0, [](const auto& o) { return o.adversary_batch_size; });
}

// ---- ADNN: C's penalty on a batch of its own (adnn.penalty_batch_size, issue 19) ----

TEST_CASE("ADNN: with penalty_batch_size C's step is -lr (dL(C) - alpha dL(A) on the penalty batch)") {
  using namespace adnn_ga_test;
  const auto data = three_class_data(300, 5);  // 100 adversary-class events
  const double lr = 0.5, alpha = 5.0;
  // One game step of C with SGD from the same weights and batch, at strength `a`; returns C's weights
  // before and after, and A's (which C's step does not move).
  struct Step {
    std::vector<MatrixD> before, after, adversary;
    Sequential<float> c, a;
  };
  auto game_step = [&](double a, Index penalty_batch_size) {
    Rng init(3);
    Sequential<float> classifier({4, 10, 8, 3}, Activation::tanh(), Activation::identity(), init,
                                 Initialiser::glorot_uniform(), "classifier");
    Sequential<float> adversary({8, 6, 3}, Activation::tanh(), Activation::identity(), init,
                                Initialiser::glorot_uniform(), "adversary");
    SGD<float> c_opt(classifier.parameters(), {.lr = lr});
    SGD<float> a_opt(adversary.parameters(), {.lr = lr});
    agnostic::adversarial::AdnnOptions o{.alpha = {agnostic::adversarial::StrengthShape::constant, a},
                                         .adversary_steps = 1,
                                         .penalty_batch_size = penalty_batch_size,
                                         .pretrain_classifier_epochs = 0,
                                         .pretrain_adversary_epochs = 0,
                                         .game_epochs = 1,
                                         .batch_size = 60};
    AdnnScheme<float> scheme(classifier, adversary, c_opt, a_opt, data, nullptr, o);
    Rng rng(1);
    scheme.start_epoch(1, rng);
    Step s{adnn_ga_values(classifier.parameters()), {}, {}, classifier, adversary};
    if (penalty_batch_size > 0) scheme.gather_penalty_batch();
    scheme.gather_batch(0);
    const auto l = scheme.classifier_step();
    REQUIRE(std::isfinite(l.objective));
    s.after = adnn_ga_values(classifier.parameters());
    s.adversary = adnn_ga_values(adversary.parameters());
    return s;
  };
  // A penalty batch of 250 is every one of the 100 adversary-class events, once: C's SGD step differs
  // from the step at alpha = 0 (L(C) of the batch alone) by lr alpha dL(A)/dC over all of them.
  Step with = game_step(alpha, 250), without = game_step(0.0, 250);
  CHECK(adnn_ga_largest_difference(with.before, without.before) == 0.0);
  CHECK(adnn_ga_largest_difference(with.adversary, without.adversary) == 0.0);
  const double penalty = adnn_ga_full_loss(with.c, with.a, data, with.c);  // C's penalty, its gradient in C
  CHECK(penalty > 0.5);
  const auto c_params = with.c.parameters();
  double worst = 0.0, size = 0.0;
  for (std::size_t p = 0; p < with.after.size(); ++p) {
    const MatrixD difference = with.after[p] - without.after[p];
    const MatrixD want = lr * alpha * c_params[p].grad.cast<double>();
    worst = std::max(worst, (difference - want).cwiseAbs().maxCoeff());
    size = std::max(size, want.cwiseAbs().maxCoeff());
  }
  CHECK(size > 1e-3);
  CHECK(worst < 1e-5);
  // Without the key the penalty is the classifier batch's 20 events': another step.
  Step batch_only = game_step(alpha, 0);
  CHECK(adnn_ga_largest_difference(batch_only.before, with.before) == 0.0);
  CHECK(adnn_ga_largest_difference(batch_only.after, with.after) > 100 * worst);

  Rng init(3);
  Sequential<float> classifier({4, 10, 8, 3}, Activation::tanh(), Activation::identity(), init);
  Sequential<float> adversary({8, 6, 3}, Activation::tanh(), Activation::identity(), init);
  SGD<float> c_opt(classifier.parameters(), {.lr = lr});
  SGD<float> a_opt(adversary.parameters(), {.lr = lr});
  CHECK_THROWS_WITH_AS(
      AdnnScheme<float>(classifier, adversary, c_opt, a_opt, data, nullptr, {.penalty_batch_size = -2}),
      "ADNN: penalty_batch_size is -2; must be >= 0 (0: the classifier batch's adversary-class events)",
      agnostic::Error);
}

TEST_CASE("ADNN: adnn.penalty_batch_size from the config, errors with key and value") {
  adnn_test::check_adnn_batch_key("penalty_batch_size", 0, 8192,
                                  [](const auto& o) { return o.penalty_batch_size; });
}
