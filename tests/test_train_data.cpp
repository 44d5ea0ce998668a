// Tests for train/dataset.hpp, train/batches.hpp and train/event_weights.hpp: the split, the
// batches (plain and domain-mixed) and the weightings of 001, against closed forms.
#include <doctest/doctest.h>

#include <agnostic/train/batches.hpp>
#include <agnostic/train/dataset.hpp>
#include <agnostic/train/event_weights.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace agnostic;
using namespace agnostic::train;

namespace {

// n events, feature 0 = row index (so a gathered row tells where it came from), labels cycling
// with the given class sizes.
Dataset<float> make_data(const std::vector<Index>& class_sizes, bool with_domains = false) {
  Index n = 0;
  for (Index s : class_sizes) n += s;
  Matrix<float> x(n, 2);
  std::vector<Index> y;
  std::vector<Index> d;
  Vector<float> w(n);
  Index row = 0;
  for (std::size_t c = 0; c < class_sizes.size(); ++c)
    for (Index k = 0; k < class_sizes[c]; ++k, ++row) {
      x(row, 0) = static_cast<float>(row);
      x(row, 1) = static_cast<float>(c);
      y.push_back(static_cast<Index>(c));
      w(row) = 1.0f + 0.5f * static_cast<float>(row % 3);
      d.push_back(row % 4 == 0 ? 1 : 0);
    }
  return Dataset<float>(x, y, w, with_domains ? d : std::vector<Index>{});
}

}  // namespace

TEST_CASE("Dataset: validation names the bad event and value") {
  Matrix<float> x = Matrix<float>::Zero(3, 2);
  CHECK_THROWS_WITH_AS(Dataset<float>(x, {0, 1}),
                       "Dataset: 3 events but 2 labels; one label per event expected", Error);
  CHECK_THROWS_WITH_AS(Dataset<float>(x, {0, 1, -1}, {}, {}, 2),
                       "Dataset: label of event 2 is -1; allowed labels are 0 to 1", Error);
  x(1, 1) = std::nanf("");
  CHECK_THROWS_WITH_AS(
      Dataset<float>(x, {0, 1, 0}),
      "Dataset: feature 1 of event 1 is nan; features must be finite (declare missing values first)", Error);
  Dataset<float> ok(Matrix<float>::Zero(3, 2), {0, 2, 1});
  CHECK(ok.classes == 3);
  CHECK(ok.weights.isApprox(Vector<float>::Ones(3)));
}

TEST_CASE("split: stratified class fractions are exact, parts are disjoint and seeded") {
  const Dataset<float> data = make_data({700, 200, 100});
  const Split<float> s = split(data, {.validation_fraction = 0.3, .seed = 11, .stratify = true});
  CHECK(s.validation.rows() == 300);
  CHECK(s.train.rows() == 700);
  std::map<Index, Index> per_class;
  for (Index y : s.validation.labels) ++per_class[y];
  CHECK(per_class[0] == 210);  // round(0.3 * 700)
  CHECK(per_class[1] == 60);
  CHECK(per_class[2] == 30);
  // Disjoint and complete, and the gathered rows are the ones named.
  std::set<Index> all(s.rows.train.begin(), s.rows.train.end());
  for (Index r : s.rows.validation) CHECK(all.insert(r).second);
  CHECK(all.size() == 1000);
  for (Index k = 0; k < s.validation.rows(); ++k)
    CHECK(s.validation.features(k, 0) == static_cast<float>(s.rows.validation[static_cast<std::size_t>(k)]));
  // Same seed, same split; other seed, other split.
  CHECK(split_rows(data.labels, {.validation_fraction = 0.3, .seed = 11}).validation == s.rows.validation);
  CHECK(split_rows(data.labels, {.validation_fraction = 0.3, .seed = 12}).validation != s.rows.validation);
  // Unstratified: only the total is fixed.
  const SplitRows u = split_rows(data.labels, {.validation_fraction = 0.25, .seed = 3, .stratify = false});
  CHECK(u.validation.size() == 250);
  CHECK_THROWS_WITH_AS(split_rows(data.labels, {.validation_fraction = 1.0}),
                       "split: validation_fraction is 1; allowed range is [0, 1)", Error);
}

