// Tests for optim/: every update rule against scalar loops written from the published formulas
// (PyTorch's documented algorithms for SGD, RMSprop, Adam and AdamW, clip_grad_norm_), freezing,
// one optimiser per group, schedules, state save/restore, errors and bit-exact determinism.
#include <doctest/doctest.h>

#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/dense.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/core/threads.hpp>
#include <agnostic/nn/sequential.hpp>
#include <agnostic/optim/adam.hpp>
#include <agnostic/optim/adamw.hpp>
#include <agnostic/optim/rmsprop.hpp>
#include <agnostic/optim/sgd.hpp>
#include <agnostic/optim/state_json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace agnostic;

namespace {

// ---------------------------------------------------------------- the reference

// Every option of every optimiser, for the scalar reference below.
struct Config {
  std::string label;
  std::string kind;  // sgd, rmsprop, adam, adamw
  double lr = 0.1;
  double momentum = 0.0, dampening = 0.0;
  bool nesterov = false;
  double rho = 0.9, eps = 1e-8;
  bool centred = false;
  double beta1 = 0.9, beta2 = 0.999;
  double l2 = 0.0, weight_decay = 0.0;
  double clip_norm = 0.0, clip_value = 0.0;
  int schedule = 0;  // 0 constant, 1 exponential, 2 step
  double gamma = 1.0;
  long schedule_steps = 1;
};

// The gradient the tests feed at step k (1-based) to element e whose value is theta: depends on
// theta, so the trajectories of different rules separate.
double gradient(double theta, int k, int e) {
  return 1.4 * theta - 0.9 * std::cos(1.3 * k + 0.5 * e) + 0.2 * e;
}

// Element e of the test parameters: W (2 x 3, row by row: e = 0..5) then b (1 x 3: e = 6..8).
const std::vector<double> kStart = {0.5, -0.3, 0.8, 0.1, -0.7, 0.25, 0.05, -0.15, 0.3};

struct ReferenceResult {
  std::vector<std::vector<double>> theta;  // after each step
  int clipped = 0;                         // steps on which a clipping changed the gradient
};

// The update rules written out element by element from the formulas (no code shared with optim/).
ReferenceResult reference(const Config& o, int steps) {
  const std::size_t n = kStart.size();
  std::vector<double> theta = kStart, b(n, 0.0), v(n, 0.0), a(n, 0.0), m(n, 0.0), g(n);
  ReferenceResult result;
  for (int k = 1; k <= steps; ++k) {
    bool clipped = false;
    for (std::size_t e = 0; e < n; ++e) g[e] = gradient(theta[e], k, static_cast<int>(e));
    if (o.clip_value > 0)
      for (std::size_t e = 0; e < n; ++e) {
        const double c = std::min(std::max(g[e], -o.clip_value), o.clip_value);
        clipped = clipped || c != g[e];
        g[e] = c;
      }
    if (o.clip_norm > 0) {
      double s = 0;
      for (double x : g) s += x * x;
      const double coefficient = o.clip_norm / (std::sqrt(s) + 1e-6);
      if (coefficient < 1) {
        clipped = true;
        for (double& x : g) x *= coefficient;
      }
    }
    result.clipped += clipped;
    double lr = o.lr;
    if (o.schedule == 1) lr = o.lr * std::pow(o.gamma, double(k - 1) / double(o.schedule_steps));
    if (o.schedule == 2) lr = o.lr * std::pow(o.gamma, double((k - 1) / o.schedule_steps));
    for (std::size_t e = 0; e < n; ++e) {
      double ge = g[e] + o.l2 * theta[e];
      if (o.kind == "sgd") {
        if (o.momentum != 0) {
          b[e] = k == 1 ? ge : o.momentum * b[e] + (1 - o.dampening) * ge;
          ge = o.nesterov ? ge + o.momentum * b[e] : b[e];
        }
        theta[e] -= lr * ge;
      } else if (o.kind == "rmsprop") {
        v[e] = o.rho * v[e] + (1 - o.rho) * ge * ge;
        double s = v[e];
        if (o.centred) {
          a[e] = o.rho * a[e] + (1 - o.rho) * ge;
          s -= a[e] * a[e];
        }
        const double d = ge / (std::sqrt(s) + o.eps);
        if (o.momentum > 0) {
          b[e] = o.momentum * b[e] + d;
          theta[e] -= lr * b[e];
        } else {
          theta[e] -= lr * d;
        }
      } else {  // adam, adamw
        theta[e] -= lr * o.weight_decay * theta[e];
        m[e] = o.beta1 * m[e] + (1 - o.beta1) * ge;
        v[e] = o.beta2 * v[e] + (1 - o.beta2) * ge * ge;
        const double m_hat = m[e] / (1 - std::pow(o.beta1, k)), v_hat = v[e] / (1 - std::pow(o.beta2, k));
        theta[e] -= lr * m_hat / (std::sqrt(v_hat) + o.eps);
      }
    }
    result.theta.push_back(theta);
  }
  return result;
}

// ---------------------------------------------------------------- the library side

struct TestParameters {
  Parameter<double> w{"w", 2, 3}, b{"b", 1, 3};
  TestParameters() {
    for (int e = 0; e < 6; ++e) w.value(e / 3, e % 3) = kStart[e];
    for (int e = 0; e < 3; ++e) b.value(0, e) = kStart[6 + e];
  }
  ParameterGroup<double> group() { return ParameterGroup<double>("test", {&w, &b}); }
  double& at(int e) { return e < 6 ? w.value(e / 3, e % 3) : b.value(0, e - 6); }
  double& grad_at(int e) { return e < 6 ? w.grad(e / 3, e % 3) : b.grad(0, e - 6); }
  void set_gradients(int k) {
    for (int e = 0; e < 9; ++e) grad_at(e) = gradient(at(e), k, e);
  }
};

Schedule schedule_of(const Config& o) {
  if (o.schedule == 1) return Schedule::exponential(o.gamma, o.schedule_steps);
  if (o.schedule == 2) return Schedule::step(o.schedule_steps, o.gamma);
  return Schedule::constant();
}

std::unique_ptr<Optimiser<double>> make(const Config& o, ParameterGroup<double> group) {
  const Clipping clip{.norm = o.clip_norm, .value = o.clip_value};
  if (o.kind == "sgd")
    return std::make_unique<SGD<double>>(group, SGDOptions{.lr = o.lr,
                                                           .momentum = o.momentum,
                                                           .dampening = o.dampening,
                                                           .nesterov = o.nesterov,
                                                           .l2 = o.l2,
                                                           .clip = clip,
                                                           .schedule = schedule_of(o)});
  if (o.kind == "rmsprop")
    return std::make_unique<RMSProp<double>>(group, RMSPropOptions{.lr = o.lr,
                                                                   .rho = o.rho,
                                                                   .eps = o.eps,
                                                                   .momentum = o.momentum,
                                                                   .centred = o.centred,
                                                                   .l2 = o.l2,
                                                                   .clip = clip,
                                                                   .schedule = schedule_of(o)});
  if (o.kind == "adamw")
    return std::make_unique<AdamW<double>>(group, AdamWOptions{.lr = o.lr,
                                                               .beta1 = o.beta1,
                                                               .beta2 = o.beta2,
                                                               .eps = o.eps,
                                                               .weight_decay = o.weight_decay,
                                                               .clip = clip,
                                                               .schedule = schedule_of(o)});
  return std::make_unique<Adam<double>>(group, AdamOptions{.lr = o.lr,
                                                           .beta1 = o.beta1,
                                                           .beta2 = o.beta2,
                                                           .eps = o.eps,
                                                           .l2 = o.l2,
                                                           .weight_decay = o.weight_decay,
                                                           .clip = clip,
                                                           .schedule = schedule_of(o)});
}

constexpr int kSteps = 7;

void check_against_reference(const Config& o) {
  CAPTURE(o.label);
  const ReferenceResult expected = reference(o, kSteps);
  if (o.clip_norm > 0 || o.clip_value > 0) REQUIRE(expected.clipped > 0);  // the clipping is exercised
  TestParameters p;
  auto optimiser = make(o, p.group());
  CHECK(optimiser->kind() == o.kind);
  double worst = 0;
  for (int k = 1; k <= kSteps; ++k) {
    p.set_gradients(k);
    optimiser->step();
    for (int e = 0; e < 9; ++e) worst = std::max(worst, std::abs(p.at(e) - expected.theta[k - 1][e]));
    CHECK(p.w.grad.isZero(0.0));  // step() zeroes the gradients
    CHECK(p.b.grad.isZero(0.0));
  }
  CHECK(optimiser->steps() == kSteps);
  INFO("largest difference from the reference: ", worst);
  CHECK(worst < 1e-12);
  // The parameters really moved (a rule that does nothing would fail above, but be explicit).
  CHECK(std::abs(expected.theta.back()[0] - kStart[0]) > 1e-3);
}

Config sgd(std::string label) {
  Config c;
  c.label = std::move(label);
  c.kind = "sgd";
  c.lr = 0.1;
  return c;
}
Config rmsprop(std::string label) {
  Config c;
  c.label = std::move(label);
  c.kind = "rmsprop";
  c.lr = 0.01;
  return c;
}
Config adam(std::string label, std::string kind = "adam") {
  Config c;
  c.label = std::move(label);
  c.kind = std::move(kind);
  c.lr = 0.05;
  return c;
}

}  // namespace

