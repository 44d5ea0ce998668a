// Tests for losses/: binary and categorical cross-entropy from logits, MSE, the linear domain loss
// of 001 set-up B, and the soft-histogram penalty of 004.
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/elementwise.hpp>
#include <agnostic/autodiff/soft_counts.hpp>
#include <agnostic/autodiff/soft_histogram.hpp>
#include <agnostic/losses/binary_cross_entropy.hpp>
#include <agnostic/losses/categorical_cross_entropy.hpp>
#include <agnostic/losses/inference_aware.hpp>
#include <agnostic/losses/linear_domain_loss.hpp>
#include <agnostic/losses/mse.hpp>
#include <agnostic/losses/soft_histogram_penalty.hpp>
#include <agnostic/stats/fit.hpp>
#include <agnostic/stats/inference.hpp>
#include <agnostic/stats/workspace.hpp>
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

TEST_CASE("soft-histogram penalty: a count threshold (soft_histogram.min_count) leaves the tail bins out") {
  // 40 scores in [0.40, 0.60], 10 bins on [0, 1]: bins far from the scores hold only Gaussian tails
  // (~exp(-40) per event at 0.45 from a bin centre); shifted by 0.02 their ratios change by orders of
  // magnitude, so they dominate the literal eq. 2 (~50 times the populated bins here). Above a 1-event
  // threshold, only the populated bins count, and the gradient is exact there.
  Rng rng(91);
  const SoftHistogram h = SoftHistogram::uniform(10, 0.0, 1.0);
  const MatrixD f = uniform_matrix(rng, 40, 1, 0.40, 0.60);
  const MatrixD shifted = (f.array() + 0.02).matrix();
  Tape<double> tape;
  const auto nominal = h(tape.input(f)), varied = h(tape.input(shifted));
  double by_hand = 0.0;
  int populated = 0;
  for (int k = 0; k < 10; ++k)
    if (nominal.value()(0, k) > 1.0) {
      by_hand += std::pow(1.0 - varied.value()(0, k) / nominal.value()(0, k), 2);
      ++populated;
    }
  CHECK(populated >= 3);
  CHECK(populated <= 6);
  const double thresholded = soft_histogram_penalty(nominal, varied, 1.0).item();
  CHECK(thresholded == doctest::Approx(by_hand / 10.0).epsilon(1e-12));
  CHECK(soft_histogram_penalty(nominal, varied).item() > 10.0 * thresholded);
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        return soft_histogram_penalty(h(in[0]), h(in[1]), 1.0);
      },
      {f, shifted});
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

// ---- inference-aware loss (INFERNO) ----

namespace {

// An independent sigma^2(mu): the information matrix written out term by term and inverted by Eigen.
double fisher_variance(const MatrixD& c, Index shapes, const std::vector<NormalisationNuisance>& norms) {
  const Index K = c.rows(), P = 1 + shapes + static_cast<Index>(norms.size());
  Eigen::MatrixXd info = Eigen::MatrixXd::Zero(P, P);
  for (Index k = 0; k < K; ++k) {
    const double s = c(k, 0), b = c(k, 1), nu = s + b;
    if (nu <= 0) continue;
    Eigen::VectorXd d(P);
    d(0) = s;
    for (Index j = 0; j < shapes; ++j) {
      const double signal_slope = 0.5 * (c(k, 2 + 4 * j) - c(k, 4 + 4 * j));
      const double background_slope = 0.5 * (c(k, 3 + 4 * j) - c(k, 5 + 4 * j));
      d(1 + j) = signal_slope + background_slope;
    }
    for (std::size_t m = 0; m < norms.size(); ++m)
      d(1 + shapes + static_cast<Index>(m)) =
          std::log(1.0 + norms[m].relative) * (norms[m].on_signal ? s : b);
    info += d * d.transpose() / nu;
  }
  for (Index i = 1; i < P; ++i) info(i, i) += 1.0;
  return info.inverse()(0, 0);
}

// Counts for K bins and S shape nuisances (columns s, b, then s up, b up, s down, b down per
// nuisance): positive nominal counts, variations within +-30 %.
MatrixD inference_counts(Rng& rng, Index K, Index S) {
  MatrixD c(K, 2 + 4 * S);
  c.col(0) = uniform_matrix(rng, K, 1, 1.0, 20.0);
  c.col(1) = uniform_matrix(rng, K, 1, 5.0, 200.0);
  for (Index j = 0; j < S; ++j)
    for (Index q = 0; q < 4; ++q)
      c.col(2 + 4 * j + q) = c.col(q % 2).cwiseProduct(uniform_matrix(rng, K, 1, 0.7, 1.3));
  return c;
}

}  // namespace