TEST_CASE("BatchSampler: every row once per epoch, order reproduced by the Rng state") {
  BatchSampler sampler(10, 4);
  CHECK(sampler.batches() == 3);
  Rng rng(5);
  const Rng::State before = rng.state();
  sampler.start_epoch(rng);
  std::vector<Index> seen;
  for (Index b = 0; b < sampler.batches(); ++b)
    for (Index r : sampler.batch(b)) seen.push_back(r);
  CHECK(sampler.batch(2).size() == 2);
  std::vector<Index> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < 10; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
  CHECK(seen != sorted);  // shuffled (probability 1/10! of failing by chance)
  // The next epoch differs; restoring the Rng state gives this epoch again.
  sampler.start_epoch(rng);
  std::vector<Index> second(sampler.batch(0).begin(), sampler.batch(0).end());
  rng.set_state(before);
  sampler.start_epoch(rng);
  CHECK(std::equal(seen.begin(), seen.begin() + 4, sampler.batch(0).begin()));
  CHECK(!std::equal(second.begin(), second.end(), sampler.batch(0).begin()));
  BatchSampler dropping(10, 4, true);
  CHECK(dropping.batches() == 2);
  CHECK_THROWS_WITH_AS(BatchSampler(10, 0), "BatchSampler: batch size is 0; must be >= 1", Error);
}

TEST_CASE("gather copies rows, labels, weights and domains") {
  const Dataset<float> data = make_data({3, 3}, true);
  Batch<float> batch;
  const std::vector<Index> rows{5, 0, 4};
  gather(data, rows, batch);
  CHECK(batch.size() == 3);
  CHECK(batch.features(0, 0) == 5.0f);
  CHECK(batch.features(2, 1) == 1.0f);
  CHECK(batch.labels == std::vector<Index>{1, 0, 1});
  CHECK(batch.weights(0) == data.weights(5));
  CHECK(batch.domains == std::vector<Index>{0, 1, 1});
}

TEST_CASE("MixedBatchSampler: exact 1:1 and 3:1 proportions in every batch") {
  std::vector<Index> source, target;
  for (Index i = 0; i < 100; ++i) source.push_back(i);
  for (Index i = 100; i < 130; ++i) target.push_back(i);
  MixedBatchSampler mix(source, target, 16);
  CHECK(mix.first_per_batch() == 8);
  CHECK(mix.second_per_batch() == 8);
  CHECK(mix.batches() == 13);  // ceil(100 / 8): every source event once
  Rng rng(1);
  mix.start_epoch(rng);
  std::map<Index, int> count;
  for (Index b = 0; b < mix.batches(); ++b) {
    const auto rows = mix.batch(b);
    REQUIRE(rows.size() == 16);
    for (std::size_t k = 0; k < 16; ++k) {
      CHECK((k < 8 ? rows[k] < 100 : rows[k] >= 100));
      ++count[rows[k]];
    }
  }
  for (Index i = 0; i < 100; ++i) CHECK(count[i] >= 1);    // 104 draws: 4 repeats at most
  for (Index i = 100; i < 130; ++i) CHECK(count[i] >= 3);  // 104 draws of 30, cycled: each 3 or 4 times
  MixedBatchSampler three_to_one(source, target, 16, 3.0, 1.0);
  CHECK(three_to_one.first_per_batch() == 12);
  CHECK(three_to_one.second_per_batch() == 4);
  // From a data set's domain column.
  const Dataset<float> data = make_data({40, 40}, true);
  MixedBatchSampler by = MixedBatchSampler::by_domain(data, 0, 1, 10);
  by.start_epoch(rng);
  for (Index b = 0; b < by.batches(); ++b) {
    const auto rows = by.batch(b);
    for (std::size_t k = 0; k < rows.size(); ++k)
      CHECK(data.domains[static_cast<std::size_t>(rows[k])] == (k < 5 ? 0 : 1));
  }
  CHECK_THROWS_WITH_AS(MixedBatchSampler::by_domain(data, 0, 7, 10),
                       "MixedBatchSampler: no event has domain 7", Error);
}