TEST_CASE("SGD: plain, momentum, dampening, Nesterov, L2 match the scalar reference to 1e-12") {
  Config c = sgd("plain");
  check_against_reference(c);
  c = sgd("momentum");
  c.momentum = 0.9;
  check_against_reference(c);
  c.label = "momentum + dampening";
  c.dampening = 0.3;
  check_against_reference(c);
  c = sgd("nesterov");
  c.momentum = 0.9;
  c.nesterov = true;
  check_against_reference(c);
  c.label = "nesterov + L2";
  c.l2 = 0.05;
  check_against_reference(c);
  c = sgd("plain + L2");
  c.l2 = 0.2;
  check_against_reference(c);
}

TEST_CASE("SGD: clipping by value and by global norm, each schedule") {
  Config c = sgd("clip value");
  c.clip_value = 0.4;
  check_against_reference(c);
  c = sgd("clip norm");
  c.momentum = 0.5;
  c.clip_norm = 0.8;
  check_against_reference(c);
  c.label = "clip value then norm";
  c.clip_value = 0.6;
  c.clip_norm = 0.9;
  check_against_reference(c);
  c = sgd("exponential schedule");
  c.schedule = 1;
  c.gamma = 0.7;
  c.schedule_steps = 2;
  check_against_reference(c);
  c = sgd("step schedule");
  c.momentum = 0.9;
  c.nesterov = true;
  c.schedule = 2;
  c.gamma = 0.5;
  c.schedule_steps = 3;
  check_against_reference(c);
}