TEST_CASE("inference-aware loss: no nuisance gives 1 / sum_k s_k^2 / (s_k + b_k)") {
  const MatrixD c = (MatrixD(3, 2) << 5.0, 100.0, 10.0, 20.0, 2.0, 0.0).finished();
  Tape<double> tape;
  const double expected = 1.0 / (25.0 / 105.0 + 100.0 / 30.0 + 4.0 / 2.0);
  CHECK(inference_aware_variance(tape.input(c), 0).item() == doctest::Approx(expected).epsilon(1e-14));
  // An empty bin (nu = 0, a hard assignment that leaves it empty) carries nothing and is skipped.
  const MatrixD with_empty = (MatrixD(4, 2) << 5.0, 100.0, 0.0, 0.0, 10.0, 20.0, 2.0, 0.0).finished();
  CHECK(inference_aware_variance(tape.input(with_empty), 0).item() ==
        doctest::Approx(expected).epsilon(1e-14));
}

TEST_CASE("inference-aware loss: one bin, background normalisation in closed form") {
  // nu = mu s + b (1 + r)^beta: I = [[s^2, s b l], [s b l, b^2 l^2 + nu]] / nu with l = log(1 + r).
  const double s = 30.0, b = 400.0, r = 0.1, l = std::log1p(r), nu = s + b;
  const MatrixD c = (MatrixD(1, 2) << s, b).finished();
  const double i00 = s * s / nu, i01 = s * b * l / nu, i11 = b * b * l * l / nu + 1.0;
  Tape<double> tape;
  CHECK(inference_aware_variance(tape.input(c), 0, {{false, r}}).item() ==
        doctest::Approx(i11 / (i00 * i11 - i01 * i01)).epsilon(1e-13));
  // A normalisation on the signal alone is degenerate with mu only through its constraint.
  const double j01 = s * s * l / nu, j11 = s * s * l * l / nu + 1.0;
  CHECK(inference_aware_variance(tape.input(c), 0, {{true, r}}).item() ==
        doctest::Approx(j11 / (i00 * j11 - j01 * j01)).epsilon(1e-13));
}

TEST_CASE("inference-aware loss: against an independent Fisher matrix, and nuisances only increase it") {
  Rng rng(4711);
  const MatrixD c = inference_counts(rng, 6, 3);
  const std::vector<NormalisationNuisance> norms{{false, 0.1}, {true, 0.05}, {false, 0.3}};
  Tape<double> tape;
  double previous = 0.0;
  for (Index shapes = 0; shapes <= 3; ++shapes) {
    const MatrixD part = c.leftCols(2 + 4 * shapes);
    const double v = inference_aware_variance(tape.input(part), shapes, norms).item();
    CHECK(v == doctest::Approx(fisher_variance(part, shapes, norms)).epsilon(1e-12));
    CHECK(v > previous);
    previous = v;
    tape.clear();
  }
}

TEST_CASE("inference-aware loss: gradients with 0, 1 and several nuisances") {
  Rng rng(99);
  for (const auto& nuisances : {std::pair<Index, std::vector<NormalisationNuisance>>{0, {}},
                                {1, {}},
                                {0, {{false, 0.2}}},
                                {2, {{false, 0.1}, {true, 0.05}}},
                                {3, {{false, 0.1}, {true, 0.05}, {false, 0.5}}}}) {
    const Index shapes = nuisances.first;  // (clang 14 cannot capture structured bindings)
    const std::vector<NormalisationNuisance>& norms = nuisances.second;
    CAPTURE(shapes);
    CAPTURE(norms.size());
    const MatrixD c = inference_counts(rng, 5, shapes);
    check_gradients(
        [&](Tape<double>&, const std::vector<Var<double>>& in) {
          return inference_aware_variance(in[0], shapes, norms);
        },
        {c});
  }
}

