// Tests for losses/: binary and categorical cross-entropy from logits, MSE, the linear domain loss
// of 001 set-up B, and the soft-histogram penalty of 004.
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/soft_histogram.hpp>
#include <agnostic/losses/binary_cross_entropy.hpp>
#include <agnostic/losses/categorical_cross_entropy.hpp>
#include <agnostic/losses/linear_domain_loss.hpp>
#include <agnostic/losses/mse.hpp>
#include <agnostic/losses/soft_histogram_penalty.hpp>
#include <cmath>
#include <vector>

#include "autodiff_test_helpers.hpp"

using namespace agnostic;
using agnostic::testing::check_gradients;
using agnostic::testing::random_matrix;
using agnostic::testing::uniform_matrix;

namespace {

MatrixD bernoulli_column(Rng& rng, Index rows) {
  MatrixD t(rows, 1);
  for (Index i = 0; i < rows; ++i) t(i, 0) = rng.uniform() < 0.5 ? 0.0 : 1.0;
  return t;
}

std::vector<int> random_labels(Rng& rng, Index rows, int classes) {
  std::vector<int> labels(static_cast<size_t>(rows));
  for (auto& l : labels) l = static_cast<int>(rng.below(static_cast<std::uint64_t>(classes)));
  return labels;
}

MatrixD one_hot(const std::vector<int>& labels, Index classes) {
  MatrixD t = MatrixD::Zero(static_cast<Index>(labels.size()), classes);
  for (size_t i = 0; i < labels.size(); ++i) t(static_cast<Index>(i), labels[i]) = 1.0;
  return t;
}

// -sum_c t_c log softmax(z)_c written out naively (fine for moderate logits).
double naive_cross_entropy(const MatrixD& z, Index i, const MatrixD& t) {
  double total = 0;
  for (Index j = 0; j < z.cols(); ++j) total += std::exp(z(i, j));
  double l = 0;
  for (Index j = 0; j < z.cols(); ++j) l -= t(i, j) * std::log(std::exp(z(i, j)) / total);
  return l;
}

}  // namespace

// ---------------------------------------------------------------- binary cross-entropy

TEST_CASE("binary cross-entropy: weighted value against the textbook formula") {
  Rng rng(71);
  const MatrixD z = random_matrix(rng, 20, 1, 2.0), t = bernoulli_column(rng, 20);
  const MatrixD w = uniform_matrix(rng, 20, 1, 0.1, 3.0);
  double total = 0, weight = 0;
  for (Index i = 0; i < 20; ++i) {
    const double p = 1 / (1 + std::exp(-z(i, 0)));
    total += w(i, 0) * -(t(i, 0) * std::log(p) + (1 - t(i, 0)) * std::log(1 - p));
    weight += w(i, 0);
  }
  Tape<double> tape;
  CHECK(binary_cross_entropy(tape.input(z), t, w).item() == doctest::Approx(total / weight).epsilon(1e-13));
  // Scaling every weight leaves the loss unchanged (normalised by the sum of the weights).
  const MatrixD w7 = 7.0 * w;
  CHECK(binary_cross_entropy(tape.input(z), t, w7).item() == doctest::Approx(total / weight).epsilon(1e-13));
  // No weights: the plain mean.
  double plain = 0;
  for (Index i = 0; i < 20; ++i) {
    const double p = 1 / (1 + std::exp(-z(i, 0)));
    plain -= (t(i, 0) * std::log(p) + (1 - t(i, 0)) * std::log(1 - p)) / 20;
  }
  CHECK(binary_cross_entropy(tape.input(z), t).item() == doctest::Approx(plain).epsilon(1e-13));
}

TEST_CASE("binary cross-entropy: gradients for logits, targets and weights") {
  Rng rng(72);
  const MatrixD z = random_matrix(rng, 10, 1, 2.0), t = uniform_matrix(rng, 10, 1, 0.0, 1.0);
  const MatrixD w = uniform_matrix(rng, 10, 1, 0.1, 3.0);
  check_gradients(
      [](Tape<double>&, const std::vector<Var<double>>& in) {
        return binary_cross_entropy(in[0], in[1], in[2]);
      },
      {z, t, w});
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return binary_cross_entropy(in[0], t); }, {z});
}