TEST_CASE("RMSProp: plain, centred, momentum, L2, clipping, schedule match the scalar reference to 1e-12") {
  Config c = rmsprop("plain");
  check_against_reference(c);
  c.label = "rho 0.99, eps 1e-3";
  c.rho = 0.99;
  c.eps = 1e-3;
  check_against_reference(c);
  c = rmsprop("centred");
  c.centred = true;
  check_against_reference(c);
  c = rmsprop("momentum");
  c.momentum = 0.6;
  check_against_reference(c);
  c.label = "centred + momentum + L2";
  c.centred = true;
  c.l2 = 0.1;
  check_against_reference(c);
  c = rmsprop("clip norm + exponential schedule");
  c.clip_norm = 0.5;
  c.schedule = 1;
  c.gamma = 0.9;
  check_against_reference(c);
  c = rmsprop("clip value + step schedule");
  c.clip_value = 0.3;
  c.schedule = 2;
  c.gamma = 0.3;
  c.schedule_steps = 2;
  check_against_reference(c);
}

TEST_CASE("Adam and AdamW: match the scalar reference to 1e-12") {
  Config c = adam("plain");
  check_against_reference(c);
  c.label = "betas 0.8 / 0.9, eps 1e-4";
  c.beta1 = 0.8;
  c.beta2 = 0.9;
  c.eps = 1e-4;
  check_against_reference(c);
  c = adam("L2 (coupled)");
  c.l2 = 0.3;
  check_against_reference(c);
  c = adam("decoupled weight decay", "adamw");
  c.weight_decay = 0.2;
  check_against_reference(c);
  c.label = "AdamW + exponential schedule";
  c.schedule = 1;
  c.gamma = 0.8;
  check_against_reference(c);
  c = adam("clip value + norm + step schedule");
  c.clip_value = 1.0;
  c.clip_norm = 1.5;
  c.schedule = 2;
  c.gamma = 0.5;
  c.schedule_steps = 2;
  check_against_reference(c);
}