TEST_CASE("inference-aware loss: gradients through a temperature softmax and soft counts") {
  // The training path: logits -> softmax(z / tau) -> counts per class (and per weight variation).
  Rng rng(7);
  const Index events = 40, bins = 4;
  const MatrixD logits = random_matrix(rng, events, bins, 2.0);
  MatrixD weights = MatrixD::Zero(events, 6);  // s, b, s up, b up, s down, b down
  for (Index i = 0; i < events; ++i) {
    const bool signal = i % 3 == 0;
    const double w = signal ? 0.5 : 10.0, up = 1.0 + 0.1 * std::sin(double(i)), down = 2.0 - up;
    weights(i, signal ? 0 : 1) = w;
    weights(i, signal ? 2 : 3) = signal ? w : w * up;  // the variation leaves the signal alone
    weights(i, signal ? 4 : 5) = signal ? w : w * down;
  }
  check_gradients(
      [&](Tape<double>&, const std::vector<Var<double>>& in) {
        const Var<double> p = softmax(in[0] * (1.0 / 0.3));
        return inference_aware_variance(soft_counts(p, in[1]), 1, {{false, 0.1}});
      },
      {logits, weights});
  // soft_counts on its own: p^T w.
  Tape<double> tape;
  const MatrixD p = uniform_matrix(rng, events, bins, 0.0, 1.0);
  CHECK((soft_counts(tape.input(p), weights).value() - p.transpose() * weights).norm() < 1e-12);
}

TEST_CASE("inference-aware loss: shape, relative size and singular-information errors") {
  Tape<double> tape;
  const MatrixD c = (MatrixD(2, 3) << 1.0, 2.0, 3.0, 4.0, 5.0, 6.0).finished();
  CHECK_THROWS_WITH(inference_aware_variance(tape.input(c), 0),
                    doctest::Contains("the counts are 2 x 3; expected bins x 2"));
  CHECK_THROWS_WITH(
      inference_aware_variance(tape.input(c), 1),
      doctest::Contains("expected bins x 6 (signal, background, then signal up, background up"));
  const MatrixD ok = (MatrixD(1, 2) << 1.0, 2.0).finished();
  CHECK_THROWS_WITH(inference_aware_variance(tape.input(ok), 0, {{false, 0.0}}),
                    doctest::Contains("normalisation 0 has relative size 0; must be > 0"));
  const MatrixD no_signal = (MatrixD(2, 2) << 0.0, 2.0, 0.0, 5.0).finished();
  CHECK_THROWS_WITH(inference_aware_variance(tape.input(no_signal), 0),
                    doctest::Contains("the Fisher information is singular"));
  const MatrixD p = MatrixD::Ones(3, 2), w = MatrixD::Ones(4, 2);
  CHECK_THROWS_WITH(soft_counts(tape.input(p), w), doctest::Contains("soft_counts: weights are 4 x 2"));
}