TEST_CASE("binary cross-entropy: logits of +-500 give finite, exact values and gradients") {
  const MatrixD z = (MatrixD(4, 1) << 500, -500, 500, -500).finished();
  const MatrixD t = (MatrixD(4, 1) << 0, 1, 1, 0).finished();
  Tape<double> tape;
  auto v = tape.variable(z);
  auto loss = binary_cross_entropy(v, t);
  CHECK(loss.item() == doctest::Approx(1000.0 / 4).epsilon(1e-15));  // two events at 500 each, two at ~0
  tape.backward(loss);
  const MatrixD expected = (MatrixD(4, 1) << 0.25, -0.25, 0.0, 0.0).finished();
  CHECK((v.grad() - expected).cwiseAbs().maxCoeff() <= 1e-15);
  GradcheckOptions fine;
  fine.step = 1e-6;
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) { return binary_cross_entropy(in[0], t); }, {z},
      fine);
}

TEST_CASE("binary cross-entropy: bad targets and shapes are errors") {
  Tape<double> tape;
  const MatrixD z = MatrixD::Zero(3, 1), t = (MatrixD(3, 1) << 0, 1, 2).finished(), w = MatrixD::Ones(2, 1);
  const MatrixD z2 = MatrixD::Zero(3, 2), t2 = MatrixD::Zero(2, 1), good = MatrixD::Zero(3, 1);
  CHECK_THROWS_WITH_AS(binary_cross_entropy(tape.input(z), t),
                       "binary_cross_entropy: target of event 2 is 2, expected a value in [0, 1]", Error);
  CHECK_THROWS_WITH_AS(
      binary_cross_entropy(tape.input(z2), good),
      "binary_cross_entropy: logits are 3 x 2, expected 3 x 1 (one logit per event; for several "
      "classes use categorical_cross_entropy)",
      Error);
  CHECK_THROWS_WITH_AS(binary_cross_entropy(tape.input(z), t2),
                       "binary_cross_entropy: targets are 2 x 1, expected 3 x 1 (one per event)", Error);
  CHECK_THROWS_WITH_AS(binary_cross_entropy(tape.input(z), good, w),
                       "binary_cross_entropy: weights are 2 x 1, expected 3 x 1 (one weight per event)",
                       Error);
}

// ---------------------------------------------------------------- categorical cross-entropy

TEST_CASE("categorical cross-entropy: integer labels, weighted value against the naive formula") {
  Rng rng(73);
  const MatrixD z = random_matrix(rng, 15, 3, 2.0), w = uniform_matrix(rng, 15, 1, 0.1, 2.0);
  const std::vector<int> labels = random_labels(rng, 15, 3);
  const MatrixD t = one_hot(labels, 3);
  double total = 0;
  for (Index i = 0; i < 15; ++i) total += w(i, 0) * naive_cross_entropy(z, i, t);
  Tape<double> tape;
  const double expected = total / w.sum();
  CHECK(categorical_cross_entropy(tape.input(z), labels, w).item() ==
        doctest::Approx(expected).epsilon(1e-13));
  Eigen::VectorXi eigen_labels(15);
  for (Index i = 0; i < 15; ++i) eigen_labels(i) = labels[static_cast<size_t>(i)];
  CHECK(cross_entropy(tape.input(z), eigen_labels, w).item() == doctest::Approx(expected).epsilon(1e-13));
  CHECK(categorical_cross_entropy(tape.input(z), t, w).item() == doctest::Approx(expected).epsilon(1e-13));
}

