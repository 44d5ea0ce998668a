// Tests for nn/: initialisers, Dense, ActivationLayer, Sequential, ParameterGroup.
#include <doctest/doctest.h>

#include <agnostic/autodiff/dense.hpp>
#include <agnostic/autodiff/parameter_group.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/nn/initialisers.hpp>
#include <agnostic/nn/sequential.hpp>

#include <cmath>

using namespace agnostic;

namespace {

MatrixD random_matrix(Rng& rng, Index rows, Index cols) {
  MatrixD m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

struct Moments {
  double mean = 0, variance = 0, kurtosis = 0, max_abs = 0;
};
Moments moments(const MatrixD& m) {
  const double n = static_cast<double>(m.size());
  Moments r;
  r.mean = m.sum() / n;
  double m2 = 0, m4 = 0;
  for (Index k = 0; k < m.size(); ++k) {
    const double d = m.data()[k] - r.mean;
    m2 += d * d;
    m4 += d * d * d * d;
    r.max_abs = std::max(r.max_abs, std::abs(m.data()[k]));
  }
  r.variance = m2 / n;
  r.kurtosis = (m4 / n) / (r.variance * r.variance);
  return r;
}

// Sum of all elements of y times c: a scalar read-out local to this test.
struct Contract {
  static void backward(Tape<double>& tape, int self) {
    Node<double>& n = tape.node(self);
    tape.add_grad(n.input[0], n.grad(0, 0) * n.buffer[0]);
  }
  static Var<double> apply(Var<double> y, const MatrixD& c) {
    Tape<double>& tape = y.tape();
    const int id = tape.push("contract", &backward, tape.needs_grad(y.id()));
    Node<double>& n = tape.node(id);
    n.input[0] = y.id();
    n.buffer[0] = c;
    n.value.resize(1, 1);
    n.value(0, 0) = (tape.value(y.id()).array() * c.array()).sum();
    return {&tape, id};
  }
};

}  // namespace

// ---------------------------------------------------------------- initialisers

TEST_CASE("initialisers: mean, variance and shape match the formulas (fan_in = cols, fan_out = rows)") {
  // A wide, flat matrix so that swapping fan_in and fan_out would change He's width 6-fold.
  const Index rows = 40, cols = 1500;
  const double n = static_cast<double>(rows * cols);
  struct Case {
    Initialiser init;
    double variance;  // expected
    bool uniform;
  };
  const Case cases[] = {
      {Initialiser::glorot_uniform(), 2.0 / (rows + cols), true},  // a^2 / 3 with a^2 = 6 / (in + out)
      {Initialiser::glorot_normal(), 2.0 / (rows + cols), false},
      {Initialiser::he_uniform(), 2.0 / cols, true},  // a^2 / 3 with a^2 = 6 / in
      {Initialiser::he_normal(), 2.0 / cols, false},
  };
  Rng rng(2024);
  for (const auto& c : cases) {
    CAPTURE(initialiser_name(c.init));
    MatrixD w(rows, cols);
    c.init.fill(w, rng);
    const Moments m = moments(w);
    const double sigma2 = c.variance;
    // Standard errors: mean sigma / sqrt(n); variance sqrt(Var(x^2) / n) with
    // Var(x^2) = E x^4 - sigma^4 = (kurtosis - 1) sigma^4 (kurtosis 1.8 uniform, 3 normal).
    const double kurtosis = c.uniform ? 1.8 : 3.0;
    CHECK(std::abs(m.mean) < 5.0 * std::sqrt(sigma2 / n));
    CHECK(std::abs(m.variance - sigma2) < 5.0 * sigma2 * std::sqrt((kurtosis - 1.0) / n));
    // The fourth moment tells a uniform from a normal draw (SE of the sample kurtosis ~ sqrt(24/n) for a
    // normal).
    CHECK(std::abs(m.kurtosis - kurtosis) < 5.0 * std::sqrt(24.0 / n));
    if (c.uniform) {
      const double a = std::sqrt(3.0 * sigma2);
      CHECK(m.max_abs <= a);
      CHECK(m.max_abs > 0.999 * a);
      CHECK(c.init.scale(rows, cols) == doctest::Approx(a).epsilon(1e-15));
    } else {
      CHECK(c.init.scale(rows, cols) == doctest::Approx(std::sqrt(sigma2)).epsilon(1e-15));
      CHECK(m.max_abs > 3.5 * std::sqrt(sigma2));  // tails exist: not a normal truncated at 2 sigma
    }
  }
}

TEST_CASE("initialisers: zeros and constant; same seed, same values, float = rounded double") {
  Rng rng(1);
  MatrixD z = MatrixD::Ones(3, 4), k(2, 5);
  const auto before = rng.state();
  Initialiser::zeros().fill(z, rng);
  Initialiser::constant(0.25).fill(k, rng);
  CHECK(z.isZero(0.0));
  CHECK((k.array() == 0.25).all());
  CHECK(rng.state().s0 == before.s0);  // deterministic kinds draw nothing

  for (auto init : {Initialiser::glorot_uniform(), Initialiser::glorot_normal(), Initialiser::he_uniform(),
                    Initialiser::he_normal()}) {
    CAPTURE(initialiser_name(init));
    Rng a(77), b(77), c(78);
    MatrixD wa(7, 9), wb(7, 9), wc(7, 9);
    MatrixF wf(7, 9);
    init.fill(wa, a);
    init.fill(wb, b);
    init.fill(wc, c);
    Rng f(77);
    init.fill(wf, f);
    CHECK(wa == wb);
    CHECK(wa != wc);
    CHECK(wf == wa.cast<float>());
    // Row by row: element (0, 1) is the second draw (compared to the last bit or so: compilers may
    // evaluate lo + (hi - lo) u with different roundings in different inlining contexts).
    if (init.kind == InitialiserKind::glorot_uniform) {
      Rng manual(77);
      const double a9 = std::sqrt(6.0 / (7 + 9));
      const double x0 = manual.uniform(-a9, a9), x1 = manual.uniform(-a9, a9);
      CHECK(wa(0, 0) == doctest::Approx(x0).epsilon(1e-15));
      CHECK(wa(0, 1) == doctest::Approx(x1).epsilon(1e-15));
    }
  }
}

TEST_CASE("initialisers: names and errors") {
  CHECK(initialiser_from_name("xavier_uniform") == Initialiser::glorot_uniform());
  CHECK(initialiser_from_name("he_normal") == Initialiser::he_normal());
  CHECK(initialiser_from_name("constant", 3.0) == Initialiser::constant(3.0));
  CHECK_THROWS_WITH_AS(initialiser_from_name("lecun"),
                       "unknown initialiser 'lecun' (allowed: glorot_uniform, xavier_uniform, glorot_normal, "
                       "xavier_normal, he_uniform, he_normal, zeros, constant)",
                       Error);
  Rng rng(1);
  MatrixD empty(0, 3);
  CHECK_THROWS_WITH_AS(Initialiser::he_uniform().fill(empty, rng),
                       "initialiser he_uniform needs a non-empty matrix, got 0 x 3", Error);
}

// ---------------------------------------------------------------- Dense

TEST_CASE("Dense: shapes, names, initialisation and the same node as dense()") {
  Rng rng(5), same(5);
  Dense<double> layer(4, 3, Activation::tanh(), rng, Initialiser::he_normal(), Initialiser::constant(0.1),
                      "d");
  CHECK(layer.weight.value.rows() == 3);
  CHECK(layer.weight.value.cols() == 4);
  CHECK(layer.bias.value.rows() == 1);
  CHECK(layer.bias.value.cols() == 3);
  CHECK(layer.weight.name == "d.weight");
  CHECK(layer.bias.name == "d.bias");
  CHECK(layer.parameter_count() == 15);
  CHECK(layer.describe() == "dense 4 -> 3, tanh");
  MatrixD expected_w(3, 4);
  Initialiser::he_normal().fill(expected_w, same);
  CHECK(layer.weight.value == expected_w);
  CHECK((layer.bias.value.array() == 0.1).all());

  const MatrixD x = random_matrix(rng, 6, 4);
  Tape<double> tape;
  auto y = layer(tape, tape.input(x));
  auto manual =
      dense(tape.input(x), tape.parameter(layer.weight), tape.parameter(layer.bias), Activation::tanh());
  CHECK(y.value() == manual.value());

  CHECK_THROWS_WITH_AS(Dense<double>(0, 3), "Dense: sizes must be positive, got n_in = 0, n_out = 3", Error);
}

// ---------------------------------------------------------------- Sequential

TEST_CASE("Sequential: the convenience constructor builds the 001 feature extractor") {
  Rng rng(1);
  Sequential<float> net({41, 20, 16, 13, 10}, Activation::elu(), Activation::identity(), rng,
                        Initialiser::glorot_uniform(), "extractor");
  REQUIRE(net.size() == 4);
  CHECK(net.input_size() == 41);
  CHECK(net.output_size() == 10);
  CHECK(net.parameter_count() == 41 * 20 + 20 + 20 * 16 + 16 + 16 * 13 + 13 + 13 * 10 + 10);
  CHECK(net.dense_layer(0).activation == Activation::elu());
  CHECK(net.dense_layer(3).activation == Activation::identity());
  auto group = net.parameters();
  REQUIRE(group.size() == 8);
  CHECK(group.name() == "extractor");
  CHECK(group[0].name == "extractor.0.weight");
  CHECK(group[7].name == "extractor.3.bias");
  CHECK(net.describe() ==
        "extractor:\n  0: dense 41 -> 20, elu(1)\n  1: dense 20 -> 16, elu(1)\n  2: dense 16 -> 13, elu(1)\n"
        "  3: dense 13 -> 10, linear\n  1537 parameters\n");
  // Biases start at zero, weights are drawn layer by layer from the one rng.
  Rng replay(1);
  MatrixF w0(20, 41), w1(16, 20);
  Initialiser::glorot_uniform().fill(w0, replay);
  Initialiser::glorot_uniform().fill(w1, replay);
  CHECK(net.dense_layer(0).weight.value == w0);
  CHECK(net.dense_layer(1).weight.value == w1);
  CHECK(net.dense_layer(2).bias.value.isZero(0.0));
}

TEST_CASE("Sequential: every intermediate output equals the manual chain of dense() calls") {
  Rng rng(9);
  Sequential<double> net({5, 7, 6, 3}, Activation::elu(0.7), Activation::sigmoid(), rng);
  const MatrixD x = random_matrix(rng, 11, 5);
  Tape<double> tape;
  auto in = tape.input(x);
  auto h0 = dense(in, tape.parameter(net.dense_layer(0).weight), tape.parameter(net.dense_layer(0).bias),
                  Activation::elu(0.7));
  auto h1 = dense(h0, tape.parameter(net.dense_layer(1).weight), tape.parameter(net.dense_layer(1).bias),
                  Activation::elu(0.7));
  auto h2 = dense(h1, tape.parameter(net.dense_layer(2).weight), tape.parameter(net.dense_layer(2).bias),
                  Activation::sigmoid());
  CHECK(net(tape, in).value() == h2.value());
  CHECK(net.forward(tape, in, 0, 1).value() == h0.value());
  CHECK(net.forward(tape, in, 0, 2).value() == h1.value());
  CHECK(net.forward(tape, h0, 1).value() == h2.value());
  CHECK(net.forward(tape, h1, 2, 3).value() == h2.value());
  CHECK(net.forward(tape, in, 1, 1).value() == x);  // an empty range is the identity
  auto [out, representation] = net.forward_tapped(tape, in, net.size() - 2);
  CHECK(out.value() == h2.value());
  CHECK(representation.value() == h1.value());

  // Gradients through a tapped output reach the layers before the tap only.
  tape.clear();
  net.parameters().zero_grad();
  auto tapped = net.forward_tapped(tape, tape.input(x), 0);
  tape.backward(Contract::apply(tapped.tapped, MatrixD::Ones(11, 7)));
  CHECK(!net.dense_layer(0).weight.grad.isZero(0.0));
  CHECK(net.dense_layer(1).weight.grad.isZero(0.0));
  CHECK(net.dense_layer(2).weight.grad.isZero(0.0));
}

TEST_CASE("Sequential: add() folds an activation into a linear Dense, checks sizes and ranges") {
  Rng rng(3);
  Sequential<double> net("clf");
  net.add(Dense<double>(4, 6, Activation::identity(), rng)).add(ActivationLayer<double>(Activation::relu()));
  net.add(Dense<double>(6, 2, Activation::identity(), rng));
  REQUIRE(net.size() == 2);
  CHECK(net.dense_layer(0).activation == Activation::relu());
  CHECK(net.dense_layer(1).weight.name == "clf.1.weight");

  CHECK_THROWS_WITH_AS(
      net.add(Dense<double>(5, 2, Activation::identity(), rng)),
      "Sequential 'clf': layer 2 (dense 5 -> 2, linear) takes 5 inputs but the layer before it gives 2",
      Error);
  Tape<double> tape;
  MatrixD x = MatrixD::Zero(3, 4);
  CHECK_THROWS_WITH_AS(net.forward(tape, tape.input(x), 1, 3),
                       "Sequential 'clf': layer range [1, 3) is not inside [0, 2]", Error);
  CHECK_THROWS_WITH_AS(net.forward_tapped(tape, tape.input(x), 2),
                       "Sequential 'clf': cannot tap layer 2, it has 2 layers", Error);
  CHECK_THROWS_WITH_AS(net.dense_layer(5), "Sequential 'clf': no layer 5 (it has 2)", Error);
  CHECK_THROWS_WITH_AS(Sequential<double>({4}, Activation::relu(), Activation::identity(), rng),
                       "Sequential 'sequential': needs at least two sizes (inputs and outputs), got 1",
                       Error);

  // An activation after a layer that already has one stays a layer of its own.
  net.add(ActivationLayer<double>(Activation::tanh()));
  REQUIRE(net.size() == 2);  // folded into the linear last layer
  net.add(ActivationLayer<double>(Activation::sigmoid()));
  REQUIRE(net.size() == 3);
  CHECK_THROWS_WITH_AS(net.dense_layer(2), "Sequential 'clf': layer 2 is sigmoid, not a dense layer", Error);
  // ... recorded as the tape's element-wise activation node.
  tape.clear();
  const MatrixD x2 = random_matrix(rng, 3, 4);
  auto in = tape.input(x2);
  const MatrixD before = net.forward(tape, in, 0, 2).value();
  const MatrixD after = net(tape, in).value();
  for (Index i = 0; i < after.rows(); ++i)
    for (Index j = 0; j < after.cols(); ++j)
      CHECK(after(i, j) == doctest::Approx(activate(Activation::sigmoid(), before(i, j))).epsilon(1e-14));
  // A network that starts with an activation.
  Sequential<double> squashed("squashed");
  squashed.add(ActivationLayer<double>(Activation::tanh()))
      .add(Dense<double>(4, 2, Activation::identity(), rng));
  REQUIRE(squashed.size() == 2);
  CHECK(squashed.input_size() == 4);
  tape.clear();
  const MatrixD direct = squashed(tape, tape.input(x2)).value();
  const MatrixD squashed_input = x2.array().tanh().matrix();
  const MatrixD expected = squashed.forward(tape, tape.input(squashed_input), 1).value();
  CHECK(direct.isApprox(expected, 1e-14));
}

TEST_CASE("Sequential: copies are deep, moves keep parameter addresses") {
  Rng rng(4);
  Sequential<double> net({3, 4, 2}, Activation::relu(), Activation::identity(), rng);
  net.dense_layer(0).weight.grad.setOnes();
  Sequential<double> copy = net;
  CHECK(copy.dense_layer(0).weight.value == net.dense_layer(0).weight.value);
  CHECK(copy.dense_layer(0).weight.grad.isZero(0.0));
  copy.dense_layer(0).weight.value(0, 0) += 1.0;
  CHECK(copy.dense_layer(0).weight.value(0, 0) != net.dense_layer(0).weight.value(0, 0));

  auto group = net.parameters();
  Parameter<double>* address = &net.dense_layer(1).bias;
  Sequential<double> moved = std::move(net);
  CHECK(&moved.dense_layer(1).bias == address);
  CHECK(&group[3] == address);
  moved.set_name("renamed");
  CHECK(group[3].name == "renamed.1.bias");
}

// ---------------------------------------------------------------- ParameterGroup

TEST_CASE("ParameterGroup: freeze, unfreeze, zero_grad, concatenation and lookups") {
  Rng rng(8);
  Sequential<double> c({3, 4, 2}, Activation::tanh(), Activation::identity(), rng,
                       Initialiser::glorot_uniform(), "C");
  Sequential<double> a({4, 3}, Activation::identity(), Activation::identity(), rng,
                       Initialiser::glorot_uniform(), "A");
  auto both = c.parameters() + a.parameters();
  CHECK(both.name() == "C+A");
  CHECK(both.size() == 6);
  CHECK(both.parameter_count() == c.parameter_count() + a.parameter_count());
  CHECK(&both.find("A.0.weight") == &a.dense_layer(0).weight);
  CHECK_THROWS_WITH_AS(both.find("B.0.weight"),
                       "parameter group 'C+A' has no parameter 'B.0.weight' (it has: C.0.weight, C.0.bias, "
                       "C.1.weight, C.1.bias, A.0.weight, A.0.bias)",
                       Error);
  CHECK_THROWS_WITH_AS(both.add(a.dense_layer(0).bias),
                       "parameter group 'C+A': parameter 'A.0.bias' is already in the group", Error);

  // A frozen group receives no gradient from the tape; the other one does.
  a.parameters().freeze();
  CHECK(a.parameters().frozen());
  CHECK(!both.frozen());
  const MatrixD x = random_matrix(rng, 5, 3);
  Tape<double> tape;
  auto h = c.forward(tape, tape.input(x), 0, 1);
  tape.backward(Contract::apply(a(tape, h), MatrixD::Ones(5, 3)));
  CHECK(a.dense_layer(0).weight.grad.isZero(0.0));
  CHECK(!c.dense_layer(0).weight.grad.isZero(0.0));
  CHECK(c.dense_layer(1).weight.grad.isZero(0.0));  // not on the path to the loss

  a.parameters().unfreeze();
  tape.clear();
  h = c.forward(tape, tape.input(x), 0, 1);
  tape.backward(Contract::apply(a(tape, h), MatrixD::Ones(5, 3)));
  CHECK(!a.dense_layer(0).weight.grad.isZero(0.0));
  both.zero_grad();
  for (Parameter<double>* p : both) CHECK(p->grad.isZero(0.0));
}
