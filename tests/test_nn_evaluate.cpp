// Tests for nn/evaluate_in_chunks.hpp: the blocks and their order, outputs equal to a forward pass
// per block (bit for bit) and to one pass over all rows, the general form's tape, bad chunk sizes.
#include <doctest/doctest.h>

#include <agnostic/autodiff/reductions.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/nn/evaluate_in_chunks.hpp>
#include <agnostic/nn/sequential.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace agnostic;

namespace {

MatrixD random_rows(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  MatrixD m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

Sequential<double> small_network() {
  Rng rng(11);
  return Sequential<double>({3, 5, 2}, Activation::tanh(), Activation::identity(), rng);
}

}  // namespace

TEST_CASE("for_each_row_chunk: blocks of `chunk` rows in order, the last one short") {
  std::vector<std::pair<Index, Index>> seen;
  for_each_row_chunk(10, 4, [&](Index begin, Index end) { seen.emplace_back(begin, end); });
  CHECK(seen == std::vector<std::pair<Index, Index>>{{0, 4}, {4, 8}, {8, 10}});
  seen.clear();
  for_each_row_chunk(8, 4, [&](Index begin, Index end) { seen.emplace_back(begin, end); });
  CHECK(seen == std::vector<std::pair<Index, Index>>{{0, 4}, {4, 8}});
  seen.clear();
  for_each_row_chunk(0, 4, [&](Index begin, Index end) { seen.emplace_back(begin, end); });
  CHECK(seen.empty());
  CHECK_THROWS_WITH_AS(for_each_row_chunk(5, 0, [](Index, Index) {}),
                       doctest::Contains("the chunk size must be >= 1, got 0"), Error);
}

TEST_CASE("evaluate_in_chunks: each block's outputs are that block's forward pass, bit for bit") {
  Sequential<double> net = small_network();
  const MatrixD x = random_rows(11, 3, 3);
  const Index chunk = 4;
  const MatrixD chunked = evaluate_in_chunks(net, x, chunk);
  REQUIRE(chunked.rows() == 11);
  REQUIRE(chunked.cols() == 2);
  for (Index begin = 0; begin < x.rows(); begin += chunk) {
    const Index n = std::min(chunk, x.rows() - begin);
    Tape<double> tape;
    const MatrixD block = x.middleRows(begin, n);
    const MatrixD expected = net(tape, tape.input(block)).value();
    CHECK(chunked.middleRows(begin, n) == expected);
  }
  // And, a row's outputs depending on that row alone, one pass over all rows to rounding.
  Tape<double> tape;
  const MatrixD whole = net(tape, tape.input(x)).value();
  CHECK((chunked - whole).cwiseAbs().maxCoeff() < 1e-14);
  // The callback form sees the first row of every block.
  std::vector<Index> firsts;
  evaluate_in_chunks(net, x, chunk, [&](Index begin, const MatrixD& y) {
    firsts.push_back(begin);
    CHECK(y.rows() == std::min(chunk, x.rows() - begin));
  });
  CHECK(firsts == std::vector<Index>{0, 4, 8});
}

TEST_CASE("evaluate_in_chunks, general form: inputs built per block, more than the network on the tape") {
  Sequential<double> net = small_network();
  const MatrixD x = random_rows(7, 3, 5);
  Tape<double> tape;
  double total = 0.0;
  std::vector<Index> nodes;
  evaluate_in_chunks(
      tape, x.rows(), 3,
      [&](Index begin, Index end) { return MatrixD(2.0 * x.middleRows(begin, end - begin)); },
      [&](Tape<double>& t, Var<double> in) { return sum(net(t, in)); },
      [&](Index, Var<double> block_sum) {
        total += block_sum.item();
        nodes.push_back(static_cast<Index>(tape.size()));
      });
  Tape<double> whole;
  const MatrixD doubled = 2.0 * x;
  CHECK(total == doctest::Approx(net(whole, whole.input(doubled)).value().sum()).epsilon(1e-13));
  // The tape is cleared before each block: every block records the same number of nodes.
  REQUIRE(nodes.size() == 3);
  CHECK(nodes[0] == nodes[1]);
  CHECK(nodes[1] == nodes[2]);
}
