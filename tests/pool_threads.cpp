// agnostic's worker pool (core/thread_pool.hpp) on its own, for ThreadSanitizer: regions of 2 to 4
// threads with as many chunks as threads (each thread its own chunk) and with more chunks (threads
// take unstarted chunks from each other's blocks), chunks of uneven length so that taking happens, a
// region whose chunk throws, and threads that wake after their region ended. Each region's chunks
// must each run exactly once and its sum must equal the serial one. Built with the program's
// compiler in every build, and with clang's -fsanitize=thread where it links (tests/CMakeLists.txt).
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "agnostic/core/thread_pool.hpp"

namespace {

struct Region {
  std::vector<std::atomic<int>>* runs;
  std::vector<double>* partial;
  int region;
};

// Chunk c of region r: a loop whose length depends on both, recorded in partial[c].
void run_chunk(void* p, int c) {
  Region& r = *static_cast<Region*>(p);
  (*r.runs)[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed);
  const int length = 200 + 3000 * ((c * 7 + r.region * 13) % 5);
  double s = 0;
  for (int i = 0; i < length; ++i) s += 1.0 / (1.0 + i + c);
  (*r.partial)[static_cast<std::size_t>(c)] = s;
}

double serial_sum(int region, int chunks) {
  std::vector<std::atomic<int>> runs(static_cast<std::size_t>(chunks));
  std::vector<double> partial(static_cast<std::size_t>(chunks));
  Region r{&runs, &partial, region};
  for (int c = 0; c < chunks; ++c) run_chunk(&r, c);
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace

int main() {
  agnostic::ThreadPool pool;
  int failures = 0;
  for (int threads = 2; threads <= 4; ++threads) {
    for (int chunks : {threads, 7, 16}) {
      for (int region = 0; region < 300; ++region) {
        std::vector<std::atomic<int>> runs(static_cast<std::size_t>(chunks));
        std::vector<double> partial(static_cast<std::size_t>(chunks));
        Region r{&runs, &partial, region};
        pool.run(chunks, threads, &run_chunk, &r);
        double total = 0;
        for (double s : partial) total += s;
        bool once = true;
        for (auto& n : runs) once = once && n.load() == 1;
        if (!once || total != serial_sum(region, chunks)) {
          std::fprintf(stderr, "threads %d, chunks %d, region %d: %s\n", threads, chunks, region,
                       once ? "sum differs from the serial one" : "a chunk did not run exactly once");
          ++failures;
        }
      }
    }
  }
  // A chunk that throws: the region ends, the error reaches the caller, the pool goes on.
  struct Throwing {
    std::atomic<int> ran{0};
  } throwing;
  bool caught = false;
  try {
    pool.run(
        9, 3,
        [](void* p, int c) {
          static_cast<Throwing*>(p)->ran.fetch_add(1);
          if (c == 5) throw std::runtime_error("chunk 5");
        },
        &throwing);
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "chunk 5";
  }
  if (!caught || throwing.ran.load() != 9) {
    std::fprintf(stderr, "the exception of chunk 5 did not reach the caller after all 9 chunks ran\n");
    ++failures;
  }
  std::printf("%s\n",
              failures == 0 ? "pool: every region ran each chunk once, with the serial sum" : "pool: FAILED");
  return failures == 0 ? 0 : 1;
}
