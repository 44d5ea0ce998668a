// Tests for core/: errors, the RNG, thread chunking and the one-thread scope of kernels, the process
// settings of configure_process (its effect on a whole program: test_process_guest), the worker pool
// behind parallel_chunks and its spin rule.
#include <doctest/doctest.h>

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agnostic/core/error.hpp>
#include <agnostic/core/process.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/core/threads.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
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

// ---- agnostic's worker pool (core/thread_pool.hpp) ----

namespace {

// Float sums of the chunks of `x` (a plain loop per chunk), added in chunk order, as parallel_chunks
// runs them (`parallel`) or as a serial loop over the same chunks on this thread.
float tp_chunked_sum(const std::vector<float>& x, int chunks, bool parallel) {
  const long rows = static_cast<long>(x.size());
  std::vector<float> partial(static_cast<std::size_t>(chunks), 0.0f);
  const auto sum_chunk = [&](int c, RowRange r) {
    float s = 0.0f;
    for (long i = r.begin; i < r.end; ++i)
      s += x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)];
    partial[static_cast<std::size_t>(c)] = s;
  };
  if (parallel)
    parallel_chunks(rows, chunks, sum_chunk);
  else
    for (int c = 0; c < chunks; ++c) sum_chunk(c, chunk_rows(rows, c, chunks));
  float total = 0.0f;
  for (float s : partial) total += s;
  return total;
}

