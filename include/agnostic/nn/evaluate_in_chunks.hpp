#pragma once
// Evaluating a network over a data set a block of rows at a time: one tape, cleared before each
// block, so memory holds one block's activations whatever the number of events, and each block
// still has enough rows for the kernels to share among threads. The schemes' validation figures,
// the scores of a penalised classifier, cGAN generation and user programs all go through here.
//
// Blocks are [0, chunk), [chunk, 2 chunk), ... in order; a row's outputs depend only on that row,
// but the bits of a dense product can depend on the block's size, so callers that must reproduce
// earlier numbers keep their block size (kEvaluationChunk unless they say otherwise).
//
//   Matrix<float> scores = evaluate_in_chunks(net, features);          // all outputs
//   evaluate_in_chunks(net, features, 8192, [&](Index first_row, const Matrix<float>& outputs) {...});
#include <algorithm>

#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic {

// Rows per block unless a caller chooses: bounded memory, and enough rows for several threads.
inline constexpr Index kEvaluationChunk = 8192;

// Calls body(begin, end) for the blocks [0, chunk), [chunk, 2 chunk), ..., [.., rows), in order.
template <class Body>
void for_each_row_chunk(Index rows, Index chunk, Body&& body) {
  require(chunk >= 1, "evaluating in chunks: the chunk size must be >= 1, got ", chunk);
  for (Index begin = 0; begin < rows; begin += chunk) body(begin, std::min(rows, begin + chunk));
}

// For each block of `rows` rows: clears `tape`, takes the block's network inputs from
// input(begin, end) (a Matrix<T>, or a reference to one that lives until the block is done), runs
// forward(tape, x) and hands what it returns to use(begin, result). forward may record more than
// the network (losses, a second head) on the tape; its values stay valid until the next block.
template <class T, class Input, class Forward, class Use>
void evaluate_in_chunks(Tape<T>& tape, Index rows, Index chunk, Input&& input, Forward&& forward, Use&& use) {
  for_each_row_chunk(rows, chunk, [&](Index begin, Index end) {
    tape.clear();
    const Matrix<T>& x = input(begin, end);  // a returned temporary lives to the end of the block
    use(begin, forward(tape, tape.input(x)));
  });
}

// Runs `net` (called as net(tape, x) -> Var<T>, e.g. a Sequential<T>) on the rows of `x` in blocks
// of `chunk` rows and calls use(first_row, outputs) with each block's outputs.
template <class T, class Network, class Use>
void evaluate_in_chunks(Network& net, const Matrix<T>& x, Index chunk, Use&& use) {
  Tape<T> tape;
  evaluate_in_chunks(
      tape, x.rows(), chunk,
      [&](Index begin, Index end) { return Matrix<T>(x.middleRows(begin, end - begin)); },
      [&](Tape<T>& t, Var<T> in) { return net(t, in); },
      [&](Index begin, Var<T> out) { use(begin, out.value()); });
}

// The outputs of `net` for every row of `x` (events x outputs), computed in blocks of `chunk` rows.
template <class T, class Network>
Matrix<T> evaluate_in_chunks(Network& net, const Matrix<T>& x, Index chunk = kEvaluationChunk) {
  Matrix<T> out;
  evaluate_in_chunks(net, x, chunk, [&](Index begin, const Matrix<T>& y) {
    if (begin == 0) out.resize(x.rows(), y.cols());
    out.middleRows(begin, y.rows()) = y;
  });
  return out;
}

}  // namespace agnostic
