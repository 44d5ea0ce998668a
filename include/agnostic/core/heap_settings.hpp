#pragma once
// glibc's malloc settings for programs that run agnostic's products: keep freed memory for the next
// product instead of giving it back to the kernel and faulting it in again.
//
// Why: an Eigen product of training size packs its operands into two buffers per call, allocated on
// the heap and freed at its end (Eigen puts buffers above 128 KiB on the heap). For a 256 x 256 layer
// on a chunk of 256 events each buffer is 256 KiB. glibc serves blocks above its mmap threshold
// (128 KiB to start with) by mmap and returns them by munmap, and trims a heap whose free top exceeds
// its trim threshold (likewise 128 KiB): then every product writes into fresh pages and the page
// faults cost more than the arithmetic. glibc raises both thresholds by itself the first time a
// large mmapped block is freed, so whether a program paid this depended on what it happened to
// allocate first. Measured on W4 (cGAN step, 5 x 256 layers, batch 512; 2-core VM, 2026-11-30,
// benchmarks/README.md): 2 threads 16.6 steps/s with glibc's defaults, 48.7 with the settings below
// (22 % of the samples were page faults in Eigen's packing); 1 thread 37 either way.
//
// What: at start-up the mmap threshold is set to 32 MiB (the ceiling of glibc's own adaptive
// threshold) and the trim threshold to 64 MiB, once, in every program that includes this header,
// unless the user has set any of glibc's malloc variables (MALLOC_MMAP_THRESHOLD_,
// MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_ARENA_MAX, or glibc.malloc.* in GLIBC_TUNABLES):
// their choice stands.
// The cost: up to 64 MiB of freed memory per malloc arena (one per thread that allocates) stays with
// the process. AGNOSTIC_HEAP_SETTINGS says what was done. Elsewhere than glibc nothing is changed.
#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace agnostic {

inline constexpr int kProductMmapThreshold = 32 << 20;
inline constexpr int kProductTrimThreshold = 64 << 20;

// True when the settings were applied.
inline bool keep_freed_memory_for_products() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  bool user_set = tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr;
  for (const char* name :
       {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX"})
    user_set = user_set || std::getenv(name) != nullptr;
  if (user_set) {
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

// Done at start-up in every program that includes this header, before any product runs.
inline const bool kHeapSettingsAtStartUp = keep_freed_memory_for_products();

}  // namespace agnostic