TEST_CASE("balanced_class_weights: equal Σw per class, total kept, gate outside the domain") {
  // Class 0: weights 1, 2, 3 (Σ 6); class 1: weights 4, 4 (Σ 8). Total 14, so 7 per class.
  const std::vector<Index> y{0, 0, 0, 1, 1};
  Vector<double> w(5);
  w << 1, 2, 3, 4, 4;
  const Vector<double> b = balanced_class_weights(y, w, 2);
  CHECK(b(0) == doctest::Approx(7.0 / 6.0));
  CHECK(b(2) == doctest::Approx(3.5));
  CHECK(b(3) == doctest::Approx(3.5));
  const auto sums = class_weight_sums(y, b, 2);
  CHECK(sums[0] == doctest::Approx(7.0));
  CHECK(sums[1] == doctest::Approx(7.0));
  // Only domain 0 (events 0, 1, 3): class 0 Σ 3, class 1 Σ 4, 3.5 each; others weigh 0.
  const std::vector<Index> d{0, 0, 1, 0, 1};
  const Vector<double> g = balanced_class_weights(y, w, 2, &d, Index{0});
  CHECK(g(0) == doctest::Approx(3.5 / 3.0));
  CHECK(g(1) == doctest::Approx(7.0 / 3.0));
  CHECK(g(3) == doctest::Approx(3.5));
  CHECK(g(2) == 0.0);
  CHECK(g(4) == 0.0);
  const Vector<double> one = balanced_class_weights(y, w, 2, nullptr, std::nullopt, 1.0);
  CHECK(one(3) == doctest::Approx(0.5));  // 4 / 8
  CHECK_THROWS_WITH_AS(
      balanced_class_weights(y, w, 3),
      "balanced_class_weights: class 2 has total weight 0; every class needs a positive total weight", Error);
}

TEST_CASE("match_class_fractions: the source takes the target's signal fraction") {
  // Source (domain 0): signal Σ 2, background Σ 6 (fraction 0.25). Target (domain 1): signal Σ 3,
  // background Σ 2 (fraction 0.6).
  const std::vector<Index> y{1, 1, 0, 0, 0, 1, 0};
  const std::vector<Index> d{0, 0, 0, 0, 0, 1, 1};
  Vector<float> w(7);
  w << 1, 1, 2, 2, 2, 3, 2;
  const auto f = class_fractions(y, w, 2, &d, Index{1});
  CHECK(f[1] == doctest::Approx(0.6));
  const Vector<float> m = match_class_fractions(y, w, d, 0, f);
  // Source total stays 8: signal 4.8 (each event 2.4), background 3.2 (each 3.2 / 3).
  CHECK(m(0) == doctest::Approx(2.4));
  CHECK(m(2) == doctest::Approx(3.2 / 3.0));
  CHECK(m(5) == 3.0f);  // target untouched
  const auto g = class_fractions(y, m, 2, &d, Index{0});
  CHECK(g[1] == doctest::Approx(0.6));
  const Vector<float> t = match_class_fractions(y, w, d, 0, f, 5.0);  // source total = target total
  CHECK(t(0) + t(1) == doctest::Approx(3.0));
  // Dataset convenience gives the same.
  Matrix<float> x = Matrix<float>::Zero(7, 1);
  const Dataset<float> data(x, y, w, d);
  CHECK(match_target_fractions(data, 0, 1).isApprox(m));
  CHECK_THROWS_WITH_AS(match_class_fractions(y, w, d, 0, {0.5, 0.6}),
                       "match_class_fractions: target fractions sum to 1.1; they must sum to 1", Error);
}