TEST_CASE(
    "every optimiser matches PyTorch 1.13's own trajectories to 1e-12 (tests/reference/optim_torch.py)") {
  std::ifstream file(AGNOSTIC_SOURCE_DIR "/tests/reference/optim_torch.json");
  REQUIRE(file.good());
  const nlohmann::json reference_file = nlohmann::json::parse(file);
  REQUIRE(reference_file.at("steps").get<int>() == kSteps);
  REQUIRE(reference_file.at("start").get<std::vector<double>>() == kStart);
  int compared = 0;
  for (const auto& entry : reference_file.at("configs")) {
    Config c;
    c.label = entry.at("label").get<std::string>();
    c.kind = entry.at("kind").get<std::string>();
    c.lr = entry.at("lr").get<double>();
    c.momentum = entry.value("momentum", 0.0);
    c.dampening = entry.value("dampening", 0.0);
    c.nesterov = entry.value("nesterov", false);
    c.rho = entry.value("rho", 0.9);
    c.centred = entry.value("centred", false);
    c.l2 = entry.value("l2", 0.0);
    c.weight_decay = entry.value("weight_decay", c.kind == "adamw" ? 0.01 : 0.0);
    c.clip_norm = entry.value("clip_norm", 0.0);
    c.clip_value = entry.value("clip_value", 0.0);
    c.schedule = entry.value("schedule", 0);
    c.gamma = entry.value("gamma", 1.0);
    c.schedule_steps = entry.value("schedule_steps", 1L);
    CAPTURE(c.label);
    const auto torch_theta = entry.at("theta").get<std::vector<std::vector<double>>>();
    TestParameters p;
    auto optimiser = make(c, p.group());
    double worst = 0;
    for (int k = 1; k <= kSteps; ++k) {
      p.set_gradients(k);
      optimiser->step();
      for (int e = 0; e < 9; ++e) worst = std::max(worst, std::abs(p.at(e) - torch_theta[k - 1][e]));
    }
    INFO("largest difference from PyTorch: ", worst);
    CHECK(worst < 1e-12);
    ++compared;
  }
  CHECK(compared == 8);
}

TEST_CASE("Adam: L2 and decoupled decay are different rules") {
  Config coupled = adam("coupled");
  coupled.l2 = 0.3;
  Config decoupled = adam("decoupled", "adamw");
  decoupled.weight_decay = 0.3;
  const auto a = reference(coupled, kSteps), b = reference(decoupled, kSteps);
  CHECK(std::abs(a.theta.back()[0] - b.theta.back()[0]) > 1e-3);
  TestParameters p;
  AdamW<double> adamw(p.group());
  CHECK(adamw.options().weight_decay == 1e-2);  // PyTorch's default
}

