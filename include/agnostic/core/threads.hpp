#pragma once
// The number of threads agnostic's kernels use, and the one parallel-loop helper every kernel runs
// its work through.
//
// Work is split into contiguous chunks, chunk c always covering the same rows for a given chunk
// count; partial sums are combined in chunk order. By default there are as many chunks as threads,
// so the same seed and the same thread count give the same bits, whatever the scheduler does. With
// a fixed chunk count (set_fixed_chunks, the config's `training.chunks`) the chunks no longer
// depend on the thread count: the same seed gives the same bits on any number of threads, and a
// thread that has finished its own chunks takes the next one not yet started from a thread that is
// behind (one that lost its core to another program, say).
//
// The chunks run on agnostic's own threads (core/thread_pool.hpp: the calling thread runs chunk 0,
// its pool's workers the others, and how they wait adapts to what the pool observes), not in an
// OpenMP region.
//
// Eigen's products inside a chunk run on the thread of that chunk: an Eigen product that split
// itself would take other packing blocks (other bits) and spin-wait on its own workers. Each chunk
// sets the OpenMP thread count of its own thread to 1 for the length of the chunk, which is where
// Eigen reads its default thread count from. Nothing here changes a process-wide setting (see
// core/process.hpp for those).
#include <omp.h>

#include <algorithm>
#include <type_traits>

#include "agnostic/core/matrix.hpp"
#include "agnostic/core/thread_pool.hpp"

namespace agnostic {

// While alive, the calling thread's OpenMP thread count (nthreads-var, what omp_get_max_threads()
// returns and Eigen's products take as their thread count unless the program called
// Eigen::setNbThreads) is 1; the previous count is restored at the end. It concerns the calling
// thread only.
class SingleThreadedEigenScope {
 public:
  SingleThreadedEigenScope() : before_(omp_get_max_threads()) {
    if (before_ != 1) omp_set_num_threads(1);
  }
  ~SingleThreadedEigenScope() {
    if (before_ != 1) omp_set_num_threads(before_);
  }
  SingleThreadedEigenScope(const SingleThreadedEigenScope&) = delete;
  SingleThreadedEigenScope& operator=(const SingleThreadedEigenScope&) = delete;

 private:
  int before_;
};

// Below this much work (about one scalar operation per unit) a kernel runs on one thread: waking
// a sleeping thread costs tens of microseconds. 2^19 was the best of 2^15, 2^17, 2^19 for W1 and W3
// on 2 threads (benchmarks/README.md). Tests lower it to reach the parallel paths.
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

// The thread count of agnostic's kernels belongs to the calling thread: a std::thread of the
// program (one trial of `agnostic tune --parallel-trials`) has its own, starting from OpenMP's
// default for that thread.
inline int& thread_setting() {
  static thread_local int threads = omp_get_max_threads();
  return threads;
}

// Sets the number of threads for agnostic's kernels, and OpenMP's thread count of the calling
// thread (for the OpenMP loops that take it from there).
inline void set_threads(int n) {
  n = std::max(1, n);
  thread_setting() = n;
  omp_set_num_threads(n);
}

inline int threads() {
  return thread_setting();
}

// The chunk count of the calling thread's kernels: 0 (the default) for one chunk per thread, n > 0
// for n chunks whatever the thread count (see the top of this file). Like the thread count it
// belongs to the calling thread.
inline int& fixed_chunks_setting() {
  static thread_local int chunks = 0;
  return chunks;
}
inline void set_fixed_chunks(int n) {
  require(n >= 0 && n <= ThreadPool::kMaxChunks, "set_fixed_chunks: ", n,
          " is not a chunk count (0 for one per thread, or 1 to ", ThreadPool::kMaxChunks, ")");
  fixed_chunks_setting() = n;
}
inline int fixed_chunks() {
  return fixed_chunks_setting();
}

// With a fixed chunk count, a chunk has at least this many rows (fewer chunks for smaller batches):
// each chunk keeps its own partial weight gradients, and on a batch of 1000 events through 200-wide
// layers 64 chunks of 16 rows spent more time adding those than multiplying (benchmarks/README.md).
inline constexpr long kMinRowsPerFixedChunk = 128;

// Number of chunks to split `rows` rows into, given `work` scalar operations in all: one below the
// parallel threshold; else one per thread, or with a fixed chunk count k, min(k, rows / 128) (at
// least 1), which depends on the batch alone.
inline int chunk_count(long rows, long work) {
  if (work < parallel_min_work() || rows < 2) return 1;
  if (fixed_chunks() > 0)
    return static_cast<int>(std::clamp<long>(rows / kMinRowsPerFixedChunk, 1, fixed_chunks()));
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

// Calls body(chunk_index, RowRange) for each chunk, in parallel on min(threads(), chunks) threads when
// there is more than one: the calling thread and its worker pool (core/thread_pool.hpp; with as many
// chunks as threads, chunk 0 on the calling thread and chunk c on worker c); Eigen products in the
// body run on the chunk's thread alone. An exception thrown by a chunk reaches the
// caller once every chunk has ended (that of the lowest chunk if several threw). On one thread, and
// when called from inside a chunk or an OpenMP parallel region, the chunks run one after the other on
// the calling thread, and the first one that throws ends the loop.
template <class Body>
void parallel_chunks(long rows, int chunks, Body&& body) {
  // The calling thread's kernel thread count is read (first use sets it from OpenMP's count) before
  // the scope sets OpenMP's count to 1.
  (void)thread_setting();
  if (chunks <= 1) {
    const SingleThreadedEigenScope one_thread;
    body(0, RowRange{0, rows});
    return;
  }
  struct Region {
    std::remove_reference_t<Body>* body;
    long rows;
    int chunks;
  } region{&body, rows, chunks};
  const auto run_chunk = [](void* p, int c) {
    const Region& r = *static_cast<const Region*>(p);
    const SingleThreadedEigenScope one_thread;
    (*r.body)(c, chunk_rows(r.rows, c, r.chunks));
  };
  const int parallel_threads = std::min(threads(), chunks);
  if (parallel_threads <= 1 || thread_pool_detail::inside_region() || omp_in_parallel()) {
    for (int c = 0; c < chunks; ++c) run_chunk(&region, c);
    return;
  }
  this_threads_pool().run(chunks, parallel_threads, run_chunk, &region);
}

}  // namespace agnostic
