// Tests for io/column_selection.hpp, io/missing_values.hpp and io/standardisation.hpp, ending with
// the real Higgs sample read through the whole chain and compared with numpy
// (tests/reference/higgs_io_reference.py -> higgs_io_reference.json).
#include <doctest/doctest.h>

#include "message_checks.hpp"

#include <agnostic/io/column_selection.hpp>
#include <agnostic/io/csv.hpp>
#include <agnostic/io/missing_values.hpp>
#include <agnostic/io/standardisation.hpp>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace agnostic;
using namespace agnostic::io;

namespace {

const char* kEvents =
    "# toy events\n"
    "pt,eta,label,w,dom,flag\n"
    "10,-999,s,0.5,0,1\n"
    "20,1.5,b,1.5,1,-1\n"
    "30,-999,b,2.0,1,1\n"
    "40,0.5,s,1.0,0,-1\n";

Table events() {
  return parse_csv(kEvents, "toy.csv");
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using agnostic_test::check_contains;

}  // namespace

TEST_CASE("columns: features, mapped text label, weight and numeric domain by name") {
  const Table t = events();
  ColumnSelection sel;
  sel.features = {"eta", "pt"};  // any order
  sel.label = "label";
  sel.label_classes = {{"b", 0}, {"s", 1}};
  sel.weight = "w";
  sel.domain = "dom";
  const auto c = select_columns<double>(t, sel);
  REQUIRE(c.features.rows() == 4);
  REQUIRE(c.features.cols() == 2);
  CHECK(c.feature_names == std::vector<std::string>{"eta", "pt"});
  CHECK(c.features(1, 0) == 1.5);
  CHECK(c.features(3, 1) == 40.0);
  CHECK(c.labels == std::vector<Index>{1, 0, 0, 1});
  CHECK(c.domains == std::vector<Index>{0, 1, 1, 0});
  CHECK(c.weights(2) == 2.0);

  // A subset of rows, in the order given, and float storage.
  const std::vector<Index> rows = {3, 1};
  const auto s = select_columns<float>(t, sel, {}, rows);
  CHECK(s.features(0, 1) == 40.0f);
  CHECK(s.labels == std::vector<Index>{1, 0});
  CHECK(s.weights(1) == 1.5f);

  // No weight column: unit weights; numeric label with a mapping of numbers.
  ColumnSelection plain;
  plain.features = {"pt"};
  plain.label = "flag";
  plain.label_classes = {{"-1", 0}, {"1", 1}};
  const auto p = select_columns<double>(t, plain);
  CHECK(p.labels == std::vector<Index>{1, 0, 1, 0});
  CHECK(p.weights.sum() == 4.0);
  CHECK(p.domains.empty());
}

TEST_CASE("columns error: a label value without a class names the row, line and value") {
  const Table t = parse_csv("x,label\n1,s\n2,b\n# note\n3,bkg\n", "labels.csv");
  ColumnSelection sel;
  sel.features = {"x"};
  sel.label = "label";
  sel.label_classes = {{"b", 0}, {"s", 1}};
  check_contains(message_of([&] { select_columns<double>(t, sel); }),
                 {"file 'labels.csv', row 3 (line 5), column 'label'", "label value 'bkg' has no class",
                  "'b' -> 0, 's' -> 1"});
}

TEST_CASE("columns error: a text label needs an explicit mapping") {
  ColumnSelection sel;
  sel.features = {"pt"};
  sel.label = "label";
  check_contains(
      message_of([&] { select_columns<double>(events(), sel); }),
      {"label column 'label'", "'toy.csv'", "holds text", "explicit mapping", "{\"b\": 0, \"s\": 1}"});
}

TEST_CASE("columns error: a numeric label must be a class index") {
  const Table t = parse_csv("x,y\n1,0\n2,1\n3,0.5\n", "frac.csv");
  ColumnSelection sel;
  sel.features = {"x"};
  sel.label = "y";
  check_contains(message_of([&] { select_columns<double>(t, sel); }),
                 {"'frac.csv', row 3 (line 4), column 'y'", "label value 0.5", "non-negative integer"});
  sel.domain = "y";
  sel.label = "";
  sel.domain_classes = {{"zero", 0}};
  check_contains(message_of([&] { select_columns<double>(t, sel); }),
                 {"domain column 'y'", "keys of its mapping must be numbers", "'zero'"});
}

TEST_CASE("columns error: NaN and Inf in a feature are reported with row and column") {
  const Table t = parse_csv("a,b\n1,2\n3,nan\n", "nan.csv");
  ColumnSelection sel;
  sel.features = {"a", "b"};
  check_contains(message_of([&] { select_columns<double>(t, sel); }),
                 {"file 'nan.csv', row 2 (line 3), column 'b'", "feature value nan is not finite"});
  const Table u = parse_csv("a,b\n1,-inf\n", "inf.csv");
  check_contains(message_of([&] { select_columns<double>(u, sel); }),
                 {"file 'inf.csv', row 1 (line 2), column 'b'", "feature value -inf is not finite"});
  const Table w = parse_csv("a,b,w\n1,2,inf\n", "w.csv");
  sel.weight = "w";
  check_contains(message_of([&] { select_columns<double>(w, sel); }),
                 {"file 'w.csv', row 1 (line 2), column 'w'", "event weight inf is not finite"});
}

TEST_CASE("columns error: a missing or misused column lists the columns") {
  ColumnSelection sel;
  sel.features = {"pt", "phi"};
  check_contains(message_of([&] { select_columns<double>(events(), sel); }),
                 {"no column named 'phi' in 'toy.csv'", "'pt', 'eta'", "'label' (text)"});
  sel.features = {"pt", "pt"};
  check_contains(message_of([&] { select_columns<double>(events(), sel); }),
                 {"feature 'pt' is selected twice"});
  sel.features = {"label"};
  check_contains(message_of([&] { select_columns<double>(events(), sel); }),
                 {"column 'label' of 'toy.csv' holds text, expected numbers"});
}

TEST_CASE("missing values: mean of the training rows, indicators, and identical application to new data") {
  const Table t = events();
  ColumnSelection sel;
  sel.features = {"pt", "eta"};
  MissingValueSpec spec;  // -999, mean, every feature
  spec.add_indicators = true;
  // Training rows 0, 1, 2: eta's non-missing training value is 1.5 only (row 3's 0.5 is not training).
  const std::vector<Index> train = {0, 1, 2};
  const MissingValueRules rules = fit_missing_values(t, sel.features, spec, train);
  REQUIRE(rules.rules.size() == 2);
  CHECK(rules.find("eta")->replacement == 1.5);
  CHECK(rules.find("eta")->indicator == "eta_missing");
  CHECK(rules.find("pt")->indicator.empty());  // pt has no -999 in the training rows
  CHECK(rules.find("pt")->replacement == 20.0);

  const auto c = select_columns<double>(t, sel, rules);
  CHECK(c.feature_names == std::vector<std::string>{"pt", "eta", "eta_missing"});
  CHECK(c.features.col(1) == Vector<double>((Vector<double>(4) << 1.5, 1.5, 1.5, 0.5).finished()));
  CHECK(c.features.col(2) == Vector<double>((Vector<double>(4) << 1, 0, 1, 0).finished()));

  // Rules survive JSON unchanged and give the same inputs on new data (a -999 in pt, which had no
  // missing training value, is still replaced; no indicator column appears for it).
  const nlohmann::json j = rules;
  const MissingValueRules back = j.get<MissingValueRules>();
  const Table fresh = parse_csv("pt,eta\n-999,-999\n5,2\n", "new.csv");
  const auto n = select_columns<double>(fresh, sel, back);
  CHECK(n.feature_names == c.feature_names);
  CHECK(n.features(0, 0) == 20.0);
  CHECK(n.features(0, 1) == 1.5);
  CHECK(n.features(0, 2) == 1.0);
  CHECK(n.features(1, 2) == 0.0);
  CHECK(j.dump() == nlohmann::json(back).dump());
}

TEST_CASE("missing values: a chosen fill value, a chosen feature list, and a NaN marker") {
  const Table t = events();
  MissingValueSpec spec;
  spec.features = {"eta"};
  spec.fill = MissingFill::value;
  spec.fill_value = -5.0;
  const auto rules = fit_missing_values(t, {"pt", "eta"}, spec);
  REQUIRE(rules.rules.size() == 1);
  ColumnSelection sel;
  sel.features = {"pt", "eta"};
  const auto c = select_columns<double>(t, sel, rules);
  CHECK(c.features(0, 1) == -5.0);
  CHECK(c.features.cols() == 2);

  const Table holes = parse_csv("a\n1\nnan\n3\n", "holes.csv");
  MissingValueSpec nan_spec;
  nan_spec.marker = std::numeric_limits<double>::quiet_NaN();
  nan_spec.add_indicators = true;
  const auto nan_rules = fit_missing_values(holes, {"a"}, nan_spec);
  CHECK(nan_rules.rules[0].replacement == 2.0);
  ColumnSelection a;
  a.features = {"a"};
  const auto h = select_columns<double>(holes, a, nan_rules);
  CHECK(h.features(1, 0) == 2.0);
  CHECK(h.features(1, 1) == 1.0);
  const nlohmann::json j = nan_rules;
  CHECK(j[0]["marker"] == "nan");
  CHECK(std::isnan(j.get<MissingValueRules>().rules[0].marker));
}

TEST_CASE("missing values errors") {
  const Table t = parse_csv("a,b\n-999,1\n-999,2\n", "allmissing.csv");
  check_contains(message_of([&] {
                   fit_missing_values(t, {"a", "b"}, MissingValueSpec{});
                 }),
                 {"feature 'a'", "missing marker -999 in all 2 training rows", "choose a fill value"});
  MissingValueSpec spec;
  spec.features = {"c"};
  check_contains(message_of([&] {
                   fit_missing_values(t, {"a", "b"}, spec);
                 }),
                 {"missing-value rule for 'c'", "not one of the selected features", "'a', 'b'"});
  check_contains(message_of([&] {
                   fit_missing_values(events(), {"pt"}, {MissingValueSpec{}, MissingValueSpec{}});
                 }),
                 {"feature 'pt' has two missing-value rules"});
  const Table bad = parse_csv("a\n1\ninf\n", "inf.csv");
  check_contains(message_of([&] { fit_missing_values(bad, {"a"}, MissingValueSpec{}); }),
                 {"file 'inf.csv', row 2 (line 3), column 'a'", "value inf is not finite"});
  check_contains(message_of([] {
                   nlohmann::json::parse(R"([{"feature": "a", "marker": -999}])").get<MissingValueRules>();
                 }),
                 {"missing-value rule 0", "'replacement' must be a number"});
  check_contains(message_of([] {
                   nlohmann::json::parse(R"([{"feature": "a", "marker": -999, "replacement": 1, "fill": 2}])")
                       .get<MissingValueRules>();
                 }),
                 {"missing-value rule 0", "unknown key 'fill'"});
}

TEST_CASE("standardisation: closed form, constant features, weights, rows, JSON") {
  MatrixD x(4, 3);
  x << 1, 5, 1e6 + 0.1,  //
      2, 5, 1e6 + 0.1,   //
      3, 5, 1e6 + 0.1,   //
      10, 5, 1e6 + 0.1;
  const std::vector<Index> rows = {0, 1, 2};
  const Standardisation s = fit_standardisation(x, {"a", "c", "big"}, rows);
  // Rows 0..2 of a: mean 2, population variance 2/3.
  CHECK(s.offset[0] == doctest::Approx(-2.0).epsilon(1e-15));
  CHECK(s.scale[0] == doctest::Approx(1.0 / std::sqrt(2.0 / 3.0)).epsilon(1e-15));
  CHECK(s.offset[1] == -5.0);
  CHECK(s.scale[1] == 1.0);  // constant
  CHECK(s.scale[2] == 1.0);  // constant up to the rounding of its mean
  const MatrixD y = s.applied(x);
  CHECK(y(1, 0) == doctest::Approx(0.0));
  CHECK(y(3, 1) == 0.0);
  CHECK(std::abs(y(0, 2)) < 1e-9);

  // Weighted: weights 1, 1, 2 on values 1, 2, 3 -> mean 9/4, variance 11/16.
  const VectorD w = (VectorD(4) << 1, 1, 2, 100).finished();
  const Standardisation sw = fit_standardisation<double>(x, {"a", "c", "big"}, rows, {w.data(), 4});
  CHECK(sw.offset[0] == doctest::Approx(-9.0 / 4).epsilon(1e-15));
  CHECK(sw.scale[0] == doctest::Approx(1.0 / std::sqrt(11.0 / 16)).epsilon(1e-15));

  const nlohmann::json j = s;
  CHECK(j[0]["name"] == "a");
  CHECK(j[0].size() == 3);
  const Standardisation back = nlohmann::json::parse(j.dump()).get<Standardisation>();
  CHECK(back.names == s.names);
  CHECK(back.offset == s.offset);  // bit for bit
  CHECK(back.scale == s.scale);

  check_contains(message_of([&] {
                   MatrixD z(2, 2);
                   s.apply(z);
                 }),
                 {"2 columns but 3 inputs", "'a', 'c', 'big'"});
  check_contains(
      message_of([] { nlohmann::json::parse(R"([{"name": "a", "offset": 1}])").get<Standardisation>(); }),
      {"inputs[0]", "'scale' must be a number"});
  check_contains(
      message_of([] {
        nlohmann::json::parse(R"([{"name": "a", "offset": 1, "scale": 0}])").get<Standardisation>();
      }),
      {"inputs[0]", "scale non-zero"});
  const VectorD neg = (VectorD(4) << 1, -1, 0, 0).finished();
  check_contains(message_of([&] {
                   fit_standardisation<double>(x, {"a", "c", "big"}, rows, {neg.data(), 4});
                 }),
                 {"weights of the chosen rows sum to 0", "positive sum"});
}

TEST_CASE("Higgs sample through the whole chain matches numpy") {
  std::ifstream in(std::string(AGNOSTIC_SOURCE_DIR) + "/tests/reference/higgs_io_reference.json");
  REQUIRE(in.good());
  const auto ref = nlohmann::json::parse(in);

  const Table t = read_csv(std::string(AGNOSTIC_SHARED_DIR) + "/data/higgs-challenge-sample/signal.csv");
  REQUIRE(t.n_rows() == ref["n_rows"].get<Index>());
  ColumnSelection sel;
  for (const auto& name : t.column_names())
    if (name.rfind("DER_", 0) == 0 || name.rfind("PRI_", 0) == 0) sel.features.push_back(name);
  REQUIRE(sel.features.size() == 30);
  sel.label = "Label";
  sel.label_classes = {{"b", 0}, {"s", 1}};
  sel.weight = "Weight";

  std::vector<Index> train;
  for (Index r = 0; r < t.n_rows(); r += 2) train.push_back(r);
  MissingValueSpec spec;
  spec.add_indicators = true;
  const MissingValueRules rules = fit_missing_values(t, sel.features, spec, train);
  for (const auto& item : ref["missing"].items()) {
    const std::string name = item.key();
    const auto& m = item.value();
    INFO("feature ", name);
    const MissingValueRule* rule = rules.find(name);
    REQUIRE(rule != nullptr);
    CHECK(rule->replacement == doctest::Approx(m["mean"].get<double>()).epsilon(1e-13));
    CHECK(rule->indicator.empty() == (m["n_missing"].get<int>() == 0));
  }

  const auto c = select_columns<double>(t, sel, rules);
  CHECK(c.feature_names == ref["feature_names"].get<std::vector<std::string>>());
  REQUIRE(c.features.cols() == 41);  // 30 features + 11 indicators
  CHECK(c.labels == std::vector<Index>(4999, 1));
  CHECK(c.weights(0) == 0.00081448039868);
  CHECK((c.features.array() != -999.0).all());
  for (Index j = 0; j < 41; ++j)
    CHECK(c.features(1, j) == doctest::Approx(ref["row1"][j].get<double>()).epsilon(1e-13));

  const Standardisation unweighted = fit_standardisation(c.features, c.feature_names, train);
  const VectorD& w = c.weights;
  const Standardisation weighted = fit_standardisation<double>(
      c.features, c.feature_names, train, {w.data(), static_cast<std::size_t>(w.size())});
  for (Index j = 0; j < 41; ++j) {
    const auto& u = ref["inputs_unweighted"][j];
    const auto& v = ref["inputs_weighted"][j];
    INFO("input ", u["name"].get<std::string>());
    CHECK(unweighted.names[j] == u["name"].get<std::string>());
    CHECK(unweighted.offset[j] == doctest::Approx(u["offset"].get<double>()).epsilon(1e-12));
    CHECK(unweighted.scale[j] == doctest::Approx(u["scale"].get<double>()).epsilon(1e-12));
    CHECK(weighted.offset[j] == doctest::Approx(v["offset"].get<double>()).epsilon(1e-12));
    CHECK(weighted.scale[j] == doctest::Approx(v["scale"].get<double>()).epsilon(1e-12));
  }
  // Standardised training inputs have mean 0 and standard deviation 1 (unweighted).
  const MatrixD z = unweighted.applied(c.features);
  double mean0 = 0, sq0 = 0;
  for (Index r : train) {
    mean0 += z(r, 0);
    sq0 += z(r, 0) * z(r, 0);
  }
  CHECK(mean0 / static_cast<double>(train.size()) == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
  CHECK(sq0 / static_cast<double>(train.size()) == doctest::Approx(1.0).epsilon(1e-12));
}

namespace {

// Float values stored every `stride` bytes from `offset` in a byte buffer (a packed structured array).
template <class T>
std::shared_ptr<std::vector<std::byte>> py_strided_bytes(const std::vector<T>& values, std::size_t offset,
                                                         std::size_t stride) {
  auto buffer = std::make_shared<std::vector<std::byte>>(offset + stride * values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(buffer->data() + offset + i * stride, &values[i], sizeof(T));
  return buffer;
}

}  // namespace

TEST_CASE("table: columns read in place (float32, strided, unaligned) select as the same doubles") {
  const std::vector<double> x = {0.5, -1.25, 3.0, 1e-7, 42.0};
  const std::vector<float> y = {1.5f, 0.1f, -2.0f, 7.0f, 1e30f};
  const auto x_bytes = py_strided_bytes(x, 1, 13);  // unaligned doubles, 13 bytes apart
  const auto y_bytes = py_strided_bytes(y, 2, 6);
  std::weak_ptr<std::vector<std::byte>> x_alive = x_bytes;
  {
    Table lent("lent");
    lent.add_column("x", ColumnView(reinterpret_cast<const double*>(x_bytes->data() + 1), x.size(), 13),
                    x_bytes);
    lent.add_column("y", ColumnView(reinterpret_cast<const float*>(y_bytes->data() + 2), y.size(), 6),
                    y_bytes);
    lent.add_column("label", std::vector<double>{0, 1, 1, 0, 1});
    Table copied("copied");
    copied.add_column("x", std::vector<double>(x));
    copied.add_column("y", std::vector<double>(y.begin(), y.end()));
    copied.add_column("label", std::vector<double>{0, 1, 1, 0, 1});

    CHECK(lent.column("y").type() == ColumnView::Type::float32);
    CHECK(std::string(lent.column("x").type_name()) == "float64");
    CHECK(std::vector<double>(lent.column("x").begin(), lent.column("x").end()) == x);
    CHECK(lent.column("y")[4] == static_cast<double>(1e30f));
    // Reversed: the last value first, a negative stride.
    const ColumnView backwards(reinterpret_cast<const double*>(x_bytes->data() + 1 + 13 * 4), x.size(), -13);
    CHECK(std::vector<double>(backwards.begin(), backwards.end()) ==
          std::vector<double>(x.rbegin(), x.rend()));

    ColumnSelection selection;
    selection.features = {"x", "y"};
    selection.label = "label";
    const auto a = select_columns<float>(lent, selection), b = select_columns<float>(copied, selection);
    CHECK(std::memcmp(a.features.data(), b.features.data(), sizeof(float) * 10) == 0);
    CHECK(a.labels == b.labels);

    // A copy of a table shares the columns' memory and keeps it alive.
    const Table copy = lent;
    CHECK(copy.column("x").data() == lent.column("x").data());
    CHECK(copy.column("label").data() == lent.column("label").data());
    CHECK(x_alive.use_count() == 3);  // x_bytes, and the owner held by each table
  }
  CHECK(x_alive.use_count() == 1);

  Table table("t.npy");
  CHECK_THROWS_WITH_AS(table.add_column("x", ColumnView(x.data(), x.size()), nullptr),
                       "column 'x' of 't.npy' is lent without an owner that keeps its values alive", Error);
}
