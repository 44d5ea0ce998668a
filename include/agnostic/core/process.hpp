#pragma once
// configure_process(argc, argv): the process-wide settings that make a program built on agnostic
// faster, made only when the program asks for them, first thing in its main(). No agnostic header
// changes the process by being included: a program (or a framework that embeds agnostic) that does
// not call configure_process keeps its malloc settings, its environment and Eigen's threading, and
// agnostic's kernels give it the same results at the same speed where they can (core/threads.hpp
// makes each kernel's Eigen products run on the calling thread alone, per call).
// docs/process.md says what each setting does, what it costs and how to skip it; in short:
//   - glibc's malloc thresholds (mmap 32 MiB, trim 64 MiB), so that freed large blocks are kept for
//     the next product instead of being returned to the kernel and faulted in again, unless the user
//     set any of glibc's malloc variables;
//   - Eigen's own threading off for the whole program, so that products outside agnostic's kernels
//     (fits, inference, the program's own) run on one thread as the kernels' do.
// AGNOSTIC_CONFIGURE_PROCESS=off in the environment makes configure_process do nothing. How idle
// threads wait is not a process setting: agnostic's own pool decides it while it runs
// (core/thread_pool.hpp).
#include <cstdlib>
#include <cstring>
#include <string>

#include "agnostic/core/matrix.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace agnostic {

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

// What configure_process did, in words (the same words are in AGNOSTIC_HEAP_SETTINGS, which child
// processes inherit).
struct ProcessSettings {
  bool applied = false;   // false when AGNOSTIC_CONFIGURE_PROCESS=off
  std::string heap;       // the malloc thresholds set, or why not
  int eigen_threads = 0;  // Eigen::nbThreads() afterwards
};

// True when AGNOSTIC_CONFIGURE_PROCESS asks for nothing to be done ("off", "0", "no", "false").
inline bool process_settings_switched_off() {
  const char* v = std::getenv("AGNOSTIC_CONFIGURE_PROCESS");
  if (v == nullptr) return false;
  for (const char* off : {"off", "0", "no", "false", "OFF", "NO", "FALSE"})
    if (std::strcmp(v, off) == 0) return true;
  return false;
}

// The start-up settings of agnostic's own programs; call it first thing in main(), before the program
// allocates much or starts threads. The arguments are not used (the call keeps main's signature
// for programs written against earlier versions, which re-executed themselves with argv).
inline ProcessSettings configure_process(int /*argc*/, char** /*argv*/) {
  ProcessSettings done;
  if (process_settings_switched_off()) {
    done.eigen_threads = Eigen::nbThreads();
    return done;
  }
  keep_freed_memory_for_products();
  Eigen::setNbThreads(1);
  done.applied = true;
  const char* heap = std::getenv("AGNOSTIC_HEAP_SETTINGS");
  done.heap = heap ? heap : "unchanged";
  done.eigen_threads = Eigen::nbThreads();
  return done;
}

}  // namespace agnostic