TEST_CASE("schedules: rates as functions of the step count") {
  CHECK(Schedule::constant().factor(100) == 1.0);
  CHECK(Schedule::exponential(0.5).factor(3) == 0.125);
  CHECK(Schedule::exponential(0.25, 2).factor(1) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(Schedule::step(10, 0.1).factor(9) == 1.0);
  CHECK(Schedule::step(10, 0.1).factor(10) == doctest::Approx(0.1).epsilon(1e-15));
  CHECK(Schedule::step(10, 0.1).factor(25) == doctest::Approx(0.01).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(Schedule::step(0, 0.5), "Schedule::step: the step count must be at least 1, got 0",
                       Error);
  CHECK_THROWS_WITH_AS(Schedule::exponential(-1.0),
                       "Schedule::exponential: gamma must be positive and finite, got -1", Error);

  TestParameters p;
  SGD<double> opt(p.group(), {.lr = 0.2, .schedule = Schedule::step(2, 0.5)});
  CHECK(opt.learning_rate() == 0.2);
  for (int k = 1; k <= 2; ++k) {
    p.set_gradients(k);
    opt.step();
  }
  CHECK(opt.learning_rate() == 0.1);
  CHECK(opt.base_learning_rate() == 0.2);
  opt.set_learning_rate(0.4);
  CHECK(opt.learning_rate() == 0.2);
}

TEST_CASE("freezing: frozen parameters are not updated, and keep their own step counts") {
  TestParameters p;
  Adam<double> opt(p.group(), {.lr = 0.05});
  const MatrixD b0 = p.b.value;
  p.b.frozen = true;
  for (int k = 1; k <= 3; ++k) {
    p.set_gradients(k);
    const MatrixD b_grad = p.b.grad;
    opt.step();
    CHECK(p.b.value == b0);
    CHECK(p.b.grad == b_grad);  // left alone
    CHECK(p.w.grad.isZero(0.0));
  }
  // Unfrozen, b takes its first Adam step: bias correction with t = 1 gives lr * g / (|g| + eps).
  p.b.frozen = false;
  p.w.frozen = true;
  const MatrixD w3 = p.w.value;
  p.set_gradients(4);
  const MatrixD g = p.b.grad;
  opt.step();
  for (int j = 0; j < 3; ++j)
    CHECK(p.b.value(0, j) ==
          doctest::Approx(b0(0, j) - 0.05 * g(0, j) / (std::abs(g(0, j)) + 1e-8)).epsilon(1e-13));
  CHECK(p.w.value == w3);
  const auto s = opt.state();
  CHECK(s.counters.at("steps") == 4);
  CHECK(s.counters.at("steps:w") == 3);
  CHECK(s.counters.at("steps:b") == 1);
}

TEST_CASE("one optimiser per group, each with its own learning rate") {
  Rng rng(6);
  Sequential<double> c({3, 4}, Activation::identity(), Activation::identity(), rng,
                       Initialiser::glorot_uniform(), "C");
  Sequential<double> a({4, 2}, Activation::identity(), Activation::identity(), rng,
                       Initialiser::glorot_uniform(), "A");
  SGD<double> opt_c(c.parameters(), {.lr = 0.1});
  SGD<double> opt_a(a.parameters(), {.lr = 0.01});
  const MatrixD wc = c.dense_layer(0).weight.value, wa = a.dense_layer(0).weight.value;
  c.dense_layer(0).weight.grad.setOnes();
  a.dense_layer(0).weight.grad.setOnes();
  opt_c.step();
  CHECK(c.dense_layer(0).weight.value.isApprox((wc.array() - 0.1).matrix(), 1e-15));
  CHECK(a.dense_layer(0).weight.value == wa);  // not opt_c's business
  CHECK(a.dense_layer(0).weight.grad.isOnes(0.0));
  opt_a.step();
  CHECK(a.dense_layer(0).weight.value.isApprox((wa.array() - 0.01).matrix(), 1e-15));
}

TEST_CASE("state: save, JSON round trip and restore continue bit for bit") {
  const std::vector<Config> configs = [] {
    std::vector<Config> v;
    Config c = sgd("sgd nesterov");
    c.momentum = 0.9;
    c.nesterov = true;
    v.push_back(c);
    c = rmsprop("rmsprop centred momentum");
    c.centred = true;
    c.momentum = 0.5;
    v.push_back(c);
    c = adam("adamw schedule", "adamw");
    c.weight_decay = 0.1;
    c.schedule = 1;
    c.gamma = 0.9;
    v.push_back(c);
    return v;
  }();
  for (const Config& c : configs) {
    CAPTURE(c.label);
    TestParameters p, q;
    auto first = make(c, p.group());
    for (int k = 1; k <= 3; ++k) {
      p.set_gradients(k);
      first->step();
    }
    const nlohmann::json j = first->state();
    // A fresh optimiser over parameters holding the same values, restored from JSON.
    q.w.value = p.w.value;
    q.b.value = p.b.value;
    Config other = c;
    other.lr = 123.0;  // overwritten by the state's learning rate
    auto second = make(other, q.group());
    second->load_state(j.get<OptimiserState<double>>());
    CHECK(second->steps() == 3);
    CHECK(second->learning_rate() == first->learning_rate());
    for (int k = 4; k <= 6; ++k) {
      p.set_gradients(k);
      q.set_gradients(k);
      first->step();
      second->step();
    }
    CHECK(p.w.value == q.w.value);
    CHECK(p.b.value == q.b.value);
  }
}

TEST_CASE("state: a state that does not fit is refused with a message, and nothing changes") {
  TestParameters p;
  Adam<double> adam_opt(p.group());
  SGD<double> sgd_opt(p.group(), {.momentum = 0.9});
  CHECK_THROWS_WITH_AS(adam_opt.load_state(sgd_opt.state()),
                       "adam 'test': load_state: the state is of a 'sgd' optimiser, expected 'adam'", Error);
  auto s = adam_opt.state();
  CHECK(s.buffers.size() == 4);
  s.buffers["exp_avg:w"] = MatrixD::Zero(3, 2);
  CHECK_THROWS_WITH_AS(adam_opt.load_state(s),
                       "adam 'test': load_state: buffer 'exp_avg:w' is 3 x 2, the parameter is 2 x 3", Error);
  s = adam_opt.state();
  s.buffers.erase("exp_avg_sq:b");
  s.buffers["exp_avg_sq:c"] = MatrixD::Zero(1, 3);
  CHECK_THROWS_WITH_AS(adam_opt.load_state(s), "adam 'test': load_state: buffer 'exp_avg_sq:b' is missing",
                       Error);
  s = adam_opt.state();
  s.counters["steps"] = 5;
  s.counters.erase("steps:b");
  s.counters["steps:x"] = 1;
  CHECK_THROWS_WITH_AS(adam_opt.load_state(s), "adam 'test': load_state: counter 'steps:b' is missing",
                       Error);
  CHECK(adam_opt.steps() == 0);

  CHECK_THROWS_WITH_AS(
      nlohmann::json::parse(R"({"kind": "adam", "counters": {}})").get<OptimiserState<double>>(),
      "optimiser state: the top level has no key 'scalars'", Error);
  CHECK_THROWS_WITH_AS(
      nlohmann::json::parse(
          R"({"kind": "adam", "counters": {}, "scalars": {}, "buffers": {"m:w": {"rows": 2, "cols": 2, "data": [1]}}})")
          .get<OptimiserState<double>>(),
      "optimiser state: buffer 'm:w' is 2 x 2 but has 1 values", Error);

  // Names must be unique to key the state.
  Parameter<double> x("same", 1, 1), y("same", 1, 1);
  SGD<double> twins(ParameterGroup<double>("twins", {&x, &y}));
  CHECK_THROWS_WITH_AS(
      twins.state(),
      "sgd 'twins': two parameters are called 'same'; the state is keyed by name, so give the "
      "networks different names (Sequential::set_name)",
      Error);
}

TEST_CASE("optimisers: bad settings and non-finite gradients are errors") {
  TestParameters p;
  CHECK_THROWS_WITH_AS(
      SGD<double>(p.group(), {.momentum = 0.0, .nesterov = true}),
      "sgd 'test': Nesterov momentum needs momentum > 0 and dampening = 0, got momentum = 0, "
      "dampening = 0",
      Error);
  CHECK_THROWS_WITH_AS(SGD<double>(p.group(), {.lr = -1.0}),
                       "sgd 'test': the learning rate must be finite and >= 0, got -1", Error);
  CHECK_THROWS_WITH_AS(RMSProp<double>(p.group(), {.rho = 1.0}),
                       "rmsprop 'test': rho must be in [0, 1), got 1", Error);
  CHECK_THROWS_WITH_AS(Adam<double>(p.group(), {.beta2 = 1.5}),
                       "adam 'test': beta2 must be in [0, 1), got 1.5", Error);
  CHECK_THROWS_WITH_AS(Adam<double>(p.group(), {.clip = {.norm = -1.0}}),
                       "adam 'test': clip.norm must be >= 0 (0 = off), got -1", Error);
  CHECK_THROWS_WITH_AS(SGD<double>(ParameterGroup<double>("nothing")),
                       "sgd 'nothing': the parameter group is empty", Error);

  SGD<double> opt(p.group());
  p.set_gradients(1);
  p.b.grad(0, 1) = std::nan("");
  const MatrixD w = p.w.value;
  CHECK_THROWS_WITH_AS(
      opt.step(), "sgd 'test', step 1: the gradient of 'b' contains NaN or Inf; no parameter was changed",
      Error);
  CHECK(p.w.value == w);
  CHECK(opt.steps() == 0);
}

TEST_CASE("try_step and skip_step: a non-finite gradient skips the step on every process that sums them") {
  // Two "processes" in one: the hook adds the other optimiser's gradients, as the data-parallel
  // sum does. One of them has a NaN gradient (try_step) or a NaN loss (skip_step); both must skip.
  TestParameters a, b;
  SGD<double> opt_a(a.group()), opt_b(b.group());
  auto sum_with = [](TestParameters& other) {
    return [&other](const std::vector<Parameter<double>*>& params) {
      params[0]->grad += other.w.grad;
      params[1]->grad += other.b.grad;
    };
  };
  a.set_gradients(1);
  b.set_gradients(2);
  const MatrixD w = a.w.value;
  b.b.grad(0, 0) = std::nan("");
  opt_a.set_gradient_hook(sum_with(b));
  CHECK_FALSE(opt_a.try_step());  // b's NaN reached a through the sum
  CHECK(a.w.value == w);
  CHECK(a.w.grad.isZero());
  CHECK(opt_a.steps() == 0);

  // skip_step: a process whose loss was NaN hands NaN gradients to the sum and changes nothing.
  b.set_gradients(2);
  opt_b.set_gradient_hook([&](const std::vector<Parameter<double>*>& params) {
    CHECK(std::isnan(params[0]->grad(0, 0)));  // what the other processes receive
  });
  const MatrixD wb = b.w.value;
  opt_b.skip_step();
  CHECK(b.w.value == wb);
  CHECK(b.w.grad.isZero());
  CHECK(opt_b.steps() == 0);

  // Finite gradients: try_step is step().
  a.set_gradients(1);
  b.set_gradients(2);
  CHECK(opt_a.try_step());
  CHECK(opt_a.steps() == 1);
  CHECK(a.w.value != w);
}

// ---------------------------------------------------------------- whole networks

namespace {

// Mean squared error over all elements, a scalar node local to these tests.
struct MeanSquaredError {
  static void backward(Tape<float>& tape, int self) {
    Node<float>& n = tape.node(self);
    const Matrix<float>& y = tape.value(n.input[0]);
    const float factor = 2.0f * n.grad(0, 0) / static_cast<float>(y.size());
    tape.add_grad(n.input[0], factor * (y - n.buffer[0]));
  }
  static Var<float> apply(Var<float> y, const MatrixF& target) {
    Tape<float>& tape = y.tape();
    const int id = tape.push("test_mse", &backward, tape.needs_grad(y.id()));
    Node<float>& n = tape.node(id);
    n.input[0] = y.id();
    n.buffer[0] = target;
    n.value.resize(1, 1);
    n.value(0, 0) = (tape.value(y.id()) - target).squaredNorm() / static_cast<float>(target.size());
    return {&tape, id};
  }
};

struct TrainingRun {
  std::vector<MatrixF> parameters;
  float first_loss = 0, last_loss = 0;
};

TrainingRun train_regression(std::uint64_t seed, int threads, int steps) {
  set_threads(threads);
  Rng rng(seed);
  Sequential<float> net({8, 32, 32, 1}, Activation::elu(), Activation::identity(), rng);
  MatrixF x(4096, 8), target(4096, 1);
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) x(i, j) = static_cast<float>(rng.normal());
    target(i, 0) = std::tanh(x(i, 0) * x(i, 1)) + 0.5f * x(i, 2);
  }
  Adam<float> optimiser(net.parameters(), {.lr = 3e-3, .clip = {.norm = 5.0}});
  Tape<float> tape;
  TrainingRun run;
  for (int s = 0; s < steps; ++s) {
    tape.clear();
    auto loss = MeanSquaredError::apply(net(tape, tape.input(x)), target);
    tape.backward(loss);
    optimiser.step();
    if (s == 0) run.first_loss = loss.item();
    run.last_loss = loss.item();
  }
  for (Parameter<float>* p : net.parameters()) run.parameters.push_back(p->value);
  return run;
}

}  // namespace