TEST_CASE("categorical cross-entropy: gradients with integer labels, one-hot and probability targets") {
  Rng rng(74);
  const MatrixD z = random_matrix(rng, 8, 4, 2.0), w = uniform_matrix(rng, 8, 1, 0.1, 2.0);
  const std::vector<int> labels = random_labels(rng, 8, 4);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return categorical_cross_entropy(in[0], labels, in[1]);
      },
      {z, w});
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return categorical_cross_entropy(in[0], labels);
      },
      {z});
  const MatrixD hot = one_hot(labels, 4);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return categorical_cross_entropy(in[0], hot, in[1]);
      },
      {z, w});
  // Probability targets, targets also differentiated.
  MatrixD p = uniform_matrix(rng, 8, 4, 0.0, 1.0);
  for (Index i = 0; i < 8; ++i) p.row(i) /= p.row(i).sum();
  check_gradients(
      [](Tape<double>&, const std::vector<Var<double>>& in) {
        return categorical_cross_entropy(in[0], in[1], in[2]);
      },
      {z, p, w});
  // One-hot targets and integer labels give the same logit gradient.
  Tape<double> a, b;
  auto za = a.variable(z), zb = b.variable(z);
  a.backward(categorical_cross_entropy(za, labels, w));
  b.backward(categorical_cross_entropy(zb, hot, w));
  CHECK((za.grad() - zb.grad()).norm() <= 1e-15);
}

TEST_CASE("categorical cross-entropy: logits of +-500 give finite, exact values and gradients") {
  const MatrixD z = (MatrixD(3, 3) << 500, -500, 0, -500, 500, 499, 0, 0, -500).finished();
  const std::vector<int> labels{1, 2, 2};
  Tape<double> tape;
  auto v = tape.variable(z);
  auto loss = categorical_cross_entropy(v, labels);
  // Per event: 1000, 1 + log(1 + e^-1), 500 + log 2 (each up to terms below 1e-200).
  const double expected = (1000 + 1 + std::log1p(std::exp(-1.0)) + 500 + std::log(2.0)) / 3;
  CHECK(std::isfinite(loss.item()));
  CHECK(loss.item() == doctest::Approx(expected).epsilon(1e-15));
  tape.backward(loss);
  CHECK(v.grad().allFinite());
  CHECK(v.grad()(0, 0) == doctest::Approx(1.0 / 3).epsilon(1e-15));
  CHECK(v.grad()(0, 1) == doctest::Approx(-1.0 / 3).epsilon(1e-15));
  GradcheckOptions fine;
  fine.step = 1e-6;
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return categorical_cross_entropy(in[0], labels);
      },
      {z}, fine);
  const MatrixD hot = one_hot(labels, 3);
  check_gradients([&](Tape<double>&,
                      const std::vector<Var<double>>& in) { return categorical_cross_entropy(in[0], hot); },
                  {z}, fine);
}

TEST_CASE("categorical cross-entropy: the DANN gate, weight 0 for target events") {
  // The label loss on a mixed batch with target events at weight 0 equals the loss on the source
  // events alone, and sends no gradient to the target events.
  Rng rng(75);
  const MatrixD z = random_matrix(rng, 10, 2);
  const std::vector<int> labels = random_labels(rng, 10, 2);
  MatrixD gate = MatrixD::Ones(10, 1);
  std::vector<int> source_rows, source_labels;
  for (Index i = 0; i < 10; ++i)
    if (i % 3 == 0)
      gate(i, 0) = 0.0;  // a target event
    else {
      source_rows.push_back(static_cast<int>(i));
      source_labels.push_back(labels[static_cast<size_t>(i)]);
    }
  MatrixD zs(static_cast<Index>(source_rows.size()), 2);
  for (size_t k = 0; k < source_rows.size(); ++k) zs.row(static_cast<Index>(k)) = z.row(source_rows[k]);
  Tape<double> tape;
  auto v = tape.variable(z);
  auto gated = cross_entropy(v, labels, gate);
  CHECK(gated.item() ==
        doctest::Approx(categorical_cross_entropy(tape.input(zs), source_labels).item()).epsilon(1e-14));
  tape.backward(gated);
  for (Index i = 0; i < 10; i += 3) CHECK(v.grad().row(i).isZero());
}

