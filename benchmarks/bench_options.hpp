#pragma once
// Command-line options shared by every benchmark workload, and a median helper.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/threads.hpp"

struct BenchOptions {
  std::string workload;
  int threads = 1;
  int chunks = 0;                                // chunks per parallel kernel (0: one per thread)
  int repeats = 5;                               // timed repeats; the median is reported
  long long batch = 0;                           // W1's global batch (0: the workload's 16384)
  std::string shared_dir = AGNOSTIC_SHARED_DIR;  // ../shared, for reference workspaces
};

inline BenchOptions parse_bench_options(int argc, char** argv) {
  BenchOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      agnostic::require(i + 1 < argc, "option ", a, " needs a value");
      return argv[++i];
    };
    if (a == "--workload")
      o.workload = value();
    else if (a == "--threads")
      o.threads = std::stoi(value());
    else if (a == "--chunks")
      o.chunks = std::stoi(value());
    else if (a == "--repeats")
      o.repeats = std::stoi(value());
    else if (a == "--shared")
      o.shared_dir = value();
    else if (a == "--batch")
      o.batch = std::stoll(value());
    else
      agnostic::fail("unknown option ", a,
                     " (allowed: --workload, --threads, --chunks, --repeats, --batch, --shared)");
  }
  agnostic::require(!o.workload.empty(), "--workload is required (W1, W3, W6, ...)");
  agnostic::require(o.threads >= 1 && o.repeats >= 1, "--threads and --repeats must be positive");
  agnostic::require(o.batch == 0 || (o.batch >= 2 && o.workload == "W1"),
                    "--batch is W1's global batch (an integer >= 2), got ", o.batch, " for ", o.workload);
  return o;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
