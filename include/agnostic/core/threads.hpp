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

// Below this much work (about one scalar operation per unit) a kernel runs on one thread: waking
// a sleeping thread costs tens of microseconds. 2^19 was the best of 2^15, 2^17, 2^19 for W1 and W3
// on 2 threads (W1: 3.36, 3.08, 3.85 M events/s). Tests lower it to reach the parallel paths.
inline long& parallel_min_work_setting() {
  static long work = 1L << 19;
  return work;
}
inline long parallel_min_work() {
  return parallel_min_work_setting();
}
inline void set_parallel_min_work(long work) {
  parallel_min_work_setting() = work;
}

// Eigen's products run inside agnostic's row chunks, one chunk per thread; Eigen's own threading is
// switched off (set to 1) when the program starts, because a product that
// Eigen splits itself allocates its packing buffer on the heap and spin-waits on its workers.
inline int& thread_setting() {
  static int threads = (Eigen::setNbThreads(1), omp_get_max_threads());
  return threads;
}
// Done at start-up in every program that includes this header, before any product runs.
inline const int kThreadsAtStartUp = thread_setting();

// Sets the number of threads for agnostic's kernels (and the products inside them).
inline void set_threads(int n) {
  n = std::max(1, n);
  thread_setting() = n;
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);
}

inline int threads() {
  return thread_setting();
}

// Number of chunks to split `rows` rows into, given `work` scalar operations in all.
inline int chunk_count(long rows, long work) {
  if (work < parallel_min_work() || rows < 2) return 1;
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