TEST_CASE("losses: weights that sum to zero give 0 and zero gradients, never NaN") {
  Rng rng(76);
  const MatrixD z = random_matrix(rng, 4, 3), zb = random_matrix(rng, 4, 1), zero = MatrixD::Zero(4, 1);
  const std::vector<int> labels{0, 1, 2, 0};
  const MatrixD t = MatrixD::Zero(4, 1), doubled = 2.0 * z;
  Tape<double> tape;
  auto v = tape.variable(z), vb = tape.variable(zb), w = tape.variable(zero);
  auto loss = categorical_cross_entropy(v, labels, w) + binary_cross_entropy(vb, t, w) + mse(v, doubled, w) +
              linear_domain_loss(vb, std::vector<int>{1, 0, 1, 0}, w);
  CHECK(loss.item() == 0.0);
  tape.backward(loss);
  CHECK(v.grad().isZero());
  CHECK(vb.grad().isZero());
  CHECK(w.grad().isZero());
}

TEST_CASE("categorical cross-entropy: bad labels and shapes are errors") {
  Tape<double> tape;
  const MatrixD z = MatrixD::Zero(3, 2), bad_targets = MatrixD::Zero(3, 3), w = MatrixD::Ones(3, 2);
  CHECK_THROWS_WITH_AS(categorical_cross_entropy(tape.input(z), std::vector<int>{0, 2, 1}),
                       "categorical_cross_entropy: label of event 1 is 2, expected 0 <= label < 2", Error);
  CHECK_THROWS_WITH_AS(categorical_cross_entropy(tape.input(z), std::vector<int>{0, -1, 1}),
                       "categorical_cross_entropy: label of event 1 is -1, expected 0 <= label < 2", Error);
  CHECK_THROWS_WITH_AS(categorical_cross_entropy(tape.input(z), std::vector<int>{0, 1}),
                       "categorical_cross_entropy: 2 labels for 3 events (one label per event expected)",
                       Error);
  CHECK_THROWS_WITH_AS(
      categorical_cross_entropy(tape.input(z), bad_targets),
      "categorical_cross_entropy: targets are 3 x 3, expected 3 x 2 (one row per event, one column "
      "per class; for class indices pass a std::vector<int>)",
      Error);
  const MatrixD negative = (MatrixD(3, 2) << 1, 0, 0, 1, -0.5, 1.5).finished();
  CHECK_THROWS_WITH_AS(
      categorical_cross_entropy(tape.input(z), negative),
      "categorical_cross_entropy: target (2, 0) is -0.5, expected a non-negative probability", Error);
  CHECK_THROWS_WITH_AS(categorical_cross_entropy(tape.input(z), std::vector<int>{0, 1, 1}, w),
                       "categorical_cross_entropy: weights are 3 x 2, expected 3 x 1 (one weight per event)",
                       Error);
}

// ---------------------------------------------------------------- MSE

TEST_CASE("mse: weighted value, gradients for predictions, targets and weights") {
  Rng rng(77);
  const MatrixD p = random_matrix(rng, 9, 2), t = random_matrix(rng, 9, 2),
                w = uniform_matrix(rng, 9, 1, 0.1, 2.0);
  double total = 0;
  for (Index i = 0; i < 9; ++i)
    total +=
        w(i, 0) * ((p(i, 0) - t(i, 0)) * (p(i, 0) - t(i, 0)) + (p(i, 1) - t(i, 1)) * (p(i, 1) - t(i, 1))) / 2;
  Tape<double> tape;
  CHECK(mse(tape.input(p), t, w).item() == doctest::Approx(total / w.sum()).epsilon(1e-14));
  CHECK(mse(tape.input(p), t).item() == doctest::Approx((p - t).squaredNorm() / 18).epsilon(1e-14));
  check_gradients([](Tape<double>&, const std::vector<Var<double>>& in) { return mse(in[0], in[1], in[2]); },
                  {p, t, w});
  check_gradients([&](Tape<double>&, const std::vector<Var<double>>& in) { return mse(in[0], t); }, {p});
  Tape<double> t2;
  const MatrixD wrong = MatrixD::Zero(9, 3);
  CHECK_THROWS_WITH_AS(mse(t2.input(p), wrong),
                       "mse: targets are 9 x 3, expected 9 x 2 (the shape of the predictions)", Error);
}

