#pragma once
// Thread settings and the one parallel-loop helper used by every element-wise kernel.
//
// Work is split into as many contiguous chunks as there are threads, chunk c always covering the
// same rows for a given thread count; partial sums are combined in chunk order. So the same seed
// and the same thread count give the same bits, whatever the scheduler does.
#include <omp.h>
#include <sched.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agnostic/core/heap_settings.hpp"

namespace agnostic {

// How idle OpenMP threads wait between parallel regions decides most of the speed of small
// kernels, and no single setting is best everywhere (GCC's libgomp reads it once, at start-up,
// from OMP_WAIT_POLICY / GOMP_SPINCOUNT):
//   - on an idle node, threads that spin a little before sleeping catch the next region at once:
//     W1 on 16 idle cores ran at 7.5 M events/s with GOMP_SPINCOUNT=20000, 5.1 M sleeping at once
//     (passive) and 6.7 M spinning without end (active);
//   - on a node where other processes compete for the cores, every spin steals the time of the
//     one thread a region is waiting for: W1 at 2 threads on 2 cores under a load of ~21 ran at
//     330-370 k events/s passive, 140-160 k with a 20000 spin, 29-52 k with libgomp's default
//     (300000) and 31-78 k active (benchmarks/README.md, 2026-11-30).
// So the choice is made from the node's load when the program starts: the short spin when the
// cores this process may use are free (other runnable work, the larger of the 1-minute load
// average and the processes running right now, fits beside our threads), passive otherwise.
// Programs call choose_openmp_waiting(argv) first thing in main(): unless the user set
// OMP_WAIT_POLICY or GOMP_SPINCOUNT, it sets one of them and re-executes the program (Linux; if
// exec fails the program goes on as it is). AGNOSTIC_OPENMP_WAITING then says what was chosen.
// The load is read once: a node that becomes busy later keeps the short spin (set
// OMP_WAIT_POLICY=PASSIVE for long jobs on shared nodes).
inline constexpr long kIdleNodeSpinCount = 20000;

// Runnable work other than this process: max(1-minute load average, running processes - 1),
// from /proc/loadavg; negative if it cannot be read.
inline double other_runnable_work() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return -1.0;
  double load1 = 0.0, load5 = 0.0, load15 = 0.0;
  long running = 0, total = 0;
  const int read = std::fscanf(f, "%lf %lf %lf %ld/%ld", &load1, &load5, &load15, &running, &total);
  std::fclose(f);
  if (read != 5) return -1.0;
  return std::max(load1, static_cast<double>(running - 1));
}

// Cores this process may run on (its affinity mask).
inline int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  return std::max(1, CPU_COUNT(&set));
}

// True when `threads` threads fit on the usable cores beside the other runnable work.
inline bool node_is_idle_for(int threads, double other_work, int cores) {
  return other_work >= 0.0 && other_work + threads <= cores + 0.5;
}

inline void choose_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr ||
      argv == nullptr || argv[0] == nullptr)
    return;
  const int cores = usable_cores();
  const char* n = std::getenv("OMP_NUM_THREADS");
  const int threads = n ? std::max(1, std::atoi(n)) : cores;
  const double others = other_runnable_work();
  const bool idle = node_is_idle_for(threads, others, cores);
  char note[160];
  std::snprintf(note, sizeof note, "%s (other runnable work %.2f, %d threads on %d cores)",
                idle ? "short spin, GOMP_SPINCOUNT=20000" : "passive", others, threads, cores);
  if (setenv("AGNOSTIC_OPENMP_WAITING", note, 1) != 0) return;
  if (idle) {
    if (setenv("GOMP_SPINCOUNT", std::to_string(kIdleNodeSpinCount).c_str(), 1) != 0) return;
  } else if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) {
    return;
  }
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
// The setting belongs to the calling thread: a std::thread of the program (one trial of `agnostic
// tune --parallel-trials`) sets its own, starting from OpenMP's default for that thread.
inline int& thread_setting() {
  static thread_local int threads = (Eigen::setNbThreads(1), omp_get_max_threads());
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