TEST_CASE("determinism: same seed and thread count give bit-identical parameters after 30 steps") {
  set_threads(2);
  set_parallel_min_work(1L << 15);                  // reach the parallel path with a small test size
  REQUIRE(chunk_count(4096, 4096L * 8 * 32) == 2);  // the batch is split over threads
  for (int n : {1, 2}) {
    CAPTURE(n);
    const TrainingRun a = train_regression(42, n, 30), b = train_regression(42, n, 30);
    REQUIRE(a.parameters.size() == b.parameters.size());
    for (std::size_t i = 0; i < a.parameters.size(); ++i) CHECK(a.parameters[i] == b.parameters[i]);
    CHECK(a.last_loss < 0.8f * a.first_loss);  // and it trains
    const TrainingRun c = train_regression(43, n, 30);
    CHECK(c.parameters[0] != a.parameters[0]);
  }
  set_threads(2);
}

TEST_CASE("ADNN two-step update (000, Algorithm 1): each step moves only its own network") {
  Rng rng(10);
  Sequential<float> classifier({6, 8, 5, 3}, Activation::relu(), Activation::identity(), rng,
                               Initialiser::he_uniform(), "classifier");
  Sequential<float> adversary({5, 4, 2}, Activation::relu(), Activation::identity(), rng,
                              Initialiser::he_uniform(), "adversary");
  MatrixF x(64, 6), scores_target(64, 3), domain_target(64, 2);
  for (Index i = 0; i < 64; ++i) {
    for (Index j = 0; j < 6; ++j) x(i, j) = static_cast<float>(rng.normal());
    scores_target.row(i).setZero();
    scores_target(i, i % 3) = 1.0f;
    domain_target.row(i) << float(i % 2), float(1 - i % 2);
  }
  auto c_params = classifier.parameters(), a_params = adversary.parameters();
  Adam<float> optimise_c(c_params, {.lr = 5.5e-4});
  Adam<float> optimise_a(a_params, {.lr = 7.9e-4});
  Tape<float> tape;

  // Step 1: adversary frozen; the classifier minimises L(C) - alpha L(A).
  const Sequential<float> c0 = classifier, a0 = adversary;
  const float alpha = 10.0f;
  adversary.freeze();
  CHECK(a_params.frozen());
  auto [scores, representation] = classifier.forward_tapped(tape, tape.input(x), classifier.size() - 2);
  CHECK(representation.cols() == 5);
  auto loss_c = MeanSquaredError::apply(scores, scores_target);
  auto loss_a = MeanSquaredError::apply(adversary(tape, representation), domain_target);
  tape.backward(loss_c - alpha * loss_a);
  for (Parameter<float>* p : a_params) CHECK(p->grad.isZero(0.0f));
  const MatrixF first_layer_grad = c_params[0].grad;
  optimise_c.step();
  adversary.unfreeze();
  CHECK(classifier.dense_layer(0).weight.value != c0.dense_layer(0).weight.value);
  CHECK(adversary.dense_layer(0).weight.value == a0.dense_layer(0).weight.value);
  // The -alpha L(A) term reached the classifier: without it the first layer's gradient differs.
  tape.clear();
  Sequential<float> c_again = c0;
  c_again.dense_layer(0).weight.grad.setZero();
  tape.backward(MeanSquaredError::apply(c_again(tape, tape.input(x)), scores_target));
  CHECK((c_again.dense_layer(0).weight.grad - first_layer_grad).norm() > 1e-3f * first_layer_grad.norm());

  // Step 2: classifier frozen; the adversary learns L(A) on the new representation.
  const Sequential<float> c1 = classifier;
  classifier.freeze();
  tape.clear();
  auto representation3 = classifier.forward(tape, tape.input(x), 0, classifier.size() - 1);
  tape.backward(MeanSquaredError::apply(adversary(tape, representation3), domain_target));
  for (Parameter<float>* p : c_params) CHECK(p->grad.isZero(0.0f));
  optimise_a.step();
  classifier.unfreeze();
  for (std::size_t i = 0; i < classifier.size(); ++i)
    CHECK(classifier.dense_layer(i).weight.value == c1.dense_layer(i).weight.value);
  CHECK(adversary.dense_layer(0).weight.value != a0.dense_layer(0).weight.value);
  CHECK(optimise_c.steps() == 1);
  CHECK(optimise_a.steps() == 1);
}