// ---------------------------------------------------------------- linear domain loss (001 eq. 4.4)

TEST_CASE("linear domain loss: -y for source events, +y for target events, weighted") {
  const MatrixD y = (MatrixD(4, 1) << 0.5, -1.5, 2.0, 0.25).finished();
  const MatrixD w = (MatrixD(4, 1) << 1.0, 2.0, 0.5, 1.5).finished();
  const std::vector<int> is_source{1, 0, 1, 0};
  Tape<double> tape;
  auto v = tape.variable(y), wv = tape.variable(w);
  auto loss = linear_domain_loss(v, is_source, wv);
  const double expected = (-1.0 * 0.5 + 2.0 * -1.5 - 0.5 * 2.0 + 1.5 * 0.25) / 5.0;
  CHECK(loss.item() == doctest::Approx(expected).epsilon(1e-15));
  tape.backward(loss);
  // The gradient does not depend on y: -w/W for source, +w/W for target.
  const MatrixD dy = (MatrixD(4, 1) << -0.2, 0.4, -0.1, 0.3).finished();
  CHECK((v.grad() - dy).norm() <= 1e-15);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return linear_domain_loss(in[0], is_source, in[1]);
      },
      {y, w});
  const std::vector<bool> flags{true, false, true, false};
  const Eigen::VectorXd numeric_flags = (Eigen::VectorXd(4) << 1, 0, 1, 0).finished();
  CHECK(linear_domain_loss(tape.input(y), flags, w).item() == doctest::Approx(expected).epsilon(1e-15));
  CHECK(linear_domain_loss(tape.input(y), numeric_flags, w).item() ==
        doctest::Approx(expected).epsilon(1e-15));
  CHECK(linear_domain_loss(tape.input(y), is_source).item() ==
        doctest::Approx((-0.5 - 1.5 - 2.0 + 0.25) / 4).epsilon(1e-15));
}

TEST_CASE("linear domain loss: bad flags and shapes are errors") {
  Tape<double> tape;
  const MatrixD y = MatrixD::Zero(3, 1), y2 = MatrixD::Zero(3, 2);
  CHECK_THROWS_WITH_AS(linear_domain_loss(tape.input(y), std::vector<int>{1, 2, 0}),
                       "linear_domain_loss: domain flag of event 1 is 2, expected 1 (source) or 0 (target)",
                       Error);
  CHECK_THROWS_WITH_AS(linear_domain_loss(tape.input(y), std::vector<int>{1, 0}),
                       "linear_domain_loss: 2 domain flags for 3 events (one per event expected)", Error);
  CHECK_THROWS_WITH_AS(
      linear_domain_loss(tape.input(y2), std::vector<int>{1, 0, 0}),
      "linear_domain_loss: outputs are 3 x 2, expected 3 x 1 (a linear domain output, one per event)", Error);
}

// ---------------------------------------------------------------- soft-histogram penalty (004)

TEST_CASE("soft-histogram penalty: closed form and gradients") {
  const MatrixD nominal = (MatrixD(1, 4) << 10.0, 4.0, 2.0, 8.0).finished();
  const MatrixD varied = (MatrixD(1, 4) << 9.0, 5.0, 2.0, 6.0).finished();
  Tape<double> tape;
  auto lambda = soft_histogram_penalty(tape.input(nominal), tape.input(varied));
  CHECK(lambda.item() == doctest::Approx((0.01 + 0.0625 + 0.0 + 0.0625) / 4).epsilon(1e-15));
  check_gradients(
      [](Tape<double>&, const std::vector<Var<double>>& in) { return soft_histogram_penalty(in[0], in[1]); },
      {nominal, varied});
}