namespace {

// The pyhf workspace a binned fit of these counts uses: signal with normfactor mu, each shape
// nuisance a histosys shared by signal and background, each normalisation a normsys with
// hi = 1 + r, lo = 1 / (1 + r) on its class; no staterror (the loss has no MC statistics term).
nlohmann::json equivalent_workspace(const MatrixD& c, Index shapes,
                                    const std::vector<NormalisationNuisance>& norms) {
  auto column = [&](Index j) {
    std::vector<double> v(static_cast<std::size_t>(c.rows()));
    for (Index k = 0; k < c.rows(); ++k) v[static_cast<std::size_t>(k)] = c(k, j);
    return v;
  };
  nlohmann::json samples = nlohmann::json::array();
  for (int cls = 0; cls < 2; ++cls) {  // 0 signal, 1 background
    nlohmann::json modifiers = nlohmann::json::array();
    if (cls == 0) modifiers.push_back({{"name", "mu"}, {"type", "normfactor"}, {"data", nullptr}});
    for (Index j = 0; j < shapes; ++j)
      modifiers.push_back(
          {{"name", "shape_" + std::to_string(j)},
           {"type", "histosys"},
           {"data", {{"hi_data", column(2 + 4 * j + cls)}, {"lo_data", column(4 + 4 * j + cls)}}}});
    for (std::size_t m = 0; m < norms.size(); ++m)
      if (norms[m].on_signal == (cls == 0))
        modifiers.push_back(
            {{"name", "norm_" + std::to_string(m)},
             {"type", "normsys"},
             {"data", {{"hi", 1.0 + norms[m].relative}, {"lo", 1.0 / (1.0 + norms[m].relative)}}}});
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

TEST_CASE("inference-aware loss: hard assignment agrees with the Asimov fit's Hessian error on mu") {
  // Events with logits far apart: at temperature 1e-3 the softmax is a hard arg-max, so the soft
  // counts are the histogram of the arg-max, and sigma(mu) of the loss must be the error on mu of
  // a fit to the Asimov data of the equivalent workspace (Hessian at the minimum). The fit stops at
  // an EDM of 1e-10 and its Hessian is exact (analytic), so agreement to 1e-6 relative is expected;
  // 1e-5 leaves room for the minimum not being exactly at mu = 1, alpha = 0.
  Rng rng(2026);
  const Index events = 3000, bins = 6;
  MatrixD logits = random_matrix(rng, events, bins, 3.0);
  for (Index i = 0; i < events; ++i) {  // one clear winner per event, so tau -> 0 is a clean arg-max
    Index k = 0;
    logits.row(i).maxCoeff(&k);
    logits(i, k) += 1.0;
  }
  MatrixD w = MatrixD::Zero(events, 10);  // s, b, then two shape nuisances (s up, b up, s down, b down)
  for (Index i = 0; i < events; ++i) {
    const bool signal = i % 5 == 0;
    const double x = std::sin(0.37 * double(i)), weight = signal ? 60.0 / 600.0 : 1200.0 / 2400.0;
    const Index c = signal ? 0 : 1;
    w(i, c) = weight;
    // nuisance 0: +-10 % tilt of the background only; nuisance 1: asymmetric, both classes
    w(i, 2 + c) = weight * (signal ? 1.0 : 1.0 + 0.1 * x);
    w(i, 4 + c) = weight * (signal ? 1.0 : 1.0 - 0.1 * x);
    w(i, 6 + c) = weight * (1.0 + 0.15 * x * x);
    w(i, 8 + c) = weight * (1.0 - 0.05 * x);
  }
  const std::vector<NormalisationNuisance> norms{{false, 0.1}, {true, 0.05}};
  for (Index shapes = 0; shapes <= 2; ++shapes)
    for (std::size_t n_norms = 0; n_norms <= norms.size(); n_norms += 2) {
      CAPTURE(shapes);
      CAPTURE(n_norms);
      const std::vector<NormalisationNuisance> used(norms.begin(),
                                                    norms.begin() + static_cast<long>(n_norms));
      const MatrixD weights = w.leftCols(2 + 4 * shapes);
      Tape<double> tape;
      const Var<double> counts = soft_counts(softmax(tape.input(logits) * 1000.0), weights);
      const double loss_sigma = std::sqrt(inference_aware_variance(counts, shapes, used).item());
      MatrixD hard = MatrixD::Zero(bins, weights.cols());  // the arg-max histogram, independently
      for (Index i = 0; i < events; ++i) {
        Index k = 0;
        logits.row(i).maxCoeff(&k);
        hard.row(k) += weights.row(i);
      }
      CHECK((counts.value() - hard).cwiseAbs().maxCoeff() < 1e-9);
      stats::ModelOptions options;
      options.normsys = stats::NormsysInterp::code1;  // (1 + r)^beta exactly, as in the loss
      const stats::BinnedLikelihood model(stats::parse_workspace(equivalent_workspace(hard, shapes, used)),
                                          options);
      const stats::FitResult fit = stats::fit(model, stats::nominal_asimov_data(model));
      REQUIRE(fit.converged);
      CHECK(fit.values(model.poi()) == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(loss_sigma == doctest::Approx(fit.errors(model.poi())).epsilon(1e-5));
    }
}
