#pragma once
// configure_process(argc, argv): the process-wide settings that make a program built on agnostic
// faster, made only when the program asks for them, first thing in its main(). No agnostic header
// changes the process by being included: a program (or a framework that embeds agnostic) that does
// not call configure_process keeps its malloc settings, its environment and Eigen's threading, and
// agnostic's kernels give it the same results at the same speed where they can (core/threads.hpp
// makes each kernel's Eigen products run on the calling thread alone, per call).
// docs/process.md says what each setting does, what it costs and how to skip it; in short:
//   - the OpenMP waiting policy (libgomp reads it once, at start-up, from the environment): a short
//     spin when the node's cores are free, passive waiting when other work competes for them; set by
//     re-executing the program with GOMP_SPINCOUNT or OMP_WAIT_POLICY in its environment, unless the
//     user set either;
//   - glibc's malloc thresholds (mmap 32 MiB, trim 64 MiB), so that freed large blocks are kept for
//     the next product instead of being returned to the kernel and faulted in again, unless the user
//     set any of glibc's malloc variables;
//   - Eigen's own threading off for the whole program, so that products outside agnostic's kernels
//     (fits, inference, the program's own) run on one thread as the kernels' do.
// AGNOSTIC_CONFIGURE_PROCESS=off in the environment makes configure_process do nothing.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agnostic/core/matrix.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace agnostic {

// ---- the OpenMP waiting policy ----

// How idle OpenMP threads wait between parallel regions decides most of the speed of small kernels,
// and no single setting is best everywhere (measurements in benchmarks/README.md): threads that spin
// a little before sleeping catch the next region at once on an idle node, while on a node where
// other processes compete for the cores every spin steals the time of the one thread a region waits
// for. The choice is made from the node's load when the program starts: the short spin when the
// other runnable work fits beside our threads on the usable cores, passive otherwise. The load is
// read once: a node that becomes busy later keeps the short spin.
inline constexpr long kIdleNodeSpinCount = 20000;

// Runnable work other than this process: max(1-minute load average, running processes - 1), from
// /proc/loadavg; negative if it cannot be read.
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

// Unless the user set OMP_WAIT_POLICY or GOMP_SPINCOUNT, sets one of them from the node's load and
// re-executes the program (Linux; if exec fails the program goes on as it is), so it must run before
// the program starts threads or MPI. AGNOSTIC_OPENMP_WAITING then says what was chosen.
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

// ---- glibc's malloc thresholds ----

// An Eigen product packs its operands into two buffers per call and frees them at its end; a
// buffer above Eigen's stack-allocation limit comes from the heap. glibc serves blocks above its
// mmap threshold (128 KiB to start with) by mmap and returns them by munmap, and trims a heap whose
// free top exceeds its trim threshold (likewise 128 KiB): then every product writes into fresh pages
// and the page faults cost more than the arithmetic. glibc raises both thresholds by itself the first
// time a large mmapped block is freed, so whether a program paid this depended on what it happened
// to allocate first. The settings below fix them at the ceiling of glibc's own adaptive mmap
// threshold (32 MiB) and twice that for trimming. The cost: up to 64 MiB of freed memory per malloc
// arena (one per thread that allocates) stays with the process.
inline constexpr int kProductMmapThreshold = 32 << 20;
inline constexpr int kProductTrimThreshold = 64 << 20;

// True when the user set any of glibc's malloc variables (their choice then stands).
inline bool user_set_malloc_variables() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  bool user_set = tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr;
  for (const char* name :
       {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX"})
    user_set = user_set || std::getenv(name) != nullptr;
  return user_set;
}

// Sets the two thresholds unless the user set glibc's malloc variables; AGNOSTIC_HEAP_SETTINGS then
// says what was done. True when the settings were applied (never elsewhere than glibc).
inline bool keep_freed_memory_for_products() {
#if defined(__GLIBC__)
  if (user_set_malloc_variables()) {
    setenv("AGNOSTIC_HEAP_SETTINGS", "glibc's, as the environment sets them", 1);
    return false;
  }
  const bool set = mallopt(M_MMAP_THRESHOLD, kProductMmapThreshold) == 1 &&
                   mallopt(M_TRIM_THRESHOLD, kProductTrimThreshold) == 1;
  setenv("AGNOSTIC_HEAP_SETTINGS", set ? "mmap threshold 32 MiB, trim threshold 64 MiB" : "glibc's defaults",
         1);
  return set;
#else
  return false;
#endif
}

// ---- all of them ----

// What configure_process did, in words (the same words are in AGNOSTIC_OPENMP_WAITING and
// AGNOSTIC_HEAP_SETTINGS, which child processes inherit).
struct ProcessSettings {
  bool applied = false;        // false when AGNOSTIC_CONFIGURE_PROCESS=off
  std::string openmp_waiting;  // the policy chosen, or the user's
  std::string heap;            // the malloc thresholds set, or why not
  int eigen_threads = 0;       // Eigen::nbThreads() afterwards
};

// True when AGNOSTIC_CONFIGURE_PROCESS asks for nothing to be done ("off", "0", "no", "false").
inline bool process_settings_switched_off() {
  const char* v = std::getenv("AGNOSTIC_CONFIGURE_PROCESS");
  if (v == nullptr) return false;
  for (const char* off : {"off", "0", "no", "false", "OFF", "NO", "FALSE"})
    if (std::strcmp(v, off) == 0) return true;
  return false;
}

// The start-up settings of agnostic's own programs; call it first thing in main(), before threads,
// MPI or anything whose state a re-execution would lose. `argv` must be main's (the program may be
// re-executed with it).
inline ProcessSettings configure_process(int argc, char** argv) {
  ProcessSettings done;
  if (process_settings_switched_off()) {
    done.eigen_threads = Eigen::nbThreads();
    return done;
  }
  choose_openmp_waiting(argc > 0 ? argv : nullptr);  // may re-execute the program: first
  keep_freed_memory_for_products();
  Eigen::setNbThreads(1);
  done.applied = true;
  const char* waiting = std::getenv("AGNOSTIC_OPENMP_WAITING");
  done.openmp_waiting = waiting ? waiting : "as the environment sets it (OMP_WAIT_POLICY / GOMP_SPINCOUNT)";
  const char* heap = std::getenv("AGNOSTIC_HEAP_SETTINGS");
  done.heap = heap ? heap : "unchanged";
  done.eigen_threads = Eigen::nbThreads();
  return done;
}

}  // namespace agnostic
