// Tests for core/: errors, the RNG, thread chunking and the one-thread scope of kernels, the process
// settings of configure_process (its effect on a whole program: test_process_guest).
#include <doctest/doctest.h>

#include <omp.h>

#include <agnostic/core/error.hpp>
#include <agnostic/core/process.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/core/threads.hpp>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace agnostic;

TEST_CASE("fail builds a message from its parts") {
  CHECK_THROWS_WITH_AS(fail("column ", 3, " of ", "x.csv"), "column 3 of x.csv", Error);
  CHECK_NOTHROW(require(true, "never"));
}

TEST_CASE("Rng: same seed gives the same stream, state round-trips") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) CHECK(a.next() == b.next());
  CHECK(a.next() != c.next());
  const auto saved = a.state();
  const double x = a.normal();
  a.set_state(saved);
  CHECK(a.normal() == x);
}

TEST_CASE("Rng: uniform, normal and Poisson moments match their closed forms") {
  Rng rng(7);
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform(), z = rng.normal();
    su += u;
    su2 += u * u;
    sn += z;
    sn2 += z * z;
  }
  // Means within 5 standard errors of 1/2 (var 1/12) and 0 (var 1).
  CHECK(std::abs(su / n - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(su2 / n - 1.0 / 3) < 0.005);
  CHECK(std::abs(sn / n) < 5 / std::sqrt(n));
  CHECK(std::abs(sn2 / n - 1.0) < 0.02);
  for (double mean : {0.5, 7.0, 45.0, 1200.0}) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double k = static_cast<double>(rng.poisson(mean));
      s += k;
      s2 += k * k;
    }
    const double m = s / n, var = s2 / n - m * m;
    CHECK(std::abs(m - mean) < 5 * std::sqrt(mean / n));
    CHECK(std::abs(var / mean - 1.0) < 0.03);
  }
}

TEST_CASE("chunks cover every row once and depend only on the thread count") {
  for (int n : {1, 2, 3, 7}) {
    std::vector<int> seen(100, 0);
    for (int c = 0; c < n; ++c) {
      const auto r = chunk_rows(100, c, n);
      for (long i = r.begin; i < r.end; ++i) ++seen[i];
    }
    for (int s : seen) CHECK(s == 1);
  }
  CHECK(chunk_count(10, 100) == 1);
  set_threads(2);
  CHECK(threads() == 2);
  CHECK(chunk_count(100000, 1L << 20) == 2);
}

TEST_CASE("a kernel's chunks run with OpenMP's thread count at 1, restored afterwards") {
  const int before_threads = threads();
  const long before_work = parallel_min_work();
  set_threads(3);
  CHECK(omp_get_max_threads() == 3);
  {
    const SingleThreadedEigenScope outer;
    CHECK(omp_get_max_threads() == 1);
    {
      const SingleThreadedEigenScope inner;
      CHECK(omp_get_max_threads() == 1);
    }
    CHECK(omp_get_max_threads() == 1);
  }
  CHECK(omp_get_max_threads() == 3);
  // One chunk (on the calling thread) and three chunks (in a parallel region): the body sees one
  // OpenMP thread; the calling thread's kernel thread count and OpenMP count are unchanged.
  set_parallel_min_work(1);
  for (int chunks : {1, 3}) {
    std::vector<int> omp_inside(static_cast<std::size_t>(chunks), -1);
    parallel_chunks(30, chunks, [&](int c, RowRange) {
      omp_inside[static_cast<std::size_t>(c)] = omp_get_max_threads();
    });
    for (int seen : omp_inside) CHECK(seen == 1);
    CHECK(threads() == 3);
    CHECK(omp_get_max_threads() == 3);
  }
  // A new thread whose first agnostic call is a kernel takes its thread count from OpenMP's count
  // before the chunk's scope lowers it.
  int first_use = -1;
  std::thread fresh([&] {
    omp_set_num_threads(4);
    parallel_chunks(10, 1, [&](int, RowRange) { first_use = threads(); });
  });
  fresh.join();
  CHECK(first_use == 4);
  set_parallel_min_work(before_work);
  set_threads(before_threads);
}

TEST_CASE("configure_process: AGNOSTIC_CONFIGURE_PROCESS=off (or 0, no, false) switches it off") {
  const char* saved = std::getenv("AGNOSTIC_CONFIGURE_PROCESS");
  const std::string kept = saved ? saved : "";
  for (const char* off : {"off", "0", "no", "false", "OFF"}) {
    REQUIRE(setenv("AGNOSTIC_CONFIGURE_PROCESS", off, 1) == 0);
    CHECK(process_settings_switched_off());
    const ProcessSettings s = configure_process(0, nullptr);
    CHECK_FALSE(s.applied);
    CHECK(s.heap.empty());
  }
  for (const char* on : {"on", "1", "yes", ""}) {
    REQUIRE(setenv("AGNOSTIC_CONFIGURE_PROCESS", on, 1) == 0);
    CHECK_FALSE(process_settings_switched_off());
  }
  if (saved)
    REQUIRE(setenv("AGNOSTIC_CONFIGURE_PROCESS", kept.c_str(), 1) == 0);
  else
    REQUIRE(unsetenv("AGNOSTIC_CONFIGURE_PROCESS") == 0);
}

TEST_CASE("OpenMP waiting: the short spin only when our threads fit beside the other runnable work") {
  CHECK(agnostic::node_is_idle_for(2, 0.1, 2));
  CHECK(agnostic::node_is_idle_for(16, 0.4, 16));
  CHECK_FALSE(agnostic::node_is_idle_for(2, 1.0, 2));    // one competing process on 2 cores
  CHECK_FALSE(agnostic::node_is_idle_for(16, 1.0, 16));  // one competing process on 16 cores
  CHECK(agnostic::node_is_idle_for(2, 1.0, 4));
  CHECK_FALSE(agnostic::node_is_idle_for(2, -1.0, 2));  // load unknown: passive
  CHECK(agnostic::other_runnable_work() >= 0.0);        // /proc/loadavg is readable here
  CHECK(agnostic::usable_cores() >= 1);
}

TEST_CASE("heap settings: applied by configure_process unless the user set glibc's malloc variables") {
  const std::string at_start =
      std::getenv("AGNOSTIC_HEAP_SETTINGS") ? std::getenv("AGNOSTIC_HEAP_SETTINGS") : "";
#if defined(__GLIBC__)
  CHECK(!at_start.empty());
  // The user's choice stands: with a MALLOC_ variable set nothing is changed, and it says so.
  REQUIRE(setenv("MALLOC_TOP_PAD_", "1048576", 1) == 0);
  CHECK_FALSE(agnostic::keep_freed_memory_for_products());
  CHECK(std::string(std::getenv("AGNOSTIC_HEAP_SETTINGS")) == "glibc's, as the environment sets them");
  REQUIRE(unsetenv("MALLOC_TOP_PAD_") == 0);
  REQUIRE(setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000", 1) == 0);
  CHECK_FALSE(agnostic::keep_freed_memory_for_products());
  REQUIRE(unsetenv("GLIBC_TUNABLES") == 0);
  // Without them the thresholds are set (where the allocator is glibc's own: not under ASan, whose
  // allocator refuses mallopt and is then reported as leaving glibc's defaults).
  const bool set = agnostic::keep_freed_memory_for_products();
  CHECK(std::string(std::getenv("AGNOSTIC_HEAP_SETTINGS")) ==
        (set ? "mmap threshold 32 MiB, trim threshold 64 MiB" : "glibc's defaults"));
#else
  CHECK(at_start.empty());
#endif
}
