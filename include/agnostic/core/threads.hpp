#pragma once
// Thread settings and the one parallel-loop helper used by every element-wise kernel.
//
// Work is split into as many contiguous chunks as there are threads, chunk c always covering the
// same rows for a given thread count; partial sums are combined in chunk order. So the same seed
// and the same thread count give the same bits, whatever the scheduler does.
#include <omp.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>

namespace agnostic {

// GCC's OpenMP runtime lets idle threads spin for a while before sleeping, and reads that policy
// once, from OMP_WAIT_POLICY, when the program starts. On a shared node, where another process
// competes for the cores, spinning threads steal the time of the one thread a parallel region is
// waiting for: W1 on 2 loaded cores ran at 54 k events/s spinning and 884 k events/s passive.
// Programs call this first thing in main(): unless the user chose a policy, it re-executes the
// program with OMP_WAIT_POLICY=PASSIVE (Linux; elsewhere, or if exec fails, it does nothing).
inline void prefer_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || argv == nullptr || argv[0] == nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure; the program then goes on as it is
}

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