TEST_CASE("soft-histogram penalty: through soft histograms, variation by event weights (004)") {
  Rng rng(78);
  const SoftHistogram h = SoftHistogram::uniform(5, 0.0, 1.0);
  const MatrixD f = uniform_matrix(rng, 30, 1, 0.0, 1.0), w_nominal = MatrixD::Ones(30, 1);
  const MatrixD w_varied = uniform_matrix(rng, 30, 1, 0.7, 1.3);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return soft_histogram_penalty(h(in[0], w_nominal), h(in[0], in[1]));
      },
      {f, w_varied});
  // Variation by shifted values instead.
  const MatrixD shifted = (f.array() + 0.05).matrix();
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return soft_histogram_penalty(h(in[0]), h(in[1]));
      },
      {f, shifted});
}

TEST_CASE("soft-histogram penalty: an empty nominal bin is skipped, never 0/0") {
  // Bin 1 is empty in the nominal histogram and filled in the varied one; bin 3 empty in both.
  const MatrixD nominal = (MatrixD(1, 4) << 10.0, 0.0, 2.0, 0.0).finished();
  const MatrixD varied = (MatrixD(1, 4) << 9.0, 3.0, 2.0, 0.0).finished();
  Tape<double> tape;
  auto n = tape.variable(nominal), v = tape.variable(varied);
  auto lambda = soft_histogram_penalty(n, v);
  CHECK(std::isfinite(lambda.item()));
  CHECK(lambda.item() == doctest::Approx(0.01 / 4).epsilon(1e-15));  // 1/K still counts all 4 bins
  tape.backward(lambda);
  CHECK(n.grad().allFinite());
  CHECK(v.grad().allFinite());
  CHECK(n.grad()(0, 1) == 0.0);
  CHECK(v.grad()(0, 1) == 0.0);
  CHECK(v.grad()(0, 3) == 0.0);
  // Below epsilon counts as empty; at a larger epsilon more bins are skipped.
  const MatrixD tiny = (MatrixD(1, 2) << 1e-9, 1.0).finished(),
                tiny_varied = (MatrixD(1, 2) << 1.0, 0.5).finished();
  CHECK(soft_histogram_penalty(tape.input(tiny), tape.input(tiny_varied)).item() ==
        doctest::Approx(0.25 / 2).epsilon(1e-15));
  CHECK(soft_histogram_penalty(tape.input(tiny), tape.input(tiny_varied), 2.0).item() == 0.0);
  // A soft histogram of events far outside the bins underflows to exact zeros: still finite.
  const SoftHistogram h = SoftHistogram::uniform(3, 0.0, 1.0);
  const MatrixD far = MatrixD::Constant(5, 1, 100.0);
  Tape<double> t2;
  auto fv = t2.variable(far);
  auto empty = soft_histogram_penalty(h(fv), h(fv + 0.5));
  CHECK(empty.item() == 0.0);
  t2.backward(empty);
  CHECK(fv.grad().isZero());
}

TEST_CASE("soft-histogram penalty: shape and epsilon errors") {
  Tape<double> tape;
  const MatrixD a = MatrixD::Ones(1, 3), b = MatrixD::Ones(1, 4), c = MatrixD::Ones(2, 3);
  CHECK_THROWS_WITH_AS(
      soft_histogram_penalty(tape.input(a), tape.input(b)),
      "soft_histogram_penalty: the varied histogram is 1 x 4, expected 1 x 3 (the nominal's bins)", Error);
  CHECK_THROWS_WITH_AS(soft_histogram_penalty(tape.input(c), tape.input(c)),
                       "soft_histogram_penalty: the nominal histogram is 2 x 3, expected 1 x K", Error);
  CHECK_THROWS_WITH_AS(soft_histogram_penalty(tape.input(a), tape.input(a), -1.0),
                       "soft_histogram_penalty: epsilon must be >= 0, got -1", Error);
}
