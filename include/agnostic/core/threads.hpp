#pragma once
// Thread settings and the one parallel-loop helper used by every element-wise kernel.
//
// Work is split into as many contiguous chunks as there are threads, chunk c always covering the
// same rows for a given thread count; partial sums are combined in chunk order. So the same seed
// and the same thread count give the same bits, whatever the scheduler does.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>

namespace agnostic {

// Below this many scalar operations a kernel runs on one thread: waking threads costs more.
inline constexpr long kParallelMinWork = 1L << 15;

inline int& thread_setting() {
  static int threads = omp_get_max_threads();
  return threads;
}

// Sets the number of threads for agnostic's kernels and for Eigen's own products.
inline void set_threads(int n) {
  n = std::max(1, n);
  thread_setting() = n;
  omp_set_num_threads(n);
  Eigen::setNbThreads(n);
}

inline int threads() {
  return thread_setting();
}

// Number of chunks to split `rows` rows into, given `work` scalar operations in all.
inline int chunk_count(long rows, long work) {
  if (work < kParallelMinWork || rows < 2) return 1;
  return static_cast<int>(std::min<long>(threads(), rows));
}

// Rows [begin, end) of chunk c out of n chunks over `rows` rows.
struct RowRange {
  long begin, end;
  long size() const { return end - begin; }
};
inline RowRange chunk_rows(long rows, int c, int n) {
  return {rows * c / n, rows * (c + 1) / n};
}

// Calls body(chunk_index, RowRange) for each chunk, in parallel when there is more than one.
template <class Body>
void parallel_chunks(long rows, int chunks, Body&& body) {
  if (chunks <= 1) {
    body(0, RowRange{0, rows});
    return;
  }
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
  for (int c = 0; c < chunks; ++c) body(c, chunk_rows(rows, c, chunks));
}

}  // namespace agnostic
