// Tests for adversarial/: the strength schedules shared by DANN and ADNN, DANN (001) and ADNN
// (000, 002). One executable for both methods; each case names the method it checks.
#include <doctest/doctest.h>

#include <agnostic/adversarial/strength_schedule.hpp>
#include <cmath>
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