std::vector<float> tp_random_floats(std::uint64_t seed, int n) {
  Rng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

bool tp_same_bits(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

}  // namespace

TEST_CASE("tp_pool: a chunked sum has the bits of the serial loop at 1..4 threads, chunk 0 on the caller") {
  const int before_threads = threads();
  const long before_work = parallel_min_work();
  set_parallel_min_work(1);
  const std::vector<float> x = tp_random_floats(5, 100003);
  for (int n = 1; n <= 4; ++n) {
    set_threads(n);
    const int chunks = chunk_count(static_cast<long>(x.size()), static_cast<long>(x.size()));
    REQUIRE(chunks == n);
    const float serial = tp_chunked_sum(x, chunks, false);
    bool all_same = true;
    for (int repeat = 0; repeat < 200; ++repeat)
      all_same = all_same && tp_same_bits(tp_chunked_sum(x, chunks, true), serial);
    CHECK(all_same);
    // Chunk 0 runs on the calling thread, every other chunk on a thread of its own.
    std::vector<std::thread::id> ran_on(static_cast<std::size_t>(n));
    parallel_chunks(
        100, n, [&](int c, RowRange) { ran_on[static_cast<std::size_t>(c)] = std::this_thread::get_id(); });
    CHECK(ran_on[0] == std::this_thread::get_id());
    for (int c = 1; c < n; ++c)
      for (int d = 0; d < c; ++d)
        CHECK(ran_on[static_cast<std::size_t>(c)] != ran_on[static_cast<std::size_t>(d)]);
  }
  CHECK(this_threads_pool().workers() >= 3);
  // From inside a chunk a kernel's chunks run one after the other on that chunk's thread.
  set_threads(3);
  std::vector<int> inner_ok(3, 0);
  parallel_chunks(30, 3, [&](int c, RowRange) {
    const std::thread::id here = std::this_thread::get_id();
    bool same_thread = true;
    float inner = 0.0f;
    parallel_chunks(static_cast<long>(x.size()), 3,
                    [&](int, RowRange) { same_thread = same_thread && std::this_thread::get_id() == here; });
    inner = tp_chunked_sum(x, 3, true);
    inner_ok[static_cast<std::size_t>(c)] =
        same_thread && tp_same_bits(inner, tp_chunked_sum(x, 3, false)) ? 1 : 0;
  });
  CHECK(inner_ok == std::vector<int>{1, 1, 1});
  set_parallel_min_work(before_work);
  set_threads(before_threads);
}

TEST_CASE("tp_pool: with a fixed chunk count the bits do not depend on the thread count") {
  const int before_threads = threads();
  const long before_work = parallel_min_work();
  set_parallel_min_work(1);
  const std::vector<float> x = tp_random_floats(8, 100003);
  set_fixed_chunks(7);
  float first = 0.0f;
  for (int n = 1; n <= 4; ++n) {
    set_threads(n);
    const int chunks = chunk_count(static_cast<long>(x.size()), static_cast<long>(x.size()));
    REQUIRE(chunks == 7);
    if (n == 1) first = tp_chunked_sum(x, chunks, false);
    bool all_same = true;
    for (int repeat = 0; repeat < 200; ++repeat)
      all_same = all_same && tp_same_bits(tp_chunked_sum(x, chunks, true), first);
    CHECK(all_same);
    // Every chunk runs once, on at most n threads.
    std::vector<std::atomic<int>> runs(7);
    std::vector<std::thread::id> ran_on(7);
    parallel_chunks(70, chunks, [&](int c, RowRange) {
      runs[static_cast<std::size_t>(c)].fetch_add(1);
      ran_on[static_cast<std::size_t>(c)] = std::this_thread::get_id();
    });
    std::vector<std::thread::id> distinct;
    for (int c = 0; c < 7; ++c) {
      CHECK(runs[static_cast<std::size_t>(c)].load() == 1);
      if (std::find(distinct.begin(), distinct.end(), ran_on[static_cast<std::size_t>(c)]) == distinct.end())
        distinct.push_back(ran_on[static_cast<std::size_t>(c)]);
    }
    CHECK(static_cast<int>(distinct.size()) <= n);
  }
  CHECK(chunk_count(1000, 1L << 20) == 7);  // at least 128 rows per chunk
  CHECK(chunk_count(100, 1L << 20) == 1);
  set_parallel_min_work(1000);
  CHECK(chunk_count(100, 10) == 1);  // below the threshold: one chunk, as before
  CHECK_THROWS_WITH_AS(set_fixed_chunks(-1), doctest::Contains("set_fixed_chunks: -1 is not a chunk count"),
                       Error);
  set_fixed_chunks(0);
  set_threads(2);
  CHECK(chunk_count(100000, 1L << 20) == 2);  // back to one chunk per thread
  set_parallel_min_work(before_work);
  set_threads(before_threads);
}

TEST_CASE("tp_pool: a thread that is done takes the chunks a busy thread has not started") {
  // 8 chunks on 2 threads: blocks 0-3 and 4-7. Chunk 4 (whichever thread runs it) waits until chunks
  // 5, 6 and 7 have ended, so the region can only finish if the other thread takes them from the
  // block of chunk 4's thread; without taking them it would wait out the 20 s deadline and fail.
  const int before_threads = threads();
  set_threads(2);
  std::atomic<int> later_done{0};
  std::atomic<bool> gave_up{false};
  std::vector<std::thread::id> ran_on(8);
  parallel_chunks(80, 8, [&](int c, RowRange) {
    ran_on[static_cast<std::size_t>(c)] = std::this_thread::get_id();
    if (c == 4) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (later_done.load() < 3 && !gave_up.load()) {
        if (std::chrono::steady_clock::now() > deadline) gave_up = true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    if (c > 4) later_done.fetch_add(1);
  });
  CHECK(!gave_up.load());
  for (int c = 5; c < 8; ++c) CHECK(ran_on[static_cast<std::size_t>(c)] != ran_on[4]);
  // With as many chunks as threads nothing is taken: chunk 1 runs on the worker even when the
  // calling thread is free long before it.
  std::vector<std::thread::id> two(2);
  parallel_chunks(20, 2, [&](int c, RowRange) {
    two[static_cast<std::size_t>(c)] = std::this_thread::get_id();
    if (c == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  CHECK(two[0] == std::this_thread::get_id());
  CHECK(two[1] != two[0]);
  set_threads(before_threads);
}

TEST_CASE("tp_pool: two calling threads run their own regions at once, each with its own thread count") {
  const long before_work = parallel_min_work();
  set_parallel_min_work(1);
  const std::vector<float> x = tp_random_floats(6, 50001);
  const float serial2 = tp_chunked_sum(x, 2, false), serial3 = tp_chunked_sum(x, 3, false);
  int ok2 = 0, ok3 = 0, threads2 = 0, threads3 = 0;
  std::thread a([&] {
    set_threads(2);
    for (int i = 0; i < 300; ++i)
      ok2 += tp_same_bits(tp_chunked_sum(x, chunk_count(50001, 50001), true), serial2) ? 1 : 0;
    threads2 = this_threads_pool().workers();
  });
  std::thread b([&] {
    set_threads(3);
    for (int i = 0; i < 300; ++i)
      ok3 += tp_same_bits(tp_chunked_sum(x, chunk_count(50001, 50001), true), serial3) ? 1 : 0;
    threads3 = this_threads_pool().workers();
  });
  a.join();  // each thread's pool is joined as the thread ends
  b.join();
  CHECK(ok2 == 300);
  CHECK(ok3 == 300);
  CHECK(threads2 == 1);
  CHECK(threads3 == 2);
  set_parallel_min_work(before_work);
}

TEST_CASE("tp_pool: an exception thrown in a chunk reaches the caller after every chunk has ended") {
  std::vector<int> ran(4, 0);
  const auto throwing = [&](int c, RowRange r) {
    ran[static_cast<std::size_t>(c)] = 1;
    if (c == 2) fail("chunk 2 (rows ", r.begin, "-", r.end, ") failed");
    if (c == 3) fail("chunk 3 failed");
  };
  CHECK_THROWS_WITH_AS(parallel_chunks(40, 4, throwing), "chunk 2 (rows 20-30) failed", Error);
  CHECK(ran == std::vector<int>{1, 1, 1, 1});
  // From the caller's own chunk, and a standard exception from a worker's.
  CHECK_THROWS_WITH_AS(parallel_chunks(40, 4,
                                       [](int c, RowRange) {
                                         if (c == 0) fail("chunk 0 failed");
                                       }),
                       "chunk 0 failed", Error);
  CHECK_THROWS_AS(parallel_chunks(40, 2,
                                  [](int c, RowRange) {
                                    if (c == 1) throw std::bad_alloc();
                                  }),
                  std::bad_alloc);
  // The pool goes on working.
  std::vector<int> after(4, 0);
  parallel_chunks(40, 4, [&](int c, RowRange) { after[static_cast<std::size_t>(c)] = 1; });
  CHECK(after == std::vector<int>{1, 1, 1, 1});
}

TEST_CASE("tp_pool: a child forked after the pool started runs parallel loops with a pool of its own") {
  const long before_work = parallel_min_work();
  const int before_threads = threads();
  set_parallel_min_work(1);
  set_threads(3);
  const std::vector<float> x = tp_random_floats(7, 30001);
  const float serial = tp_chunked_sum(x, 3, false);
  REQUIRE(tp_same_bits(tp_chunked_sum(x, 3, true), serial));  // the parent's pool has two workers now
  std::fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(20);  // a child that hangs dies of SIGALRM instead of hanging the test
    bool ok = true;
    for (int i = 0; i < 50; ++i) ok = ok && tp_same_bits(tp_chunked_sum(x, 3, true), serial);
    _exit(ok && this_threads_pool().workers() == 2 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(tp_same_bits(tp_chunked_sum(x, 3, true), serial));
  set_parallel_min_work(before_work);
  set_threads(before_threads);
}

TEST_CASE("tp_pool: the spin rule: cut on contention, grown after calm windows, dropped when useless") {
  SpinState s;
  CHECK(s.spin_ns == kStartSpinNs);
  WaitObservation calm_miss;  // calm window whose waits blocked although a spin would have caught them
  calm_miss.wakeups = 16;
  calm_miss.blocked_within_reach = 4;
  calm_miss.caught_spinning = 12;
  WaitObservation preempted = calm_miss;  // more than a quarter as many lost their core as caught their work
  preempted.preempted_spinning = 4;
  WaitObservation interrupted = calm_miss;  // a few lost their core, many caught their work: calm
  interrupted.preempted_spinning = 3;
  WaitObservation lone;  // the one wait that caught its work spinning had lost its core: contended
  lone.wakeups = 16;
  lone.caught_spinning = 1;
  lone.preempted_spinning = 1;
  WaitObservation all_caught;  // every wait caught its work while spinning: nothing to change
  all_caught.wakeups = 16;
  all_caught.caught_spinning = 16;
  WaitObservation far_apart;  // nothing caught, nothing within reach: spinning does not pay
  far_apart.wakeups = 16;

  // Contention is a share of the waits: 4 lost against 12 caught is, 3 against 12 is not (a lone
  // interruption on an idle machine), and 1 against 1 is.
  CHECK(contended(preempted));
  CHECK_FALSE(contended(interrupted));
  CHECK_FALSE(contended(calm_miss));
  CHECK(contended(lone));
  CHECK(next_spin_state(s, interrupted).spin_ns == next_spin_state(s, calm_miss).spin_ns);
  CHECK(next_spin_state(s, lone).spin_ns == kStartSpinNs / 4);

  // Calm windows with blocked waits: the spin doubles each window (patience 1) up to the maximum.
  s = next_spin_state(s, calm_miss);
  CHECK(s.spin_ns == 2 * kStartSpinNs);
  for (int i = 0; i < 20; ++i) s = next_spin_state(s, calm_miss);
  CHECK(s.spin_ns == kMaxSpinNs);
  s = next_spin_state(s, all_caught);
  CHECK(s.spin_ns == kMaxSpinNs);
  // Contention: a quarter each time, the patience doubled; below the shortest spin, zero (passive).
  s = next_spin_state(s, preempted);
  CHECK(s.spin_ns == kMaxSpinNs / 4);
  CHECK(s.patience == 2);
  s = next_spin_state(s, preempted);
  CHECK(s.spin_ns == kMaxSpinNs / 16);
  s = next_spin_state(s, preempted);
  CHECK(s.spin_ns == kMaxSpinNs / 64);
  REQUIRE(kMaxSpinNs / 256 < kMinSpinNs);
  s = next_spin_state(s, preempted);
  CHECK(s.spin_ns == 0);
  CHECK(s.patience == 16);
  // It may grow again only after `patience` calm windows, from the shortest spin, then each window.
  for (int i = 1; i < 16; ++i) {
    s = next_spin_state(s, calm_miss);
    CHECK(s.spin_ns == 0);
  }
  s = next_spin_state(s, calm_miss);
  CHECK(s.spin_ns == kMinSpinNs);
  s = next_spin_state(s, calm_miss);
  CHECK(s.spin_ns == 2 * kMinSpinNs);
  CHECK(s.patience == 16);
  // Persistent contention: the patience saturates, the spin stays at zero.
  for (int i = 0; i < 20; ++i) s = next_spin_state(s, preempted);
  CHECK(s.spin_ns == 0);
  CHECK(s.patience == kMaxPatience);
  // A long calm (kMaxPatience windows in a row) halves the patience.
  for (int i = 0; i < kMaxPatience; ++i) s = next_spin_state(s, all_caught);
  CHECK(s.patience == kMaxPatience / 2);
  // Spins that catch nothing while no blocked wait was within reach halve, to zero.
  SpinState long_gaps;
  long_gaps = next_spin_state(long_gaps, far_apart);
  CHECK(long_gaps.spin_ns == kStartSpinNs / 2);
  for (int i = 0; i < 10; ++i) long_gaps = next_spin_state(long_gaps, far_apart);
  CHECK(long_gaps.spin_ns == 0);
}
